/**
 * The esphome-mqtt profile end to end: a simulated ESPHome feeder (configured as in
 * docs/devices/esphome-mqtt.md) on the real server's embedded broker. Feed now, a button meal, sensors,
 * and a jam surfacing as the feed's canonical error.
 */
import fs from "node:fs";
import mqtt from "mqtt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Running } from "../../server/src/main.js";
import { EspHomeFeeder } from "../../server/src/sim/esphome-feeder.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";

let dataDir: string;
let server: Running;
let api: TestApi;
let device: EspHomeFeeder;
let feederId: string;

beforeEach(async () => {
  dataDir = makeDataDir();
  ({ server, api } = await bootInProcess({ dataDir }));
  await api.setupOwner();
  const created = await api.createFeeder("DIY", { profile: "esphome-mqtt", minFeedIntervalSeconds: 0 });
  feederId = created.feeder.id;
  device = new EspHomeFeeder({
    url: `mqtt://127.0.0.1:${server.mqttPort}`,
    id: created.credentials.username,
    password: created.credentials.password,
    msPerPortion: 10,
  });
  await device.start();
  await api.waitForFeeder(feederId, (f) => f.online);
});

afterEach(async () => {
  await device.stop();
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("esphome-mqtt profile", () => {
  it("feeds through the number entity and matches the dispensed report to the feed", async () => {
    const feeder = (await api.request("GET", `/api/feeders/${feederId}`)).body.feeder;
    expect(feeder).toMatchObject({ profile: "esphome-mqtt", model: "ESPHome feeder", maxPortions: 10 });
    const { body } = await api.feed(feederId, { portions: 2 });
    const done = await api.waitForFeed(body.feed.id, ["dispensed", "failed", "timed_out", "expired"]);
    expect(done).toMatchObject({ status: "dispensed", portions: 2, source: "remote" });
  });

  it("records a button meal as a meal started on the device", async () => {
    await device.pressButton(1);
    const deadline = Date.now() + 5000;
    for (;;) {
      const feeds = (await api.request("GET", `/api/feeders/${feederId}/feeds`)).body.feeds;
      if (feeds.length > 0) {
        expect(feeds).toMatchObject([{ source: "button", status: "dispensed", portions: 1 }]);
        break;
      }
      if (Date.now() > deadline) throw new Error("no button meal recorded");
      await new Promise((r) => setTimeout(r, 30));
    }
  });

  it("shows the sensors, and a jam fails the feed with the canonical error", async () => {
    await device.sendSensors({ foodLevelPercent: 42, batteryPercent: 88, rssi: -61 });
    const withSensors = await api.waitForFeeder(feederId, (f) => f.telemetry?.rssi === -61);
    expect(withSensors.telemetry).toMatchObject({ foodLevel: 0.42, battery: 0.88, rssi: -61 });
    device.setJammed(true);
    const { body } = await api.feed(feederId, { portions: 1 });
    const failed = await api.waitForFeed(body.feed.id, ["dispensed", "failed", "timed_out", "expired"]);
    expect(failed).toMatchObject({ status: "failed", error: "jam" });
    const jammed = await api.waitForFeeder(feederId, (f) => f.telemetry?.error === "jam");
    expect(jammed.telemetry?.foodLevel).toBe(0.42);
  });

  it("shows in the connection log why a device is not talking", async () => {
    // A device with the wrong secret: refused, with the reason, and counted rather than repeated.
    for (let attempt = 0; attempt < 2; attempt++) {
      const client = await mqtt
        .connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, {
          protocolVersion: 4,
          clientId: feederId,
          username: feederId,
          password: "not-the-secret",
          reconnectPeriod: 0,
        })
        .catch(() => undefined);
      await client?.endAsync();
    }
    // A sensor value the profile cannot read.
    await device.publishRaw(`feedkeeper/${feederId}/sensor/food_level/state`, "lots");
    const deadline = Date.now() + 5000;
    let entries: Array<{ kind: string; detail: string; count: number; address: string | null }> = [];
    while (Date.now() < deadline) {
      entries = (await api.request("GET", `/api/connection-log?feederId=${feederId}`)).body.entries;
      if (entries.some((e) => e.kind === "dropped")) break;
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(entries.find((e) => e.kind === "dropped")?.detail).toBe(
      `feedkeeper/${feederId}/sensor/food_level/state: foodLevel: not a number`,
    );
    expect(entries.find((e) => e.kind === "refused")).toMatchObject({
      count: 2,
      address: expect.stringContaining("127.0.0.1"),
      detail: expect.stringContaining("bad username or password"),
    });
    expect(entries.at(-1)?.kind).toBe("connected");
  });
});
