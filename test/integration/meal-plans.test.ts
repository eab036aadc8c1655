/**
 * Planned meals through the whole server (HTTP, broker, scheduler, ledger) with
 * a simulated feeder, on an injected clock: the server runs in this process so
 * the test can move time, and no test waits for real minutes.
 */
import fs from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Running } from "../../server/src/main.js";
import { SimulatedFeeder, type SimulatedFeederOptions } from "../../server/src/sim/native-feeder.js";
import { FakeClock } from "../../server/src/testing/fake-clock.js";
import { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";
import { until } from "../helpers/until.js";

const ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const mins = (n: number) => n * 60_000;

let clock: FakeClock;
let dataDir: string;
let server: Running;
let api: TestApi;
let device: SimulatedFeeder;
let feederId: string;
let credentials: { username: string; password: string };
/** Kept across restarts, so a running device finds the server where it was. */
let mqttPort = 0;

function newDevice(options: Partial<SimulatedFeederOptions> = {}): SimulatedFeeder {
  return new SimulatedFeeder({
    url: `mqtt://127.0.0.1:${server.mqttPort}`,
    id: credentials.username,
    password: credentials.password,
    dispenseMsPerPortion: 10,
    // The device's clock is the test's clock too, so it judges expiry the same way.
    now: () => new Date(clock.now()),
    // Tests run the device's schedule themselves, at moments they choose.
    scheduleCheckMs: 3_600_000,
    ...options,
  });
}

type AlertBody = { kind: string; message: string; occurrenceId: string | null };

async function alerts(): Promise<AlertBody[]> {
  return (await api.request("GET", "/api/alerts")).body.alerts;
}

/** Moves the fake clock in steps, giving the server's event loop a moment after each. */
async function advance(ms: number, step = 15_000) {
  for (let done = 0; done < ms; done += step) {
    clock.advance(Math.min(step, ms - done));
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Starts the server, on the broker port it had before if any; `api` follows it, keeping its token. */
async function boot(): Promise<Running> {
  const booted = await bootInProcess({ dataDir, clock, mqttPort });
  server = booted.server;
  mqttPort = server.mqttPort;
  api.baseUrl = booted.api.baseUrl;
  return server;
}

async function meals() {
  const res = await api.request("GET", `/api/feeders/${feederId}/meals?days=1`);
  return res.body.meals as Array<{
    kind: string;
    mealId: string;
    state: string;
    grams: number | null;
    source: string | null;
  }>;
}

async function waitForMeal(state: string) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = (await meals()).find((m) => m.mealId === "breakfast");
    if (found?.state === state) return found;
    if (Date.now() > deadline) throw new Error(`breakfast stayed ${found?.state}, wanted ${state}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

beforeEach(async () => {
  // 07:29 in Berlin.
  clock = new FakeClock(Date.parse("2026-11-26T06:29:00Z"));
  dataDir = makeDataDir();
  mqttPort = 0;
  api = new TestApi("");
  await boot();
  await api.setupOwner();
  const created = await api.createFeeder("Kitchen");
  feederId = created.feeder.id;
  credentials = created.credentials;
  const put = await api.request("PUT", `/api/feeders/${feederId}/schedule`, {
    timezone: "Europe/Berlin",
    meals: [{ id: "breakfast", time: "07:30", days: ALL_DAYS, portions: 2, label: "Breakfast" }],
  });
  expect(put.status).toBe(200);
  device = newDevice();
});

afterEach(async () => {
  await device.stop();
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("server-driven meal plan", () => {
  it("feeds the planned meal once when it falls due, and shows it dispensed", async () => {
    await device.start();
    await api.waitForFeeder(feederId, (f) => f.online);
    expect((await meals()).find((m) => m.mealId === "breakfast")?.state).toBe("planned");
    clock.advance(mins(2));
    const meal = await waitForMeal("dispensed");
    expect(meal).toMatchObject({ source: "schedule", grams: 20 });
    clock.advance(mins(10));
    expect(device.dispensed).toHaveLength(1);
  });

  it("feeds a meal that fell due while the server was down once, within the grace window", async () => {
    await server.stop();
    clock.advance(mins(10)); // down from 07:29 to 07:39; breakfast at 07:30, grace 15 min
    await boot();
    device = newDevice();
    await device.start();
    await waitForMeal("dispensed");
    await server.stop();
    await boot(); // a second restart must not feed it again
    clock.advance(mins(1));
    await new Promise((r) => setTimeout(r, 300));
    expect(device.dispensed).toHaveLength(1);
  });

  it("records the meal as missed when the server comes back after the grace window", async () => {
    await server.stop();
    clock.advance(mins(30));
    await boot();
    device = newDevice();
    await device.start();
    await api.waitForFeeder(feederId, (f) => f.online);
    expect((await meals()).find((m) => m.mealId === "breakfast")?.state).toBe("missed");
    expect(device.dispensed).toHaveLength(0);
    await advance(20_000);
    const alert = await until("a missed-meal alert", async () =>
      (await alerts()).find((a) => a.kind === "meal_missed"),
    );
    expect(alert.message).toContain("past its grace window");
    expect(alert.occurrenceId).toBe(`${feederId}/2026-11-26/breakfast`);
  });

  it("alerts within 5 minutes when the feeder is offline at meal time, and when a meal fails", async () => {
    await advance(mins(6)); // 07:35, nobody connected
    const offline = await until("an alert", async () => (await alerts())[0]);
    expect(offline).toMatchObject({ kind: "meal_missed", occurrenceId: `${feederId}/2026-11-26/breakfast` });
    expect(offline.message).toContain("not dispensed yet");
    // A jammed feeder: the failure is alerted as soon as it is reported.
    await api.request("POST", `/api/feeders/${feederId}/schedule/one-offs`, {
      date: "2026-11-26",
      time: "07:40",
      portions: 1,
    });
    device = newDevice({ jammed: true });
    await device.start();
    await advance(mins(5));
    await until("the failed meal", async () =>
      (await meals()).find((m) => m.kind === "one-off" && m.state === "failed"),
    );
    await advance(20_000);
    const failed = await until("a failure alert", async () =>
      (await alerts()).find((a) => a.kind === "meal_failed"),
    );
    expect(failed.message).toContain("jam");
  });

  it("skips the next meal, and un-skips it", async () => {
    await device.start();
    const skipped = await api.request("POST", `/api/feeders/${feederId}/schedule/skip-next`);
    expect(skipped.status).toBe(200);
    expect(skipped.body.meal).toMatchObject({
      mealId: "breakfast",
      localDate: "2026-11-26",
      state: "skipped",
    });
    // Tomorrow's breakfast is skipped explicitly, then un-skipped.
    const path = `/api/feeders/${feederId}/schedule/skips/2026-11-27/breakfast`;
    expect((await api.request("PUT", path)).body.meal.state).toBe("skipped");
    expect((await api.request("DELETE", path)).body.meal.state).toBe("planned");
    const today = `/api/feeders/${feederId}/schedule/skips/2026-11-26/breakfast`;
    expect((await api.request("PUT", today)).status).toBe(200); // already skipped: idempotent
    await advance(mins(10));
    await new Promise((r) => setTimeout(r, 200));
    expect(device.dispensed).toHaveLength(0);
    expect((await meals()).find((m) => m.mealId === "breakfast")?.state).toBe("skipped");
    expect(await alerts()).toEqual([]);
    // A meal whose time has passed can neither be skipped nor un-skipped.
    expect((await api.request("DELETE", today)).status).toBe(409);
    const gone = await api.request("PUT", `/api/feeders/${feederId}/schedule/skips/2026-11-25/breakfast`);
    expect(gone.status).toBe(409);
    expect(gone.body.error.message).toContain("not planned");
  });

  it("pauses meals between two dates and resumes them", async () => {
    await device.start();
    const paused = await api.request("PUT", `/api/feeders/${feederId}/schedule/pause`, {
      from: "2026-11-26",
      until: "2026-11-27",
    });
    expect(paused.body.schedule.pause).toEqual({ from: "2026-11-26", until: "2026-11-27" });
    const week = (await api.request("GET", `/api/feeders/${feederId}/meals?days=3`)).body.meals as Array<{
      localDate: string;
      state: string;
    }>;
    expect(week.map((m) => [m.localDate, m.state])).toEqual([
      ["2026-11-26", "paused"],
      ["2026-11-27", "paused"],
      ["2026-11-28", "planned"],
    ]);
    await advance(mins(10));
    await new Promise((r) => setTimeout(r, 200));
    expect(device.dispensed).toHaveLength(0);
    expect((await meals())[0]?.state).toBe("paused");
    const backwards = await api.request("PUT", `/api/feeders/${feederId}/schedule/pause`, {
      from: "2026-11-28",
      until: "2026-11-27",
    });
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.message).toContain("until");
    const resumed = await api.request("DELETE", `/api/feeders/${feederId}/schedule/pause`);
    expect(resumed.body.schedule.pause).toBeNull();
  });

  it("feeds a one-off meal once, and refuses one in the past", async () => {
    await device.start();
    await api.waitForFeeder(feederId, (f) => f.online);
    const added = await api.request("POST", `/api/feeders/${feederId}/schedule/one-offs`, {
      date: "2026-11-26",
      time: "07:45",
      portions: 3,
      label: "Vet treat",
    });
    expect(added.status).toBe(201);
    await advance(mins(20));
    const treat = await until("the one-off fed", async () =>
      (await meals()).find((m) => m.kind === "one-off" && m.state === "dispensed"),
    );
    expect(treat).toMatchObject({ label: "Vet treat", portions: 3 });
    expect(device.dispensed.map((d) => d.portions).sort()).toEqual([2, 3]);
    const past = await api.request("POST", `/api/feeders/${feederId}/schedule/one-offs`, {
      date: "2026-11-26",
      time: "07:00",
      portions: 1,
    });
    expect(past.status).toBe(400);
    expect(past.body.error.message).toContain("already passed");
  });

  it("validates the plan with clear errors", async () => {
    const bad = await api.request("PUT", `/api/feeders/${feederId}/schedule`, {
      timezone: "Mars/Olympus",
      meals: [{ time: "07:30", days: ALL_DAYS, portions: 2 }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("Mars/Olympus");
    const badTime = await api.request("PUT", `/api/feeders/${feederId}/schedule`, {
      meals: [{ time: "25:00", days: ["mon"], portions: 1 }],
    });
    expect(badTime.body.error.message).toContain("HH:MM");
    const tooMuch = await api.request("PUT", `/api/feeders/${feederId}/schedule`, {
      meals: [{ time: "08:00", days: ["mon"], portions: 50 }],
    });
    expect(tooMuch.status).toBe(422);
    const kept = await api.request("GET", `/api/feeders/${feederId}/schedule`);
    expect(kept.body.schedule.meals).toHaveLength(1);
  });
});

describe("device-side meal plan", () => {
  const scheduleDevice = (options: Partial<SimulatedFeederOptions> = {}) =>
    newDevice({ capabilities: ["feed", "schedule"], ...options });

  /** Starts a device that stores schedules and waits until it runs the server's plan. */
  async function startScheduleDevice(): Promise<number> {
    device = scheduleDevice();
    await device.start();
    const version = await until("the device to confirm the plan", async () => {
      const s = (await api.request("GET", `/api/feeders/${feederId}/schedule`)).body.schedule;
      return s.deviceDriven && s.deviceVersion === s.version ? (s.version as number) : undefined;
    });
    expect(device.scheduleVersion).toBe(version);
    return version;
  }

  it("keeps feeding from the device's schedule while the server is down, and reconciles it afterwards", async () => {
    await startScheduleDevice();
    await server.stop();
    clock.advance(mins(2)); // 07:31: breakfast was due at 07:30, the server is down
    device.runSchedule();
    await until("the device to feed", () => device.dispensed.length === 1 || undefined);
    expect(device.dispensed[0]).toMatchObject({ source: "schedule", portions: 2 });
    await boot();
    const meal = await waitForMeal("dispensed");
    expect(meal).toMatchObject({ source: "schedule", grams: 20 });
    // The server only reconciled: it never sent the meal as a command, and nothing is missing.
    expect(device.commandsReceived).toEqual([]);
    await advance(mins(6));
    expect(await alerts()).toEqual([]);
    const feeds = (await api.request("GET", `/api/feeders/${feederId}/feeds`)).body.feeds;
    expect(feeds).toHaveLength(1);
  });

  it("counts a resent report once, and alerts when a meal is dispensed twice", async () => {
    await startScheduleDevice();
    await advance(mins(2));
    device.runSchedule();
    await waitForMeal("dispensed");
    const report = {
      id: `${feederId}/2026-11-26/breakfast`,
      status: "dispensed",
      portions: 2,
      source: "schedule",
      at: new Date(clock.now()).toISOString(),
      grams: 20,
      mealId: "breakfast",
    };
    await device.publishRaw(`feedkeeper/${feederId}/feed`, JSON.stringify(report), { qos: 1 });
    const byId = (await api.request("GET", `/api/feeders/${feederId}/feeds`)).body.feeds;
    expect(byId).toHaveLength(1);
    // The device ran the same meal again under a new id: a real second meal.
    await device.publishRaw(`feedkeeper/${feederId}/feed`, JSON.stringify({ ...report, id: "again-1" }), {
      qos: 1,
    });
    const doubled = await until("a doubled-meal alert", async () =>
      (await alerts()).find((a) => a.kind === "meal_doubled"),
    );
    expect(doubled.message).toContain("dispensed twice");
    const day = await meals();
    expect(day.filter((m) => m.mealId === "breakfast").map((m) => m.state)).toEqual(["dispensed"]);
    expect(day.filter((m) => m.kind === "extra")).toHaveLength(1);
  });

  it("notices a device that lost its schedule, and sends it again", async () => {
    const version = await startScheduleDevice();
    await device.stop();
    device = scheduleDevice(); // factory reset: same credentials, no schedule
    await device.start();
    const drift = await until("a drift alert", async () =>
      (await alerts()).find((a) => a.kind === "schedule_drift"),
    );
    expect(drift.message).toContain(`confirmed version ${version}`);
    await until("the schedule back on the device", () => device.scheduleVersion === version || undefined);
  });

  it("sends every change of the plan to the device, skips included", async () => {
    const first = await startScheduleDevice();
    await api.request("POST", `/api/feeders/${feederId}/schedule/skip-next`);
    await until("the new version on the device", () => device.scheduleVersion > first || undefined);
    await advance(mins(5));
    device.runSchedule();
    await new Promise((r) => setTimeout(r, 200));
    expect(device.dispensed).toHaveLength(0);
    expect((await meals()).find((m) => m.mealId === "breakfast")?.state).toBe("skipped");
  });

  it("alerts when a device's clock is off by more than 2 minutes", async () => {
    device = newDevice({ now: () => new Date(clock.now() + mins(3)) });
    await device.start();
    const skew = await until("a clock alert", async () =>
      (await alerts()).find((a) => a.kind === "clock_skew"),
    );
    expect(skew.message).toContain("3 min 0 s ahead");
  });
});

describe("meals on daylight-saving days, server-driven", () => {
  it.each([
    // Spring forward in New York: 02:30 does not exist on 2027-03-14; fed once at 03:00 EDT.
    ["America/New_York", "2027-03-14", "2027-03-14T06:00:00Z", "2027-03-14T07:00:00.000Z"],
    // Fall back in Berlin: 02:30 happens twice on 2027-10-31; fed once, at the first.
    ["Europe/Berlin", "2027-10-31", "2027-10-30T23:00:00Z", "2027-10-31T00:30:00.000Z"],
  ])("%s on %s: the 02:30 meal is fed once", async (timezone, date, startAt, dueAt) => {
    await api.request("PUT", `/api/feeders/${feederId}/schedule`, {
      timezone,
      meals: [{ id: "night", time: "02:30", days: ALL_DAYS, portions: 1 }],
    });
    await server.stop();
    clock = new FakeClock(Date.parse(startAt));
    await boot();
    device = newDevice();
    await device.start();
    await advance(mins(4 * 60), 60_000);
    await until("the night meal fed", () => device.dispensed.length >= 1 || undefined);
    await new Promise((r) => setTimeout(r, 200));
    expect(device.dispensed).toHaveLength(1);
    const day = (await api.request("GET", `/api/feeders/${feederId}/meals?days=1`)).body.meals as Array<{
      localDate: string;
      dueAt: string;
      state: string;
    }>;
    expect(day.find((m) => m.localDate === date)).toMatchObject({ dueAt, state: "dispensed" });
  });
});
