/**
 * A feeder's history through the whole server (HTTP, broker, ledger, telemetry) with a simulated feeder on an
 * injected clock: grams per day are what the feeder really dispensed, failed feeds are counted apart, and the
 * food level is what it reported.
 */
import fs from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FeederHistory } from "../../server/src/http/api-types.js";
import type { Running } from "../../server/src/main.js";
import { SimulatedFeeder } from "../../server/src/sim/native-feeder.js";
import { FakeClock } from "../../server/src/testing/fake-clock.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";

const PORTION_GRAMS = 12;
const WAIT = { timeout: 10_000, interval: 50 };

let clock: FakeClock;
let dataDir: string;
let server: Running;
let api: TestApi;
let device: SimulatedFeeder | undefined;

beforeEach(async () => {
  clock = new FakeClock(Date.parse("2026-11-26T06:29:00Z"));
  dataDir = makeDataDir();
  ({ server, api } = await bootInProcess({ dataDir, clock }));
  await api.setupOwner();
});

afterEach(async () => {
  await device?.stop();
  device = undefined;
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function history(feederId: string, query = ""): Promise<FeederHistory> {
  const res = await api.request<FeederHistory>("GET", `/api/feeders/${feederId}/history${query}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function connectedFeeder() {
  const { feeder, credentials } = await api.createFeeder("Kitchen");
  device = new SimulatedFeeder({
    url: `mqtt://127.0.0.1:${server.mqttPort}`,
    id: credentials.username,
    password: credentials.password,
    portionGrams: PORTION_GRAMS,
    dispenseMsPerPortion: 10,
    now: () => new Date(clock.now()),
  });
  await device.start();
  await api.waitForFeeder(feeder.id, (f) => f.online && f.portionGrams === PORTION_GRAMS);
  return { feeder, device };
}

describe("feeder history", () => {
  it("counts what the feeder dispensed today, failed feeds apart, and its food level readings", async () => {
    const { feeder, device } = await connectedFeeder();

    const fed = await api.feed(feeder.id, { portions: 2 });
    expect(fed.status).toBe(202);
    await api.waitForFeed(fed.body.feed.id, ["dispensed"]);
    await device.pressButton(1);
    device.setJammed(true);
    await device.pressButton(3);
    device.setJammed(false);
    await device.sendTelemetry({ foodLevel: 0.8 }, 1);
    await expect.poll(async () => (await history(feeder.id, "?days=1")).foodLevel.length, WAIT).toBe(1);
    clock.advance(60 * 60_000);
    await device.sendTelemetry({ foodLevel: 0.55, battery: 0.9 }, 1);

    await expect.poll(async () => (await history(feeder.id, "?days=3")).days.at(-1)?.failed, WAIT).toBe(1);
    // One day is cut into 90 s slices here: an hour apart, the two readings stay two points.
    await expect.poll(async () => (await history(feeder.id, "?days=1")).foodLevel.length, WAIT).toBe(2);
    const result = await history(feeder.id, "?days=3");
    expect(result.timeZone).toBe(feeder.timeZone);
    expect(result.days).toHaveLength(3);
    expect(result.days.at(-1)).toEqual({
      date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      grams: 3 * PORTION_GRAMS,
      portions: 3,
      feeds: 2,
      failed: 1,
    });
    expect(result.days[0]).toEqual({ date: expect.any(String), grams: 0, portions: 0, feeds: 0, failed: 0 });
    expect((await history(feeder.id, "?days=1")).foodLevel).toEqual([
      { at: "2026-11-26T06:29:00.000Z", foodLevel: 0.8 },
      { at: "2026-11-26T07:29:00.000Z", foodLevel: 0.55 },
    ]);

    // Fourteen days unless asked otherwise.
    expect((await history(feeder.id)).days).toHaveLength(14);
  });

  it("refuses a bad number of days with a message that says what is allowed", async () => {
    const { feeder } = await api.createFeeder("Kitchen");
    for (const days of ["0", "91", "1.5", "many", ""]) {
      const res = await api.request("GET", `/api/feeders/${feeder.id}/history?days=${days}`);
      expect(res.status, `days=${days}`).toBe(400);
      expect(res.body.error).toMatchObject({
        code: "validation_failed",
        message: "days: days must be a whole number from 1 to 90",
      });
    }
    expect((await history(feeder.id, "?days=90")).days).toHaveLength(90);
    expect((await api.request("GET", "/api/feeders/nosuchfeeder/history")).status).toBe(404);
  });

  it("is open to sitters, who see history", async () => {
    const { feeder } = await api.createFeeder("Kitchen");
    const created = await api.request("POST", "/api/users", {
      username: "neighbour",
      password: "a sitter's long password",
      role: "sitter",
    });
    expect(created.status).toBe(201);
    const sitter = await api.signInAs("neighbour", "a sitter's long password");
    const res = await sitter.request<FeederHistory>("GET", `/api/feeders/${feeder.id}/history?days=7`);
    expect(res.status).toBe(200);
    expect(res.body.days).toHaveLength(7);
  });
});
