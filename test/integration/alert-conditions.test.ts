/**
 * The condition alerts through the whole server: simulated feeders (the native protocol, and ESPHome
 * through its profile's fault map) report low food, a jam and a low battery, and one goes offline; each
 * shows once in GET /api/alerts, on the right feeder, also after a restart. The clock is injected so the
 * offline time passes without waiting.
 */
import fs from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Running } from "../../server/src/main.js";
import { EspHomeFeeder } from "../../server/src/sim/esphome-feeder.js";
import { SimulatedFeeder } from "../../server/src/sim/native-feeder.js";
import { FakeClock } from "../../server/src/testing/fake-clock.js";
import { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";
import { until } from "../helpers/until.js";

const mins = (n: number) => n * 60_000;

type AlertBody = { kind: string; feederId: string | null; message: string; acknowledgedAt: string | null };

let clock: FakeClock;
let dataDir: string;
let server: Running;
let api: TestApi;
let mqttPort = 0;
let kitchen: { id: string; device: SimulatedFeeder; reborn: () => SimulatedFeeder };
let diy: { id: string; device: EspHomeFeeder };

async function boot(): Promise<void> {
  const booted = await bootInProcess({ dataDir, clock, mqttPort });
  server = booted.server;
  mqttPort = server.mqttPort;
  api.baseUrl = booted.api.baseUrl;
}

async function alerts(): Promise<AlertBody[]> {
  const res = await api.request("GET", "/api/alerts?limit=100");
  expect(res.status).toBe(200);
  return res.body.alerts;
}

const summary = (list: AlertBody[]) =>
  list
    .map(
      (a) =>
        `${a.kind} ${a.feederId === kitchen.id ? "Kitchen" : a.feederId === diy.id ? "DIY" : a.feederId}`,
    )
    .sort();

const alertFor = (kind: string, feederId: string) =>
  until(`${kind} on ${feederId}`, async () =>
    (await alerts()).find((a) => a.kind === kind && a.feederId === feederId),
  );

/** Moves the fake clock in steps, giving the server's event loop a moment after each. */
async function advance(ms: number, step = mins(1)) {
  for (let done = 0; done < ms; done += step) {
    clock.advance(Math.min(step, ms - done));
    await new Promise((r) => setTimeout(r, 5));
  }
}

beforeEach(async () => {
  clock = new FakeClock(Date.parse("2026-11-26T07:00:00Z"));
  dataDir = makeDataDir();
  mqttPort = 0;
  api = new TestApi("");
  await boot();
  await api.setupOwner();
  const url = `mqtt://127.0.0.1:${server.mqttPort}`;
  const native = await api.createFeeder("Kitchen");
  /** A device instance powered off for good stays off: one powered on again is a new instance. */
  const nativeDevice = () =>
    new SimulatedFeeder({
      url: `mqtt://127.0.0.1:${server.mqttPort}`,
      id: native.credentials.username,
      password: native.credentials.password,
      now: () => new Date(clock.now()),
    });
  kitchen = { id: native.feeder.id, device: nativeDevice(), reborn: nativeDevice };
  const esphome = await api.createFeeder("DIY", { profile: "esphome-mqtt", minFeedIntervalSeconds: 0 });
  diy = {
    id: esphome.feeder.id,
    device: new EspHomeFeeder({
      url,
      id: esphome.credentials.username,
      password: esphome.credentials.password,
      msPerPortion: 10,
      reconnectMs: 200,
    }),
  };
  await kitchen.device.start();
  await diy.device.start();
  await api.waitForFeeder(kitchen.id, (f) => f.online);
  await api.waitForFeeder(diy.id, (f) => f.online);
});

afterEach(async () => {
  await kitchen.device.stop();
  await diy.device.stop();
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("condition alerts", () => {
  it("alerts low food, a jam and a low battery once each, on the feeder that reported them", async () => {
    await kitchen.device.sendTelemetry({ foodLevel: 0.6, battery: 0.9 }, 1);
    await kitchen.device.sendTelemetry({ foodLevel: 0.12, battery: 0.9 }, 1);
    const food = await alertFor("food_low", kitchen.id);
    expect(food.message).toBe(
      "Kitchen is low on food: 12 % left (the alert is set below 20 %); refill it soon.",
    );
    // A sensor wobbling around the line is the same episode.
    for (const foodLevel of [0.21, 0.18, 0.25, 0.19]) {
      await kitchen.device.sendTelemetry({ foodLevel, battery: 0.9 }, 1);
    }
    await kitchen.device.sendTelemetry({ foodLevel: 0.19, battery: 0.1 }, 1);
    await alertFor("battery_low", kitchen.id);
    await kitchen.device.sendTelemetry({ foodLevel: 0.19, battery: 0.1, error: "jam" }, 1);
    const fault = await alertFor("fault", kitchen.id);
    expect(fault.message).toContain("Kitchen reports a fault: its dispenser is jammed.");

    // The ESPHome feeder's jam comes through its profile's fault map, its food level as a percentage.
    await diy.device.sendSensors({ foodLevelPercent: 5, batteryPercent: 80 });
    diy.device.setJammed(true);
    const { body } = await api.feed(diy.id, { portions: 1 });
    await api.waitForFeed(body.feed.id, ["failed"]);
    await alertFor("fault", diy.id);
    // It sends the jam again with every meal: still one fault.
    const again = await api.feed(diy.id, { portions: 1 });
    await api.waitForFeed(again.body.feed.id, ["failed"]);

    const list = await until("the ESPHome feeder's food alert", async () => {
      const all = await alerts();
      return all.some((a) => a.kind === "food_low" && a.feederId === diy.id) && all;
    });
    expect(summary(list)).toEqual([
      "battery_low Kitchen",
      "fault DIY",
      "fault Kitchen",
      "food_low DIY",
      "food_low Kitchen",
    ]);
  });

  it("alerts a feeder offline longer than 30 minutes once, also across a restart", async () => {
    kitchen.device.kill();
    await api.waitForFeeder(kitchen.id, (f) => !f.online);
    await advance(mins(29));
    expect(await alerts()).toEqual([]);
    await advance(mins(2));
    const offline = await alertFor("feeder_offline", kitchen.id);
    expect(offline.message).toMatch(
      /^Kitchen has been offline for more than 30 minutes \(last heard from at /,
    );

    // A restart: the ESPHome feeder comes back within the time, the kitchen's outage was already alerted.
    await server.stop();
    await advance(mins(60));
    await boot();
    await api.waitForFeeder(diy.id, (f) => f.online);
    await advance(mins(45));
    expect(summary(await alerts())).toEqual(["feeder_offline Kitchen"]);

    // Back and gone again: a new outage, a new alert.
    kitchen.device = kitchen.reborn();
    await kitchen.device.start();
    await api.waitForFeeder(kitchen.id, (f) => f.online);
    await kitchen.device.stop();
    await api.waitForFeeder(kitchen.id, (f) => !f.online);
    await advance(mins(31));
    await until("a second offline alert", async () => (await alerts()).length === 2);
    expect(summary(await alerts())).toEqual(["feeder_offline Kitchen", "feeder_offline Kitchen"]);
  });
});
