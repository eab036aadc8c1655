/**
 * What the recorded fixtures cannot show one case at a time: that every set of days survives the trip to
 * Zigbee2MQTT's day names and back, and that the plan the codec sends is the plan it then recognises.
 */
import { describe, expect, it } from "vitest";
import type { DeviceSchedule } from "../../feeding/device-schedule-sync.js";
import { WEEKDAYS, type Weekday } from "../../feeding/meal-time.js";
import { shippedProfiles } from "../../testing/profiles.js";
import { type CanonicalEvent, isRejection } from "./codec.js";
import {
  Z2M_DAY_SETS,
  type Z2mScheduleEntry,
  z2mOnline,
  z2mScheduleEntries,
  z2mScheduleFingerprint,
} from "./z2m-aqara-c1.js";

const codec = shippedProfiles().codecOf("zigbee2mqtt-aqara-c1");
const target = { feederId: "k3x9q2m4p7ab", deviceKey: "kitchen_feeder", model: undefined };

function plan(meals: DeviceSchedule["meals"]): DeviceSchedule {
  return { version: 7, timezone: "Europe/Berlin", meals, oneOffs: [], skips: [], pause: null };
}

const meal = (days: Weekday[], time = "07:30", portions = 2) => ({
  id: `m-${days.join("")}-${time}`,
  time,
  days,
  portions,
  enabled: true,
});

/** Every non-empty set of weekdays, as Feedkeeper's day lists. */
const allDaySets: Weekday[][] = Array.from({ length: 127 }, (_, i) =>
  WEEKDAYS.filter((_, bit) => (i + 1) & (1 << bit)),
);

function decodeState(body: object, retain = false): CanonicalEvent[] {
  const result = codec.decode({
    ...target,
    topic: "zigbee2mqtt/kitchen_feeder",
    payload: Buffer.from(JSON.stringify(body)),
    retain,
  });
  if (isRejection(result)) throw new Error(result.reason);
  return result;
}

/** The schedule as the codec sends it, read back from the message it would publish. */
function sent(schedule: DeviceSchedule): Z2mScheduleEntry[] {
  const [message] = codec.encodeSchedule(target, schedule);
  return JSON.parse(message?.payload ?? "{}").schedule;
}

describe("z2m-aqara-c1 schedules", () => {
  it("covers every set of days exactly, with no day twice", () => {
    for (const days of allDaySets) {
      const entries = z2mScheduleEntries(plan([meal(days)]));
      const masks = entries.map((e) => Z2M_DAY_SETS[e.days]);
      const union = masks.reduce((a, m) => a | m, 0);
      const wanted = days.reduce((a, d) => a | (1 << WEEKDAYS.indexOf(d)), 0);
      expect(union, days.join(",")).toBe(wanted);
      expect(
        masks.reduce((a, m) => a + m, 0),
        `${days.join(",")} overlaps`,
      ).toBe(wanted);
    }
  });

  it("uses as few entries as the named sets allow", () => {
    const count = (days: Weekday[]) => z2mScheduleEntries(plan([meal(days)])).length;
    expect(count(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])).toBe(1);
    expect(count(["mon", "wed", "fri", "sun"])).toBe(1);
    expect(count(["mon", "tue", "wed", "thu", "fri", "sat"])).toBe(2);
    expect(count(["tue", "thu", "sat", "sun"])).toBe(2);
    expect(count(["mon", "tue", "wed", "thu"])).toBe(4);
    expect(count(["mon", "tue", "wed", "thu", "sun"])).toBe(5);
    expect(Math.max(...allDaySets.map(count))).toBe(5);
  });

  it("recognises the plan it sent when Zigbee2MQTT echoes it, for every set of days", () => {
    for (const days of allDaySets) {
      const schedule = plan([meal(days), meal(["sat", "sun"], "10:05", 3)]);
      const events = decodeState({ linkquality: 100, schedule: sent(schedule) });
      expect(events).toContainEqual({
        kind: "scheduleHeld",
        fingerprint: codec.scheduleFingerprint?.(target, schedule),
      });
    }
  });

  it("reads the same plan the same, whatever the names and order", () => {
    const everyday: Z2mScheduleEntry[] = [{ days: "everyday", hour: 7, minute: 30, size: 2 }];
    const oneByOne = WEEKDAYS.map((days) => ({ days, hour: 7, minute: 30, size: 2 })).reverse();
    expect(z2mScheduleFingerprint(oneByOne)).toBe(z2mScheduleFingerprint(everyday));
    expect(codec.scheduleFingerprint?.(target, plan([meal([...WEEKDAYS])]))).toBe(
      z2mScheduleFingerprint(everyday),
    );
  });

  it("tells plans apart by time, size and days, and leaves disabled meals out", () => {
    const base = plan([meal(["mon", "tue"])]);
    const fingerprint = (s: DeviceSchedule) => codec.scheduleFingerprint?.(target, s);
    expect(fingerprint(plan([meal(["mon", "tue"], "07:31")]))).not.toBe(fingerprint(base));
    expect(fingerprint(plan([meal(["mon", "tue"], "07:30", 3)]))).not.toBe(fingerprint(base));
    expect(fingerprint(plan([meal(["mon", "wed"])]))).not.toBe(fingerprint(base));
    expect(fingerprint(plan([...base.meals, { ...meal(["sun"]), enabled: false }]))).toBe(fingerprint(base));
    expect(fingerprint(plan([]))).toBe("");
  });

  it("does not take the plan a feeder holds for another one", () => {
    const schedule = plan([meal(["mon", "tue", "wed", "thu", "fri"])]);
    const events = decodeState({ schedule: [{ days: "workdays", hour: 7, minute: 30, size: 1 }] });
    expect(events).not.toContainEqual({
      kind: "scheduleHeld",
      fingerprint: codec.scheduleFingerprint?.(target, schedule),
    });
  });
});

describe("z2m-aqara-c1 state", () => {
  const cached = { child_lock: "UNLOCK", error: false, linkquality: 120, mode: "schedule", serving_size: 2 };

  it("takes a meal only from a live message carrying feeding_size", () => {
    const meal = { ...cached, feeding_source: "remote", feeding_size: 2 };
    expect(decodeState(meal)).toContainEqual({ kind: "dispensed", portions: 2, source: "remote" });
    // The feeder's own plan and button are never the result of a remote feed waiting for one.
    expect(decodeState({ feeding_source: "manual", feeding_size: 1 })).toEqual([
      { kind: "dispensed", portions: 1, source: "button" },
    ]);
    expect(decodeState(meal, true).map((e) => e.kind)).toEqual(["telemetry"]);
    expect(decodeState(cached).map((e) => e.kind)).toEqual(["telemetry", "fault"]);
  });

  it("counts a meal whose source Zigbee2MQTT could not name (it leaves the key out)", () => {
    expect(decodeState({ feeding_size: 1 })).toEqual([{ kind: "dispensed", portions: 1 }]);
  });

  it("refuses a meal larger than the feeder serves", () => {
    const result = codec.decode({
      ...target,
      topic: "zigbee2mqtt/kitchen_feeder",
      payload: Buffer.from('{"feeding_size":11}'),
      retain: false,
    });
    expect(result).toEqual({ reason: "state: feeding_size: Too big: expected number to be <=10" });
  });
});

describe("z2mOnline", () => {
  it("reads both availability styles, which zigbee2mqtt/bridge/state shares", () => {
    const read = (text: string) => z2mOnline(Buffer.from(text));
    expect(["online", " offline\n", '{"state":"online"}', '{"state":"offline"}'].map(read)).toEqual([
      true,
      false,
      true,
      false,
    ]);
    expect(["", "Online", '{"state":"ONLINE"}', '"online"', "{"].map(read)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe("z2m-aqara-c1 feed", () => {
  it("sets the serving size, then starts, as two messages to /set", () => {
    const messages = codec.encodeFeed(target, {
      id: "c1",
      portions: 4,
      expiresAt: new Date("2025-03-01T07:31:00Z"),
    });
    expect(messages.map((m) => [m.topic, m.payload])).toEqual([
      ["zigbee2mqtt/kitchen_feeder/set", '{"serving_size":4}'],
      ["zigbee2mqtt/kitchen_feeder/set", '{"feed":"START"}'],
    ]);
    expect(codec.acknowledgesCommands).toBe(false);
  });
});
