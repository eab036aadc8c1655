/**
 * The `tuya-dp` codec beyond the recorded fixtures: telling a meal from the replay of the last report,
 * across messages and reconnects; the plan's fingerprint matching the device's echo; the profile's `tuya`
 * section rules.
 */
import { describe, expect, it } from "vitest";
import type { DeviceSchedule } from "../../feeding/device-schedule-sync.js";
import { dp, stateReportFrame, tuyaReceivedJson } from "../../sim/tasmota-tuya-feeder.js";
import { shippedProfiles } from "../../testing/profiles.js";
import { type DeviceProfile, profileSchema } from "../profile-schema.js";
import { type CanonicalEvent, type DeviceTarget, isRejection } from "./codec.js";
import { createTuyaDpCodec } from "./tuya-dp.js";

const profile = shippedProfiles().require("tasmota-tuyamcu");
const arlec: DeviceTarget = { feederId: "feeder1", deviceKey: "feeder1", model: "arlec-5l" };
const root = (t: DeviceTarget) => `feedkeeper/${t.feederId}`;

function decoder(codec = createTuyaDpCodec(profile)) {
  return (target: DeviceTarget, topic: string, payload: string, retain = false): CanonicalEvent[] => {
    const result = codec.decode({
      ...target,
      topic: `${root(target)}/${topic}`,
      payload: Buffer.from(payload),
      retain,
    });
    if (isRejection(result)) throw new Error(result.reason);
    return result;
  };
}

const frame = (...dps: Parameters<typeof stateReportFrame>[0]) => tuyaReceivedJson(stateReportFrame(dps));
const feeding = frame(dp.enum(4, 1));
const report = (portions: number) => frame(dp.value(15, portions));

const schedule = (meals: DeviceSchedule["meals"]): DeviceSchedule => ({
  version: 1,
  timezone: "Europe/Berlin",
  meals,
  oneOffs: [],
  skips: [],
  pause: null,
});
const meal = (id: string, time: string, portions = 1): DeviceSchedule["meals"][number] => ({
  id,
  time,
  days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
  portions,
  enabled: true,
});

describe("tuya-dp connections", () => {
  it("sends nothing on LWT Online, which comes before Tasmota subscribes, and greets on the next message", () => {
    const decode = decoder();
    expect(decode(arlec, "tele/LWT", "Online")).toEqual([]);
    expect(decode(arlec, "tele/RESULT", '{"TuyaSend2":"Done"}')).toEqual([
      { kind: "hello", hello: { model: "Arlec 5L pet feeder", firmware: "Tasmota", capabilities: ["feed"] } },
      {
        kind: "reply",
        message: { topic: `${root(arlec)}/cmd/TuyaSend0`, payload: "", qos: 1, retain: false },
      },
    ]);
    expect(decode(arlec, "tele/RESULT", '{"TuyaSend0":"Done"}')).toEqual([]);
    // A new connection is greeted again.
    expect(decode(arlec, "tele/LWT", "Offline")).toEqual([{ kind: "status", online: false }]);
    expect(decode(arlec, "tele/LWT", "Online")).toEqual([]);
    expect(decode(arlec, "tele/INFO1", "{}")).toHaveLength(2);
  });

  it("does not count a refused message as the connection's first", () => {
    const codec = createTuyaDpCodec(profile);
    const decode = decoder(codec);
    decode(arlec, "tele/LWT", "Online");
    const refused = codec.decode({
      ...arlec,
      topic: `${root(arlec)}/tele/RESULT`,
      payload: Buffer.from("{"),
      retain: false,
    });
    expect(refused).toEqual({ reason: "RESULT: not JSON" });
    expect(decode(arlec, "tele/STATE", "{}")).toHaveLength(2);
  });
});

/** A decoder that has already had each feeder's first message (hello and state query). */
function greetedDecoder(codec = createTuyaDpCodec(profile)) {
  const decode = decoder(codec);
  const greeted = new Set<string>();
  return (target: DeviceTarget, topic: string, payload: string, retain = false): CanonicalEvent[] => {
    if (!greeted.has(target.feederId)) decode(target, "tele/STATE", "{}");
    greeted.add(target.feederId);
    return decode(target, topic, payload, retain);
  };
}

describe("tuya-dp feed reports", () => {
  it("counts a report only after feed_state said feeding, once", () => {
    const decode = greetedDecoder();
    expect(decode(arlec, "tele/RESULT", report(2))).toEqual([]);
    expect(decode(arlec, "tele/RESULT", feeding)).toEqual([]);
    expect(decode(arlec, "tele/RESULT", report(2))).toEqual([{ kind: "dispensed", portions: 2 }]);
    expect(decode(arlec, "tele/RESULT", report(2))).toEqual([]);
  });

  it("keeps each feeder's meal apart", () => {
    const decode = greetedDecoder();
    const other = { ...arlec, feederId: "feeder2", deviceKey: "feeder2" };
    decode(arlec, "tele/RESULT", feeding);
    expect(decode(other, "tele/RESULT", report(3))).toEqual([]);
    expect(decode(arlec, "tele/RESULT", report(3))).toEqual([{ kind: "dispensed", portions: 3 }]);
  });

  it("ends the meal on a jam, so the replay after it is no meal", () => {
    const decode = greetedDecoder();
    decode(arlec, "tele/RESULT", feeding);
    expect(decode(arlec, "tele/RESULT", frame(dp.bitmap(14, 1)))).toEqual([{ kind: "fault", fault: "jam" }]);
    expect(decode(arlec, "tele/RESULT", report(2))).toEqual([]);
  });

  it("does not end the meal on a standing problem like a low battery", () => {
    const decode = greetedDecoder();
    decode(arlec, "tele/RESULT", feeding);
    decode(arlec, "tele/RESULT", frame(dp.bitmap(14, 16)));
    expect(decode(arlec, "tele/RESULT", report(1))).toEqual([{ kind: "dispensed", portions: 1 }]);
  });

  it("recovers the report of a meal that ended while the feeder was away from the state it reports back", () => {
    const decode = decoder();
    decode(arlec, "tele/STATE", "{}");
    decode(arlec, "tele/RESULT", feeding);
    decode(arlec, "tele/LWT", "Offline");
    decode(arlec, "tele/LWT", "Online");
    // The answer to TuyaSend0: the last report is this meal's.
    expect(decode(arlec, "tele/RESULT", report(2))).toEqual([
      expect.objectContaining({ kind: "hello" }),
      expect.objectContaining({ kind: "reply" }),
      { kind: "dispensed", portions: 2 },
    ]);
  });

  it("reads the feeding value of each model's own feed_state", () => {
    const decode = greetedDecoder();
    const ipettie = { ...arlec, model: "ipettie-w5" };
    decode(ipettie, "tele/RESULT", feeding);
    expect(decode(ipettie, "tele/RESULT", report(2))).toEqual([]);
    decode(ipettie, "tele/RESULT", frame(dp.enum(4, 4)));
    expect(decode(ipettie, "tele/RESULT", report(2))).toEqual([{ kind: "dispensed", portions: 2 }]);
  });

  it("gives a feeder whose model the profile no longer has the profile's defaults", () => {
    const decode = decoder();
    const gone = { ...arlec, model: "retired-model" };
    const [hello, , weight] = decode(gone, "tele/RESULT", frame(dp.value(17, 120)));
    expect(hello).toMatchObject({ hello: { model: profile.name } });
    expect(weight).toEqual({ kind: "telemetry", telemetry: { weightGrams: 120 }, partial: true });
  });
});

describe("tuya-dp meal plans", () => {
  const codec = createTuyaDpCodec(profile);
  const decode = greetedDecoder(codec);

  it("fingerprints the plan it sends the way the device's echo of it reads", () => {
    const plan = schedule([meal("dinner", "18:00", 3), meal("breakfast", "07:30", 2)]);
    const [sent] = codec.encodeSchedule(arlec, plan);
    const hex = sent?.payload.split(",")[1] ?? "";
    expect(hex).toBe("7F120003017F071E0201");
    // The device may hold the meals in another order.
    const reordered = hex.slice(10) + hex.slice(0, 10);
    const [held] = decode(arlec, "tele/RESULT", frame(dp.raw(1, Buffer.from(reordered, "hex"))));
    expect(held).toEqual({ kind: "scheduleHeld", fingerprint: codec.scheduleFingerprint?.(arlec, plan) });
  });

  it("does not match a device holding the same meal disabled", () => {
    const plan = schedule([meal("breakfast", "07:30", 2)]);
    const [held] = decode(arlec, "tele/RESULT", frame(dp.raw(1, Buffer.from("7F071E0200", "hex"))));
    expect(held).toMatchObject({ kind: "scheduleHeld" });
    expect(held).not.toEqual({ kind: "scheduleHeld", fingerprint: codec.scheduleFingerprint?.(arlec, plan) });
  });

  it("refuses to send more meals than the device has slots, and matches nothing with such a plan", () => {
    const plan = schedule(
      Array.from({ length: 11 }, (_, i) => meal(`m${i}`, `${String(i + 6).padStart(2, "0")}:00`)),
    );
    expect(() => codec.encodeSchedule(arlec, plan)).toThrow("11 meals, the device holds at most 10");
    expect(codec.scheduleFingerprint?.(arlec, plan)).toBe(
      "not storable: meal plan: 11 meals, the device holds at most 10",
    );
  });

  it("sends nothing to a model without a meal plan DP", () => {
    const withoutPlan = profileSchema.parse({
      ...profile,
      tuya: { ...profile.tuya, models: { ...profile.tuya?.models, "arlec-5l": { mealPlan: null } } },
    });
    expect(createTuyaDpCodec(withoutPlan).encodeSchedule(arlec, schedule([meal("a", "07:00")]))).toEqual([]);
  });
});

describe("the profile's tuya section", () => {
  const issues = (changes: Partial<DeviceProfile> | ((p: DeviceProfile) => unknown)) => {
    const input =
      typeof changes === "function" ? changes(structuredClone(profile)) : { ...profile, ...changes };
    const result = profileSchema.safeParse(input);
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  };

  it("accepts the shipped profile", () => {
    expect(issues({})).toEqual([]);
  });

  it("goes with codec tuya-dp, both ways", () => {
    expect(issues({ tuya: undefined })).toEqual([
      "tuya: codec tuya-dp needs a tuya section, and only it has one",
    ]);
    expect(issues({ codec: "mapping" })).toContain(
      "tuya: codec tuya-dp needs a tuya section, and only it has one",
    );
  });

  it("names only the profile's models, and none below the common feed range", () => {
    expect(
      issues((p) => ({
        ...p,
        tuya: { ...p.tuya, models: { "ipettie-w6": { battery: 11 }, "arlec-5l": { feedMax: 6 } } },
      })),
    ).toEqual([
      "tuya.models.ipettie-w6: not one of the profile's models (ipettie-w5, arlec-5l, oneisall-pf002-pro)",
      "tuya.models.arlec-5l.feedMax: below capabilities.feed.max: the API would ask this model for more than it feeds",
    ]);
  });

  it("needs Feedkeeper's credentials and topics", () => {
    expect(
      issues((p) => ({
        ...p,
        transport: {
          ...p.transport,
          identify: { by: "clientId", pattern: "^DVES_" },
          topics: { fromDevice: ["{deviceKey}/#"], toDevice: ["{deviceKey}/cmnd/#"] },
        },
      })),
    ).toEqual([
      "transport.identify.by: codec tuya-dp speaks Tasmota set up with Feedkeeper's credentials and topics (credentials)",
    ]);
  });

  it("does not let a model take away the DPs every feed needs", () => {
    expect(
      issues((p) => ({ ...p, tuya: { ...p.tuya, models: { "arlec-5l": { manualFeed: null } } } })),
    ).toEqual(["tuya.models.arlec-5l.manualFeed: Invalid input: expected number, received null"]);
  });
});
