/** Response and request types for the web UI, inferred from the API's schemas (never copied by hand). */
import type { z } from "@hono/zod-openapi";
import type {
  ApiTokenSchema,
  ErrorSchema,
  FeederCredentialsSchema,
  FeederSchema,
  FeedSchema,
  NewFeederSchema,
  NewFeedSchema,
  TelemetrySchema,
  UserSchema,
} from "./schemas.js";

export type ApiError = z.infer<typeof ErrorSchema>;
export type User = z.infer<typeof UserSchema>;
export type Feed = z.infer<typeof FeedSchema>;
export type FeedStatus = Feed["status"];
export type Feeder = z.infer<typeof FeederSchema>;
export type Telemetry = z.infer<typeof TelemetrySchema>;
export type FeederCredentials = z.infer<typeof FeederCredentialsSchema>;
export type NewFeeder = z.input<typeof NewFeederSchema>;
export type NewFeed = z.input<typeof NewFeedSchema>;
export type ApiToken = z.infer<typeof ApiTokenSchema>;
