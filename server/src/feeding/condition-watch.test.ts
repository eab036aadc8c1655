import { like } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FIRST_HOUSEHOLD, serverState } from "../store/schema.js";
import { FakeClock } from "../testing/fake-clock.js";
import { shippedProfiles } from "../testing/profiles.js";
import { silentLogger, tempStore } from "../testing/temp-store.js";
import { type Alert, AlertService } from "./alerts.js";
import { type ConditionThresholds, ConditionWatch } from "./condition-watch.js";
import { type DeviceTelemetry, FeederService } from "./feeders.js";

const mins = (n: number) => n * 60_000;
const DEFAULTS: ConditionThresholds = { foodLowPercent: 20, batteryLowPercent: 15, offlineMinutes: 30 };

let store: ReturnType<typeof tempStore>;
let clock: FakeClock;
let feeders: FeederService;
let alerts: AlertService;
let watch: ConditionWatch;
let notified: Alert[];
let feederId: string;

/** The server's parts as main.ts wires them, on the test's store and clock. */
function boot(thresholds: ConditionThresholds = DEFAULTS) {
  feeders = new FeederService(store, clock, silentLogger, shippedProfiles());
  alerts = new AlertService(
    store,
    clock,
    [{ name: "recording", notify: async (alert) => void notified.push(alert) }],
    silentLogger,
  );
  watch = new ConditionWatch(store, feeders, alerts, clock, silentLogger, thresholds);
  watch.start();
}

/** A server restart: what was buffered is written, the new parts start from the same database. */
function restart(downForMs = 0) {
  watch.stop();
  feeders.telemetryWriter.close();
  clock.advance(downForMs);
  boot();
}

beforeEach(() => {
  store = tempStore();
  clock = new FakeClock(Date.parse("2026-11-26T07:00:00Z"));
  notified = [];
  boot();
  feederId = feeders.create({ householdId: FIRST_HOUSEHOLD, name: "Kitchen", profile: "feedkeeper" }).feeder
    .id;
});
afterEach(() => {
  watch.stop();
  feeders.telemetryWriter.close();
  store.dispose();
});

function connect(id = feederId) {
  feeders.commandsSubscribed(id);
  feeders.helloReceived(id, { protocolVersion: 1, model: "PF-1", firmware: "1.0", capabilities: ["feed"] });
}

/** A reading as a partial message (one sensor at a time), the way most vendor codecs report. */
const report = (reading: DeviceTelemetry, id = feederId) =>
  feeders.telemetryReceived(id, reading, { partial: true });
const food = (level: number) => report({ foodLevel: level });
const of = (kind: Alert["kind"]) => notified.filter((a) => a.kind === kind);

describe("ConditionWatch: food", () => {
  it("alerts once when the level drops below the threshold, and again only after it rose 10 points above", () => {
    connect();
    food(0.5);
    food(0.2);
    expect(of("food_low")).toEqual([]);
    food(0.19);
    expect(of("food_low")).toMatchObject([
      {
        feederId,
        message: "Kitchen is low on food: 19 % left (the alert is set below 20 %); refill it soon.",
      },
    ]);
    // Wobbling around the line, and even back above it, is the same episode.
    for (const level of [0.18, 0.21, 0.17, 0.29, 0.19, 0.05]) food(level);
    expect(of("food_low")).toHaveLength(1);
    food(0.3);
    clock.advance(mins(5));
    food(0.12);
    expect(of("food_low")).toHaveLength(2);
    expect(of("food_low")[1]?.message).toContain("12 % left");
    expect(new Set(of("food_low").map((a) => a.key)).size).toBe(2);
    expect(alerts.list({ householdId: FIRST_HOUSEHOLD, limit: 10 })).toHaveLength(2);
  });

  it("uses the configured threshold, and 0 turns level alerts off", () => {
    watch.stop();
    boot({ ...DEFAULTS, foodLowPercent: 10 });
    food(0.15);
    expect(of("food_low")).toEqual([]);
    food(0.09);
    expect(of("food_low")).toHaveLength(1);
    expect(of("food_low")[0]?.message).toContain("below 10 %");

    watch.stop();
    boot({ ...DEFAULTS, foodLowPercent: 0 });
    const other = feeders.create({ householdId: FIRST_HOUSEHOLD, name: "Hall", profile: "feedkeeper" }).feeder
      .id;
    report({ foodLevel: 0 }, other);
    expect(of("food_low")).toHaveLength(1);
    // The device's own flag still counts.
    report({ error: "empty" }, other);
    expect(of("food_low")).toHaveLength(2);
  });

  it("takes a device's low-food and empty flags, held while a graver fault hides them", () => {
    report({ error: "food_low" });
    expect(of("food_low")).toMatchObject([
      { message: "Kitchen reports its food is running low; refill it soon." },
    ]);
    report({ error: "jam" });
    report({ error: "food_low" });
    expect(of("food_low")).toHaveLength(1);
    expect(of("fault")).toHaveLength(1);
    // All well: the episode ends, and the next flag is news.
    report({ error: undefined });
    report({ error: "empty" });
    expect(of("food_low")).toHaveLength(2);
    expect(of("food_low")[1]?.message).toBe(
      "Kitchen reports its hopper is empty; meals cannot come out until it is refilled.",
    );
    // Running on battery is not a problem of the food: it clears the flag like "ok" does.
    report({ error: "on_battery" });
    report({ error: "food_low" });
    expect(of("food_low")).toHaveLength(3);
  });

  it("keeps a flagged episode open while the level says low, and ends it when the level recovers", () => {
    food(0.1);
    report({ error: "food_low" });
    report({ error: "ok" });
    expect(of("food_low")).toHaveLength(1);
    food(0.5);
    food(0.1);
    expect(of("food_low")).toHaveLength(2);
  });
});

describe("ConditionWatch: faults", () => {
  it("alerts once per fault episode, ended when the error goes away", () => {
    report({ error: "jam" });
    report({ error: "jam" });
    report({ foodLevel: 0.8 });
    expect(of("fault")).toMatchObject([
      {
        feederId,
        message:
          "Kitchen reports a fault: its dispenser is jammed. Meals cannot come out until it is cleared.",
      },
    ]);
    report({ error: undefined });
    clock.advance(mins(1));
    report({ error: "jam" });
    expect(of("fault")).toHaveLength(2);
    expect(of("fault")[0]?.key).not.toBe(of("fault")[1]?.key);
  });

  it("words canonical faults and quotes a native feeder's own text", () => {
    report({ error: "blocked" });
    report({ error: undefined });
    report({ error: "unknown" });
    report({ error: undefined });
    report({ error: "desiccant" });
    report({ error: undefined });
    // A full native telemetry message replaces the whole picture: no error in it means none.
    feeders.telemetryReceived(feederId, { foodLevel: 0.9, error: "motor_stall\n" });
    feeders.telemetryReceived(feederId, { foodLevel: 0.9 });
    expect(of("fault").map((a) => a.message)).toEqual([
      "Kitchen reports a fault: its food outlet is blocked. Meals cannot come out until it is cleared.",
      "Kitchen reports a fault it does not name; check the feeder. Meals may not come out until it is fixed.",
      "Kitchen reports a fault: its desiccant needs replacing.",
      'Kitchen reports a fault: "motor_stall\\n". Meals may not come out until it is fixed.',
    ]);
  });

  it("takes a change from one fault to another, or to a warning, as a new episode", () => {
    report({ error: "jam" });
    clock.advance(1000);
    report({ error: "blocked" });
    expect(of("fault")).toHaveLength(1);
    report({ error: "battery_low" });
    clock.advance(1000);
    report({ error: "jam" });
    expect(of("fault")).toHaveLength(2);
    expect(of("battery_low")).toHaveLength(1);
  });
});

describe("ConditionWatch: battery", () => {
  it("alerts below the threshold while not charging, with hysteresis", () => {
    report({ battery: 0.5, charging: false });
    report({ battery: 0.1, charging: true });
    expect(of("battery_low")).toEqual([]);
    report({ charging: false });
    expect(of("battery_low")).toMatchObject([
      {
        feederId,
        message:
          "Kitchen's battery is down to 10 % and it is not charging (the alert is set below 15 %); charge it or connect it to power.",
      },
    ]);
    // Plugged in, it is still the same episode until the battery has recovered.
    report({ battery: 0.14, charging: true });
    report({ battery: 0.2, charging: false });
    report({ battery: 0.12 });
    expect(of("battery_low")).toHaveLength(1);
    report({ battery: 0.25 });
    clock.advance(1000);
    report({ battery: 0.14 });
    expect(of("battery_low")).toHaveLength(2);
  });

  it("leaves feeders that report no battery alone, and takes the device's own flag", () => {
    report({ foodLevel: 0.8, rssi: -60 });
    expect(notified).toEqual([]);
    report({ error: "battery_low" });
    expect(of("battery_low")).toMatchObject([
      { message: "Kitchen reports its battery is low; charge it or connect it to power." },
    ]);
    expect(of("fault")).toEqual([]);
  });

  it("uses the configured threshold", () => {
    watch.stop();
    boot({ ...DEFAULTS, batteryLowPercent: 30 });
    report({ battery: 0.29 });
    expect(of("battery_low")[0]?.message).toContain("29 %");
    expect(of("battery_low")[0]?.message).toContain("below 30 %");
  });
});

describe("ConditionWatch: offline", () => {
  it("alerts once when a feeder stays offline longer than the set time", () => {
    connect();
    clock.advance(mins(10));
    feeders.disconnected(feederId);
    clock.advance(mins(30) - 1);
    expect(of("feeder_offline")).toEqual([]);
    clock.advance(1);
    expect(of("feeder_offline")).toMatchObject([
      {
        feederId,
        message:
          "Kitchen has been offline for more than 30 minutes (last heard from at 2026-11-26T07:10:00.000Z). Remote feeds and meals the server sends cannot reach it until it is back; check its power and network.",
      },
    ]);
    // A status message on the way is no news.
    feeders.statusReported(feederId, "offline");
    clock.advance(mins(600));
    expect(of("feeder_offline")).toHaveLength(1);
    // Back, then gone again: a new outage.
    connect();
    feeders.disconnected(feederId);
    clock.advance(mins(30));
    expect(of("feeder_offline")).toHaveLength(2);
  });

  it("says nothing about a feeder back in time, one never connected, or when turned off", () => {
    connect();
    feeders.disconnected(feederId);
    clock.advance(mins(29));
    connect();
    clock.advance(mins(60));
    const fresh = feeders.create({ householdId: FIRST_HOUSEHOLD, name: "New", profile: "feedkeeper" }).feeder;
    feeders.statusReported(fresh.id, "offline");
    clock.advance(mins(60));
    expect(of("feeder_offline")).toEqual([]);

    watch.stop();
    boot({ ...DEFAULTS, offlineMinutes: 0 });
    connect();
    feeders.disconnected(feederId);
    clock.advance(mins(24 * 60));
    expect(of("feeder_offline")).toEqual([]);
  });

  it("uses the configured time", () => {
    watch.stop();
    boot({ ...DEFAULTS, offlineMinutes: 5 });
    connect();
    feeders.disconnected(feederId);
    clock.advance(mins(5));
    expect(of("feeder_offline")[0]?.message).toContain("more than 5 minutes");
  });

  it("forgets a deleted feeder: no alert, no state left", () => {
    connect();
    report({ error: "jam" });
    feeders.disconnected(feederId);
    const rows = () =>
      store.db.select().from(serverState).where(like(serverState.key, "condition-watch:%")).all();
    expect(rows()).toHaveLength(1);
    feeders.remove(feederId);
    clock.advance(mins(60));
    expect(of("feeder_offline")).toEqual([]);
    expect(rows()).toEqual([]);
  });

  it("stops its timers on stop", () => {
    connect();
    feeders.disconnected(feederId);
    watch.stop();
    clock.advance(mins(60));
    expect(notified).toEqual([]);
  });
});

describe("ConditionWatch: across a restart", () => {
  it("keeps episodes: no second alert for what was already alerted, hysteresis included", () => {
    connect();
    report({ foodLevel: 0.1, battery: 0.1, error: "jam" });
    expect(notified.map((a) => a.kind).sort()).toEqual(["battery_low", "fault", "food_low"]);
    restart();
    connect();
    report({ foodLevel: 0.25 });
    expect(notified).toHaveLength(3);
    report({ foodLevel: 0.35 });
    report({ foodLevel: 0.1 });
    expect(of("food_low")).toHaveLength(2);
    report({ error: undefined });
    report({ error: "jam" });
    expect(of("fault")).toHaveLength(2);
  });

  it("alerts what it finds in the stored readings when nothing was alerted yet", () => {
    // Readings stored by a server without this watch (or before an upgrade).
    watch.stop();
    report({ foodLevel: 0.05 });
    expect(notified).toEqual([]);
    restart();
    expect(of("food_low")).toHaveLength(1);
  });

  it("gives every feeder that was connected the full offline time after a start, and alerts one that stays away", () => {
    const other = feeders.create({ householdId: FIRST_HOUSEHOLD, name: "Hall", profile: "feedkeeper" }).feeder
      .id;
    connect();
    connect(other);
    clock.advance(mins(20));
    // The server stops and is down for two hours; the devices come back at their own pace.
    restart(mins(120));
    expect(notified).toEqual([]);
    clock.advance(mins(1));
    connect(other);
    clock.advance(mins(29));
    expect(of("feeder_offline")).toMatchObject([{ feederId }]);
    expect(of("feeder_offline")[0]?.message).toContain("last heard from at 2026-11-26T07:00:00.000Z");
  });

  it("does not alert again for a feeder whose outage was alerted before the restart", () => {
    connect();
    feeders.disconnected(feederId);
    clock.advance(mins(30));
    expect(of("feeder_offline")).toHaveLength(1);
    for (let i = 0; i < 3; i++) {
      restart();
      clock.advance(mins(60));
    }
    expect(of("feeder_offline")).toHaveLength(1);
    connect();
    feeders.disconnected(feederId);
    clock.advance(mins(30));
    expect(of("feeder_offline")).toHaveLength(2);
  });

  it("starts afresh from state it cannot read, and drops state of feeders gone", () => {
    store.db
      .insert(serverState)
      .values([
        { key: `condition-watch:${feederId}`, value: "{not json" },
        { key: "condition-watch:gone", value: "{}" },
      ])
      .run();
    restart();
    expect(
      store.db.select().from(serverState).where(like(serverState.key, "condition-watch:%")).all(),
    ).toEqual([]);
    report({ error: "jam" });
    expect(of("fault")).toHaveLength(1);
  });
});
