/** Response and request types for the web UI, inferred from the API's schemas (never copied by hand). */
import type { z } from "@hono/zod-openapi";
import type { AuditEntrySchema } from "./routes/audit/audit.routes.js";
import type {
  BackupCheckResponseSchema,
  BackupListSchema,
  RestoreResponseSchema,
} from "./routes/backup/backup.routes.js";
import type { ConnectionLogEntrySchema } from "./routes/connection-log/connection-log.routes.js";
import type { FeederHistorySchema } from "./routes/history/history.routes.js";
import type { LogLevelChangeSchema, LogLevelSchema } from "./routes/log-level/log-level.routes.js";
import type {
  NewNotificationChannelSchema,
  NotificationChannelChangesSchema,
  NotificationChannelSchema,
  NotificationDeliverySchema,
  TestResultSchema,
} from "./routes/notification-channels/notification-channels.routes.js";
import type { AdoptSchema, PendingDeviceSchema } from "./routes/pending-devices/pending-devices.routes.js";
import type { listProfiles } from "./routes/profiles/profiles.routes.js";
import type { listTokens, postToken } from "./routes/tokens/tokens.routes.js";
import type { listSessions } from "./routes/users/users.routes.js";
import type {
  AlertSchema,
  ApiTokenSchema,
  ErrorSchema,
  FeederChangesSchema,
  FeederCredentialsSchema,
  FeederSchema,
  FeedSchema,
  IntakeDaySchema,
  MealOccurrenceSchema,
  MealSchema,
  NewApiTokenSchema,
  NewFeederSchema,
  NewFeedSchema,
  NewOneOffMealSchema,
  NewPetSchema,
  NewUserSchema,
  OneOffMealSchema,
  PasswordChangeSchema,
  PauseSchema,
  PetChangesSchema,
  PetIntakeSchema,
  PetSchema,
  ScheduleInputSchema,
  ScheduleSchema,
  TelemetrySchema,
  UserChangesSchema,
  UserSchema,
} from "./schemas.js";

export type ApiError = z.infer<typeof ErrorSchema>;
export type User = z.infer<typeof UserSchema>;
export type NewUser = z.input<typeof NewUserSchema>;
export type UserChanges = z.input<typeof UserChangesSchema>;
export type PasswordChange = z.input<typeof PasswordChangeSchema>;
export type Feed = z.infer<typeof FeedSchema>;
export type FeedStatus = Feed["status"];
export type Feeder = z.infer<typeof FeederSchema>;
export type Telemetry = z.infer<typeof TelemetrySchema>;
export type FeederCredentials = z.infer<typeof FeederCredentialsSchema>;
export type NewFeeder = z.input<typeof NewFeederSchema>;
export type FeederChanges = z.input<typeof FeederChangesSchema>;
export type NewFeed = z.input<typeof NewFeedSchema>;
export type ApiToken = z.infer<typeof ApiTokenSchema>;
export type NewApiToken = z.input<typeof NewApiTokenSchema>;
export type ApiTokensResponse = z.infer<
  (typeof listTokens)["responses"][200]["content"]["application/json"]["schema"]
>;
/** The new token with its secret, which no later answer repeats. */
export type CreatedApiToken = z.infer<
  (typeof postToken)["responses"][201]["content"]["application/json"]["schema"]
>;
export type SessionsResponse = z.infer<
  (typeof listSessions)["responses"][200]["content"]["application/json"]["schema"]
>;
export type Session = SessionsResponse["sessions"][number];
export type Meal = z.infer<typeof MealSchema>;
export type Schedule = z.infer<typeof ScheduleSchema>;
export type ScheduleInput = z.input<typeof ScheduleInputSchema>;
export type MealOccurrence = z.infer<typeof MealOccurrenceSchema>;
export type MealState = MealOccurrence["state"];
export type OneOffMeal = z.infer<typeof OneOffMealSchema>;
export type NewOneOffMeal = z.input<typeof NewOneOffMealSchema>;
export type Pause = z.infer<typeof PauseSchema>;
export type Alert = z.infer<typeof AlertSchema>;
export type Pet = z.infer<typeof PetSchema>;
export type PetIntake = z.infer<typeof PetIntakeSchema>;
export type NewPet = z.input<typeof NewPetSchema>;
export type PetChanges = z.input<typeof PetChangesSchema>;
export type IntakeDay = z.infer<typeof IntakeDaySchema>;
export type ProfilesResponse = z.infer<
  (typeof listProfiles)["responses"][200]["content"]["application/json"]["schema"]
>;
export type DeviceProfile = ProfilesResponse["profiles"][number];
export type ProfileProblem = ProfilesResponse["problems"][number];
export type PendingDevice = z.infer<typeof PendingDeviceSchema>;
export type AdoptDevice = z.input<typeof AdoptSchema>;
export type ConnectionLogEntry = z.infer<typeof ConnectionLogEntrySchema>;
export type AuditEntry = z.infer<typeof AuditEntrySchema>;
export type BackupCheck = z.infer<typeof BackupCheckResponseSchema>;
export type BackupList = z.infer<typeof BackupListSchema>;
export type RestoreResponse = z.infer<typeof RestoreResponseSchema>;
export type NotificationChannel = z.infer<typeof NotificationChannelSchema>;
export type NewNotificationChannel = z.input<typeof NewNotificationChannelSchema>;
export type NotificationChannelChanges = z.input<typeof NotificationChannelChangesSchema>;
export type NotificationDelivery = z.infer<typeof NotificationDeliverySchema>;
export type NotificationTestResult = z.infer<typeof TestResultSchema>;
export type LogLevelSettings = z.infer<typeof LogLevelSchema>;
export type LogLevelChange = z.input<typeof LogLevelChangeSchema>;
export type FeederHistory = z.infer<typeof FeederHistorySchema>;
export type HistoryDay = FeederHistory["days"][number];
