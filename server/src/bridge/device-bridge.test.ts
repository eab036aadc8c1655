import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AlertService } from "../feeding/alerts.js";
import { DeviceScheduleSync } from "../feeding/device-schedule-sync.js";
import { FeederService } from "../feeding/feeders.js";
import { FeedService } from "../feeding/feeds.js";
import { MealPlanService } from "../feeding/meal-plans.js";
import { FIRST_HOUSEHOLD } from "../store/schema.js";
import { FakeClock } from "../testing/fake-clock.js";
import { shippedProfiles } from "../testing/profiles.js";
import { silentLogger, tempStore } from "../testing/temp-store.js";
import { DeviceBridge } from "./device-bridge.js";
import { PendingDevices } from "./pending-devices.js";

let store: ReturnType<typeof tempStore>;
let feeders: FeederService;
let feeds: FeedService;
let bridge: DeviceBridge;
let plans: MealPlanService;
let schedules: DeviceScheduleSync;
let published: Array<{ topic: string; payload: string; retain: boolean }>;
let id: string;

const message = (channel: string, payload: unknown, retain = false) =>
  bridge.onMessage(
    { feederId: id },
    `feedkeeper/${id}/${channel}`,
    Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload)),
    retain,
  );

beforeEach(async () => {
  store = tempStore();
  const clock = new FakeClock();
  feeders = new FeederService(store, clock, silentLogger, shippedProfiles());
  feeds = new FeedService(
    store,
    feeders,
    clock,
    { defaultExpirySeconds: 60, maxExpirySeconds: 900, resultTimeoutSeconds: 120 },
    silentLogger,
    "UTC",
  );
  plans = new MealPlanService(store, feeders, clock, "UTC");
  const alerts = new AlertService(store, clock, [], silentLogger);
  schedules = new DeviceScheduleSync(plans, feeders, alerts, clock, silentLogger);
  bridge = new DeviceBridge(
    feeders,
    feeds,
    schedules,
    shippedProfiles(),
    silentLogger,
    clock,
    new PendingDevices(clock),
  );
  published = [];
  await bridge.attach({
    publish: async (topic, payload, { retain }) => {
      published.push({ topic, payload, retain });
    },
  });
  feeds.start(bridge);
  schedules.start(bridge);
  id = feeders.create({ householdId: FIRST_HOUSEHOLD, name: "Kitchen", profile: "feedkeeper" }).feeder.id;
});
afterEach(() => {
  feeds.stop();
  schedules.stop();
  store.dispose();
});

describe("DeviceBridge with the native profile", () => {
  it("announces the server retained and never retains a feed command", async () => {
    expect(published[0]).toEqual({ topic: "feedkeeper/server/status", payload: "online", retain: true });
    bridge.onConnected({ feederId: id }, "127.0.0.1");
    message("hello", { protocol: 1, model: "m", firmware: "1.0", capabilities: ["feed"] });
    const { feed } = feeds.request({ feederId: id, portions: 2 });
    await new Promise((r) => setImmediate(r));
    const command = published.find((p) => p.topic === `feedkeeper/${id}/cmd/feed`);
    expect(command?.retain).toBe(false);
    expect(JSON.parse(command?.payload ?? "{}")).toEqual({
      id: feed.commandId,
      portions: 2,
      expiresAt: feed.expiresAt?.toISOString(),
    });
  });

  it("records what a hello says about the device", () => {
    bridge.onConnected({ feederId: id }, "127.0.0.1");
    message("hello", {
      protocol: 1,
      model: "PF-1",
      firmware: "2.3.4",
      capabilities: ["feed"],
      portionGrams: 8,
    });
    expect(feeders.view(id)).toMatchObject({
      model: "PF-1",
      firmware: "2.3.4",
      portionGrams: 8,
      online: true,
    });
  });

  it.each([
    ["feed", "{not json"],
    ["feed", { id: "x", status: "eaten", portions: 1, source: "remote", at: "2026-11-26T07:00:00Z" }],
    ["feed", { id: "a b", status: "dispensed", portions: 1, source: "remote", at: "2026-11-26T07:00:00Z" }],
    ["feed", { id: "x", status: "dispensed", portions: 1, source: "remote", at: "not a time" }],
    ["hello", { protocol: 2, model: "m", firmware: "f", capabilities: [] }],
    ["telemetry", { foodLevel: 1.5 }],
    ["status", "sleeping"],
    ["schedule", { version: -1, status: "applied" }],
    ["unknown", {}],
  ])("drops an invalid %s message without recording anything", (channel, payload) => {
    expect(() => message(channel, payload)).not.toThrow();
    expect(feeds.listForFeeder(id, { limit: 10 })).toEqual([]);
    expect(feeders.view(id)).toMatchObject({ model: null, telemetry: null });
  });

  it("pushes the plan to a device that stores schedules, never retained, and records its confirmation", async () => {
    bridge.onConnected({ feederId: id }, "127.0.0.1");
    message("hello", { protocol: 1, model: "m", firmware: "1.0", capabilities: ["feed", "schedule"] });
    plans.replace(id, {
      timezone: "Europe/Berlin",
      meals: [{ id: "breakfast", time: "07:30", days: ["mon", "tue"], portions: 2 }],
    });
    await new Promise((r) => setImmediate(r));
    const pushed = published.filter((p) => p.topic === `feedkeeper/${id}/cmd/schedule`);
    expect(pushed).toHaveLength(1);
    expect(pushed[0]?.retain).toBe(false);
    const version = plans.get(id).version;
    expect(JSON.parse(pushed[0]?.payload ?? "{}")).toEqual({
      version,
      timezone: "Europe/Berlin",
      meals: [{ id: "breakfast", time: "07:30", days: ["mon", "tue"], portions: 2, enabled: true }],
      oneOffs: [],
      skips: [],
      pause: null,
    });
    message("schedule", { version, status: "applied" });
    expect(plans.get(id).deviceVersion).toBe(version);
    // Back with the same version: nothing to send.
    message("hello", {
      protocol: 1,
      model: "m",
      firmware: "1.0",
      capabilities: ["feed", "schedule"],
      scheduleVersion: version,
    });
    await new Promise((r) => setImmediate(r));
    expect(published.filter((p) => p.topic === `feedkeeper/${id}/cmd/schedule`)).toHaveLength(1);
  });

  it("sends no schedule to a device that cannot store one", async () => {
    bridge.onConnected({ feederId: id }, "127.0.0.1");
    message("hello", { protocol: 1, model: "m", firmware: "1.0", capabilities: ["feed"] });
    plans.replace(id, { meals: [{ id: "breakfast", time: "07:30", days: ["mon"], portions: 2 }] });
    await new Promise((r) => setImmediate(r));
    expect(published.some((p) => p.topic.endsWith("/cmd/schedule"))).toBe(false);
  });

  it("ignores a retained feed report, which can only be a replay", () => {
    message(
      "feed",
      { id: "old", status: "dispensed", portions: 1, source: "button", at: "2026-11-26T07:00:00Z" },
      true,
    );
    expect(feeds.listForFeeder(id, { limit: 10 })).toEqual([]);
  });

  it("refuses the session of a feeder that no longer exists", () => {
    feeders.remove(id);
    expect(bridge.onConnected({ feederId: id }, "127.0.0.1")).toBe(false);
    expect(bridge.connections.list({ limit: 5 })).toMatchObject([
      {
        kind: "refused",
        clientId: id,
        feederId: null,
        detail: "the feeder was deleted",
        address: "127.0.0.1",
      },
    ]);
  });

  it("logs what it drops, with the topic and the reason, for the owner to read", () => {
    bridge.onConnected({ feederId: id }, "10.0.0.7");
    message("telemetry", { foodLevel: 1.5 });
    expect(bridge.connections.list({ limit: 5, feederId: id })).toMatchObject([
      { kind: "dropped", detail: expect.stringContaining(`feedkeeper/${id}/telemetry: foodLevel:`) },
      { kind: "connected", address: "10.0.0.7" },
    ]);
  });
});

describe("DeviceBridge with a mapping profile (ESPHome: no command ids)", () => {
  let esp: string;
  const state = (path: string, value: string, retain = false) =>
    bridge.onMessage({ feederId: esp }, `feedkeeper/${esp}/${path}`, Buffer.from(value), retain);
  const flush = () => new Promise((r) => setImmediate(r));

  beforeEach(() => {
    esp = feeders.create({ householdId: FIRST_HOUSEHOLD, name: "DIY", profile: "esphome-mqtt" }).feeder.id;
    bridge.onConnected({ feederId: esp }, "127.0.0.1");
    state("status", "online", true);
  });

  it("comes online with the profile's stand-in hello and sends the feed on the number's command topic", async () => {
    expect(feeders.view(esp)).toMatchObject({
      online: true,
      model: "ESPHome feeder",
      capabilities: ["feed"],
    });
    feeds.request({ feederId: esp, portions: 3 });
    await flush();
    expect(published.at(-1)).toEqual({
      topic: `feedkeeper/${esp}/cmd/feed_portions`,
      payload: "3",
      retain: false,
    });
  });

  it("matches a dispensed report to the oldest feed waiting for its result, then records button meals", async () => {
    const first = feeds.request({ feederId: esp, portions: 2 }).feed;
    const second = feeds.request({ feederId: esp, portions: 1, override: true }).feed;
    await flush();
    state("sensor/dispensed_portions/state", "2.000000");
    expect(feeds.require(first.id)).toMatchObject({ status: "dispensed", portions: 2 });
    // No acknowledgements in this protocol: a delivered command is dispensing, its result is due.
    expect(feeds.require(second.id).status).toBe("accepted");
    state("sensor/dispensed_portions/state", "1");
    expect(feeds.require(second.id).status).toBe("dispensed");
    // Nothing waiting: a meal started on the device itself. A retained copy is a replay, not a meal.
    state("sensor/dispensed_portions/state", "1");
    state("sensor/dispensed_portions/state", "1", true);
    const history = feeds.listForFeeder(esp, { limit: 10 });
    expect(history.filter((f) => f.source === "button")).toMatchObject([
      { status: "dispensed", portions: 1 },
    ]);
    expect(history).toHaveLength(3);
  });

  it("fails the waiting feed with the canonical fault, and shows the fault until it clears", async () => {
    const feed = feeds.request({ feederId: esp, portions: 2 }).feed;
    await flush();
    state("text_sensor/feeder_error/state", "jam");
    expect(feeds.require(feed.id)).toMatchObject({ status: "failed", error: "jam" });
    expect(feeders.view(esp).telemetry?.error).toBe("jam");
    state("text_sensor/feeder_error/state", "ok");
    expect(feeders.view(esp).telemetry?.error).toBeUndefined();
    // Food running low is worth showing, but the meal came out: it does not fail the feed.
    const next = feeds.request({ feederId: esp, portions: 1, override: true }).feed;
    await flush();
    state("text_sensor/feeder_error/state", "low");
    expect(feeds.require(next.id).status).toBe("accepted");
    expect(feeders.view(esp).telemetry?.error).toBe("food_low");
  });

  it("keeps each sensor's last reading when another one arrives", () => {
    state("sensor/food_level/state", "42.0");
    state("sensor/battery_level/state", "90");
    state("sensor/wifi_signal/state", "-61.4");
    expect(feeders.view(esp).telemetry).toMatchObject({ foodLevel: 0.42, battery: 0.9, rssi: -61 });
  });
});
