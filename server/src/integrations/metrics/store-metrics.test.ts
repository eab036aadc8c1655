import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { alerts, feeders, feeds } from "../../store/schema.js";
import { tempStore } from "../../testing/temp-store.js";
import { registerAlertMetrics } from "./alert-metrics.js";
import { registerDbMetrics } from "./db-metrics.js";
import { registerFeedMetrics } from "./feed-metrics.js";

let store: ReturnType<typeof tempStore>;
let registry: Registry;

beforeEach(() => {
  store = tempStore();
  registry = new Registry();
  store.db
    .insert(feeders)
    .values({ id: "f1", name: "Kitchen", profile: "feedkeeper", secretHash: "x" })
    .run();
});
afterEach(() => store.dispose());

/** One metric's values by their labels, as a scrape reports them. */
async function values(name: string): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric(name)?.get();
  if (!metric) throw new Error(`${name} is not registered`);
  return Object.fromEntries(metric.values.map((v) => [JSON.stringify(v.labels), v.value]));
}

let n = 0;
function feed(status: (typeof feeds.$inferInsert)["status"]) {
  n++;
  store.db
    .insert(feeds)
    .values({
      id: `feed-${n}`,
      feederId: "f1",
      commandId: `c-${n}`,
      source: "remote",
      portions: 1,
      status,
      requestedAt: new Date(),
    })
    .run();
}

describe("feed metrics", () => {
  it("counts the ledger's feeds by status when scraped, every status present", async () => {
    registerFeedMetrics(registry, store.db);
    expect(await values("feedkeeper_feeds")).toMatchObject({ '{"status":"dispensed"}': 0 });
    feed("dispensed");
    feed("dispensed");
    feed("failed");
    feed("pending");
    const counts = await values("feedkeeper_feeds");
    expect(counts).toEqual({
      '{"status":"pending"}': 1,
      '{"status":"sent"}': 0,
      '{"status":"accepted"}': 0,
      '{"status":"dispensed"}': 2,
      '{"status":"failed"}': 1,
      '{"status":"expired"}': 0,
      '{"status":"timed_out"}': 0,
    });
  });
});

describe("alert metrics", () => {
  it("counts missed meals, acknowledged or not, and open alerts by kind", async () => {
    registerAlertMetrics(registry, store.db);
    const alert = (key: string, kind: (typeof alerts.$inferInsert)["kind"], acknowledged: boolean) =>
      store.db
        .insert(alerts)
        .values({
          id: key,
          key,
          kind,
          feederId: "f1",
          message: "m",
          createdAt: new Date(),
          acknowledgedAt: acknowledged ? new Date() : null,
        })
        .run();
    expect(await values("feedkeeper_meals_missed")).toEqual({ "{}": 0 });
    alert("a", "meal_missed", true);
    alert("b", "meal_missed", false);
    alert("c", "food_low", false);
    alert("d", "food_low", true);
    expect(await values("feedkeeper_meals_missed")).toEqual({ "{}": 2 });
    const open = await values("feedkeeper_alerts_open");
    expect(open['{"kind":"meal_missed"}']).toBe(1);
    expect(open['{"kind":"food_low"}']).toBe(1);
    expect(open['{"kind":"battery_low"}']).toBe(0);
  });
});

describe("database metrics", () => {
  it("reports the database and its write-ahead log in bytes", async () => {
    registerDbMetrics(registry, store.file);
    const sizes = await values("feedkeeper_database_bytes");
    expect(sizes['{"file":"database"}']).toBeGreaterThan(0);
    // The store is in WAL mode and was just written: the log is there and not empty.
    expect(sizes['{"file":"wal"}']).toBeGreaterThan(0);
  });

  it("reports 0 for files that are not there rather than failing the scrape", async () => {
    registerDbMetrics(registry, "/nonexistent/feedkeeper.db");
    expect(await values("feedkeeper_database_bytes")).toEqual({
      '{"file":"database"}': 0,
      '{"file":"wal"}': 0,
    });
  });
});
