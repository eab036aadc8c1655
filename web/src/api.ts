import type {
  AdoptDevice,
  AlertResponse,
  AlertsResponse,
  ApiErrorBody,
  ApiTokensResponse,
  AuditResponse,
  BackupCheck,
  BackupList,
  ConnectionLogResponse,
  CreatedApiToken,
  CreateFeederResponse,
  Credentials,
  FeederChanges,
  FeederHistory,
  FeederResponse,
  FeedersResponse,
  FeedResponse,
  FeedStatus,
  FeedsResponse,
  LogLevelChange,
  LogLevelSettings,
  MealCalendarResponse,
  MealResponse,
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
  OneOffResponse,
  PasswordChange,
  Pause,
  PendingDevicesResponse,
  PetChanges,
  PetIntakeResponse,
  PetResponse,
  PetsResponse,
  ProfilesResponse,
  RestoreResponse,
  ScheduleInput,
  ScheduleResponse,
  SessionsResponse,
  SetupStatus,
  UserChanges,
  UserResponse,
  UsersResponse,
} from "./api-types";
import { clientErrorText, httpErrorText, serverErrorText } from "./error-text";

/** An API failure. `status` is 0 when the server could not be reached at all. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** Validation failures list `{ path, message }` per field, so a form can point at the field. */
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

interface RequestOptions {
  body?: unknown;
  /** A file sent as it is (an uploaded backup), instead of `body` as JSON. */
  file?: Blob;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

function isErrorBody(value: unknown): value is ApiErrorBody {
  if (typeof value !== "object" || value === null || !("error" in value)) return false;
  const error = (value as { error: unknown }).error;
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { code?: unknown }).code === "string" &&
    typeof (error as { message?: unknown }).message === "string"
  );
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === "AbortError";
}

async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  let body: string | Blob | undefined;
  if (options.file !== undefined) {
    headers["Content-Type"] = "application/octet-stream";
    body = options.file;
  } else if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body,
      credentials: "same-origin",
      cache: "no-store",
      signal: options.signal ?? null,
    });
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new ApiError(0, "network_error", "Cannot reach the Feedkeeper server. Check your connection.");
  }
  if (res.status === 204) return undefined as T;
  let data: unknown = null;
  try {
    data = await res.json();
  } catch (err) {
    if (isAbort(err)) throw err;
    data = null;
  }
  if (!res.ok) {
    if (isErrorBody(data))
      throw new ApiError(res.status, data.error.code, data.error.message, data.error.details);
    throw new ApiError(res.status, `http_${res.status}`, `The server answered with HTTP ${res.status}.`);
  }
  if (data === null)
    throw new ApiError(res.status, "bad_response", "The server sent an unreadable response.");
  return data as T;
}

/** Human-readable message for any error thrown by the API layer, in the UI's language. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === "network_error" || err.code === "bad_response") return clientErrorText(err.code);
    if (err.code === `http_${err.status}`) return httpErrorText(err.status);
    return serverErrorText(err.code, err.message);
  }
  if (err instanceof Error) return err.message;
  return clientErrorText("unknown");
}

/** The per-field complaints of a validation failure (`details` of a 400), if the server sent them. */
export function errorDetails(err: unknown): Array<{ path: string; message: string }> {
  if (!(err instanceof ApiError) || !Array.isArray(err.details)) return [];
  return err.details.filter(
    (d): d is { path: string; message: string } =>
      typeof d?.path === "string" && typeof d?.message === "string",
  );
}

export function isUnauthorized(err: unknown): boolean {
  return err instanceof ApiError && err.status === 401;
}

/**
 * A random idempotency key. crypto.randomUUID() only exists in secure contexts (HTTPS or
 * localhost); a self-hosted server is often reached over plain HTTP on the LAN, so fall back
 * to a v4 UUID built from crypto.getRandomValues(), which is available everywhere.
 */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const TERMINAL: ReadonlySet<FeedStatus> = new Set<FeedStatus>([
  "dispensed",
  "failed",
  "expired",
  "timed_out",
]);

export function isTerminal(status: FeedStatus): boolean {
  return TERMINAL.has(status);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Retries only failures where the request may not have arrived: no answer, or a gateway error. */
async function withRetry<T>(fn: () => Promise<T>, delays = [500, 1500]): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const retryable = err instanceof ApiError && [0, 502, 503, 504].includes(err.status);
      const delay = delays[attempt];
      if (!retryable || delay === undefined) throw err;
      await sleep(delay);
    }
  }
}

const enc = encodeURIComponent;

/** Followed as a link: the browser saves the file the server streams. */
export const BACKUP_DOWNLOAD_URL = "/api/backup";

export const api = {
  setupStatus: () => request<SetupStatus>("GET", "/api/setup"),
  setup: (body: Credentials) => request<UserResponse>("POST", "/api/setup", { body }),
  session: () => request<UserResponse>("GET", "/api/session"),
  login: (body: Credentials) => request<UserResponse>("POST", "/api/session", { body }),
  logout: () => request<void>("DELETE", "/api/session"),
  feeders: (signal?: AbortSignal) => request<FeedersResponse>("GET", "/api/feeders", { signal }),
  profiles: (signal?: AbortSignal) => request<ProfilesResponse>("GET", "/api/profiles", { signal }),
  createFeeder: (body: NewFeeder) => request<CreateFeederResponse>("POST", "/api/feeders", { body }),
  pendingDevices: (signal?: AbortSignal) =>
    request<PendingDevicesResponse>("GET", "/api/devices/pending", { signal }),
  adoptDevice: (pendingId: string, body: AdoptDevice) =>
    request<FeederResponse>("POST", `/api/devices/pending/${enc(pendingId)}/adopt`, { body }),
  dismissDevice: (pendingId: string) => request<void>("DELETE", `/api/devices/pending/${enc(pendingId)}`),
  /**
   * One key per user action; retries of that action reuse it, so the server feeds at most once.
   * `override` feeds beyond the feeder's safety limits (owners only; the server logs it).
   */
  feed: (feederId: string, portions: number, idempotencyKey: string, override = false) => {
    const body: NewFeed = override ? { portions, override: true } : { portions };
    const headers = { "Idempotency-Key": idempotencyKey };
    return withRetry(() =>
      request<FeedResponse>("POST", `/api/feeders/${enc(feederId)}/feeds`, { body, headers }),
    );
  },
  feedStatus: (feedId: string, signal?: AbortSignal) =>
    request<FeedResponse>("GET", `/api/feeds/${enc(feedId)}`, { signal }),
  feeder: (feederId: string, signal?: AbortSignal) =>
    request<FeederResponse>("GET", `/api/feeders/${enc(feederId)}`, { signal }),
  /** New MQTT credentials: the old password stops working and the device is disconnected at once. */
  rotateCredentials: (feederId: string) =>
    request<CreateFeederResponse>("POST", `/api/feeders/${enc(feederId)}/credentials`),
  /** Newest first; `before` (a feed's requestedAt) pages to older ones. */
  feederFeeds: (feederId: string, page: { limit: number; before?: string }, signal?: AbortSignal) => {
    const query = new URLSearchParams({ limit: String(page.limit) });
    if (page.before !== undefined) query.set("before", page.before);
    return request<FeedsResponse>("GET", `/api/feeders/${enc(feederId)}/feeds?${query}`, { signal });
  },
  /** Grams per day and the food level over the last `days` days, in the feeder's time zone. */
  feederHistory: (feederId: string, days: number, signal?: AbortSignal) =>
    request<FeederHistory>("GET", `/api/feeders/${enc(feederId)}/history?days=${days}`, { signal }),
  updateFeeder: (feederId: string, body: FeederChanges) =>
    request<FeederResponse>("PATCH", `/api/feeders/${enc(feederId)}`, { body }),
  schedule: (feederId: string, signal?: AbortSignal) =>
    request<ScheduleResponse>("GET", `/api/feeders/${enc(feederId)}/schedule`, { signal }),
  saveSchedule: (feederId: string, body: ScheduleInput) =>
    request<ScheduleResponse>("PUT", `/api/feeders/${enc(feederId)}/schedule`, { body }),
  mealCalendar: (feederId: string, days: number, signal?: AbortSignal) =>
    request<MealCalendarResponse>("GET", `/api/feeders/${enc(feederId)}/meals?days=${days}`, { signal }),
  skipNextMeal: (feederId: string) =>
    request<MealResponse>("POST", `/api/feeders/${enc(feederId)}/schedule/skip-next`),
  skipMeal: (feederId: string, date: string, mealId: string) =>
    request<MealResponse>("PUT", `/api/feeders/${enc(feederId)}/schedule/skips/${enc(date)}/${enc(mealId)}`),
  unskipMeal: (feederId: string, date: string, mealId: string) =>
    request<MealResponse>(
      "DELETE",
      `/api/feeders/${enc(feederId)}/schedule/skips/${enc(date)}/${enc(mealId)}`,
    ),
  pauseMeals: (feederId: string, body: Pause) =>
    request<ScheduleResponse>("PUT", `/api/feeders/${enc(feederId)}/schedule/pause`, { body }),
  resumeMeals: (feederId: string) =>
    request<ScheduleResponse>("DELETE", `/api/feeders/${enc(feederId)}/schedule/pause`),
  addOneOff: (feederId: string, body: NewOneOffMeal) =>
    request<OneOffResponse>("POST", `/api/feeders/${enc(feederId)}/schedule/one-offs`, { body }),
  removeOneOff: (feederId: string, mealId: string) =>
    request<void>("DELETE", `/api/feeders/${enc(feederId)}/schedule/one-offs/${enc(mealId)}`),
  alerts: (limit: number, signal?: AbortSignal) =>
    request<AlertsResponse>("GET", `/api/alerts?limit=${limit}`, { signal }),
  acknowledgeAlert: (alertId: string) => request<AlertResponse>("POST", `/api/alerts/${enc(alertId)}/ack`),
  pets: (signal?: AbortSignal) => request<PetsResponse>("GET", "/api/pets", { signal }),
  createPet: (body: NewPet) => request<PetResponse>("POST", "/api/pets", { body }),
  updatePet: (petId: string, body: PetChanges) =>
    request<PetResponse>("PATCH", `/api/pets/${enc(petId)}`, { body }),
  deletePet: (petId: string) => request<void>("DELETE", `/api/pets/${enc(petId)}`),
  petIntake: (petId: string, days: number, signal?: AbortSignal) =>
    request<PetIntakeResponse>("GET", `/api/pets/${enc(petId)}/intake?days=${days}`, { signal }),
  users: (signal?: AbortSignal) => request<UsersResponse>("GET", "/api/users", { signal }),
  createUser: (body: NewUser) => request<UserResponse>("POST", "/api/users", { body }),
  updateUser: (userId: string, body: UserChanges) =>
    request<UserResponse>("PATCH", `/api/users/${enc(userId)}`, { body }),
  deleteUser: (userId: string) => request<void>("DELETE", `/api/users/${enc(userId)}`),
  /** Ends every other session of the user; this one stays. A wrong current password answers 401 invalid_credentials. */
  changePassword: (body: PasswordChange) => request<void>("POST", "/api/users/me/password", { body }),
  /** One's own signed-in browsers, newest first; `current` marks the one asking. */
  sessions: (signal?: AbortSignal) => request<SessionsResponse>("GET", "/api/users/me/sessions", { signal }),
  revokeSession: (sessionId: string) => request<void>("DELETE", `/api/users/me/sessions/${enc(sessionId)}`),
  /** One's own API tokens, never their secrets. */
  tokens: (signal?: AbortSignal) => request<ApiTokensResponse>("GET", "/api/tokens", { signal }),
  /** The answer holds the token's secret, which no later answer repeats. */
  createToken: (body: NewApiToken) => request<CreatedApiToken>("POST", "/api/tokens", { body }),
  revokeToken: (tokenId: string) => request<void>("DELETE", `/api/tokens/${enc(tokenId)}`),
  /** `feederId` narrows to one feeder's entries, `unknown` to client ids that are no feeder. */
  connectionLog: (limit: number, filter: { feederId?: string; unknown?: boolean }, signal?: AbortSignal) => {
    const query = new URLSearchParams({ limit: String(limit) });
    if (filter.feederId !== undefined) query.set("feederId", filter.feederId);
    if (filter.unknown) query.set("unknown", "true");
    return request<ConnectionLogResponse>("GET", `/api/connection-log?${query}`, { signal });
  },
  /** Owners only. `before` pages to older entries; `userId` narrows to one user's. */
  audit: (limit: number, filter: { before?: string; userId?: string }, signal?: AbortSignal) => {
    const query = new URLSearchParams({ limit: String(limit) });
    if (filter.before !== undefined) query.set("before", filter.before);
    if (filter.userId !== undefined) query.set("userId", filter.userId);
    return request<AuditResponse>("GET", `/api/audit?${query}`, { signal });
  },
  /** Owners only. A backup itself is downloaded by following BACKUP_DOWNLOAD_URL. */
  backups: (signal?: AbortSignal) => request<BackupList>("GET", "/api/backups", { signal }),
  /** Owners only. Checks a backup file as a restore would and says what it holds; changes nothing. */
  checkBackup: (file: Blob) => request<BackupCheck>("POST", "/api/backup/check", { file }),
  /** Owners only; on success the server restarts on the restored data and every session ends. */
  restoreBackup: (file: Blob) => request<RestoreResponse>("POST", "/api/backup/restore", { file }),
  /** Owners only; a change lasts until the server restarts. */
  logLevel: (signal?: AbortSignal) => request<LogLevelSettings>("GET", "/api/server/log-level", { signal }),
  setLogLevel: (body: LogLevelChange) => request<LogLevelSettings>("PUT", "/api/server/log-level", { body }),
  /** Owners only; secrets come back as `{ set }`, never their value. */
  notificationChannels: (signal?: AbortSignal) =>
    request<{ channels: NotificationChannel[] }>("GET", "/api/notification-channels", { signal }),
  createNotificationChannel: (body: NewNotificationChannel) =>
    request<{ channel: NotificationChannel }>("POST", "/api/notification-channels", { body }),
  updateNotificationChannel: (channelId: string, body: NotificationChannelChanges) =>
    request<{ channel: NotificationChannel }>("PATCH", `/api/notification-channels/${enc(channelId)}`, {
      body,
    }),
  deleteNotificationChannel: (channelId: string) =>
    request<void>("DELETE", `/api/notification-channels/${enc(channelId)}`),
  /** Sends now and answers when the receiver did: `ok: false` carries the reason. */
  testNotificationChannel: (channelId: string) =>
    request<NotificationTestResult>("POST", `/api/notification-channels/${enc(channelId)}/test`),
  notificationDeliveries: (channelId: string, limit: number, signal?: AbortSignal) =>
    request<{ deliveries: NotificationDelivery[] }>(
      "GET",
      `/api/notification-channels/${enc(channelId)}/deliveries?limit=${limit}`,
      { signal },
    ),
};
