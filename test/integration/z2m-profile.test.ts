/**
 * The zigbee2mqtt-aqara-c1 profile end to end: a simulated Zigbee2MQTT with an Aqara C1 (set up as in
 * docs/devices/zigbee2mqtt-aqara-c1.md) and the real server, both clients of a real Mosquitto with a
 * password. Feed now, the plan stored on the feeder and confirmed by its echo, link quality, the error flag
 * surfacing as a canonical fault, a meal from the feeder's own plan kept apart from a waiting remote feed,
 * Zigbee2MQTT going down, and the plan sent again after the broker restarts.
 */
import fs from "node:fs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Running } from "../../server/src/main.js";
import { Z2mAqaraFeeder } from "../../server/src/sim/z2m-aqara-feeder.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { type Mosquitto, startMosquitto } from "../helpers/mosquitto.js";
import { makeDataDir } from "../helpers/server.js";

const NAME = "kitchen_feeder";

let dataDir: string;
let broker: Mosquitto;
let server: Running;
let api: TestApi;
let z2m: Z2mAqaraFeeder;
let feederId: string;
let schedulesSent: number;

beforeEach(async () => {
  dataDir = makeDataDir();
  broker = await startMosquitto();
  ({ server, api } = await bootInProcess({
    dataDir,
    env: {
      FEEDKEEPER_MQTT_URL: broker.url,
      FEEDKEEPER_MQTT_USERNAME: broker.username,
      FEEDKEEPER_MQTT_PASSWORD: broker.password,
      FEEDKEEPER_FEED_RESULT_TIMEOUT_SECONDS: "5",
    },
  }));
  await api.setupOwner();
  z2m = new Z2mAqaraFeeder({
    url: broker.url,
    username: broker.username,
    password: broker.password,
    friendlyName: NAME,
    msPerPortion: 10,
    reportDelayMs: 20,
    reconnectMs: 200,
    linkQuality: 96,
  });
  schedulesSent = 0;
  z2m.on("command", (key) => {
    if (key === "schedule") schedulesSent += 1;
  });
  await z2m.start();
  const created = await api.request<{ feeder: { id: string } }>("POST", "/api/feeders", {
    name: "Kitchen",
    profile: "zigbee2mqtt-aqara-c1",
    model: "ZNCWWSQ01LM",
    deviceKey: NAME,
    minFeedIntervalSeconds: 0,
  });
  expect(created.status).toBe(201);
  feederId = created.body.feeder.id;
  await api.waitForFeeder(feederId, (f) => f.online);
});

afterEach(async () => {
  z2m.kill();
  await server.stop();
  await broker.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function planBreakfast() {
  const res = await api.request("PUT", `/api/feeders/${feederId}/schedule`, {
    timezone: "UTC",
    meals: [{ id: "breakfast", time: "07:30", days: ["mon", "wed", "fri", "sun"], portions: 2 }],
  });
  expect(res.status).toBe(200);
}

const schedule = async () =>
  (
    await api.request<{ schedule: { version: number; deviceVersion: number | null } }>(
      "GET",
      `/api/feeders/${feederId}/schedule`,
    )
  ).body.schedule;

describe("zigbee2mqtt-aqara-c1 end to end (real Mosquitto)", () => {
  it("feeds now, with the serving size set first, and reads the link quality", async () => {
    const { body } = await api.feed(feederId, { portions: 3 });
    await vi.waitFor(async () => expect((await api.getFeed(body.feed.id)).status).toBe("dispensed"), {
      timeout: 5_000,
    });
    expect(z2m.dispensed).toEqual([{ portions: 3, source: "remote" }]);
    await api.waitForFeeder(feederId, (f) => f.telemetry?.linkQuality === 96);
    // Zigbee2MQTT publishing its cache again is no new meal.
    await z2m.republish();
    await new Promise((r) => setTimeout(r, 200));
    const feeds = await api.request<{ feeds: unknown[] }>("GET", `/api/feeders/${feederId}/feeds`);
    expect(feeds.body.feeds).toHaveLength(1);
  });

  it("stores the plan on the feeder, confirmed by what it reports, and keeps its own meals apart", async () => {
    await planBreakfast();
    await vi.waitFor(
      async () => {
        const s = await schedule();
        expect(s.deviceVersion).toBe(s.version);
      },
      { timeout: 5_000 },
    );
    expect(z2m.state.schedule).toEqual([{ days: "mon-wed-fri-sun", hour: 7, minute: 30, size: 2 }]);

    // A remote feed waits for its result while the feeder runs a meal of its own plan: not its result.
    await z2m.setJammed(true);
    const jammedMeal = new Promise((resolve) => z2m.once("failed", resolve));
    const { body } = await api.feed(feederId, { portions: 1 });
    await jammedMeal;
    await z2m.setJammed(false);
    await z2m.runScheduledMeal(0);
    await vi.waitFor(async () => {
      const feeds = await api.request<{ feeds: Array<{ source: string; status: string; portions: number }> }>(
        "GET",
        `/api/feeders/${feederId}/feeds`,
      );
      expect(feeds.body.feeds).toContainEqual(
        expect.objectContaining({ source: "schedule", status: "dispensed", portions: 2 }),
      );
    });
    expect((await api.getFeed(body.feed.id)).status).not.toBe("dispensed");
  });

  it("shows the feeder's error flag as a fault, and the feed it stopped ends without a result", async () => {
    await z2m.setJammed(true);
    const { body } = await api.feed(feederId, { portions: 1 });
    await api.waitForFeeder(feederId, (f) => f.telemetry?.error === "unknown");
    await vi.waitFor(async () => expect((await api.getFeed(body.feed.id)).status).toBe("timed_out"), {
      timeout: 10_000,
    });
    await z2m.setJammed(false);
    await api.waitForFeeder(feederId, (f) => f.telemetry?.error === undefined);
  }, 20_000);

  it("counts the feeder offline when Zigbee2MQTT stops, though its own availability still says online", async () => {
    z2m.kill();
    await api.waitForFeeder(feederId, (f) => !f.online);
  });

  it("sends the plan again after the broker restarts", async () => {
    await planBreakfast();
    await vi.waitFor(
      async () => {
        const s = await schedule();
        expect(s.deviceVersion).toBe(s.version);
      },
      { timeout: 5_000 },
    );
    const before = schedulesSent;
    await broker.kill();
    await broker.resume();
    await vi.waitFor(() => expect(schedulesSent).toBeGreaterThan(before), { timeout: 15_000 });
    await vi.waitFor(
      async () => {
        const s = await schedule();
        expect(s.deviceVersion).toBe(s.version);
      },
      { timeout: 5_000 },
    );
  }, 30_000);
});
