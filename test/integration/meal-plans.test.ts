/**
 * Planned meals through the whole server (HTTP, broker, scheduler, ledger) with
 * a simulated feeder, on an injected clock: the server runs in this process so
 * the test can move time, and no test waits for real minutes.
 */
import fs from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/src/config.js";
import { createLogger } from "../../server/src/logger.js";
import { type Running, start } from "../../server/src/main.js";
import { SimulatedFeeder } from "../../server/src/sim/native-feeder.js";
import { FakeClock } from "../../server/src/testing/fake-clock.js";
import { TestApi } from "../helpers/api.js";
import { makeDataDir } from "../helpers/server.js";

const ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const mins = (n: number) => n * 60_000;

let clock: FakeClock;
let dataDir: string;
let server: Running;
let api: TestApi;
let device: SimulatedFeeder;
let feederId: string;
let credentials: { username: string; password: string };

function newDevice(): SimulatedFeeder {
  return new SimulatedFeeder({
    url: `mqtt://127.0.0.1:${server.mqttPort}`,
    id: credentials.username,
    password: credentials.password,
    dispenseMsPerPortion: 10,
    // The device's clock is the test's clock too, so it judges expiry the same way.
    now: () => new Date(clock.now()),
  });
}

async function boot(): Promise<Running> {
  const config = loadConfig({
    FEEDKEEPER_HTTP_PORT: "0",
    FEEDKEEPER_MQTT_PORT: "0",
    FEEDKEEPER_BIND: "127.0.0.1",
    FEEDKEEPER_DATA_DIR: dataDir,
  });
  server = await start(config, createLogger("silent"), clock);
  api.baseUrl = `http://127.0.0.1:${server.httpPort}`;
  return server;
}

async function meals() {
  const res = await api.request("GET", `/api/feeders/${feederId}/meals?days=1`);
  return res.body.meals as Array<{
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
