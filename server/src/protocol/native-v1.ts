/**
 * Feedkeeper native MQTT protocol, version 1: topics and payload schemas.
 * Both the server's bridge and the feeder simulator use these, so the protocol
 * has one definition. docs/protocol.md describes it for firmware authors.
 */
import { z } from "zod";

export const PROTOCOL_VERSION = 1;
export const TOPIC_ROOT = "feedkeeper";
export const SERVER_STATUS_TOPIC = `${TOPIC_ROOT}/server/status`;

/**
 * A feeder id is also its MQTT username, client id and topic level, so it can
 * never contain `+`, `#`, `/` or `$`: lower-case letters and digits only.
 */
export const FEEDER_ID_PATTERN = /^[a-z0-9]{1,32}$/;

/** The capability a device announces when it can store a schedule and feed from it on its own. */
export const CAPABILITY_SCHEDULE = "schedule";

/** The `error` a device sends with `rejected` when a command arrived after its expiresAt. */
export const FEED_ERROR_EXPIRED = "expired";

export const topics = {
  root: (feederId: string) => `${TOPIC_ROOT}/${feederId}`,
  status: (feederId: string) => `${TOPIC_ROOT}/${feederId}/status`,
  hello: (feederId: string) => `${TOPIC_ROOT}/${feederId}/hello`,
  feed: (feederId: string) => `${TOPIC_ROOT}/${feederId}/feed`,
  telemetry: (feederId: string) => `${TOPIC_ROOT}/${feederId}/telemetry`,
  schedule: (feederId: string) => `${TOPIC_ROOT}/${feederId}/schedule`,
  commandFeed: (feederId: string) => `${TOPIC_ROOT}/${feederId}/cmd/feed`,
  commandSchedule: (feederId: string) => `${TOPIC_ROOT}/${feederId}/cmd/schedule`,
  commandFilter: (feederId: string) => `${TOPIC_ROOT}/${feederId}/cmd/#`,
};

const isoDateTime = z.iso.datetime({ offset: true });
/**
 * Ids travel inside payloads only, but keep them printable and bounded. Planned
 * meals use `<feeder>/<local date>/<meal>`, hence the slash.
 */
const messageId = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9._:/-]+$/, "letters, digits and . _ : / - only");

/** Plain text, not JSON, so it can be a last-will message and read at a glance: `online` / `offline`. */
export const statusPayload = z.enum(["online", "offline"]);

export const helloPayload = z.object({
  protocol: z.literal(PROTOCOL_VERSION),
  model: z.string().min(1).max(64),
  firmware: z.string().min(1).max(64),
  capabilities: z.array(z.string().min(1).max(32)).max(32),
  portionGrams: z.number().positive().max(1000).optional(),
  scheduleSlots: z.number().int().min(0).max(100).optional(),
  /** The schedule version the device runs now; 0 or absent: none. */
  scheduleVersion: z.number().int().min(0).optional(),
  /** The device's clock when it said hello, so the server can tell a clock that is off. */
  time: isoDateTime.optional(),
});
export type HelloPayload = z.infer<typeof helloPayload>;

export const feedCommandPayload = z.object({
  id: messageId,
  portions: z.number().int().min(1).max(100),
  expiresAt: isoDateTime,
});
export type FeedCommandPayload = z.infer<typeof feedCommandPayload>;

const localDate = z.iso.date();
const wallTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "HH:MM");
const weekday = z.enum(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
const scheduleMealId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._:-]+$/, "letters, digits and . _ : - only");

/**
 * The whole schedule as desired state: the device replaces what it has with it
 * and confirms the version. Meals are in `timezone`'s wall-clock time.
 */
export const scheduleCommandPayload = z.object({
  version: z.number().int().min(1),
  timezone: z.string().min(1).max(64),
  meals: z.array(
    z.object({
      id: scheduleMealId,
      time: wallTime,
      days: z.array(weekday),
      portions: z.number().int().min(1).max(100),
      enabled: z.boolean(),
    }),
  ),
  oneOffs: z.array(
    z.object({
      id: scheduleMealId,
      date: localDate,
      time: wallTime,
      portions: z.number().int().min(1).max(100),
    }),
  ),
  /** Occurrences not to feed, as `<local date>/<meal id>`. */
  skips: z.array(z.string().max(100)),
  /** No meals from `from` through `until` (local dates, inclusive). */
  pause: z.object({ from: localDate, until: localDate }).nullable(),
});
export type ScheduleCommandPayload = z.infer<typeof scheduleCommandPayload>;

export const scheduleReportPayload = z.object({
  version: z.number().int().min(0),
  status: z.enum(["applied", "rejected"]),
  error: z.string().max(200).optional(),
});
export type ScheduleReportPayload = z.infer<typeof scheduleReportPayload>;

export const FEED_REPORT_STATUSES = ["accepted", "dispensed", "failed", "rejected"] as const;
export const FEED_SOURCES = ["remote", "schedule", "button"] as const;

export const feedReportPayload = z.object({
  id: messageId,
  status: z.enum(FEED_REPORT_STATUSES),
  portions: z.number().int().min(0).max(100),
  source: z.enum(FEED_SOURCES),
  at: isoDateTime,
  error: z.string().max(200).optional(),
  grams: z.number().min(0).max(10000).optional(),
  mealId: z.string().max(64).optional(),
});
export type FeedReportPayload = z.infer<typeof feedReportPayload>;

export const telemetryPayload = z.object({
  foodLevel: z.number().min(0).max(1).optional(),
  weightGrams: z.number().min(0).max(100000).optional(),
  battery: z.number().min(0).max(1).optional(),
  rssi: z.number().int().min(-150).max(0).optional(),
  error: z.string().max(200).optional(),
});
export type TelemetryPayload = z.infer<typeof telemetryPayload>;
