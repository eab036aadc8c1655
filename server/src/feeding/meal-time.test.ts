import { describe, expect, it } from "vitest";
import {
  dueInstant,
  isValidTimeZone,
  type MealSlot,
  occurrenceId,
  occurrenceOn,
  occurrencesBetween,
  WEEKDAYS,
} from "./meal-time.js";

const everyDay = (id: string, time: string): MealSlot => ({ id, time, days: WEEKDAYS, enabled: true });
const day = (date: string, tz: string, meals: MealSlot[]) => {
  const from = dueInstant(date, "00:00", tz);
  const next = new Date(from.getTime() + 36 * 3600_000);
  return occurrencesBetween(meals, tz, from, next).filter((o) => o.localDate === date);
};

describe("dueInstant", () => {
  it("evaluates wall-clock time in the feeder's zone", () => {
    expect(dueInstant("2026-06-01", "07:30", "Europe/Berlin").toISOString()).toBe("2026-06-01T05:30:00.000Z");
    expect(dueInstant("2026-01-15", "07:30", "Europe/Berlin").toISOString()).toBe("2026-01-15T06:30:00.000Z");
    expect(dueInstant("2026-06-01", "07:30", "Asia/Tokyo").toISOString()).toBe("2026-05-31T22:30:00.000Z");
  });

  it("runs a meal in the skipped spring-forward hour at the first valid minute after it", () => {
    // Berlin 2026-03-29: 02:00 CET → 03:00 CEST.
    expect(dueInstant("2026-03-29", "02:30", "Europe/Berlin").toISOString()).toBe("2026-03-29T01:00:00.000Z");
    // New York 2026-03-08: 02:00 EST → 03:00 EDT.
    expect(dueInstant("2026-03-08", "02:15", "America/New_York").toISOString()).toBe(
      "2026-03-08T07:00:00.000Z",
    );
    // Lord Howe 2026-10-04: 02:00 +10:30 → 02:30 +11:00, a 30-minute gap.
    expect(dueInstant("2026-10-04", "02:15", "Australia/Lord_Howe").toISOString()).toBe(
      "2026-10-03T15:30:00.000Z",
    );
  });

  it("runs a meal in the repeated fall-back hour at its first occurrence", () => {
    // Berlin 2026-10-25: 03:00 CEST → 02:00 CET; 02:30 happens at 00:30Z and again at 01:30Z.
    expect(dueInstant("2026-10-25", "02:30", "Europe/Berlin").toISOString()).toBe("2026-10-25T00:30:00.000Z");
    // New York 2026-11-01: 01:30 EDT (05:30Z) comes before 01:30 EST (06:30Z).
    expect(dueInstant("2026-11-01", "01:30", "America/New_York").toISOString()).toBe(
      "2026-11-01T05:30:00.000Z",
    );
    // Lord Howe 2026-04-05: 02:00 +11:00 → 01:30 +10:30.
    expect(dueInstant("2026-04-05", "01:45", "Australia/Lord_Howe").toISOString()).toBe(
      "2026-04-04T14:45:00.000Z",
    );
  });
});

describe("occurrencesBetween", () => {
  const zones = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe"];
  const transitionDays: Record<string, string[]> = {
    "Europe/Berlin": ["2026-03-29", "2026-10-25"],
    "America/New_York": ["2026-03-08", "2026-11-01"],
    "Asia/Tokyo": ["2026-03-29", "2026-10-25"],
    "Australia/Lord_Howe": ["2026-04-05", "2026-10-04"],
  };

  it.each(zones)("gives every meal exactly once a day through the DST days of %s", (tz) => {
    const meals = ["00:00", "01:30", "02:00", "02:15", "02:30", "03:00", "23:59"].map((t, i) =>
      everyDay(`m${i}`, t),
    );
    for (const date of transitionDays[tz] ?? []) {
      const got = day(date, tz, meals);
      expect(got.map((o) => o.mealId).sort(), `${tz} ${date}`).toEqual(meals.map((m) => m.id).sort());
      const instants = got.map((o) => o.dueAt.getTime());
      expect([...instants].sort((a, b) => a - b)).toEqual(instants);
    }
  });

  it("counts 7 × meals over a week and honours weekdays and the on/off switch", () => {
    const meals: MealSlot[] = [
      everyDay("breakfast", "07:00"),
      { id: "weekend", time: "10:00", days: ["sat", "sun"], enabled: true },
      { id: "off", time: "12:00", days: WEEKDAYS, enabled: false },
    ];
    const from = new Date("2026-11-23T00:00:00+09:00"); // a Monday in Tokyo
    const to = new Date("2026-11-30T00:00:00+09:00");
    const got = occurrencesBetween(meals, "Asia/Tokyo", from, to);
    expect(got.filter((o) => o.mealId === "breakfast")).toHaveLength(7);
    expect(got.filter((o) => o.mealId === "weekend").map((o) => o.localDate)).toEqual([
      "2026-11-28",
      "2026-11-29",
    ]);
    expect(got.some((o) => o.mealId === "off")).toBe(false);
  });

  it("follows a feeder to a new time zone", () => {
    const meals = [everyDay("m", "08:00")];
    const from = new Date("2026-11-26T00:00:00Z");
    const to = new Date("2026-11-27T00:00:00Z");
    expect(occurrencesBetween(meals, "Europe/Berlin", from, to)[0]?.dueAt.toISOString()).toBe(
      "2026-11-26T07:00:00.000Z",
    );
    expect(occurrencesBetween(meals, "America/New_York", from, to)[0]?.dueAt.toISOString()).toBe(
      "2026-11-26T13:00:00.000Z",
    );
  });

  it("makes occurrence ids from feeder, local date and meal", () => {
    expect(occurrenceId("f1", "2026-11-26", "m1")).toBe("f1/2026-11-26/m1");
  });

  it("recognises IANA zones", () => {
    expect(isValidTimeZone("Australia/Lord_Howe")).toBe(true);
    expect(isValidTimeZone("Mars/Olympus")).toBe(false);
  });
});

describe("one-off meals", () => {
  const BERLIN = "Europe/Berlin";
  const oneOff = (id: string, date: string, time: string, days: MealSlot["days"] = []): MealSlot => ({
    id,
    time,
    days,
    enabled: true,
    date,
  });
  const week = (meals: MealSlot[], tz = BERLIN) =>
    // Monday 2026-11-23 through Sunday 2026-11-29, local time.
    occurrencesBetween(
      meals,
      tz,
      dueInstant("2026-11-23", "00:00", tz),
      dueInstant("2026-11-30", "00:00", tz),
    );

  it("happens on its date only, whatever its days say", () => {
    const got = week([
      oneOff("plain", "2026-11-28", "12:00"),
      oneOff("everyDay", "2026-11-25", "09:00", WEEKDAYS),
      // 2026-11-29 is a Sunday: the date wins over days that leave it out.
      oneOff("mondays", "2026-11-29", "18:00", ["mon"]),
      oneOff("nextWeek", "2026-12-01", "12:00", WEEKDAYS),
    ]);
    expect(got.map((o) => [o.mealId, o.localDate, o.dueAt.toISOString()])).toEqual([
      ["everyDay", "2026-11-25", "2026-11-25T08:00:00.000Z"],
      ["plain", "2026-11-28", "2026-11-28T11:00:00.000Z"],
      ["mondays", "2026-11-29", "2026-11-29T17:00:00.000Z"],
    ]);
  });

  it("follows the DST rules: once, at the first valid minute or the first of a repeated one", () => {
    const forward = day("2026-03-29", BERLIN, [oneOff("gap", "2026-03-29", "02:30")]);
    expect(forward.map((o) => o.dueAt.toISOString())).toEqual(["2026-03-29T01:00:00.000Z"]);
    const back = day("2026-10-25", BERLIN, [oneOff("twice", "2026-10-25", "02:30")]);
    expect(back.map((o) => o.dueAt.toISOString())).toEqual(["2026-10-25T00:30:00.000Z"]);
    const lordHowe = day("2026-10-04", "Australia/Lord_Howe", [oneOff("gap", "2026-10-04", "02:15")]);
    expect(lordHowe.map((o) => o.dueAt.toISOString())).toEqual(["2026-10-03T15:30:00.000Z"]);
  });

  it("occurrenceOn gives nothing for a disabled meal or a day it is not planned on", () => {
    const weekly: MealSlot = { id: "weekend", time: "10:00", days: ["sat", "sun"], enabled: true };
    const once = oneOff("once", "2026-11-28", "10:00");
    expect(occurrenceOn(weekly, "2026-11-28", BERLIN)).toEqual({
      mealId: "weekend",
      localDate: "2026-11-28",
      dueAt: new Date("2026-11-28T09:00:00Z"),
    });
    expect(occurrenceOn(weekly, "2026-11-27", BERLIN)).toBeUndefined();
    expect(occurrenceOn({ ...weekly, enabled: false }, "2026-11-28", BERLIN)).toBeUndefined();
    expect(occurrenceOn(once, "2026-11-28", BERLIN)?.dueAt.toISOString()).toBe("2026-11-28T09:00:00.000Z");
    expect(occurrenceOn(once, "2026-11-29", BERLIN)).toBeUndefined();
    expect(occurrenceOn({ ...once, enabled: false }, "2026-11-28", BERLIN)).toBeUndefined();
    expect(week([{ ...once, enabled: false }])).toEqual([]);
  });
});
