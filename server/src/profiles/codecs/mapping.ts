/**
 * The `mapping` codec: devices whose MQTT messages carry one value per topic
 * (ESPHome's entities, Tasmota-style sensors), described entirely by the
 * profile's `mapping` section. Topics are templates over {root}
 * (feedkeeper/<feeder id>) and {feederId}; values are numbers or text.
 */
import { topics } from "../../protocol/native-v1.js";
import type { CanonicalFault, DeviceProfile, Mapping } from "../profile-schema.js";
import type { CanonicalEvent, Codec, DeviceMessage, DeviceTarget, Rejection, WireMessage } from "./codec.js";

/** Retained copies of events are replays of something already reported, never a new meal or fault. */
const RETAINED_EVENT = { reason: "retained meal and fault reports are replays and are ignored" };

export function expandTopic(template: string, { feederId, deviceKey }: DeviceTarget): string {
  return template
    .replaceAll("{root}", topics.root(feederId))
    .replaceAll("{feederId}", feederId)
    .replaceAll("{deviceKey}", deviceKey);
}

function parseNumber(payload: Buffer): number | undefined {
  const text = payload.toString("utf8").trim();
  if (text === "" || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** The limits the core accepts for each telemetry field, after scaling. */
const TELEMETRY_RANGE = {
  foodLevel: [0, 1],
  weightGrams: [0, 100_000],
  battery: [0, 1],
  rssi: [-150, 0],
} as const;

export function createMappingCodec(profile: DeviceProfile): Codec {
  const mapping = profile.mapping as Mapping;
  const faults = profile.capabilities.faults;
  const maxPortions = profile.capabilities.feed.max;

  function fault(raw: string): CanonicalFault | undefined {
    if (!faults) return undefined;
    if (faults.encoding === "code") return faults.map[raw];
    const bits = Number(raw);
    if (!Number.isInteger(bits) || bits < 0) return undefined;
    if (bits === 0) return "ok";
    // A bitmask may hold several faults: the lowest set bit the map knows stands for the meal's error.
    for (let bit = 1; bit <= bits; bit *= 2) {
      if (bits & bit && faults.map[String(bit)]) return faults.map[String(bit)];
    }
    return "unknown";
  }

  function decode(message: DeviceMessage): CanonicalEvent[] | Rejection {
    const { topic, payload, retain } = message;
    if (topic === expandTopic(mapping.status.topic, message)) {
      const text = payload.toString("utf8").trim();
      if (text === mapping.status.online) {
        const events: CanonicalEvent[] = [{ kind: "status", online: true }];
        if (mapping.status.hello) events.push({ kind: "hello", hello: { ...mapping.status.hello } });
        return events;
      }
      if (text === mapping.status.offline) return [{ kind: "status", online: false }];
      return { reason: `status: expected "${mapping.status.online}" or "${mapping.status.offline}"` };
    }
    const rule = mapping.telemetry.find((t) => expandTopic(t.topic, message) === topic);
    if (rule) {
      const raw = parseNumber(payload);
      if (raw === undefined) return { reason: `${rule.field}: not a number` };
      // Rounded to millionths: 94 × 0.01 is 0.9400000000000001 in binary floating point.
      const value = rule.round ? Math.round(raw * rule.scale) : Math.round(raw * rule.scale * 1e6) / 1e6;
      const [min, max] = TELEMETRY_RANGE[rule.field];
      if (value < min || value > max) {
        return { reason: `${rule.field}: ${raw} is out of range (${min / rule.scale}..${max / rule.scale})` };
      }
      return [{ kind: "telemetry", telemetry: { [rule.field]: value }, partial: true }];
    }
    if (mapping.dispensed && topic === expandTopic(mapping.dispensed.topic, message)) {
      if (retain) return RETAINED_EVENT;
      const raw = parseNumber(payload);
      const portions = raw === undefined ? undefined : Math.round(raw);
      if (portions === undefined || portions < 0 || portions > maxPortions) {
        return { reason: `dispensed: expected 0..${maxPortions} portions` };
      }
      // Zero portions came out: not a meal (a sensor reset or a failed run reported by its fault).
      return portions === 0 ? [] : [{ kind: "dispensed", portions }];
    }
    if (mapping.fault && topic === expandTopic(mapping.fault.topic, message)) {
      if (retain) return RETAINED_EVENT;
      const raw = payload.toString("utf8").trim();
      const known = fault(raw);
      return known ? [{ kind: "fault", fault: known }] : { reason: `fault: unknown code "${raw}"` };
    }
    if (mapping.ignore.some((t) => expandTopic(t, message) === topic)) return [];
    return { reason: "no rule for this topic" };
  }

  return {
    name: "mapping",
    acknowledgesCommands: false,
    decode,
    encodeFeed(target, command): WireMessage[] {
      const feed = mapping.commands.feed;
      const payload = feed.payload
        .replaceAll("{portions}", String(command.portions))
        .replaceAll("{id}", command.id)
        .replaceAll("{expiresAt}", command.expiresAt.toISOString());
      return [{ topic: expandTopic(feed.topic, target), payload, qos: feed.qos, retain: false }];
    },
    encodeSchedule(): WireMessage[] {
      // Profiles using this codec keep their schedule on the server (capabilities.schedule.storage).
      return [];
    },
  };
}
