/**
 * The `tuya-dp` codec: Tuya Wi-Fi feeders whose Wi-Fi module runs Tasmota with TuyaMCU (module 54), set up
 * as in docs/devices/tasmota-tuyamcu.md: Topic = the feeder id, FullTopic `feedkeeper/%topic%/%prefix%/`,
 * Prefix1 `cmd`, and SetOption66 1 so that every frame of the feeder's MCU reaches MQTT as `TuyaReceived`.
 * Which data point (DP) means what comes from the profile's `tuya` section, per model.
 *
 * Tasmota publishes its LWT `Online` before it subscribes to its commands, so nothing is sent on the LWT:
 * the subscription makes the feeder ready, and the first message after the LWT brings the stand-in hello
 * and the state query (the MCU's heartbeats, every 10 s, make sure one comes).
 *
 * Tuya has no command ids: a feed report is matched to the oldest feed waiting for its result. The MCU
 * reports every DP again when asked for its state and at each boot, the last feed report included, so a
 * report counts as a meal only after the feed state DP said a meal is running. That state, and whether a
 * connection has been greeted, are kept per feeder in memory.
 */
import { z } from "zod";
import type { DeviceTelemetry } from "../../feeding/feeders.js";
import { topics } from "../../protocol/native-v1.js";
import type { CanonicalFault, DeviceProfile, TuyaDps } from "../profile-schema.js";
import {
  type CanonicalEvent,
  type Codec,
  type DeviceMessage,
  type DeviceTarget,
  isRejection,
  type Rejection,
  type WireMessage,
} from "./codec.js";
import {
  decodeMealPlan,
  encodeMealPlan,
  MealPlanFormatError,
  mealPlanFingerprint,
  type TuyaMealEntry,
  toHex,
} from "./tuya-meal-plan.js";

/** Tuya's standard feeder definition holds at most 10 meals; a profile's slots say otherwise. */
const DEFAULT_SLOTS = 10;
/** The MCU frame that reports DP states (Tuya serial protocol command 0x07). */
const STATE_REPORT = 7;
const RETAINED_EVENT = { reason: "retained meal and fault reports are replays and are ignored" };
/** The faults after which no feed report will come for the meal (the bridge fails the feed on them). */
const ENDS_A_MEAL: ReadonlySet<CanonicalFault> = new Set(["jam", "empty", "blocked"]);

const TUYA_TYPE = { raw: 0, bool: 1, value: 2, string: 3, enum: 4, bitmap: 5 } as const;
type TuyaType = keyof typeof TUYA_TYPE;

const hexBytes = z.string().regex(/^(?:[0-9A-Fa-f]{2})*$/, "expected hex bytes");

/** Tasmota's JSON for one MCU frame; the DPs are read from CmndData, the frame's data bytes. */
const tuyaReceived = z.looseObject({
  Data: hexBytes,
  Cmnd: z.number().int().min(0).max(255),
  CmndData: hexBytes.optional(),
});
const resultPayload = z.looseObject({ TuyaReceived: tuyaReceived.optional() });
const statePayload = z.looseObject({
  Wifi: z.looseObject({ Signal: z.number().int().min(-150).max(0).optional() }).optional(),
});

interface Dp {
  id: number;
  type: number;
  data: Buffer;
}

type FaultMap = NonNullable<DeviceProfile["capabilities"]["faults"]>;

/** One model's DPs, its defaults filled in. */
interface ModelDps {
  name: string;
  manualFeed: number;
  feedReport: number;
  feedState: TuyaDps["feedState"];
  mealPlan: number | undefined;
  fault: number | undefined;
  battery: number | undefined;
  charging: number | undefined;
  foodLevel: number | undefined;
  weight: number | undefined;
  feedMax: number;
  faults: FaultMap | undefined;
}

function resolveModels(profile: DeviceProfile): (model: string | undefined) => ModelDps {
  const tuya = profile.tuya as TuyaDps;
  const defaults: ModelDps = {
    name: profile.name,
    manualFeed: tuya.manualFeed,
    feedReport: tuya.feedReport,
    feedState: tuya.feedState,
    mealPlan: tuya.mealPlan,
    fault: tuya.fault,
    battery: tuya.battery,
    charging: tuya.charging,
    foodLevel: tuya.foodLevel,
    weight: tuya.weight,
    feedMax: profile.capabilities.feed.max,
    faults: profile.capabilities.faults,
  };
  const byId = new Map<string, ModelDps>();
  for (const model of profile.models) {
    const own = tuya.models[model.id] ?? {};
    // null in a model's entry: it lacks that DP.
    const optional = (key: "mealPlan" | "fault" | "battery" | "charging" | "foodLevel" | "weight") =>
      own[key] === null ? undefined : (own[key] ?? defaults[key]);
    byId.set(model.id, {
      name: model.name,
      manualFeed: own.manualFeed ?? defaults.manualFeed,
      feedReport: own.feedReport ?? defaults.feedReport,
      feedState: own.feedState ?? defaults.feedState,
      mealPlan: optional("mealPlan"),
      fault: optional("fault"),
      battery: optional("battery"),
      charging: optional("charging"),
      foodLevel: optional("foodLevel"),
      weight: optional("weight"),
      feedMax: own.feedMax ?? defaults.feedMax,
      faults: model.faults ?? defaults.faults,
    });
  }
  // A feeder without a model, or with one the profile no longer has, gets the profile's defaults.
  return (model) => (model === undefined ? undefined : byId.get(model)) ?? defaults;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; rejection: Rejection };

function parseJson<T>(schema: z.ZodType<T>, payload: Buffer, what: string): Parsed<T> {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString("utf8"));
  } catch {
    return { ok: false, rejection: { reason: `${what}: not JSON` } };
  }
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  const reason = result.error.issues.map((i) => `${what}.${i.path.join(".") || "payload"}: ${i.message}`);
  return { ok: false, rejection: { reason: reason.join("; ") } };
}

/** The DP records of a state report: [id, type, length (2 bytes, big-endian), data…] one after another. */
function splitDps(data: Buffer): Parsed<Dp[]> {
  const dps: Dp[] = [];
  let at = 0;
  while (at < data.length) {
    if (at + 4 > data.length) {
      return { ok: false, rejection: { reason: "TuyaReceived: CmndData ends inside a DP header" } };
    }
    const id = data.readUInt8(at);
    const type = data.readUInt8(at + 1);
    const length = data.readUInt16BE(at + 2);
    if (at + 4 + length > data.length) {
      return { ok: false, rejection: { reason: `TuyaReceived: DP ${id} is cut short` } };
    }
    dps.push({ id, type, data: data.subarray(at + 4, at + 4 + length) });
    at += 4 + length;
  }
  return { ok: true, value: dps };
}

/** Each Tuya type's wire length; a bitmap is 1, 2 or 4 bytes. */
function readNumber(dp: Dp, type: Exclude<TuyaType, "raw" | "string">, what: string): number | Rejection {
  if (dp.type !== TUYA_TYPE[type]) {
    return {
      reason: `${what} (DP ${dp.id}): expected a ${type} (type ${TUYA_TYPE[type]}), got type ${dp.type}`,
    };
  }
  const lengths = type === "value" ? [4] : type === "bitmap" ? [1, 2, 4] : [1];
  if (!lengths.includes(dp.data.length)) {
    return { reason: `${what} (DP ${dp.id}): ${dp.data.length} bytes for a ${type}` };
  }
  // Tuya values are signed 32-bit; bitmaps, bools and enums unsigned.
  return type === "value" ? dp.data.readInt32BE(0) : dp.data.readUIntBE(0, dp.data.length);
}

function inRange(value: number, min: number, max: number, what: string, dp: Dp): Rejection | undefined {
  if (value >= min && value <= max) return undefined;
  return { reason: `${what} (DP ${dp.id}): ${value} is out of range (${min}..${max})` };
}

/** A bitmask may hold several faults: the lowest set bit the map knows stands for them all. */
function faultOf(bits: number, faults: FaultMap): CanonicalFault | undefined {
  if (faults.encoding === "code") return faults.map[String(bits)];
  if (bits === 0) return "ok";
  for (let bit = 1; bit <= bits; bit *= 2) {
    const known = bits & bit ? faults.map[String(bit)] : undefined;
    if (known) return known;
  }
  return "unknown";
}

export function createTuyaDpCodec(profile: DeviceProfile): Codec {
  const modelOf = resolveModels(profile);
  const slots = profile.capabilities.schedule.slots ?? DEFAULT_SLOTS;
  /** Feeders whose feed state DP said a meal is running, whose report has not come yet. */
  const mealRunning = new Set<string>();
  /** Feeders whose connection has had its stand-in hello and state query. */
  const greeted = new Set<string>();

  const command = (target: DeviceTarget, name: string, payload: string): WireMessage => ({
    topic: `${topics.root(target.feederId)}/cmd/${name}`,
    payload,
    qos: 1,
    // Never retained: a retained command would run again at every reconnect.
    retain: false,
  });

  function lwt(message: DeviceMessage): CanonicalEvent[] | Rejection {
    const text = message.payload.toString("utf8");
    if (text !== "Online" && text !== "Offline") return { reason: `LWT: expected "Online" or "Offline"` };
    greeted.delete(message.feederId);
    // `Online` comes before Tasmota subscribes: anything sent on it now would be lost.
    return text === "Online" ? [] : [{ kind: "status", online: false }];
  }

  /** What the first message of a connection brings along. */
  function greeting(message: DeviceMessage): CanonicalEvent[] {
    return [
      // Tasmota says nothing like a hello; this stands in for one.
      {
        kind: "hello",
        hello: { model: modelOf(message.model).name, firmware: "Tasmota", capabilities: ["feed"] },
      },
      // TuyaSend0: the MCU reports every DP, so the server learns the plan the device holds.
      { kind: "reply", message: command(message, "TuyaSend0", "") },
    ];
  }

  function dpEvents(message: DeviceMessage, dps: Dp[]): CanonicalEvent[] | Rejection {
    const model = modelOf(message.model);
    const events: CanonicalEvent[] = [];
    const telemetry: DeviceTelemetry = {};
    for (const dp of dps) {
      switch (dp.id) {
        case model.feedState.dp: {
          const state = readNumber(dp, "enum", "feed state");
          if (typeof state !== "number") return state;
          if (model.feedState.feeding.includes(state)) mealRunning.add(message.feederId);
          break;
        }
        case model.feedReport: {
          if (message.retain) return RETAINED_EVENT;
          const portions = readNumber(dp, "value", "feed report");
          if (typeof portions !== "number") return portions;
          const bad = inRange(portions, 0, model.feedMax, "feed report", dp);
          if (bad) return bad;
          // Without a running meal this is the last report again (a state query or a reboot), not a meal.
          if (!mealRunning.delete(message.feederId)) break;
          if (portions > 0) events.push({ kind: "dispensed", portions });
          break;
        }
        case model.fault: {
          if (message.retain) return RETAINED_EVENT;
          const bits = readNumber(dp, "bitmap", "fault");
          if (typeof bits !== "number") return bits;
          if (!model.faults) {
            return {
              reason: `fault (DP ${dp.id}): the fault bits differ per model; set this feeder's model`,
            };
          }
          const fault = faultOf(bits, model.faults);
          if (!fault) return { reason: `fault (DP ${dp.id}): unknown code ${bits}` };
          if (ENDS_A_MEAL.has(fault)) mealRunning.delete(message.feederId);
          events.push({ kind: "fault", fault });
          break;
        }
        case model.battery: {
          const percent = readNumber(dp, "value", "battery");
          if (typeof percent !== "number") return percent;
          const bad = inRange(percent, 0, 100, "battery", dp);
          if (bad) return bad;
          telemetry.battery = percent / 100;
          break;
        }
        case model.foodLevel: {
          const percent = readNumber(dp, "value", "food level");
          if (typeof percent !== "number") return percent;
          const bad = inRange(percent, 0, 100, "food level", dp);
          if (bad) return bad;
          telemetry.foodLevel = percent / 100;
          break;
        }
        case model.weight: {
          const grams = readNumber(dp, "value", "weight");
          if (typeof grams !== "number") return grams;
          const bad = inRange(grams, 0, 100_000, "weight", dp);
          if (bad) return bad;
          telemetry.weightGrams = grams;
          break;
        }
        case model.charging: {
          const charging = readNumber(dp, "bool", "charging");
          if (typeof charging !== "number") return charging;
          telemetry.charging = charging === 1;
          break;
        }
        case model.mealPlan: {
          if (dp.type !== TUYA_TYPE.raw) {
            return { reason: `meal plan (DP ${dp.id}): expected raw (type 0), got type ${dp.type}` };
          }
          try {
            decodeMealPlan(dp.data, slots);
          } catch (err) {
            if (err instanceof MealPlanFormatError) return { reason: err.message };
            throw err;
          }
          events.push({ kind: "scheduleHeld", fingerprint: mealPlanFingerprint(dp.data) });
          break;
        }
        default:
        // DPs this profile does not use (the feed command's own echo, unit, calibration…).
      }
    }
    if (Object.keys(telemetry).length > 0) events.push({ kind: "telemetry", telemetry, partial: true });
    return events;
  }

  function result(message: DeviceMessage): CanonicalEvent[] | Rejection {
    const parsed = parseJson(resultPayload, message.payload, "RESULT");
    if (!parsed.ok) return parsed.rejection;
    const frame = parsed.value.TuyaReceived;
    // Other RESULTs answer commands ({"TuyaSend2":"Done"}); other frames are the MCU's housekeeping.
    if (!frame || frame.Cmnd !== STATE_REPORT) return [];
    const dps = splitDps(Buffer.from(frame.CmndData ?? "", "hex"));
    return dps.ok ? dpEvents(message, dps.value) : dps.rejection;
  }

  function state(message: DeviceMessage): CanonicalEvent[] | Rejection {
    const parsed = parseJson(statePayload, message.payload, "STATE");
    if (!parsed.ok) return parsed.rejection;
    const rssi = parsed.value.Wifi?.Signal;
    return rssi === undefined ? [] : [{ kind: "telemetry", telemetry: { rssi }, partial: true }];
  }

  function decodeChannel(message: DeviceMessage, channel: string): CanonicalEvent[] | Rejection {
    switch (channel) {
      case "tele/RESULT":
      case "stat/RESULT":
        return result(message);
      case "tele/STATE":
        return state(message);
    }
    if (/^(tele|stat)\/TUYARECEIVED$/i.test(channel)) {
      return { reason: "SetOption4 is on: Tasmota must publish TuyaReceived on RESULT (SetOption4 0)" };
    }
    // Tasmota's INFO1-3, SENSOR, UPTIME and command echoes: nothing Feedkeeper reads.
    if (/^(tele|stat)\/[^/]+$/.test(channel)) return [];
    return { reason: "no rule for this topic" };
  }

  function decode(message: DeviceMessage): CanonicalEvent[] | Rejection {
    const root = `${topics.root(message.feederId)}/`;
    if (!message.topic.startsWith(root)) return { reason: "outside the feeder's topics" };
    const channel = message.topic.slice(root.length);
    if (channel === "tele/LWT") return lwt(message);
    const events = decodeChannel(message, channel);
    if (isRejection(events) || greeted.has(message.feederId)) return events;
    greeted.add(message.feederId);
    return [...greeting(message), ...events];
  }

  /** The plan's enabled meals as the device stores them (one-offs, skips and pause it cannot hold). */
  function planBytes(schedule: Parameters<Codec["encodeSchedule"]>[1]): Buffer {
    const entries: TuyaMealEntry[] = schedule.meals
      .filter((meal) => meal.enabled && meal.days.length > 0)
      .map((meal) => {
        const [hour = "", minute = ""] = meal.time.split(":");
        return {
          days: meal.days,
          hour: Number(hour),
          minute: Number(minute),
          portions: meal.portions,
          enabled: true,
        };
      });
    return encodeMealPlan(entries, slots);
  }

  return {
    name: "tuya-dp",
    acknowledgesCommands: false,
    decode,
    encodeFeed(target, feed) {
      return [command(target, "TuyaSend2", `${modelOf(target.model).manualFeed},${feed.portions}`)];
    },
    encodeSchedule(target, schedule) {
      const dp = modelOf(target.model).mealPlan;
      if (dp === undefined) return [];
      return [command(target, "TuyaSend6", `${dp},${toHex(planBytes(schedule))}`)];
    },
    scheduleFingerprint(_target, schedule) {
      try {
        return mealPlanFingerprint(planBytes(schedule));
      } catch (err) {
        // A plan the device cannot hold matches nothing it reports.
        if (err instanceof MealPlanFormatError) return `not storable: ${err.message}`;
        throw err;
      }
    },
  };
}
