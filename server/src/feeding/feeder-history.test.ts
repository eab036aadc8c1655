import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PROTOCOL_VERSION } from "../protocol/native-v1.js";
import { FIRST_HOUSEHOLD, feeders as feedersTable, telemetry } from "../store/schema.js";
import { FakeClock } from "../testing/fake-clock.js";
import { shippedProfiles } from "../testing/profiles.js";
import { silentLogger, tempStore } from "../testing/temp-store.js";
import { FeederHistoryService, MAX_FOOD_LEVEL_POINTS } from "./feeder-history.js";
import { FeederService } from "./feeders.js";
import { FeedService } from "./feeds.js";
import { PetService } from "./pets.js";

const SETTINGS = { defaultExpirySeconds: 60, maxExpirySeconds: 900, resultTimeoutSeconds: 120 };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let store: ReturnType<typeof tempStore>;
let clock: FakeClock;
let feeders: FeederService;
let feeds: FeedService;
let history: FeederHistoryService;

beforeEach(() => {
  store = tempStore();
  // Thursday 2026-11-26, 12:00 UTC.
  clock = new FakeClock(Date.parse("2026-11-26T12:00:00Z"));
  feeders = new FeederService(store, clock, silentLogger, shippedProfiles());
  feeds = new FeedService(store, feeders, clock, SETTINGS, silentLogger, "UTC");
  feeds.start({ sendFeed: async () => undefined });
  history = new FeederHistoryService(store, clock, feeders, "UTC");
});
afterEach(() => {
  feeds.stop();
  store.dispose();
});

function feeder(options: { portionGrams?: number; petId?: string } = {}): string {
  const id = feeders.create({
    householdId: FIRST_HOUSEHOLD,
    name: "Bowl",
    profile: "feedkeeper",
    petId: options.petId ?? null,
  }).feeder.id;
  if (options.portionGrams !== undefined) {
    feeders.helloReceived(id, {
      protocolVersion: PROTOCOL_VERSION,
      model: "sim",
      firmware: "1",
      capabilities: [],
      portionGrams: options.portionGrams,
    });
  }
  return id;
}

let reportCount = 0;
/** A meal the device started itself and reports finished at `at`. */
function deviceFeed(
  feederId: string,
  at: string,
  portions: number,
  extra: { grams?: number; status?: "dispensed" | "failed" } = {},
): void {
  feeds.deviceReported(feederId, {
    id: `button-${++reportCount}`,
    status: extra.status ?? "dispensed",
    portions,
    source: "button",
    at: new Date(at),
    grams: extra.grams,
    ...(extra.status === "failed" && { error: "jam" }),
  });
}

function setTimeZone(feederId: string, timezone: string): void {
  store.db.update(feedersTable).set({ timezone }).where(eq(feedersTable.id, feederId)).run();
}

/** Readings written straight to the table, as the writer's batches would have. */
function readings(feederId: string, rows: Array<{ at: number; foodLevel: number | null }>): void {
  store.transaction(() => {
    for (const row of rows)
      store.db
        .insert(telemetry)
        .values({ feederId, at: new Date(row.at), foodLevel: row.foodLevel })
        .run();
  });
}

describe("feeder history: days", () => {
  it("adds up each day's dispensed feeds, counts failed ones apart and leaves out unknown outcomes", () => {
    const bowl = feeder({ portionGrams: 10 });
    const other = feeder({ portionGrams: 10 });
    deviceFeed(bowl, "2026-11-26T07:00:00Z", 2, { grams: 23 }); // measured beats the estimate
    deviceFeed(bowl, "2026-11-26T08:00:00Z", 3); // estimated: 3 × 10 g
    deviceFeed(bowl, "2026-11-26T09:00:00Z", 4, { status: "failed" });
    deviceFeed(bowl, "2026-11-25T09:00:00Z", 1);
    deviceFeed(other, "2026-11-26T07:00:00Z", 5);
    const { feed } = feeds.request({ feederId: bowl, portions: 2 });
    feeds.deviceReported(bowl, {
      id: feed.commandId,
      status: "accepted",
      portions: 2,
      source: "remote",
      at: new Date(clock.now()),
    });
    clock.advance(SETTINGS.resultTimeoutSeconds * 1000);
    expect(feeds.require(feed.id).status).toBe("timed_out");

    const result = history.history(bowl, 3);
    expect(result.timeZone).toBe("UTC");
    expect(result.days).toEqual([
      { date: "2026-11-24", grams: 0, portions: 0, feeds: 0, failed: 0 },
      { date: "2026-11-25", grams: 10, portions: 1, feeds: 1, failed: 0 },
      { date: "2026-11-26", grams: 53, portions: 5, feeds: 2, failed: 1 },
    ]);
  });

  it("says grams are unknown on a day with portions of unknown weight, instead of a low number", () => {
    const bowl = feeder(); // never said hello: no portion size
    deviceFeed(bowl, "2026-11-25T07:00:00Z", 1, { grams: 9 });
    deviceFeed(bowl, "2026-11-26T07:00:00Z", 2);
    deviceFeed(bowl, "2026-11-26T08:00:00Z", 1, { grams: 9 });
    expect(history.history(bowl, 2).days).toEqual([
      { date: "2026-11-25", grams: 9, portions: 1, feeds: 1, failed: 0 },
      { date: "2026-11-26", grams: null, portions: 3, feeds: 2, failed: 0 },
    ]);
  });

  it("reads days in the feeder's own time zone and agrees with its pet's intake", () => {
    const pets = new PetService(store, clock, "UTC");
    const pet = pets.create(FIRST_HOUSEHOLD, { name: "Rex", dailyGramsTarget: 100 });
    const bowl = feeder({ portionGrams: 10, petId: pet.id });
    setTimeZone(bowl, "Asia/Tokyo");
    deviceFeed(bowl, "2026-11-25T14:30:00Z", 1); // 23:30 on the 25th in Tokyo
    deviceFeed(bowl, "2026-11-25T15:30:00Z", 2); // 00:30 on the 26th in Tokyo, still the 25th in UTC
    const result = history.history(bowl, 2);
    expect(result.timeZone).toBe("Asia/Tokyo");
    expect(result.days.map((d) => [d.date, d.grams])).toEqual([
      ["2026-11-25", 10],
      ["2026-11-26", 20],
    ]);
    expect(pets.intake(pet.id, 2).days.map((d) => [d.date, d.grams])).toEqual([
      ["2026-11-25", 10],
      ["2026-11-26", 20],
    ]);
  });

  it("answers the number of days asked for, oldest first and ending today", () => {
    const bowl = feeder({ portionGrams: 10 });
    const { days } = history.history(bowl, 90);
    expect(days).toHaveLength(90);
    expect(days[0]?.date).toBe("2026-08-29");
    expect(days.at(-1)?.date).toBe("2026-11-26");
    expect(() => history.history("nosuchfeeder")).toThrow(
      expect.objectContaining({ code: "feeder_not_found" }),
    );
  });
});

describe("feeder history: food level", () => {
  it("keeps at most one reading per slice of the period, the last one, oldest first", () => {
    const bowl = feeder();
    const from = Date.parse("2026-11-13T00:00:00Z"); // the first of 14 days
    // A reading every 5 minutes for the 14 days so far, slowly emptying, and some from before the period.
    const rows: Array<{ at: number; foodLevel: number | null }> = [];
    for (let at = from - DAY; at <= clock.now(); at += 5 * 60_000)
      rows.push({ at, foodLevel: Math.round((1 - (at - from) / (20 * DAY)) * 1000) / 1000 });
    rows.push({ at: clock.now() - 1000, foodLevel: null }); // a reading without the food level
    readings(bowl, rows);

    const points = history.history(bowl, 14).foodLevel;
    expect(points.length).toBeGreaterThan(MAX_FOOD_LEVEL_POINTS - 5);
    expect(points.length).toBeLessThanOrEqual(MAX_FOOD_LEVEL_POINTS);
    const times = points.map((p) => p.at.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBeGreaterThanOrEqual(from);
    // Every point is a real reading, and the newest reading is the last point.
    const byTime = new Map(rows.map((r) => [r.at, r.foodLevel]));
    for (const p of points) expect(byTime.get(p.at.getTime())).toBe(p.foodLevel);
    expect(times.at(-1)).toBe(Date.parse("2026-11-26T12:00:00Z"));
  });

  it("includes a reading still waiting in the writer's batch, and none of another feeder's", () => {
    const bowl = feeder();
    const other = feeder();
    feeders.telemetryReceived(other, { foodLevel: 0.9 });
    clock.advance(1000);
    feeders.telemetryReceived(bowl, { foodLevel: 0.42, battery: 0.8 });
    feeders.telemetryReceived(bowl, { battery: 0.7 }); // no food level in this one
    expect(history.history(bowl, 1).foodLevel).toEqual([
      { at: new Date(Date.parse("2026-11-26T12:00:01Z")), foodLevel: 0.42 },
    ]);
  });

  it("is empty for a feeder that never reported its food level", () => {
    expect(history.history(feeder(), 7).foodLevel).toEqual([]);
  });
});
