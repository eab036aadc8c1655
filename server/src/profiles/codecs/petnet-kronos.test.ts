/**
 * The Petnet codec beyond its recorded fixtures: that the hids it sends come back as the commands they
 * name, the time-dependent UTC offset, and the plans and feeds it refuses to send.
 */
import { describe, expect, it } from "vitest";
import type { DeviceSchedule } from "../../feeding/device-schedule-sync.js";
import { WEEKDAYS } from "../../feeding/meal-time.js";
import { shippedProfiles } from "../../testing/profiles.js";
import type { CanonicalEvent, DeviceTarget, Rejection } from "./codec.js";
import {
  createPetnetKronosCodec,
  PETNET_MODELS,
  PetnetScheduleError,
  petnetDeviceHid,
  petnetTopics,
  utcOffsetSeconds,
} from "./petnet-kronos.js";

const GATEWAY = "488533283e3f06ca4ae929fd01f50a9259dd393f";
const profile = () => shippedProfiles().require("petnet-smartfeeder-v2");
const target = (model?: string): DeviceTarget => ({ feederId: "k7petnet2q9x", deviceKey: GATEWAY, model });

function codecAt(iso = "2025-07-01T12:00:00Z") {
  return createPetnetKronosCodec(profile(), () => new Date(iso));
}

function plan(meals: DeviceSchedule["meals"], version = 5, timezone = "Europe/Berlin"): DeviceSchedule {
  return { version, timezone, meals, oneOffs: [], skips: [], pause: null };
}

const everyDay = [...WEEKDAYS];

/** What the feeder sends about a command, as Arrow's SDK builds it. */
function eventCall(hid: string, outcome: "received" | "succeeded" | "failed", body?: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      requestId: "GS-2025-07-01T12:00:02.000Z",
      eventName: "GatewayToServer_ApiRequest",
      encrypted: false,
      parameters: {
        uri: `/api/v1/core/events/${hid}/${outcome}`,
        method: "PUT",
        ...(body !== undefined && { body }),
        timestamp: "2025-07-01T12:00:01.000Z",
      },
    }),
  );
}

function envelopeOf(payload: string) {
  const envelope = JSON.parse(payload) as {
    hid: string;
    name: string;
    parameters: { deviceHid: string; command: string; payload: string };
  };
  return { ...envelope, args: JSON.parse(envelope.parameters.payload) as unknown };
}

function decoded(result: CanonicalEvent[] | Rejection): CanonicalEvent[] {
  if (!Array.isArray(result)) throw new Error(`refused: ${result.reason}`);
  return result;
}

const fromApi = (payload: Buffer) => ({
  ...target(),
  topic: petnetTopics.api(GATEWAY),
  payload,
  retain: false,
});

describe("petnet-kronos codec", () => {
  it("acknowledges every API call on the gateway's ack topic with QoS 2, after what the call means", () => {
    const codec = codecAt();
    const [feed] = codec.encodeFeed(target(), {
      id: "0b7e1f52-8c3d-4a9e-b1f0-6d2c5a4e3b21",
      portions: 2,
      expiresAt: new Date("2025-07-01T12:01:00Z"),
    });
    const { hid } = envelopeOf(feed?.payload ?? "");

    const events = decoded(codec.decode(fromApi(eventCall(hid, "received"))));

    expect(events.map((e) => e.kind)).toEqual(["feed", "reply"]);
    expect(events[1]).toEqual({
      kind: "reply",
      message: {
        topic: `krs/api/stg/${GATEWAY}`,
        payload:
          '{"requestId":"GS-2025-07-01T12:00:02.000Z","eventName":"GatewayToServer_ApiRequest","encrypted":false,"parameters":{"status":"OK"}}',
        qos: 2,
        retain: false,
      },
    });
  });

  it("names a feed command by its id: received accepts it, failed rejects it, succeeded says nothing more", () => {
    const codec = codecAt();
    const id = "0b7e1f52-8c3d-4a9e-b1f0-6d2c5a4e3b21";
    const [feed] = codec.encodeFeed(target(), { id, portions: 3, expiresAt: new Date() });
    const envelope = envelopeOf(feed?.payload ?? "");
    expect(envelope.hid).toHaveLength(32);
    expect(envelope.name).toBe("SendCommand");
    expect(envelope.parameters.deviceHid).toBe(petnetDeviceHid(GATEWAY));
    expect(envelope.args).toEqual({ portion: 0.1875 });

    const received = decoded(codec.decode(fromApi(eventCall(envelope.hid, "received"))));
    const failed = decoded(
      codec.decode(fromApi(eventCall(envelope.hid, "failed", '{"error":"motor busy"}'))),
    );
    const succeeded = decoded(codec.decode(fromApi(eventCall(envelope.hid, "succeeded"))));

    expect(received[0]).toEqual({
      kind: "feed",
      report: { id, status: "accepted", portions: 0, source: "remote", at: new Date("2025-07-01T12:00:01Z") },
    });
    expect(failed[0]).toMatchObject({
      kind: "feed",
      report: { id, status: "rejected", error: "motor busy" },
    });
    expect(succeeded.map((e) => e.kind)).toEqual(["reply"]);
  });

  it("reads back a hashed hid of a command id that is no UUID, and nothing from a hid it never sent", () => {
    const codec = codecAt();
    const id = "k7petnet2q9x/2025-07-01/breakfast";
    const [feed] = codec.encodeFeed(target(), { id, portions: 1, expiresAt: new Date() });
    const { hid } = envelopeOf(feed?.payload ?? "");
    expect(hid).toMatch(/^[g-z]{32}$/);

    expect(decoded(codec.decode(fromApi(eventCall(hid, "received"))))[0]).toMatchObject({ report: { id } });
    // A fresh codec (a restarted server) has not sent it: the call is only acknowledged.
    expect(decoded(codecAt().decode(fromApi(eventCall(hid, "received")))).map((e) => e.kind)).toEqual([
      "reply",
    ]);
  });

  it("refuses a feed outside 1 to 32 sixteenths of a cup rather than send it", () => {
    const codec = codecAt();
    const feed = (portions: number) => () =>
      codec.encodeFeed(target(), {
        id: "0b7e1f52-8c3d-4a9e-b1f0-6d2c5a4e3b21",
        portions,
        expiresAt: new Date(),
      });

    expect(feed(32)).not.toThrow();
    expect(envelopeOf(feed(32)()[0]?.payload ?? "").args).toEqual({ portion: 2 });
    expect(feed(33)).toThrow("outside 1–32");
    expect(feed(0)).toThrow(RangeError);
    expect(feed(1.5)).toThrow(RangeError);
  });

  it("confirms a fw-2.5 push when its last command succeeded, and rejects it when any command failed", () => {
    const codec = codecAt();
    const messages = codec.encodeSchedule(
      target(PETNET_MODELS.modern),
      plan([{ id: "breakfast", time: "07:30", days: everyDay, portions: 4, enabled: true }], 9),
    );
    const steps = messages.map((m) => envelopeOf(m.payload));
    expect(steps.map((s) => s.parameters.command)).toEqual([
      "utc_offset",
      "schedule_clear",
      "schedule_mod_start",
      "schedule_add",
      "schedule_mod_end",
    ]);
    expect(messages.every((m) => m.topic === `krs/cmd/stg/${GATEWAY}` && m.qos === 2 && !m.retain)).toBe(
      true,
    );

    const outcome = (index: number, result: "succeeded" | "failed") =>
      decoded(codec.decode(fromApi(eventCall(steps[index]?.hid ?? "", result, '{"error":"flash full"}'))))[0];

    for (const index of [0, 1, 2, 3]) expect(outcome(index, "succeeded")?.kind).toBe("reply");
    expect(outcome(4, "succeeded")).toEqual({ kind: "schedule", report: { version: 9, status: "applied" } });
    expect(outcome(3, "failed")).toEqual({
      kind: "schedule",
      report: { version: 9, status: "rejected", error: "schedule_add: flash full" },
    });
  });

  it("sends the legacy whole-plan command to fw-legacy and to a feeder whose firmware is not known", () => {
    const codec = codecAt();
    const meals = [{ id: "dinner", time: "18:00", days: everyDay, portions: 6, enabled: true }];
    for (const model of [PETNET_MODELS.legacy, undefined]) {
      const commands = codec.encodeSchedule(target(model), plan(meals)).map((m) => envelopeOf(m.payload));
      expect(commands.map((c) => c.parameters.command)).toEqual(["utc_offset", "schedule"]);
      expect(commands[1]?.args).toEqual([
        {
          active: true,
          automatic: true,
          feeding_id: `${petnetDeviceHid(GATEWAY).slice(0, 16)}_feed1_18:00PM`,
          name: "FEED0",
          portion: 0.375,
          reminder: true,
          time: 64_800,
        },
      ]);
    }
  });

  it("tells the feeder the offset its plan's time zone has when the plan is sent", () => {
    const meals = [{ id: "breakfast", time: "07:30", days: everyDay, portions: 4, enabled: true }];
    const offsetAt = (iso: string) =>
      envelopeOf(codecAt(iso).encodeSchedule(target(), plan(meals))[0]?.payload ?? "").args;

    expect(offsetAt("2025-07-01T12:00:00Z")).toEqual({ utc_offset: 7200 });
    expect(offsetAt("2025-01-15T12:00:00Z")).toEqual({ utc_offset: 3600 });
    expect(utcOffsetSeconds("America/New_York", new Date("2025-01-15T12:00:00Z"))).toBe(-18_000);
  });

  it("refuses a plan with an enabled meal on some days only: the feeder's entries have no weekdays", () => {
    const codec = codecAt();
    const weekdaysOnly = plan([
      {
        id: "breakfast",
        time: "07:30",
        days: ["mon", "tue", "wed", "thu", "fri"],
        portions: 4,
        enabled: true,
      },
    ]);
    const disabled = plan([{ id: "brunch", time: "10:00", days: ["sat"], portions: 4, enabled: false }]);

    expect(() => codec.encodeSchedule(target(), weekdaysOnly)).toThrow(PetnetScheduleError);
    expect(() => codec.encodeSchedule(target(), weekdaysOnly)).toThrow(
      "meal breakfast: the feeder runs each stored meal every day",
    );
    const [, stored] = codec.encodeSchedule(target(), disabled).map((m) => envelopeOf(m.payload));
    expect(stored?.args).toMatchObject([{ active: false, time: 36_000 }]);
  });

  it("refuses a planned meal larger than the feeder dispenses", () => {
    const tooBig = plan([{ id: "feast", time: "12:00", days: everyDay, portions: 40, enabled: true }]);
    expect(() => codecAt().encodeSchedule(target(), tooBig)).toThrow("meal feast: 2.5 cups");
  });

  it("drops a feed result it has seen, per gateway", () => {
    const codec = codecAt();
    const result = Buffer.from(
      JSON.stringify({
        "_|deviceHid": petnetDeviceHid(GATEWAY),
        "s|msg_type": "feed_result",
        "i|stime": 1_751_371_200,
        "i|src": 4,
        "b|fail": false,
      }),
    );
    const from = (deviceKey: string) => ({
      feederId: deviceKey.slice(0, 12),
      deviceKey,
      model: undefined,
      topic: petnetTopics.telemetry(deviceKey),
      payload: result,
      retain: false,
    });
    const other = "6ec68eb4db216f61822a9aa4333d9824ae7d1abc";

    expect(decoded(codec.decode(from(GATEWAY)))[0]).toEqual({
      kind: "dispensed",
      portions: 0,
      source: "remote",
    });
    expect(decoded(codec.decode(from(GATEWAY)))).toEqual([]);
    expect(decoded(codec.decode(from(other)))[0]).toEqual({
      kind: "dispensed",
      portions: 0,
      source: "remote",
    });
  });

  it("gives each gateway its own 40-hex device hid, the same every time", () => {
    expect(petnetDeviceHid(GATEWAY)).toMatch(/^[0-9a-f]{40}$/);
    expect(petnetDeviceHid(GATEWAY)).toBe(petnetDeviceHid(GATEWAY));
    expect(petnetDeviceHid("6ec68eb4db216f61822a9aa4333d9824ae7d1abc")).not.toBe(petnetDeviceHid(GATEWAY));
  });
});
