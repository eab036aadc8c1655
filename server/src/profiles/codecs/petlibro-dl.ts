/**
 * Codec `petlibro-dl`: Petlibro feeders on the vendor's own MQTT platform ("dl": PLAF103, PLAF107, PLAF108,
 * PLAF203, PLAF301), re-pointed by DNS to Feedkeeper's broker. The facts are those of
 * ../shared/reference/protocol-facts.md §6 and the public captures and reimplementations the profile
 * (device-profiles/petlibro-dl.yaml) lists; what is inferred is in its `uncertain` list.
 *
 * The feeder publishes JSON on `dl/<model>/<serial>/device/<channel>/post` and reads `…/sub`. Every message
 * names its command (`cmd`); requests carry a `msgId` that the answer echoes. Three of them tie meals to
 * commands: a MANUAL_FEEDING_SERVICE's `msgId` comes back in the feeder's reply on service/post and in the
 * GRAIN_OUTPUT_EVENTs of that meal, so a command id is the `msgId` (a UUID without its dashes, the form the
 * vendor cloud uses). The feeder repeats every event until it is acknowledged on event/sub: the codec
 * acknowledges each one it accepts, echoing its `msgId` (and `execStep`), and every meal it reports is keyed
 * by that `msgId`, so a repeated event changes nothing.
 *
 * Time. The feeder asks for the time (`NTP`) and repeats the question until it is answered. It is answered
 * with the server's clock and time zone UTC, offset 0, no daylight saving. Plans go out in UTC too
 * (`executionTime` is UTC on this platform): with the feeder's zone at UTC, its clock, its plan times and its
 * weekdays are one and the same whatever it does with time zones, and it never shifts a plan itself. The
 * plan's local times are turned into UTC at the offset the plan's zone has when it is sent, so the plan must
 * be sent again when that offset changes.
 */
import { createHash } from "node:crypto";
import { Temporal } from "temporal-polyfill";
import { z } from "zod";
import type { DeviceSchedule } from "../../feeding/device-schedule-sync.js";
import type { FeedReport, FeedSource } from "../../feeding/feeds.js";
import { WEEKDAYS } from "../../feeding/meal-time.js";
import { CAPABILITY_SCHEDULE } from "../../protocol/native-v1.js";
import type { CanonicalFault, DeviceProfile } from "../profile-schema.js";
import type { CanonicalEvent, Codec, DeviceMessage, DeviceTarget, Rejection, WireMessage } from "./codec.js";

export const PETLIBRO_DL = "petlibro-dl";

const PETLIBRO_CHANNELS = [
  "service",
  "event",
  "heart",
  "ntp",
  "ota",
  "config",
  "system",
  "broadcast",
] as const;
export type PetlibroChannel = (typeof PETLIBRO_CHANNELS)[number];

export function petlibroTopic(
  model: string,
  serial: string,
  channel: PetlibroChannel,
  direction: "post" | "sub",
): string {
  return `dl/${model}/${serial}/device/${channel}/${direction}`;
}

export const CMD = {
  manualFeeding: "MANUAL_FEEDING_SERVICE",
  feedingPlan: "FEEDING_PLAN_SERVICE",
  getFeedingPlan: "GET_FEEDING_PLAN_EVENT",
  grainOutput: "GRAIN_OUTPUT_EVENT",
  attrPush: "ATTR_PUSH_EVENT",
  deviceStart: "DEVICE_START_EVENT",
  errorEvent: "ERROR_EVENT",
  heartbeat: "HEARTBEAT",
  ntp: "NTP",
} as const;

/** Events the feeder sends without waiting for an answer (QoS 0 in the capture): never acknowledged. */
const UNANSWERED_EVENTS: ReadonlySet<string> = new Set(["DEVICE_LOG_REPORT_EVENT", "DETECTION_EVENT"]);

/** GRAIN_OUTPUT_EVENT `type`: what started the meal (1 and 3 are named by reimplementations, not captured). */
export const GRAIN_TYPE = { plan: 1, manual: 2, button: 3 } as const;

const GRAIN_SOURCES: Readonly<Record<number, FeedSource>> = {
  [GRAIN_TYPE.plan]: "schedule",
  [GRAIN_TYPE.manual]: "remote",
  [GRAIN_TYPE.button]: "button",
};

/** `execStep` values that mean the outlet jammed; only GRAIN_BLOCKING is in a reimplementation's enum. */
const JAM_STEPS: ReadonlySet<string> = new Set(["GRAIN_BLOCKING", "GRAIN_BLOCKED", "GRAIN_STUCK"]);

/** `powerMode` in ATTR_PUSH_EVENT. */
const POWER_MODE = { usb: 1, battery: 2 } as const;
/** `powerType` USB_ONLY: no batteries are fitted, so `electricQuantity` means nothing. */
const POWER_TYPE_USB_ONLY = 1;

/** Names of the feeder's fault states, read through the profile's fault map. */
const PETLIBRO_FAULTS = {
  outletBlocked: "outlet_blocked",
  foodLow: "food_low",
  onBattery: "on_battery",
} as const;

const DAY_NUMBER = Object.fromEntries(WEEKDAYS.map((day, i) => [day, i + 1])) as Record<
  (typeof WEEKDAYS)[number],
  number
>;
const SUNDAY = 7;

// ---------------------------------------------------------------------------------------------------------
// Command ids and message ids

const UUID = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/;
const HEX32 = /^[0-9a-f]{32}$/;

/** A feed's command id (a UUID) as the `msgId` the firmware expects: 32 hex digits, the dashes left out. */
export function msgIdOfCommand(id: string): string | undefined {
  const match = UUID.exec(id);
  return match ? match.slice(1).join("") : undefined;
}

/** The command id a `msgId` of Feedkeeper's form stands for, or undefined for any other `msgId`. */
export function commandIdOfMsgId(msgId: string): string | undefined {
  if (!HEX32.test(msgId)) return undefined;
  return [
    msgId.slice(0, 8),
    msgId.slice(8, 12),
    msgId.slice(12, 16),
    msgId.slice(16, 20),
    msgId.slice(20),
  ].join("-");
}

/** A meal the feeder started itself, keyed by the `msgId` all events of that meal share. */
const deviceMealId = (msgId: string) => `petlibro-${msgId}`;

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
/** A positive 31-bit number from a text: the plan ids and stamps are 32-bit fields on the feeder. */
const number31 = (text: string) => Number.parseInt(sha256(text).slice(0, 8), 16) % 0x7fff_ffff;

// ---------------------------------------------------------------------------------------------------------
// Plans

export interface PetlibroPlan {
  planId: number;
  /** HH:MM, UTC. */
  executionTime: string;
  /** Monday 1 … Sunday 7, in the order the vendor app sends them (Sunday first). */
  repeatDay: number[];
  enableAudio: boolean;
  audioTimes: number;
  grainNum: number;
  syncTime: number;
}

/** The plan's UTC offset, in minutes, at `at`. */
function utcOffsetMinutes(timeZone: string, at: number): number {
  const zoned = Temporal.Instant.fromEpochMilliseconds(at).toZonedDateTimeISO(timeZone);
  return Math.round(zoned.offsetNanoseconds / 60_000_000_000);
}

const two = (n: number) => String(n).padStart(2, "0");

/**
 * The plan as FEEDING_PLAN_SERVICE carries it: the enabled meals that have days, in UTC at the plan zone's
 * offset at `at`. A meal whose UTC time falls on the day before or after its local one moves its days with
 * it. One-offs, skips and a pause cannot be stored on this feeder (the API refuses them for it).
 *
 * `planId` is the meal's id, hashed: the same meal keeps its plan id through every change. `syncTime` stands
 * in for the vendor cloud's "last changed" stamp: a hash of what the entry says, so an unchanged meal keeps
 * its stamp and the feeder's answer (plan ids and stamps) tells exactly which plan it holds.
 */
export function petlibroPlans(schedule: DeviceSchedule, at: number): PetlibroPlan[] {
  const offset = utcOffsetMinutes(schedule.timezone, at);
  const used = new Set<number>();
  const plans: PetlibroPlan[] = [];
  for (const meal of schedule.meals) {
    if (!meal.enabled || meal.days.length === 0) continue;
    const [hour = 0, minute = 0] = meal.time.split(":").map(Number);
    let minutes = hour * 60 + minute - offset;
    let dayShift = 0;
    if (minutes < 0) {
      minutes += 24 * 60;
      dayShift = -1;
    } else if (minutes >= 24 * 60) {
      minutes -= 24 * 60;
      dayShift = 1;
    }
    const executionTime = `${two(Math.floor(minutes / 60))}:${two(minutes % 60)}`;
    const repeatDay = [
      ...new Set(meal.days.map((day) => ((DAY_NUMBER[day] - 1 + dayShift + 7) % 7) + 1)),
    ].sort((a, b) => (a % SUNDAY) - (b % SUNDAY));
    let planId = number31(`feedkeeper-plan:${meal.id}`) + 1;
    for (let n = 1; used.has(planId); n++) planId = number31(`feedkeeper-plan:${meal.id}:${n}`) + 1;
    used.add(planId);
    const entry = { planId, executionTime, repeatDay, grainNum: meal.portions };
    plans.push({
      planId,
      executionTime,
      repeatDay,
      // Feeding audio makes the feeder download a sound file, and a failed download reboots it.
      enableAudio: false,
      audioTimes: 0,
      grainNum: meal.portions,
      syncTime: number31(JSON.stringify(entry)),
    });
  }
  return plans;
}

/** What the feeder says it holds, in canonical form: its plan ids with their stamps. */
function petlibroPlanFingerprint(entries: ReadonlyArray<{ planId: number; syncTime: number }>): string {
  return [...entries]
    .sort((a, b) => a.planId - b.planId)
    .map((e) => `${e.planId}@${e.syncTime}`)
    .join(" ");
}

/**
 * A plan's `msgId`: its version (8 hex digits, read back from the feeder's answer to report a refusal of
 * that version) and a hash of its content, 32 hex digits like every other `msgId`.
 */
function planMsgId(version: number, plans: PetlibroPlan[]): string {
  if (!Number.isInteger(version) || version < 0 || version > 0xffff_ffff) {
    throw new Error(`schedule version ${version} does not fit a petlibro-dl msgId`);
  }
  return version.toString(16).padStart(8, "0") + sha256(JSON.stringify(plans)).slice(0, 24);
}

// ---------------------------------------------------------------------------------------------------------
// What the feeder sends

const epochMs = z.number().int().nonnegative();
const msgId = z.string().min(1).max(64);
const code = z.number().int();

const envelope = z.object({ cmd: z.string().min(1).max(64) });

const serviceReply = z.object({ msgId, code, ts: epochMs.optional() });

/** The answer to a plan (`code` present), or, on older firmware, the feeder's own list of what it holds. */
const planReply = z.object({
  msgId,
  code: code.optional(),
  msg: z.string().max(64).optional(),
  plans: z
    .array(z.object({ planId: z.number().int().nonnegative(), syncTime: z.number().int().nonnegative() }))
    .max(100)
    .default([]),
});

const grainOutput = z.object({
  msgId,
  type: z.number().int(),
  execStep: z.string().min(1).max(32),
  expectGrainNum: z.number().int().min(0).max(255),
  actualGrainNum: z.number().int().min(0).max(255),
  execTime: epochMs.optional(),
  ts: epochMs,
});

const attrPush = z.object({
  msgId,
  ts: epochMs,
  electricQuantity: z.number().int().min(0).max(100).optional(),
  powerMode: z.number().int().optional(),
  powerType: z.number().int().optional(),
  surplusGrain: z.boolean().optional(),
  grainOutletState: z.boolean().optional(),
});

const deviceStart = z.object({
  msgId,
  ts: epochMs,
  softwareVersion: z.string().min(1).max(64).optional(),
});

const errorEvent = z.object({ msgId, ts: epochMs.optional(), errorMsg: z.string().max(64).optional() });

/** Any other event the feeder waits to have acknowledged. */
const otherEvent = z.object({ msgId, ts: epochMs.optional() });

const heartbeat = z.object({ rssi: z.number().int().min(-150).max(0) });

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "payload"}: ${i.message}`).join("; ");
}

/** Meals and their faults are facts of the moment: a retained copy is a replay. */
const RETAINED = { reason: "retained meal reports and command replies are replays and are ignored" };

/** Whose topics an answer goes to: the model and serial of the message it answers. */
interface Route {
  model: string;
  serial: string;
}

function parseTopic(
  topic: string,
): { model: string; serial: string; channel: string; direction: string } | undefined {
  const parts = topic.split("/");
  if (parts.length !== 6 || parts[0] !== "dl" || parts[3] !== "device") return undefined;
  const [, model = "", serial = "", , channel = "", direction = ""] = parts;
  return { model, serial, channel, direction };
}

// ---------------------------------------------------------------------------------------------------------

/**
 * `now` is the server's clock: it answers the feeder's NTP request and dates the UTC offset a plan is sent
 * at. Everything else the codec writes follows from the message or command it is given.
 */
export function createPetlibroDlCodec(profile: DeviceProfile, now: () => number = Date.now): Codec {
  const models = new Set(profile.models.map((m) => m.id));
  const maxPortions = profile.capabilities.feed.max;

  function fault(model: string, name: string): CanonicalFault | undefined {
    const faults = profile.models.find((m) => m.id === model)?.faults ?? profile.capabilities.faults;
    return faults?.map[name];
  }

  /** Commands go to the feeder's own model's topics: without the model, its topics cannot be named. */
  function modelOf(target: DeviceTarget): string {
    if (target.model === undefined) {
      throw new Error(
        `feeder ${target.feederId} has no model: a ${PETLIBRO_DL} feeder's topics name it (${[...models].join(", ")})`,
      );
    }
    if (!models.has(target.model)) {
      throw new Error(`feeder ${target.feederId}: ${target.model} is not one of ${[...models].join(", ")}`);
    }
    return target.model;
  }

  const message = (route: Route, channel: PetlibroChannel, body: object): WireMessage => ({
    topic: petlibroTopic(route.model, route.serial, channel, "sub"),
    payload: JSON.stringify(body),
    // As the vendor cloud: a command lost on the way ends as expired; a QoS 1 copy kept for an offline
    // feeder would feed whenever it comes back.
    qos: 0,
    retain: false,
  });

  /** The acknowledgement the vendor cloud sends for an event: its command, `msgId`, `code: 0`. */
  const ack = (route: Route, cmd: string, event: { msgId: string; ts?: number | undefined }, extra = {}) =>
    ({
      kind: "reply",
      // The event's own time: acknowledgements are matched by msgId, and the codec answers without a clock.
      message: message(route, "event", { cmd, ts: event.ts ?? 0, msgId: event.msgId, code: 0, ...extra }),
    }) satisfies CanonicalEvent;

  function parse<T>(schema: z.ZodType<T>, cmd: string, json: unknown): { value: T } | Rejection {
    const parsed = schema.safeParse(json);
    return parsed.success ? { value: parsed.data } : { reason: `${cmd}: ${issues(parsed.error)}` };
  }

  function service(cmd: string, json: unknown, retain: boolean): CanonicalEvent[] | Rejection {
    if (cmd === CMD.manualFeeding) {
      const parsed = parse(serviceReply, cmd, json);
      if ("reason" in parsed) return parsed;
      if (retain) return RETAINED;
      const { msgId, code, ts } = parsed.value;
      const id = commandIdOfMsgId(msgId);
      if (!id) return { reason: `${cmd}: answer to a feed Feedkeeper did not send (msgId ${msgId})` };
      const at = new Date(ts ?? now());
      // The answer does not repeat the portions; the ledger has those of the command it sent.
      const report: FeedReport =
        code === 0
          ? { id, status: "accepted", portions: 0, source: "remote", at }
          : { id, status: "rejected", portions: 0, source: "remote", at, error: `code ${code}` };
      return [{ kind: "feed", report }];
    }
    if (cmd === CMD.feedingPlan) {
      const parsed = parse(planReply, cmd, json);
      if ("reason" in parsed) return parsed;
      if (retain) return RETAINED;
      const { msgId, code, msg, plans } = parsed.value;
      if (code === undefined || code === 0) {
        return [{ kind: "scheduleHeld", fingerprint: petlibroPlanFingerprint(plans) }];
      }
      if (!HEX32.test(msgId))
        return { reason: `${cmd}: refusal of a plan Feedkeeper did not send (msgId ${msgId})` };
      const version = Number.parseInt(msgId.slice(0, 8), 16);
      const error = `code ${code}${msg ? ` (${msg})` : ""}`;
      return [{ kind: "schedule", report: { version, status: "rejected", error } }];
    }
    return { reason: `${cmd}: answer to a command Feedkeeper does not send` };
  }

  function grainEvent(route: Route, json: unknown, retain: boolean): CanonicalEvent[] | Rejection {
    const parsed = parse(grainOutput, CMD.grainOutput, json);
    if ("reason" in parsed) return parsed;
    if (retain) return RETAINED;
    const event = parsed.value;
    const { execStep, expectGrainNum: expected, actualGrainNum: actual } = event;
    const reply = ack(route, CMD.grainOutput, event, { execStep });
    const ours = event.type === GRAIN_TYPE.manual ? commandIdOfMsgId(event.msgId) : undefined;
    const base = {
      id: ours ?? deviceMealId(event.msgId),
      source: GRAIN_SOURCES[event.type] ?? "button",
      at: new Date(event.execTime ?? event.ts),
    } satisfies Partial<FeedReport>;
    let report: FeedReport | undefined;
    if (execStep === "GRAIN_START") {
      report = { ...base, status: "accepted", portions: expected };
    } else if (JAM_STEPS.has(execStep)) {
      report = { ...base, status: "failed", portions: expected, error: "jam" };
    } else if (execStep === "GRAIN_END") {
      report =
        actual >= expected && actual > 0
          ? { ...base, status: "dispensed", portions: actual }
          : {
              ...base,
              status: "failed",
              portions: expected,
              error:
                actual === 0
                  ? "nothing came out (jam or empty hopper)"
                  : `only ${actual} of ${expected} portions came out`,
            };
    }
    // An execStep not known here is still acknowledged: the feeder would otherwise repeat it forever.
    return report ? [{ kind: "feed", report }, reply] : [reply];
  }

  function attributes(route: Route, json: unknown, retain: boolean): CanonicalEvent[] | Rejection {
    const parsed = parse(attrPush, CMD.attrPush, json);
    if ("reason" in parsed) return parsed;
    const { electricQuantity, powerMode, powerType, surplusGrain, grainOutletState } = parsed.value;
    const events: CanonicalEvent[] = [];
    if (electricQuantity !== undefined && powerType !== POWER_TYPE_USB_ONLY) {
      events.push({ kind: "telemetry", telemetry: { battery: electricQuantity / 100 }, partial: true });
    }
    if (retain) return events;
    // One standing fault, the gravest the message shows. Most pushes are sparse: all is well only when the
    // message says so of the outlet, the hopper and the power alike.
    let name: string | undefined;
    if (grainOutletState === false) name = PETLIBRO_FAULTS.outletBlocked;
    else if (surplusGrain === false) name = PETLIBRO_FAULTS.foodLow;
    else if (powerMode === POWER_MODE.battery) name = PETLIBRO_FAULTS.onBattery;
    if (name !== undefined) {
      events.push({ kind: "fault", fault: fault(route.model, name) ?? "unknown" });
    } else if (grainOutletState && surplusGrain && powerMode === POWER_MODE.usb) {
      events.push({ kind: "fault", fault: "ok" });
    }
    events.push(ack(route, CMD.attrPush, parsed.value));
    return events;
  }

  function event(route: Route, cmd: string, json: unknown, retain: boolean): CanonicalEvent[] | Rejection {
    switch (cmd) {
      case CMD.grainOutput:
        return grainEvent(route, json, retain);
      case CMD.attrPush:
        return attributes(route, json, retain);
      case CMD.deviceStart: {
        const parsed = parse(deviceStart, cmd, json);
        if ("reason" in parsed) return parsed;
        const { ts, softwareVersion } = parsed.value;
        return [
          {
            kind: "hello",
            hello: {
              model: route.model,
              firmware: softwareVersion ?? "unknown",
              capabilities: ["feed", CAPABILITY_SCHEDULE],
              deviceTime: new Date(ts).toISOString(),
            },
          },
          ack(route, cmd, parsed.value),
        ];
      }
      case CMD.getFeedingPlan: {
        const parsed = parse(otherEvent, cmd, json);
        if ("reason" in parsed) return parsed;
        // A bare acknowledgement leaves the plan the feeder holds alone (a `plans` list, even empty, would
        // replace it); the current plan follows as a FEEDING_PLAN_SERVICE.
        return [{ kind: "scheduleRequested" }, ack(route, cmd, parsed.value)];
      }
      case CMD.errorEvent: {
        const parsed = parse(errorEvent, cmd, json);
        if ("reason" in parsed) return parsed;
        const name = parsed.value.errorMsg?.toLowerCase();
        const known = name && /^[a-z0-9_]+$/.test(name) ? fault(route.model, name) : undefined;
        return known && !retain
          ? [{ kind: "fault", fault: known }, ack(route, cmd, parsed.value)]
          : [ack(route, cmd, parsed.value)];
      }
      default: {
        if (UNANSWERED_EVENTS.has(cmd)) return [];
        // Events Feedkeeper does not read (door, RFID, infrared …) are acknowledged so the feeder stops repeating them.
        const parsed = parse(otherEvent, cmd, json);
        return "reason" in parsed ? parsed : [ack(route, cmd, parsed.value)];
      }
    }
  }

  function decode({ topic, payload, retain, deviceKey, model }: DeviceMessage): CanonicalEvent[] | Rejection {
    const parts = parseTopic(topic);
    if (parts?.direction !== "post")
      return { reason: "not a dl/<model>/<serial>/device/<channel>/post topic" };
    if (parts.serial !== deviceKey)
      return { reason: `topic names serial ${parts.serial}, not this feeder's` };
    if (!models.has(parts.model))
      return { reason: `topic names model ${parts.model}, not one of this profile's` };
    if (model !== undefined && parts.model !== model) {
      return { reason: `topic names model ${parts.model}, but the feeder was adopted as ${model}` };
    }
    const route: Route = { model: parts.model, serial: parts.serial };
    let json: unknown;
    try {
      json = JSON.parse(payload.toString("utf8"));
    } catch {
      return { reason: "payload is not JSON" };
    }
    const head = envelope.safeParse(json);
    if (!head.success) return { reason: `payload: ${issues(head.error)}` };
    const { cmd } = head.data;
    switch (parts.channel) {
      case "service":
        return service(cmd, json, retain);
      case "event":
        return event(route, cmd, json, retain);
      case "heart": {
        if (cmd !== CMD.heartbeat) return { reason: `${cmd}: not a heartbeat` };
        const parsed = parse(heartbeat, cmd, json);
        return "reason" in parsed
          ? parsed
          : [{ kind: "telemetry", telemetry: { rssi: parsed.value.rssi }, partial: true }];
      }
      case "ntp": {
        if (cmd !== CMD.ntp) return { reason: `${cmd}: answer to a time sync Feedkeeper does not send` };
        return [
          {
            kind: "reply",
            message: message(route, "ntp", {
              cmd: CMD.ntp,
              ts: now(),
              code: 0,
              calibrationTag: true,
              timezone: 0,
              timezoneOffsetSeconds: 0,
              nextDSTOffsetSeconds: 0,
              nextDSTTransitionTs: 0,
              secondNextDSTOffsetSeconds: 0,
              secondNextDSTTransitionTs: 0,
            }),
          },
        ];
      }
      default:
        return { reason: `${cmd} on ${parts.channel}/post: Feedkeeper does not serve that channel` };
    }
  }

  return {
    name: PETLIBRO_DL,
    // The feeder answers every MANUAL_FEEDING_SERVICE on service/post with the command's msgId.
    acknowledgesCommands: true,
    planInUtc: true,
    decode,
    encodeFeed(target, command) {
      const model = modelOf(target);
      const msgId = msgIdOfCommand(command.id);
      if (!msgId) throw new Error(`feed ${command.id}: a ${PETLIBRO_DL} command id must be a UUID`);
      if (!Number.isInteger(command.portions) || command.portions < 1 || command.portions > maxPortions) {
        throw new Error(`feed ${command.id}: ${command.portions} portions is outside 1..${maxPortions}`);
      }
      const route = { model, serial: target.deviceKey };
      // `ts` is the command's deadline, the one instant a FeedCommand carries; the firmware is not known to
      // read `ts` on commands.
      return [
        message(route, "service", {
          cmd: CMD.manualFeeding,
          ts: command.expiresAt.getTime(),
          msgId,
          grainNum: command.portions,
        }),
      ];
    },
    encodeSchedule(target, schedule) {
      const model = modelOf(target);
      const plans = petlibroPlans(schedule, now());
      const route = { model, serial: target.deviceKey };
      // `ts` is the plan's version: a DeviceSchedule carries no instant.
      return [
        message(route, "service", {
          cmd: CMD.feedingPlan,
          ts: schedule.version,
          msgId: planMsgId(schedule.version, plans),
          plans,
        }),
      ];
    },
    scheduleFingerprint(_target, schedule) {
      return petlibroPlanFingerprint(petlibroPlans(schedule, now()));
    },
  };
}
