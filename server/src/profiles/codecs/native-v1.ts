/**
 * Codec for Feedkeeper's native MQTT protocol v1 (docs/protocol.md): topics
 * under feedkeeper/<id>/, JSON payloads validated by the protocol's zod
 * schemas, plain-text status.
 */
import type { z } from "zod";
import {
  type FeedCommandPayload,
  feedReportPayload,
  helloPayload,
  type ScheduleCommandPayload,
  scheduleReportPayload,
  statusPayload,
  telemetryPayload,
  topics,
} from "../../protocol/native-v1.js";
import type { CanonicalEvent, Codec, DeviceMessage, Rejection } from "./codec.js";

type Parsed<T> = { ok: true; value: T } | { ok: false; rejection: Rejection };

function parseJson<T>(schema: z.ZodType<T>, payload: Buffer): Parsed<T> {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString("utf8"));
  } catch {
    return { ok: false, rejection: { reason: "payload is not JSON" } };
  }
  return check(schema, value);
}

function check<T>(schema: z.ZodType<T>, value: unknown): Parsed<T> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  const reason = result.error.issues.map((i) => `${i.path.join(".") || "payload"}: ${i.message}`).join("; ");
  return { ok: false, rejection: { reason } };
}

/** One event from a parsed payload, or the reason it was refused. */
function event<T>(parsed: Parsed<T>, toEvent: (value: T) => CanonicalEvent): CanonicalEvent[] | Rejection {
  return parsed.ok ? [toEvent(parsed.value)] : parsed.rejection;
}

export const nativeV1Codec: Codec = {
  name: "native-v1",
  acknowledgesCommands: true,

  decode({ feederId, topic, payload, retain }: DeviceMessage): CanonicalEvent[] | Rejection {
    const root = `${topics.root(feederId)}/`;
    if (!topic.startsWith(root)) return { reason: "outside the feeder's topics" };
    switch (topic.slice(root.length)) {
      case "status":
        return event(check(statusPayload, payload.toString("utf8").trim()), (status) => ({
          kind: "status",
          online: status === "online",
        }));
      case "hello":
        return event(parseJson(helloPayload, payload), ({ protocol, scheduleVersion, time, ...rest }) => ({
          kind: "hello",
          hello: { ...rest, protocolVersion: protocol, scheduleVersion, deviceTime: time },
        }));
      case "feed":
        // The embedded broker strips retain from events, but an external one may replay old ones: never trust them.
        if (retain) return { reason: "retained feed reports are ignored" };
        return event(parseJson(feedReportPayload, payload), (report) => ({
          kind: "feed",
          report: { ...report, at: new Date(report.at) },
        }));
      case "telemetry":
        return event(parseJson(telemetryPayload, payload), (telemetry) => ({ kind: "telemetry", telemetry }));
      case "schedule":
        return event(parseJson(scheduleReportPayload, payload), (report) => ({ kind: "schedule", report }));
      default:
        return { reason: "unknown channel" };
    }
  },

  encodeFeed({ feederId }, command) {
    const payload: FeedCommandPayload = {
      id: command.id,
      portions: command.portions,
      expiresAt: command.expiresAt.toISOString(),
    };
    // Never retained: a retained command would replay on every reconnect.
    return [{ topic: topics.commandFeed(feederId), payload: JSON.stringify(payload), qos: 1, retain: false }];
  },

  encodeSchedule({ feederId }, schedule) {
    const payload: ScheduleCommandPayload = schedule;
    // Not retained either: the server re-sends it on every reconnect that reports another version, and a
    // retained copy would outlive the feeder's deletion in the broker.
    return [
      { topic: topics.commandSchedule(feederId), payload: JSON.stringify(payload), qos: 1, retain: false },
    ];
  },
};
