/** Per-feeder safety limits: the daily portion cap and the minimum interval between remote feeds. */
import { eq } from "drizzle-orm";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AppError } from "../errors.js";
import { FIRST_HOUSEHOLD, feeders as feederRows } from "../store/schema.js";
import { FakeClock } from "../testing/fake-clock.js";
import { shippedProfiles } from "../testing/profiles.js";
import { silentLogger, tempStore } from "../testing/temp-store.js";
import { FeederService } from "./feeders.js";
import { type FeedRequest, FeedService } from "./feeds.js";
import { MealPlanService } from "./meal-plans.js";
import { localDateAt, localDayContaining, WEEKDAYS } from "./meal-time.js";

const SETTINGS = { defaultExpirySeconds: 60, maxExpirySeconds: 900, resultTimeoutSeconds: 120 };
const SERVER_ZONE = "Europe/Berlin";

let store: ReturnType<typeof tempStore>;
let clock: FakeClock;
let feeders: FeederService;
let feeds: FeedService;
let logs: Array<Record<string, unknown>>;
let feederId: string;

const flush = () => new Promise((r) => setImmediate(r));
const secs = (n: number) => n * 1000;

beforeEach(() => {
  store = tempStore();
  // Thursday 2026-11-26, 08:00 in Berlin.
  clock = new FakeClock(Date.parse("2026-11-26T07:00:00Z"));
  logs = [];
  const logger = pino({ level: "warn" }, { write: (line: string) => logs.push(JSON.parse(line)) });
  feeders = new FeederService(store, clock, silentLogger, shippedProfiles());
  feeds = new FeedService(store, feeders, clock, SETTINGS, logger, SERVER_ZONE);
  feeds.start({ sendFeed: async () => undefined });
  feederId = feeders.create({ householdId: FIRST_HOUSEHOLD, name: "Kitchen", profile: "feedkeeper" }).feeder
    .id;
});
afterEach(() => {
  feeds.stop();
  store.dispose();
});

const feed = (portions: number, extra: Partial<FeedRequest> = {}) =>
  feeds.request({ feederId, portions, requestedBy: "user-1", ...extra });

/** The error a refused request throws, or undefined if it was accepted. */
function refusal(portions: number, extra: Partial<FeedRequest> = {}): AppError | undefined {
  try {
    feed(portions, extra);
    return undefined;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
}

const deviceFeed = (
  id: string,
  status: "dispensed" | "failed",
  source: "button" | "remote",
  portions: number,
) => feeds.deviceReported(feederId, { id, status, portions, source, at: new Date(clock.now()) });

describe("daily portion limit", () => {
  beforeEach(() => {
    feeders.update(feederId, { dailyMaxPortions: 10, minFeedIntervalSeconds: 0 });
  });

  it("counts remote, scheduled and button feeds, and names both numbers when it refuses", () => {
    deviceFeed("btn-1", "dispensed", "button", 4);
    feeds.recordScheduled({
      feederId,
      occurrenceId: `${feederId}/2026-11-26/breakfast`,
      portions: 3,
      expiresAt: new Date(clock.now() + secs(60)),
    });
    feed(2);
    const refused = refusal(2);
    expect(refused).toMatchObject({ code: "safety_limit", status: 409 });
    expect(refused?.message).toBe(
      "This feed would bring today's total to 11 portions; the daily limit for this feeder is 10. Send override: true to feed anyway.",
    );
    expect(refusal(1)).toBeUndefined();
    expect(feeds.listForFeeder(feederId, { limit: 10 })).toHaveLength(4);
  });

  it("does not count failed or expired feeds, but counts one that timed out", async () => {
    feeders.update(feederId, { dailyMaxPortions: 6 });
    const expiring = feed(3, { expiresInSeconds: 5 }).feed;
    clock.advance(secs(5));
    expect(feeds.require(expiring.id).status).toBe("expired");
    deviceFeed("btn-jam", "failed", "button", 4);

    feeders.statusReported(feederId, "online");
    const unknown = feed(2).feed;
    await flush();
    feeds.deviceReported(feederId, {
      id: unknown.commandId,
      status: "accepted",
      portions: 2,
      source: "remote",
      at: new Date(clock.now()),
    });
    clock.advance(secs(SETTINGS.resultTimeoutSeconds));
    expect(feeds.require(unknown.id).status).toBe("timed_out");

    expect(refusal(5)?.message).toMatch(
      /today's total to 7 portions; the daily limit for this feeder is 6\./,
    );
    expect(refusal(4)).toBeUndefined();
  });

  it("counts the feeder's local day: its own zone, else the server's", () => {
    // To 23:30 in Berlin, 18:30 in New York, both on Thursday 26.
    clock.advance(secs(15.5 * 3600));
    deviceFeed("btn-evening", "dispensed", "button", 8);
    clock.advance(secs(20 * 60));
    expect(refusal(3)?.code).toBe("safety_limit");
    // 00:05 on Friday in Berlin, though still Thursday in UTC: a new day.
    clock.advance(secs(15 * 60));
    expect(refusal(3)).toBeUndefined();
    // In New York it is still Thursday evening, with 11 portions already that day.
    store.db
      .update(feederRows)
      .set({ timezone: "America/New_York" })
      .where(eq(feederRows.id, feederId))
      .run();
    expect(refusal(1)?.message).toMatch(/today's total to 12 portions/);
  });
});

describe("minimum interval between remote feeds", () => {
  it("refuses a remote feed too soon after the last one, saying how long ago it was", () => {
    feed(1);
    clock.advance(secs(12));
    const refused = refusal(1);
    expect(refused).toMatchObject({ code: "safety_limit", status: 409 });
    expect(refused?.message).toBe(
      "The last remote feed was 12 s ago; this feeder allows one every 60 s. Send override: true to feed anyway.",
    );
    clock.advance(secs(48));
    expect(refusal(1)).toBeUndefined();
  });

  it("lets the owner retry at once after a failed or expired feed", async () => {
    feeders.statusReported(feederId, "online");
    const jammed = feed(1).feed;
    await flush();
    deviceFeed(jammed.commandId, "failed", "remote", 1);
    expect(feeds.require(jammed.id).status).toBe("failed");
    feeders.statusReported(feederId, "offline");
    const unsent = feed(1, { expiresInSeconds: 5 }).feed;
    clock.advance(secs(5));
    expect(feeds.require(unsent.id).status).toBe("expired");
    expect(refusal(1)).toBeUndefined();
  });

  it("ignores button and scheduled feeds, and is off at 0", () => {
    deviceFeed("btn-1", "dispensed", "button", 1);
    feeds.recordScheduled({
      feederId,
      occurrenceId: `${feederId}/2026-11-26/breakfast`,
      portions: 1,
      expiresAt: new Date(clock.now() + secs(60)),
    });
    expect(refusal(1)).toBeUndefined();
    feeders.update(feederId, { minFeedIntervalSeconds: 0 });
    expect(refusal(1)).toBeUndefined();
  });
});

describe("override and replays", () => {
  it("feeds beyond both limits when overridden, and logs who did it at warn", () => {
    feeders.update(feederId, { dailyMaxPortions: 3 });
    feed(2);
    expect(refusal(2)?.code).toBe("safety_limit");
    expect(logs).toEqual([]);
    const { feed: overridden } = feed(2, { override: true });
    expect(overridden.status).toBe("pending");
    expect(logs).toEqual([
      expect.objectContaining({
        level: 40,
        msg: "safety limit overridden",
        feedId: overridden.id,
        requestedBy: "user-1",
        limit: expect.stringMatching(/today's total to 4 portions/),
      }),
    ]);
  });

  it("returns the earlier feed for a replayed Idempotency-Key even at the limit", () => {
    feeders.update(feederId, { dailyMaxPortions: 2 });
    const first = feed(2, { idempotencyKey: "breakfast" });
    expect(feed(2, { idempotencyKey: "breakfast" })).toEqual({ feed: first.feed, replayed: true });
    expect(refusal(1, { idempotencyKey: "snack" })?.code).toBe("safety_limit");
    expect(feeds.listForFeeder(feederId, { limit: 10 })).toHaveLength(1);
  });
});

describe("meal plans", () => {
  it("refuses a plan whose enabled meals on one weekday exceed the daily limit, naming the day", () => {
    const plans = new MealPlanService(store, feeders, clock, SERVER_ZONE);
    feeders.update(feederId, { dailyMaxPortions: 10 });
    const meals = [
      { id: "breakfast", time: "07:30", days: WEEKDAYS, portions: 5 },
      { id: "dinner", time: "18:00", days: WEEKDAYS, portions: 5 },
      { id: "treat", time: "12:00", days: ["tue" as const], portions: 1 },
    ];
    let refused: unknown;
    try {
      plans.replace(feederId, { meals });
    } catch (err) {
      refused = err;
    }
    expect(refused).toMatchObject({
      code: "safety_limit",
      status: 409,
      message: "The meals on Tuesday add up to 11 portions; the daily limit for this feeder is 10.",
    });
    expect(plans.get(feederId).meals).toEqual([]);
    // A disabled meal is not fed, so it does not count.
    const saved = plans.replace(feederId, { meals: meals.map((m) => ({ ...m, enabled: m.id !== "treat" })) });
    expect(saved.meals).toHaveLength(3);
  });

  it("refuses a one-off meal that would take its day past the daily limit", () => {
    const plans = new MealPlanService(store, feeders, clock, SERVER_ZONE);
    feeders.update(feederId, { dailyMaxPortions: 10 });
    plans.replace(feederId, { meals: [{ id: "breakfast", time: "07:30", days: WEEKDAYS, portions: 8 }] });
    const tomorrow = localDateAt(new Date(clock.now() + 24 * 3_600_000), SERVER_ZONE);
    expect(plans.addOneOff(feederId, { date: tomorrow, time: "12:00", portions: 2 }).portions).toBe(2);
    expect(() => plans.addOneOff(feederId, { date: tomorrow, time: "15:00", portions: 1 })).toThrow(
      `With this one-off meal, ${tomorrow} would have 11 portions planned; the daily limit for this feeder is 10.`,
    );
    expect(plans.get(feederId).oneOffs).toHaveLength(1);
  });
});

describe("localDayContaining", () => {
  const day = (at: string, zone: string) => {
    const { start, end } = localDayContaining(new Date(at), zone);
    return [start.toISOString(), end.toISOString()];
  };

  it("gives the local day's bounds, which are not UTC midnight", () => {
    expect(day("2026-11-26T22:30:00Z", "Europe/Berlin")).toEqual([
      "2026-11-25T23:00:00.000Z",
      "2026-11-26T23:00:00.000Z",
    ]);
    expect(day("2026-11-26T20:00:00Z", "Asia/Tokyo")).toEqual([
      "2026-11-26T15:00:00.000Z",
      "2026-11-27T15:00:00.000Z",
    ]);
    expect(day("2026-11-26T07:00:00Z", "UTC")).toEqual([
      "2026-11-26T00:00:00.000Z",
      "2026-11-27T00:00:00.000Z",
    ]);
  });

  it("is 23 hours long when clocks spring forward and 25 when they fall back", () => {
    expect(day("2026-03-29T12:00:00Z", "Europe/Berlin")).toEqual([
      "2026-03-28T23:00:00.000Z",
      "2026-03-29T22:00:00.000Z",
    ]);
    expect(day("2026-10-25T12:00:00Z", "Europe/Berlin")).toEqual([
      "2026-10-24T22:00:00.000Z",
      "2026-10-25T23:00:00.000Z",
    ]);
  });

  it("starts at 01:00 where the clock change skips midnight", () => {
    // Santiago 2026-09-06: 00:00 -04 → 01:00 -03.
    expect(day("2026-09-06T12:00:00Z", "America/Santiago")).toEqual([
      "2026-09-06T04:00:00.000Z",
      "2026-09-07T03:00:00.000Z",
    ]);
  });
});
