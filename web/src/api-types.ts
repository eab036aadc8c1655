/**
 * Shapes of the Feedkeeper HTTP API as the web UI uses them. The entities come from the
 * server's schemas (server/src/http/api-types.ts), so the UI cannot drift from the API;
 * the envelopes below wrap them the way the endpoints answer.
 */
import type {
  Alert,
  AuditEntry,
  ConnectionLogEntry,
  Feed,
  Feeder,
  FeederCredentials,
  Meal,
  MealOccurrence,
  OneOffMeal,
  PendingDevice,
  Pet,
  PetIntake,
  Schedule,
  User,
} from "../../server/src/http/api-types";

export type {
  AdoptDevice,
  Alert,
  ApiError as ApiErrorBody,
  ApiToken,
  ApiTokensResponse,
  AuditEntry,
  BackupCheck,
  BackupList,
  ConnectionLogEntry,
  CreatedApiToken,
  DeviceProfile,
  Feed,
  Feeder,
  FeederChanges,
  FeederCredentials,
  FeederHistory,
  FeedStatus,
  HistoryDay,
  IntakeDay,
  LogLevelChange,
  LogLevelSettings,
  Meal,
  MealOccurrence,
  MealState,
  NewApiToken,
  NewFeed,
  NewFeeder,
  NewNotificationChannel,
  NewOneOffMeal,
  NewPet,
  NewUser,
  NotificationChannel,
  NotificationChannelChanges,
  NotificationDelivery,
  NotificationTestResult,
  OneOffMeal,
  PasswordChange,
  Pause,
  PendingDevice,
  Pet,
  PetChanges,
  PetIntake,
  ProfileProblem,
  ProfilesResponse,
  RestoreResponse,
  Schedule,
  ScheduleInput,
  Session,
  SessionsResponse,
  Telemetry,
  User,
  UserChanges,
} from "../../server/src/http/api-types";

export type FeedSource = Feed["source"];
export type Weekday = Meal["days"][number];

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

/** GET /api/users */
export interface UsersResponse {
  users: User[];
}

/** GET /api/feeders */
export interface FeedersResponse {
  feeders: Feeder[];
}

/** POST /api/feeders (201) */
export interface CreateFeederResponse {
  feeder: Feeder;
  /** null when Feedkeeper issues none: the device is on an external broker, or brings its own. */
  credentials: FeederCredentials | null;
}

/** GET /api/devices/pending */
export interface PendingDevicesResponse {
  devices: PendingDevice[];
}

/** POST /api/feeders/{id}/feeds (202), GET /api/feeds/{feedId} (200) */
export interface FeedResponse {
  feed: Feed;
}

/** GET /api/feeders/{id}/feeds: newest first. */
export interface FeedsResponse {
  feeds: Feed[];
}

/** GET /api/feeders/{id} */
export interface FeederResponse {
  feeder: Feeder;
}

/** GET and PUT /api/feeders/{id}/schedule */
export interface ScheduleResponse {
  schedule: Schedule;
}

/** GET /api/feeders/{id}/meals */
export interface MealCalendarResponse {
  meals: MealOccurrence[];
}

/** POST /api/feeders/{id}/schedule/skip-next, PUT and DELETE .../schedule/skips/{date}/{mealId} */
export interface MealResponse {
  meal: MealOccurrence;
}

/** POST /api/feeders/{id}/schedule/one-offs (201) */
export interface OneOffResponse {
  oneOff: OneOffMeal;
}

/** GET /api/alerts */
export interface AlertsResponse {
  alerts: Alert[];
  /** Unacknowledged alerts in all, not only in this page of the list. */
  unacknowledged: number;
}

/** POST /api/alerts/{id}/ack */
export interface AlertResponse {
  alert: Alert;
}

/** GET /api/pets */
export interface PetsResponse {
  pets: Pet[];
}

/** POST /api/pets (201), GET and PATCH /api/pets/{id} */
export interface PetResponse {
  pet: Pet;
}

/** GET /api/pets/{id}/intake */
export type PetIntakeResponse = PetIntake;

/** GET /api/connection-log: newest first. */
export interface ConnectionLogResponse {
  entries: ConnectionLogEntry[];
}

/** GET /api/audit: newest first. */
export interface AuditResponse {
  entries: AuditEntry[];
}
