/**
 * Codec `petnet-kronos`: the Petnet SmartFeeder V2 after its vendor cloud (Arrow's "Kronos" IoT platform)
 * shut down in 2020, re-pointed to Feedkeeper by DNS as FeederNet (feedernet/petnet-feeder-service) does.
 * The firmware is taken to be built on Arrow's C SDK (konexios/konexios-sdk-c), whose topics, event names
 * and API paths it uses; everything here follows FeederNet's server and that SDK, and
 * device-profiles/petnet-smartfeeder-v2.yaml lists what is only inferred.
 *
 * One feeder is one "gateway" on the wire: its gateway hid is the device key, in the MQTT username
 * (`/pegasus:<gateway hid>`) and in its four topics. It publishes on dotted topic names, `krs.api.gts.<hid>`
 * (the SDK's HTTP API calls carried over MQTT, each waiting for an ack with its request id) and
 * `krs.tel.gts.<hid>` (telemetry), and listens on `krs/api/stg/<hid>` (acks) and `krs/cmd/stg/<hid>`
 * (commands).
 *
 * Commands are `SendCommand` envelopes. The feeder answers each one with API calls naming the envelope's
 * `hid`: `PUT /api/v1/core/events/<hid>/received`, then `…/succeeded` or `…/failed` once its handler ran. The
 * hid is therefore chosen so that it names the command again: a feed's command id, a schedule's version.
 */
import { createHash } from "node:crypto";
import { Temporal } from "temporal-polyfill";
import { z } from "zod";
import type { DeviceSchedule } from "../../feeding/device-schedule-sync.js";
import type { DeviceTelemetry } from "../../feeding/feeders.js";
import type { FeedCommand, FeedReport, FeedSource } from "../../feeding/feeds.js";
import { WEEKDAYS } from "../../feeding/meal-time.js";
import type { CanonicalFault, DeviceProfile } from "../profile-schema.js";
import type { CanonicalEvent, Codec, DeviceMessage, DeviceTarget, Rejection, WireMessage } from "./codec.js";

export const PETNET_KRONOS = "petnet-kronos";

export const petnetTopics = {
  api: (gatewayHid: string) => `krs.api.gts.${gatewayHid}`,
  telemetry: (gatewayHid: string) => `krs.tel.gts.${gatewayHid}`,
  apiReply: (gatewayHid: string) => `krs/api/stg/${gatewayHid}`,
  command: (gatewayHid: string) => `krs/cmd/stg/${gatewayHid}`,
};

/** The profile's models: which schedule commands the firmware understands (FeederNet switches at 2.5.0). */
export const PETNET_MODELS = { legacy: "fw-legacy", modern: "fw-2.5" } as const;

export const API_REQUEST_EVENT = "GatewayToServer_ApiRequest";
export const SEND_COMMAND = "SendCommand";

/**
 * The device hid Feedkeeper gives a feeder's gateway when it registers (POST /api/v1/kronos/devices), so the
 * command envelope's `deviceHid` follows from the gateway hid alone. The feeder registers at every boot and
 * uses the hid it is answered; the value itself is Feedkeeper's choice (FeederNet hashes the device's uid,
 * the vendor cloud handed out unrelated ids).
 */
export function petnetDeviceHid(gatewayHid: string): string {
  return createHash("sha1").update(`feedkeeper/petnet-device/${gatewayHid}`).digest("hex");
}

/** `i|src` of a feed result, as FeederNet's feed history names the values. */
const FEED_SOURCES: Readonly<Record<number, FeedSource>> = { 4: "remote", 5: "button", 6: "schedule" };
const REMOTE_SOURCE = 4;

/** The schedule's commands, each a step of one push; the short names go into the envelope hid. */
const SCHEDULE_STEPS = {
  utc: "utc_offset",
  set: "schedule",
  clr: "schedule_clear",
  beg: "schedule_mod_start",
  add: "schedule_add",
  end: "schedule_mod_end",
} as const;
type ScheduleStep = keyof typeof SCHEDULE_STEPS;
/** The last command of a push in either firmware generation: once it has run, the plan is stored. */
const FINAL_STEPS: ReadonlySet<ScheduleStep> = new Set(["set", "end"]);

/** 32 characters like FeederNet's hids: `schedule-<step>-v` and the version in 18 digits. */
function scheduleHid(step: ScheduleStep, version: number): string {
  return `schedule-${step}-v${String(version).padStart(18, "0")}`;
}
const SCHEDULE_HID = /^schedule-(utc|set|clr|beg|add|end)-v(\d{18})$/;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_HID = /^[0-9a-f]{32}$/;
/** Letters outside hex, so that a hashed hid can never be read back as a UUID. */
const HASH_LETTERS = "ghijklmnopqrstuvwxyz";
/** Enough for every feed a busy fleet has in flight between a command and its events. */
const REMEMBERED_HIDS = 1024;
const REMEMBERED_RESULTS = 1024;

const EVENTS_URI = /^\/api\/v1\/core\/events\/([^/]+)\/(received|succeeded|failed)$/;

const apiRequest = z.object({
  // The SDK sends "GS-<its clock>"; FeederNet's tests send a number: either is echoed as it came.
  requestId: z.union([z.string().min(1).max(128), z.number()]),
  eventName: z.literal(API_REQUEST_EVENT).optional(),
  parameters: z
    .object({
      uri: z.string().min(1).max(1024),
      method: z.string().min(1).max(16),
      body: z.string().max(4096).optional(),
      /** The request's x-arrow-date: the feeder's clock when it made the call. */
      timestamp: z.string().max(64).optional(),
    })
    .optional(),
});

const telemetryEnvelope = z.object({
  "_|deviceHid": z.string().min(1).max(64),
  "s|msg_type": z.string().min(1).max(32),
});

/** The keys FeederNet reads of a `sensor` message, all of them always (it indexes them directly). */
const sensorReading = z.object({
  "f|voltage": z.number(),
  "i|usb": z.number().int().min(0).max(1),
  "i|chg": z.number().int().min(0).max(1),
  "i|ir": z.number().int(),
  "i|rssi": z.number().int(),
});

const feedResult = z.object({
  /** When the meal started, in seconds since 1970 by the feeder's clock; also what tells a repeat apart. */
  "i|stime": z.number().int().min(0),
  "i|src": z.number().int(),
  "b|fail": z.boolean(),
  "s|err": z.string().max(200).optional(),
  /** Shown by FeederNet as the bowl's weight after the meal. */
  "f|a_g": z.number().optional(),
});

const failedBody = z.object({ error: z.string() });

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "payload"}: ${i.message}`).join("; ");
}

function parseJson(payload: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(payload.toString("utf8")) };
  } catch {
    return { ok: false };
  }
}

/** The error text of a `failed` event: the SDK sends `{"error": "…"}` as the request body. */
function failureReason(body: string | undefined): string {
  if (!body) return "no reason given";
  const parsed = parseJson(Buffer.from(body));
  const reason = parsed.ok ? failedBody.safeParse(parsed.value) : undefined;
  return (reason?.success ? reason.data.error : body).slice(0, 200);
}

/** A bounded memory: once it is full, the oldest entry goes. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, limit: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > limit) map.delete(map.keys().next().value as K);
}

export interface PetnetScheduleEntry {
  active: boolean;
  automatic: boolean;
  feeding_id: string;
  name: string;
  /** Cups. */
  portion: number;
  reminder: boolean;
  /** Seconds after local midnight. */
  time: number;
}

/** Why a plan cannot go to this feeder; thrown by encodeSchedule, so the push fails with this reason. */
export class PetnetScheduleError extends Error {}

/**
 * The plan as the feeder stores it, entry by entry as FeederNet builds them (client.py send_cmd_schedule),
 * including its feeding_id, which prints the hour in 24-hour form before AM/PM. An entry has no weekdays: a
 * meal runs every day or not at all. One-offs, skips and a pause cannot be stored on this feeder (the API
 * refuses them for it), so they are not here.
 */
export function petnetScheduleEntries(
  deviceHid: string,
  schedule: DeviceSchedule,
  cupsPerPortion: number,
  maxCups: number,
): PetnetScheduleEntry[] {
  return schedule.meals.map((meal, index) => {
    if (meal.enabled && meal.days.length !== WEEKDAYS.length) {
      throw new PetnetScheduleError(
        `meal ${meal.id}: the feeder runs each stored meal every day; it cannot hold one for ${meal.days.join(", ") || "no days"}`,
      );
    }
    const portion = meal.portions * cupsPerPortion;
    if (portion > maxCups) {
      throw new PetnetScheduleError(
        `meal ${meal.id}: ${portion} cups, the feeder dispenses at most ${maxCups}`,
      );
    }
    const [hours = 0, minutes = 0] = meal.time.split(":").map(Number);
    const time = hours * 3600 + minutes * 60;
    return {
      active: meal.enabled,
      automatic: true,
      feeding_id: `${deviceHid.slice(0, 16)}_feed${index + 1}_${hours}:${String(minutes).padStart(2, "0")}${hours < 12 ? "AM" : "PM"}`,
      name: `FEED${index}`,
      portion,
      reminder: true,
      time,
    };
  });
}

/** The feeder keeps local time as UTC plus an offset it is told (utc_offset); it knows no DST rules. */
export function utcOffsetSeconds(timeZone: string, at: Date): number {
  const zoned = Temporal.Instant.fromEpochMilliseconds(at.getTime()).toZonedDateTimeISO(timeZone);
  return Math.round(zoned.offsetNanoseconds / 1e9);
}

/**
 * `now` dates the UTC offset sent with a schedule (the offset of the plan's time zone at that moment).
 */
export function createPetnetKronosCodec(profile: DeviceProfile, now: () => Date = () => new Date()): Codec {
  const feed = profile.capabilities.feed;
  const cupsPerPortion = feed.step;
  const maxPortions = Math.round(feed.max / feed.step);
  /** Hids of feed commands whose id is not a UUID, by hid: read back when the feeder names them. */
  const hashedFeedHids = new Map<string, string>();
  /** Feed results already seen, by gateway and start time: the feeder sends a result again after reconnects. */
  const seenResults = new Map<string, true>();

  function faultOf(model: string | undefined, error: string | undefined): CanonicalFault {
    const faults = profile.models.find((m) => m.id === model)?.faults ?? profile.capabilities.faults;
    return (error !== undefined && faults?.map[error]) || "unknown";
  }

  function feedHid(commandId: string): string {
    if (UUID.test(commandId)) return commandId.replaceAll("-", "").toLowerCase();
    const digest = createHash("sha256").update(commandId).digest();
    let hid = "";
    for (let i = 0; i < 32; i++) hid += HASH_LETTERS[(digest[i] ?? 0) % HASH_LETTERS.length];
    remember(hashedFeedHids, hid, commandId, REMEMBERED_HIDS);
    return hid;
  }

  function feedCommandId(hid: string): string | undefined {
    const hashed = hashedFeedHids.get(hid);
    if (hashed !== undefined) return hashed;
    if (!UUID_HID.test(hid)) return undefined;
    return [hid.slice(0, 8), hid.slice(8, 12), hid.slice(12, 16), hid.slice(16, 20), hid.slice(20)].join("-");
  }

  function envelope(target: DeviceTarget, hid: string, command: string, args: unknown): WireMessage {
    return {
      topic: petnetTopics.command(target.deviceKey),
      payload: JSON.stringify({
        hid,
        name: SEND_COMMAND,
        encrypted: false,
        parameters: { deviceHid: petnetDeviceHid(target.deviceKey), command, payload: JSON.stringify(args) },
      }),
      // FeederNet publishes commands with QoS 2; the SDK subscribes with QoS 2.
      qos: 2,
      retain: false,
    };
  }

  /** What an events call about one of our commands means; [] for calls about anything else. */
  function commandEvent(
    uri: string,
    method: string,
    body: string | undefined,
    timestamp: string | undefined,
  ): CanonicalEvent[] | Rejection {
    const call = EVENTS_URI.exec(uri);
    if (!call || method.toUpperCase() !== "PUT") return [];
    const [, hid = "", outcome] = call;
    const step = SCHEDULE_HID.exec(hid);
    if (step) {
      const [, name = "", digits = ""] = step;
      const version = Number(digits);
      if (outcome === "failed") {
        const command = SCHEDULE_STEPS[name as ScheduleStep];
        return [
          {
            kind: "schedule",
            report: { version, status: "rejected", error: `${command}: ${failureReason(body)}` },
          },
        ];
      }
      return outcome === "succeeded" && FINAL_STEPS.has(name as ScheduleStep)
        ? [{ kind: "schedule", report: { version, status: "applied" } }]
        : [];
    }
    const id = feedCommandId(hid);
    if (id === undefined || outcome === "succeeded") return [];
    const at = timestamp === undefined ? Number.NaN : Date.parse(timestamp);
    if (Number.isNaN(at)) return { reason: `${uri}: no valid timestamp to date the feed's ${outcome} by` };
    const report: FeedReport =
      outcome === "received"
        ? { id, status: "accepted", portions: 0, source: "remote", at: new Date(at) }
        : {
            id,
            status: "rejected",
            portions: 0,
            source: "remote",
            at: new Date(at),
            error: failureReason(body),
          };
    return [{ kind: "feed", report }];
  }

  function apiCall({ payload, deviceKey }: DeviceMessage): CanonicalEvent[] | Rejection {
    const json = parseJson(payload);
    if (!json.ok) return { reason: "API request: not JSON" };
    const parsed = apiRequest.safeParse(json.value);
    if (!parsed.success) return { reason: `API request: ${issues(parsed.error)}` };
    const { requestId, parameters } = parsed.data;
    const events = parameters
      ? commandEvent(parameters.uri, parameters.method, parameters.body, parameters.timestamp)
      : [];
    if (!Array.isArray(events)) return events;
    // The feeder waits for this before its next call (and gives up on the call without it).
    const ack = { requestId, eventName: API_REQUEST_EVENT, encrypted: false, parameters: { status: "OK" } };
    return [
      ...events,
      {
        kind: "reply",
        message: {
          topic: petnetTopics.apiReply(deviceKey),
          payload: JSON.stringify(ack),
          qos: 2,
          retain: false,
        },
      },
    ];
  }

  function sensor(json: unknown): CanonicalEvent[] | Rejection {
    const parsed = sensorReading.safeParse(json);
    if (!parsed.success) return { reason: `sensor: ${issues(parsed.error)}` };
    const reading = parsed.data;
    const telemetry: DeviceTelemetry = {
      charging: reading["i|usb"] === 1 || reading["i|chg"] === 1,
    };
    // What unit i|rssi is in no source says; only a reading that can be dBm is taken as dBm.
    const rssi = reading["i|rssi"];
    if (rssi <= 0 && rssi >= -150) telemetry.rssi = rssi;
    return [{ kind: "telemetry", telemetry, partial: true }];
  }

  function result(json: unknown, { deviceKey, model, retain }: DeviceMessage): CanonicalEvent[] | Rejection {
    if (retain) return { reason: "feed_result: a retained meal report is a replay and is ignored" };
    const parsed = feedResult.safeParse(json);
    if (!parsed.success) return { reason: `feed_result: ${issues(parsed.error)}` };
    const meal = parsed.data;
    const start = meal["i|stime"];
    const key = `${deviceKey}/${start}`;
    if (seenResults.has(key)) return [];
    remember(seenResults, key, true, REMEMBERED_RESULTS);
    const failed = meal["b|fail"];
    const error = meal["s|err"] || undefined;
    const events: CanonicalEvent[] = [];
    const src = meal["i|src"];
    if (src === REMOTE_SOURCE) {
      // Nothing in a result names the command: it ends the feed that waits longest, with that feed's portions.
      // A failure does so through its fault, when the fault stops meals.
      if (!failed) events.push({ kind: "dispensed", portions: 0, source: "remote" });
    } else {
      const report: FeedReport = {
        id: `petnet-${start}`,
        status: failed ? "failed" : "dispensed",
        // The result says grams, not cups: a meal the feeder started itself is recorded without portions.
        portions: 0,
        // A source FeederNet does not name is still a meal the feeder started on its own.
        source: FEED_SOURCES[src] ?? "button",
        at: new Date(start * 1000),
      };
      if (failed) report.error = error ?? "failed without a reason";
      events.push({ kind: "feed", report });
    }
    events.push({ kind: "fault", fault: failed ? faultOf(model, error) : "ok" });
    const grams = meal["f|a_g"];
    if (grams !== undefined && grams >= 0) {
      events.push({ kind: "telemetry", telemetry: { weightGrams: grams }, partial: true });
    }
    return events;
  }

  function telemetry(message: DeviceMessage): CanonicalEvent[] | Rejection {
    const json = parseJson(message.payload);
    if (!json.ok) return { reason: "telemetry: not JSON" };
    const parsed = telemetryEnvelope.safeParse(json.value);
    if (!parsed.success) return { reason: `telemetry: ${issues(parsed.error)}` };
    const type = parsed.data["s|msg_type"];
    switch (type) {
      case "hb":
        return [{ kind: "status", online: true }];
      case "sensor":
        return sensor(json.value);
      case "feed_result":
        return result(json.value, message);
      default:
        return {
          reason: `telemetry: s|msg_type "${type}" is not one this codec reads (hb, sensor, feed_result)`,
        };
    }
  }

  return {
    name: PETNET_KRONOS,
    // The feeder reports every command received (PUT /api/v1/core/events/<hid>/received).
    acknowledgesCommands: true,
    // The plan's times are local to the utc_offset sent with it, which a change of clocks makes wrong.
    planInUtc: true,
    decode(message) {
      if (message.topic === petnetTopics.api(message.deviceKey)) return apiCall(message);
      if (message.topic === petnetTopics.telemetry(message.deviceKey)) return telemetry(message);
      return { reason: "not one of this gateway's topics (krs.api.gts.<hid>, krs.tel.gts.<hid>)" };
    },
    encodeFeed(target, command: FeedCommand) {
      if (!Number.isInteger(command.portions) || command.portions < 1 || command.portions > maxPortions) {
        throw new RangeError(
          `feed: ${command.portions} portions is outside 1–${maxPortions} (${cupsPerPortion} cup each)`,
        );
      }
      // The feeder has no expiry for a command: a feed it gets late is fed late.
      return [envelope(target, feedHid(command.id), "feed", { portion: command.portions * cupsPerPortion })];
    },
    encodeSchedule(target, schedule) {
      const entries = petnetScheduleEntries(
        petnetDeviceHid(target.deviceKey),
        schedule,
        cupsPerPortion,
        feed.max,
      );
      const { version } = schedule;
      const messages = [
        envelope(target, scheduleHid("utc", version), SCHEDULE_STEPS.utc, {
          utc_offset: utcOffsetSeconds(schedule.timezone, now()),
        }),
      ];
      // Firmware whose version is not known gets the legacy command, as FeederNet does.
      if (target.model !== PETNET_MODELS.modern) {
        messages.push(envelope(target, scheduleHid("set", version), SCHEDULE_STEPS.set, entries));
        return messages;
      }
      messages.push(
        envelope(target, scheduleHid("clr", version), SCHEDULE_STEPS.clr, {}),
        envelope(target, scheduleHid("beg", version), SCHEDULE_STEPS.beg, { size: entries.length }),
        envelope(
          target,
          scheduleHid("add", version),
          SCHEDULE_STEPS.add,
          entries.map((data, index) => ({ index, data })),
        ),
        envelope(target, scheduleHid("end", version), SCHEDULE_STEPS.end, {}),
      );
      return messages;
    },
  };
}
