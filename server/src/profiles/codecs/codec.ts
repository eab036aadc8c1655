/**
 * A codec speaks one wire format: it decodes what a device sends into
 * canonical events the feeding core understands, and encodes the core's
 * canonical commands into the exact messages that device expects. Codecs are
 * built into the server and named by profiles; no code comes from a profile
 * file. Everything a codec returns is already validated.
 */
import type { DeviceSchedule } from "../../feeding/device-schedule-sync.js";
import type { DeviceHello, DeviceTelemetry } from "../../feeding/feeders.js";
import type { FeedCommand, FeedReport } from "../../feeding/feeds.js";
import type { CanonicalFault, DeviceProfile } from "../profile-schema.js";

export type CanonicalEvent =
  | { kind: "status"; online: boolean }
  | { kind: "hello"; hello: DeviceHello }
  | { kind: "feed"; report: FeedReport }
  /** `partial`: one reading of several (one topic per sensor); the others keep their last value. */
  | { kind: "telemetry"; telemetry: DeviceTelemetry; partial?: boolean }
  | {
      kind: "schedule";
      report: { version: number; status: "applied" | "rejected"; error?: string | undefined };
    }
  /**
   * The plan a device holds, for devices that echo their plan instead of confirming a version: a canonical
   * form of it (the codec's scheduleFingerprint of the plan it was sent gives the same string).
   */
  | { kind: "scheduleHeld"; fingerprint: string }
  /** The device asks for its plan (it lost it, or asks at every boot): the server sends the current one. */
  | { kind: "scheduleRequested" }
  /** A meal came out, from a device that does not say which command it was (no ids in its protocol). */
  | {
      kind: "dispensed";
      portions: number;
      /** What started it, when the device says (Zigbee2MQTT's feeding_source); remote or unknown: the oldest waiting feed. */
      source?: "schedule" | "button" | "remote" | undefined;
    }
  /** The device reports a fault (already mapped to a canonical one), or `ok` when it cleared. */
  | { kind: "fault"; fault: CanonicalFault }
  /**
   * A message the device expects back (an ack echoing its request id). The bridge publishes it after
   * applying the other events of the same message, so an ack means the server has recorded what it acks.
   */
  | { kind: "reply"; message: WireMessage };

/** A message for the broker, exactly as the device must receive it. */
export interface WireMessage {
  topic: string;
  payload: string;
  qos: 0 | 1 | 2;
  retain: boolean;
}

/** Which device a message is from or a command is for. */
export interface DeviceTarget {
  feederId: string;
  /**
   * The device's own id on the wire: the serial, gateway id or Zigbee friendly name vendor firmware
   * brings, or the feeder id for devices using the credentials Feedkeeper issued.
   */
  deviceKey: string;
  /** Which of the profile's models this feeder is (per-model DPs and fault codes); undefined when not chosen. */
  model: string | undefined;
}

export interface DeviceMessage extends DeviceTarget {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

/** A message the codec could not accept, and why; the bridge logs it (throttled) and drops it. */
export interface Rejection {
  reason: string;
}

export interface Codec {
  readonly name: string;
  /** False when the protocol has no acknowledgement: a delivered command counts as started. */
  readonly acknowledgesCommands: boolean;
  /**
   * The plan goes to the device in UTC at the offset its zone has when sent (the device keeps no zone): it
   * must be sent again whenever that offset changes (daylight saving).
   */
  readonly planInUtc?: boolean;
  decode(message: DeviceMessage): CanonicalEvent[] | Rejection;
  encodeFeed(target: DeviceTarget, command: FeedCommand): WireMessage[];
  encodeSchedule(target: DeviceTarget, schedule: DeviceSchedule): WireMessage[];
  /** When the profile names a gateway status topic: whether this message says the gateway runs (undefined: unreadable). */
  gatewayOnline?(payload: Buffer): boolean | undefined;
  /** For devices that echo the plan they hold (scheduleHeld): the fingerprint of this plan as the device would hold it. */
  scheduleFingerprint?(target: DeviceTarget, schedule: DeviceSchedule): string;
}

/** Makes the codec for one profile (a codec may read the profile's mapping and fault codes). */
export type CodecFactory = (profile: DeviceProfile) => Codec;

export function isRejection(result: CanonicalEvent[] | Rejection): result is Rejection {
  return !Array.isArray(result);
}
