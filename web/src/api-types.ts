/**
 * Shapes of the Feedkeeper HTTP API as the web UI uses them. The entities come from the
 * server's schemas (server/src/http/api-types.ts), so the UI cannot drift from the API;
 * the envelopes below wrap them the way the endpoints answer.
 */
import type { Feed, Feeder, FeederCredentials, User } from "../../server/src/http/api-types";

export type {
  ApiError as ApiErrorBody,
  Feed,
  Feeder,
  FeederCredentials,
  FeedStatus,
  NewFeed,
  NewFeeder,
  Telemetry,
  User,
} from "../../server/src/http/api-types";
export type FeedSource = Feed["source"];

// ---- Envelopes ----

/** Body of POST /api/setup and POST /api/session. */
export interface Credentials {
  username: string;
  password: string;
}

/** GET /api/setup */
export interface SetupStatus {
  required: boolean;
}

/** POST /api/setup (201), GET and POST /api/session (200) */
export interface UserResponse {
  user: User;
}

/** GET /api/feeders */
export interface FeedersResponse {
  feeders: Feeder[];
}

/** POST /api/feeders (201) */
export interface CreateFeederResponse {
  feeder: Feeder;
  credentials: FeederCredentials;
}

/** POST /api/feeders/{id}/feeds (202), GET /api/feeds/{feedId} (200) */
export interface FeedResponse {
  feed: Feed;
}
