/**
 * Codec `z2m-aqara-c1`: the Aqara Pet Feeder C1 (ZNCWWSQ01LM, white-label PETC1-M01) as Zigbee2MQTT
 * publishes it on the owner's broker (../shared/reference/protocol-facts.md §1). The device key is the
 * Zigbee2MQTT friendly name; the base topic is taken to be `zigbee2mqtt`.
 *
 * Telling a new meal from a repeated state. Zigbee2MQTT caches each device's state and, by default
 * (`cache_state: true`), publishes the whole cache with every update: the `feeding_source` and
 * `feeding_size` of the last meal come back in every later message (a new link quality, a setting, each
 * Zigbee2MQTT start). Nothing in such a message tells the repeat from a new meal, and a memory of earlier
 * messages would not either: two equal meals in a row publish equal values. So the guide
 * (docs/devices/zigbee2mqtt-aqara-c1.md) has Zigbee2MQTT keep exactly these two keys out of its cache
 * (`filtered_cache`); they then appear only in the message of the report the feeder sends after a meal,
 * and a live state message carrying `feeding_size` is one meal, without any state kept here.
 */
import { z } from "zod";
import type { DeviceSchedule } from "../../feeding/device-schedule-sync.js";
import { WEEKDAYS, type Weekday } from "../../feeding/meal-time.js";
import { CAPABILITY_SCHEDULE } from "../../protocol/native-v1.js";
import type { DeviceProfile } from "../profile-schema.js";
import type { CanonicalEvent, Codec, DeviceMessage, DeviceTarget, Rejection, WireMessage } from "./codec.js";

const Z2M_BASE_TOPIC = "zigbee2mqtt";

export const z2mTopics = {
  state: (friendlyName: string) => `${Z2M_BASE_TOPIC}/${friendlyName}`,
  availability: (friendlyName: string) => `${Z2M_BASE_TOPIC}/${friendlyName}/availability`,
  set: (friendlyName: string) => `${Z2M_BASE_TOPIC}/${friendlyName}/set`,
  bridgeState: `${Z2M_BASE_TOPIC}/bridge/state`,
};

/** The day sets a schedule entry can name (bit 0 = Monday), as zigbee-herdsman-converters' feederDaysLookup. */
export const Z2M_DAY_SETS = {
  everyday: 0x7f,
  workdays: 0x1f,
  weekend: 0x60,
  mon: 0x01,
  tue: 0x02,
  wed: 0x04,
  thu: 0x08,
  fri: 0x10,
  sat: 0x20,
  sun: 0x40,
  "mon-wed-fri-sun": 0x55,
  "tue-thu-sat": 0x2a,
} as const;
export type Z2mDaySet = keyof typeof Z2M_DAY_SETS;

const DAY_SET_NAMES = Object.keys(Z2M_DAY_SETS) as [Z2mDaySet, ...Z2mDaySet[]];
const DAY_BIT = Object.fromEntries(WEEKDAYS.map((day, i) => [day, 1 << i])) as Record<Weekday, number>;

const z2mScheduleEntry = z.object({
  days: z.enum(DAY_SET_NAMES),
  hour: z.number().int().min(0).max(23),
  minute: z.number().int().min(0).max(59),
  // One byte on the wire; what the feeder holds is compared as it is, whatever Feedkeeper would send.
  size: z.number().int().min(0).max(255),
});
export type Z2mScheduleEntry = z.infer<typeof z2mScheduleEntry>;

/** What started a meal, in Feedkeeper's words: the feeder's plan, its button, or a remote feed. */
const FEEDING_SOURCE = { schedule: "schedule", manual: "button", remote: "remote" } as const;

/**
 * The keys this codec reads. The others pass unread: the feeder's settings and what Zigbee2MQTT adds
 * (last_seen, update, device, …).
 */
function statePayload(maxPortions: number) {
  return z.object({
    linkquality: z.number().int().min(0).max(255).optional(),
    error: z.boolean().optional(),
    feeding_source: z.enum(["schedule", "manual", "remote"]).optional(),
    feeding_size: z.number().int().min(0).max(maxPortions).optional(),
    schedule: z.array(z2mScheduleEntry).optional(),
  });
}

/** Zigbee2MQTT 2.x (and 1.x without legacy_availability_payload) sends JSON; 1.x by default plain text. */
const availabilityJson = z.object({ state: z.enum(["online", "offline"]) });

/**
 * Whether an availability message (or `zigbee2mqtt/bridge/state`, which has the same two styles) says
 * online; undefined when it is neither style.
 */
export function z2mOnline(payload: Buffer): boolean | undefined {
  const text = payload.toString("utf8").trim();
  if (text === "online" || text === "offline") return text === "online";
  try {
    const parsed = availabilityJson.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.state === "online" : undefined;
  } catch {
    return undefined;
  }
}

/**
 * For every set of days (a 7-bit mask), the fewest named day sets that make it up exactly. They must not
 * overlap: a day in two entries would get its meal twice.
 */
const DAY_SET_COVERS: ReadonlyArray<readonly Z2mDaySet[]> = (() => {
  const covers: Z2mDaySet[][] = [[]];
  for (let days = 1; days < 128; days++) {
    let best: Z2mDaySet[] | undefined;
    for (const name of DAY_SET_NAMES) {
      const mask = Z2M_DAY_SETS[name];
      if ((days & mask) !== mask) continue;
      const rest = covers[days ^ mask] ?? [];
      if (!best || rest.length + 1 < best.length) best = [name, ...rest];
    }
    covers.push(best ?? []);
  }
  return covers;
})();

const firstDay = (set: Z2mDaySet) => WEEKDAYS.findIndex((day) => Z2M_DAY_SETS[set] & DAY_BIT[day]);

/**
 * The schedule as Zigbee2MQTT takes it: the enabled meals, a meal whose days have no name split into
 * several entries, ordered by time. One-offs, skips and a pause cannot be stored on this feeder (the API
 * refuses them for it), so they are not here.
 */
export function z2mScheduleEntries(schedule: DeviceSchedule): Z2mScheduleEntry[] {
  const entries: Z2mScheduleEntry[] = [];
  for (const meal of schedule.meals) {
    if (!meal.enabled) continue;
    const [hour = 0, minute = 0] = meal.time.split(":").map(Number);
    const days = meal.days.reduce((mask, day) => mask | DAY_BIT[day], 0);
    for (const set of DAY_SET_COVERS[days] ?? []) {
      entries.push({ days: set, hour, minute, size: meal.portions });
    }
  }
  return entries.sort(
    (a, b) => a.hour - b.hour || a.minute - b.minute || firstDay(a.days) - firstDay(b.days),
  );
}

const two = (n: number) => String(n).padStart(2, "0");

/**
 * A plan in canonical form: one item per day and meal, so the same plan written with other day names or in
 * another order (the feeder's report, Zigbee2MQTT's echo, Feedkeeper's own encoding) reads the same.
 */
export function z2mScheduleFingerprint(entries: readonly Z2mScheduleEntry[]): string {
  const meals: Array<{ day: number; text: string }> = [];
  WEEKDAYS.forEach((day, i) => {
    for (const { days, hour, minute, size } of entries) {
      if (Z2M_DAY_SETS[days] & DAY_BIT[day])
        meals.push({ day: i, text: `${day} ${two(hour)}:${two(minute)} x${size}` });
    }
  });
  return meals
    .sort((a, b) => a.day - b.day || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0))
    .map((m) => m.text)
    .join(", ");
}

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "payload"}: ${i.message}`).join("; ");
}

export function createZ2mAqaraC1Codec(profile: DeviceProfile): Codec {
  const state = statePayload(profile.capabilities.feed.max);
  const defaultModel = profile.models[0]?.id ?? profile.id;

  function availability({ payload, model }: DeviceMessage): CanonicalEvent[] | Rejection {
    if (payload.length === 0) {
      return { reason: "availability cleared: the device was renamed or removed in Zigbee2MQTT" };
    }
    const online = z2mOnline(payload);
    if (online === undefined) {
      return { reason: 'availability: expected "online", "offline" or {"state":"online"|"offline"}' };
    }
    if (!online) return [{ kind: "status", online: false }];
    return [
      { kind: "status", online: true },
      // Zigbee2MQTT says nothing like a hello; this stands in for one. The feeder keeps its plan itself.
      {
        kind: "hello",
        hello: {
          model: model ?? defaultModel,
          firmware: "zigbee2mqtt",
          capabilities: ["feed", CAPABILITY_SCHEDULE],
        },
      },
    ];
  }

  function deviceState({ payload, retain }: DeviceMessage): CanonicalEvent[] | Rejection {
    if (payload.length === 0) {
      return { reason: "state cleared: the device was renamed or removed in Zigbee2MQTT" };
    }
    let json: unknown;
    try {
      json = JSON.parse(payload.toString("utf8"));
    } catch {
      return { reason: "state: not JSON" };
    }
    const parsed = state.safeParse(json);
    if (!parsed.success) return { reason: `state: ${issues(parsed.error)}` };
    const { linkquality, error, feeding_source, feeding_size, schedule } = parsed.data;
    const events: CanonicalEvent[] = [];
    if (linkquality !== undefined) {
      events.push({ kind: "telemetry", telemetry: { linkQuality: linkquality }, partial: true });
    }
    // A retained state is a replay of something already reported: never a meal or a fault.
    if (!retain) {
      // The feeder says only that something is wrong; whether it is a jam or an empty hopper is not known.
      if (error !== undefined) events.push({ kind: "fault", fault: error ? "unknown" : "ok" });
      // Zero portions came out: not a meal.
      if (feeding_size) {
        const source = feeding_source && FEEDING_SOURCE[feeding_source];
        events.push({ kind: "dispensed", portions: feeding_size, ...(source && { source }) });
      }
    }
    if (schedule) events.push({ kind: "scheduleHeld", fingerprint: z2mScheduleFingerprint(schedule) });
    return events;
  }

  const set = (target: DeviceTarget, body: object): WireMessage => ({
    topic: z2mTopics.set(target.deviceKey),
    payload: JSON.stringify(body),
    qos: 1,
    retain: false,
  });

  return {
    name: "z2m-aqara-c1",
    acknowledgesCommands: false,
    decode(message) {
      if (message.topic === z2mTopics.state(message.deviceKey)) return deviceState(message);
      if (message.topic === z2mTopics.availability(message.deviceKey)) return availability(message);
      return { reason: "not one of this feeder's Zigbee2MQTT topics" };
    },
    encodeFeed(target, command) {
      // `feed: START` has no amount: the feeder feeds its serving size. Two messages, because Zigbee2MQTT
      // applies only the first of several keys that this device's converter handles in one message.
      return [set(target, { serving_size: command.portions }), set(target, { feed: "START" })];
    },
    encodeSchedule(target, schedule) {
      return [set(target, { schedule: z2mScheduleEntries(schedule) })];
    },
    scheduleFingerprint(_target, schedule) {
      return z2mScheduleFingerprint(z2mScheduleEntries(schedule));
    },
    gatewayOnline: z2mOnline,
  };
}
