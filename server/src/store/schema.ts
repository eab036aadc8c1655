/**
 * The database schema. drizzle-kit generates migrations from this file
 * (`npm run db:generate`); the server applies them at start.
 * Times are integer milliseconds since the epoch (UTC).
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const createdAt = () =>
  integer("created_at", { mode: "timestamp_ms" }).notNull().default(sql`(unixepoch('subsec') * 1000)`);

/**
 * Everything a user may see belongs to one household. One server holds one household today (`home`, made by
 * the migration), but every route already checks that the objects it touches are the caller's household's.
 */
export const households = sqliteTable("households", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: createdAt(),
});

/** The household made by the migration; first-run setup puts its owner there. */
export const FIRST_HOUSEHOLD = "home";

const householdId = () =>
  text("household_id")
    .notNull()
    .default(FIRST_HOUSEHOLD)
    .references(() => households.id);

export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  householdId: householdId(),
  username: text("username").notNull().unique(),
  passwordHash: text("password_hash").notNull(),
  role: text("role", { enum: ["owner", "member", "sitter"] }).notNull(),
  createdAt: createdAt(),
  /** A sitter's account ends here (the neighbour who feeds the cat for a week); null: no end. */
  expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
});

export const sessions = sqliteTable(
  "sessions",
  {
    /** SHA-256 of the cookie value: a stolen database does not yield live sessions. */
    tokenHash: text("token_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    /** What signed in (the browser's User-Agent, shortened) and from where: to tell one's sessions apart. */
    userAgent: text("user_agent"),
    address: text("address"),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

export const apiTokens = sqliteTable(
  "api_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** What the token may do, at most its user's role (a sitter-level token for a feeding button); null: the user's. */
    role: text("role", { enum: ["owner", "member", "sitter"] }),
    tokenHash: text("token_hash").notNull().unique(),
    createdAt: createdAt(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("api_tokens_user_idx").on(t.userId)],
);

export const feeders = sqliteTable(
  "feeders",
  {
    id: text("id").primaryKey(),
    householdId: householdId(),
    name: text("name").notNull(),
    profile: text("profile").notNull(),
    /** Which of the profile's models the owner says this is (per-model DPs, fault codes). */
    profileModel: text("profile_model"),
    /**
     * The device's own id on the wire, for vendor firmware (serial, gateway id, Zigbee friendly name);
     * null for devices using the credentials Feedkeeper issued, whose id on the wire is the feeder id.
     */
    deviceKey: text("device_key"),
    /** Salted hash of the MQTT password; the password itself is shown once and never stored. */
    secretHash: text("secret_hash").notNull(),
    maxPortions: integer("max_portions").notNull().default(10),
    createdAt: createdAt(),
    // What the device last told us about itself (hello).
    model: text("model"),
    firmware: text("firmware"),
    protocolVersion: integer("protocol_version"),
    capabilities: text("capabilities", { mode: "json" }).$type<string[]>(),
    portionGrams: real("portion_grams"),
    lastSeenAt: integer("last_seen_at", { mode: "timestamp_ms" }),
    /** IANA zone the meal plan is read in; null means the server's zone. */
    timezone: text("timezone"),
    /** How late a meal the server missed (it was down) may still be fed. */
    graceMinutes: integer("grace_minutes").notNull().default(15),
    /** Safety limit: portions per local day, all sources counted; remote feeds beyond it are refused. */
    dailyMaxPortions: integer("daily_max_portions").notNull().default(40),
    /** Safety limit: seconds between two remote feeds (double taps, automation loops). */
    minFeedIntervalSeconds: integer("min_feed_interval_seconds").notNull().default(60),
    petId: text("pet_id").references(() => pets.id, { onDelete: "set null" }),
    /** Meals are paused (vacation, vet) from this local date through `pausedUntil`, both inclusive. */
    pausedFrom: text("paused_from"),
    pausedUntil: text("paused_until"),
    /** Bumped by every change a device-side schedule must learn about. */
    scheduleVersion: integer("schedule_version").notNull().default(0),
    /** The schedule version the device last said it runs; null = never said. */
    deviceScheduleVersion: integer("device_schedule_version"),
  },
  // One device per wire id and family: the broker finds a connecting vendor device by it.
  (t) => [uniqueIndex("feeders_device_key_idx").on(t.profile, t.deviceKey)],
);

export const pets = sqliteTable("pets", {
  id: text("id").primaryKey(),
  householdId: householdId(),
  name: text("name").notNull(),
  dailyGramsTarget: real("daily_grams_target"),
  createdAt: createdAt(),
});

/** Meals that happen once: a local date and time. Ids share the namespace of the plan's meal ids. */
export const oneOffMeals = sqliteTable(
  "one_off_meals",
  {
    id: text("id").notNull(),
    feederId: text("feeder_id")
      .notNull()
      .references(() => feeders.id, { onDelete: "cascade" }),
    localDate: text("local_date").notNull(),
    time: text("time").notNull(),
    portions: integer("portions").notNull(),
    label: text("label").notNull().default(""),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.feederId, t.id] })],
);

export const meals = sqliteTable(
  "meals",
  {
    /** Chosen by the owner or generated; unique per feeder ("breakfast" may exist on every feeder). */
    id: text("id").notNull(),
    feederId: text("feeder_id")
      .notNull()
      .references(() => feeders.id, { onDelete: "cascade" }),
    /** Local wall-clock time, HH:MM. */
    time: text("time").notNull(),
    days: text("days", { mode: "json" }).$type<string[]>().notNull(),
    portions: integer("portions").notNull(),
    label: text("label").notNull().default(""),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    position: integer("position").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.feederId, t.id] })],
);

/**
 * dispatched: the server sent it as a feed; expected: the device runs it from its own schedule
 * and the server waits for its report; missed: the server was down past the grace window.
 */
export const OCCURRENCE_STATUSES = ["dispatched", "expected", "missed", "skipped", "paused"] as const;

/**
 * What happened to each planned meal the server has decided on. The id
 * (`<feeder>/<local date>/<meal>`) is also the feed's command id, so one
 * occurrence can never cause two feeds, across restarts too.
 */
export const occurrences = sqliteTable(
  "occurrences",
  {
    id: text("id").primaryKey(),
    feederId: text("feeder_id")
      .notNull()
      .references(() => feeders.id, { onDelete: "cascade" }),
    mealId: text("meal_id").notNull(),
    localDate: text("local_date").notNull(),
    dueAt: integer("due_at", { mode: "timestamp_ms" }).notNull(),
    status: text("status", { enum: OCCURRENCE_STATUSES }).notNull(),
    feedId: text("feed_id"),
    decidedAt: integer("decided_at", { mode: "timestamp_ms" }).notNull(),
    /** False while the alert monitor still watches this occurrence for a missing or failed meal. */
    checked: integer("checked", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [
    index("occurrences_feeder_due_idx").on(t.feederId, t.dueAt),
    index("occurrences_unchecked_idx").on(t.dueAt).where(sql`checked = 0`),
  ],
);

export const ALERT_KINDS = [
  "meal_missed",
  "meal_failed",
  "meal_doubled",
  "schedule_drift",
  "clock_skew",
  "food_low",
  "fault",
  "battery_low",
  "feeder_offline",
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const alerts = sqliteTable(
  "alerts",
  {
    id: text("id").primaryKey(),
    feederId: text("feeder_id").references(() => feeders.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ALERT_KINDS }).notNull(),
    /** One alert per fact: raising the same key again changes nothing. */
    key: text("key").notNull().unique(),
    message: text("message").notNull(),
    occurrenceId: text("occurrence_id"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    acknowledgedAt: integer("acknowledged_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("alerts_time_idx").on(t.createdAt)],
);

/** Small durable facts the server keeps about itself, e.g. up to when meals were evaluated. */
export const serverState = sqliteTable("server_state", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

export const FEED_STATUSES = [
  "pending",
  "sent",
  "accepted",
  "dispensed",
  "failed",
  "expired",
  "timed_out",
] as const;
export type FeedStatus = (typeof FEED_STATUSES)[number];
/** Who asked for a feed; `home_assistant`: a press in Home Assistant (a remote feed, told apart in history). */
export const FEED_SOURCES = ["remote", "schedule", "button", "home_assistant"] as const;

export const feeds = sqliteTable(
  "feeds",
  {
    id: text("id").primaryKey(),
    feederId: text("feeder_id")
      .notNull()
      .references(() => feeders.id, { onDelete: "cascade" }),
    /** The id on the wire: ours for commands we send, the device's for meals it started itself. */
    commandId: text("command_id").notNull(),
    source: text("source", { enum: FEED_SOURCES }).notNull(),
    portions: integer("portions").notNull(),
    status: text("status", { enum: FEED_STATUSES }).notNull(),
    error: text("error"),
    grams: real("grams"),
    requestedBy: text("requested_by"),
    idempotencyKey: text("idempotency_key"),
    requestedAt: integer("requested_at", { mode: "timestamp_ms" }).notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
    sentAt: integer("sent_at", { mode: "timestamp_ms" }),
    acceptedAt: integer("accepted_at", { mode: "timestamp_ms" }),
    completedAt: integer("completed_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    uniqueIndex("feeds_command_idx").on(t.feederId, t.commandId),
    uniqueIndex("feeds_idempotency_idx").on(t.feederId, t.idempotencyKey),
    index("feeds_feeder_time_idx").on(t.feederId, t.requestedAt),
    index("feeds_open_idx").on(t.status).where(sql`status in ('pending', 'sent', 'accepted')`),
  ],
);

export const telemetry = sqliteTable(
  "telemetry",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    feederId: text("feeder_id")
      .notNull()
      .references(() => feeders.id, { onDelete: "cascade" }),
    at: integer("at", { mode: "timestamp_ms" }).notNull(),
    foodLevel: real("food_level"),
    weightGrams: real("weight_grams"),
    battery: real("battery"),
    rssi: integer("rssi"),
    /** Zigbee link quality, 0–255. */
    linkQuality: integer("link_quality"),
    /** On mains power or charging (a feeder that also runs on batteries). */
    charging: integer("charging", { mode: "boolean" }),
    error: text("error"),
  },
  (t) => [index("telemetry_feeder_time_idx").on(t.feederId, t.at)],
);

/** Who did what, when and from where: sign-ins, changes through the API, feeds and what started them. */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: integer("at", { mode: "timestamp_ms" }).notNull(),
    /** Whose household it concerns; null for what concerns none (a sign-in under an unknown name). */
    householdId: text("household_id"),
    /** A username, or `device:<feeder id>` for a meal the device started itself. */
    actor: text("actor").notNull(),
    userId: text("user_id"),
    action: text("action").notNull(),
    /** What it was done to (a feeder, a user…), as the route's ids; never a request body. */
    target: text("target"),
    outcome: text("outcome").notNull(),
    address: text("address"),
  },
  (t) => [index("audit_log_time_idx").on(t.at)],
);

export const NOTIFICATION_CHANNEL_TYPES = ["ntfy", "webhook", "email"] as const;
export type NotificationChannelType = (typeof NOTIFICATION_CHANNEL_TYPES)[number];
export const NOTIFICATION_LANGUAGES = ["en", "ja"] as const;

/** Where a household's alerts are sent besides the alert list: an ntfy topic, a webhook, a mailbox. */
export const notificationChannels = sqliteTable("notification_channels", {
  id: text("id").primaryKey(),
  householdId: householdId(),
  name: text("name").notNull(),
  type: text("type", { enum: NOTIFICATION_CHANNEL_TYPES }).notNull(),
  /** The type's settings without its secret (ntfy server and topic, webhook URL, SMTP host and addresses). */
  config: text("config", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
  /**
   * The ntfy token, webhook signing secret or SMTP password. Sending needs it in clear, so it is kept as is
   * (the database file is the owner's only, 0600) and never leaves the server through the API.
   */
  secret: text("secret"),
  kinds: text("kinds", { mode: "json" }).$type<AlertKind[]>().notNull(),
  /** Local wall-clock HH:MM in the server's zone; both null: no quiet hours. */
  quietStart: text("quiet_start"),
  quietEnd: text("quiet_end"),
  language: text("language", { enum: NOTIFICATION_LANGUAGES }).notNull().default("en"),
  enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
  createdAt: createdAt(),
  lastSuccessAt: integer("last_success_at", { mode: "timestamp_ms" }),
  lastFailureAt: integer("last_failure_at", { mode: "timestamp_ms" }),
  lastError: text("last_error"),
});

/** pending: to send (again) at nextAttemptAt; held: quiet hours, sent when they end; failed: gave up. */
export const DELIVERY_STATUSES = ["pending", "held", "sent", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One alert to one channel: queued durably, so a restart neither loses nor repeats it. */
export const notificationDeliveries = sqliteTable(
  "notification_deliveries",
  {
    id: text("id").primaryKey(),
    channelId: text("channel_id")
      .notNull()
      .references(() => notificationChannels.id, { onDelete: "cascade" }),
    alertId: text("alert_id")
      .notNull()
      .references(() => alerts.id, { onDelete: "cascade" }),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at", { mode: "timestamp_ms" }),
    /** Quiet hours delayed it: the text says so. */
    wasHeld: integer("was_held", { mode: "boolean" }).notNull().default(false),
    lastError: text("last_error"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    sentAt: integer("sent_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    uniqueIndex("notification_deliveries_once_idx").on(t.channelId, t.alertId),
    index("notification_deliveries_channel_idx").on(t.channelId, t.createdAt),
    index("notification_deliveries_due_idx").on(t.nextAttemptAt).where(sql`status in ('pending', 'held')`),
  ],
);
