import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FIRST_HOUSEHOLD, occurrences } from "../store/schema.js";
import { FakeClock } from "../testing/fake-clock.js";
import { shippedProfiles } from "../testing/profiles.js";
import { silentLogger, tempStore } from "../testing/temp-store.js";
import { FeederService } from "./feeders.js";
import { FeedService } from "./feeds.js";
import { MealPlanService } from "./meal-plans.js";
import { MealScheduler } from "./meal-scheduler.js";
import { WEEKDAYS } from "./meal-time.js";

const SETTINGS = { defaultExpirySeconds: 60, maxExpirySeconds: 900, resultTimeoutSeconds: 120 };
const TZ = "Europe/Berlin";

let store: ReturnType<typeof tempStore>;
let clock: FakeClock;
let feederId: string;

/** One server lifetime: services over the same database, as after a restart. */
function boot() {
  const feeders = new FeederService(store, clock, silentLogger, shippedProfiles());
  const feeds = new FeedService(store, feeders, clock, SETTINGS, silentLogger, TZ);
  const plans = new MealPlanService(store, feeders, clock, TZ);
  const scheduler = new MealScheduler(store, plans, feeds, clock, silentLogger);
  feeds.start({ sendFeed: async () => undefined });
  return { feeders, feeds, plans, scheduler };
}

const mins = (n: number) => n * 60_000;

beforeEach(() => {
  store = tempStore();
  // 07:00 in Berlin (UTC+1 in November).
  clock = new FakeClock(Date.parse("2026-11-26T06:00:00Z"));
  const { feeders, plans } = boot();
  feederId = feeders.create({ householdId: FIRST_HOUSEHOLD, name: "Kitchen", profile: "feedkeeper" }).feeder
    .id;
  plans.replace(feederId, {
    timezone: TZ,
    meals: [{ id: "breakfast", time: "07:30", days: WEEKDAYS, portions: 2 }],
  });
});
afterEach(() => store.dispose());

const scheduledFeeds = (feeds: FeedService) =>
  feeds.listForFeeder(feederId, { limit: 50 }).filter((f) => f.source === "schedule");
const occurrenceRows = () => store.db.select().from(occurrences).all();

describe("MealScheduler", () => {
  it("dispatches a meal once when it falls due, keyed by its occurrence id", () => {
    const { feeds, scheduler } = boot();
    scheduler.start();
    clock.advance(mins(29));
    expect(scheduledFeeds(feeds)).toHaveLength(0);
    clock.advance(mins(2));
    const [feed, ...more] = scheduledFeeds(feeds);
    expect(more).toHaveLength(0);
    expect(feed).toMatchObject({
      commandId: `${feederId}/2026-11-26/breakfast`,
      portions: 2,
      status: "pending",
    });
    // Expires when the grace window closes, not after a minute.
    expect(feed?.expiresAt?.toISOString()).toBe("2026-11-26T06:45:00.000Z");
    clock.advance(mins(60 * 24));
    expect(scheduledFeeds(feeds).map((f) => f.commandId)).toEqual([
      `${feederId}/2026-11-27/breakfast`,
      `${feederId}/2026-11-26/breakfast`,
    ]);
    scheduler.stop();
  });

  it("feeds a meal that fell due during downtime once, if the restart is within the grace window", () => {
    const first = boot();
    first.scheduler.start();
    first.scheduler.stop();
    first.feeds.stop();
    clock.advance(mins(40)); // down from 07:00 to 07:40; breakfast was 07:30, grace 15 min
    const second = boot();
    second.scheduler.start();
    expect(scheduledFeeds(second.feeds)).toHaveLength(1);
    expect(occurrenceRows()).toMatchObject([{ status: "dispatched" }]);
    second.scheduler.stop();
    // A third start finds the occurrence decided and does nothing more.
    const third = boot();
    third.scheduler.start();
    expect(scheduledFeeds(third.feeds)).toHaveLength(1);
    third.scheduler.stop();
  });

  it("records a meal as missed when the restart comes after the grace window", () => {
    const first = boot();
    first.scheduler.start();
    first.scheduler.stop();
    clock.advance(mins(50)); // 07:50: twenty minutes late, grace is 15
    const second = boot();
    second.scheduler.start();
    expect(scheduledFeeds(second.feeds)).toHaveLength(0);
    expect(occurrenceRows()).toMatchObject([
      { id: `${feederId}/2026-11-26/breakfast`, status: "missed", feedId: null },
    ]);
    second.scheduler.stop();
  });

  it("does not feed a meal added for a time that has already passed today", () => {
    const { plans, feeds, scheduler } = boot();
    scheduler.start();
    clock.advance(mins(45)); // 07:45, breakfast dispatched
    plans.replace(feederId, {
      meals: [
        { id: "breakfast", time: "07:30", days: WEEKDAYS, portions: 2 },
        { id: "early", time: "07:00", days: WEEKDAYS, portions: 1 },
        { id: "lunch", time: "12:00", days: WEEKDAYS, portions: 1 },
      ],
    });
    clock.advance(mins(60 * 5)); // 12:45
    expect(
      scheduledFeeds(feeds)
        .map((f) => f.commandId.split("/")[2])
        .sort(),
    ).toEqual(["breakfast", "lunch"]);
    scheduler.stop();
  });

  it("keeps feeding other feeders after one with a plan is deleted", () => {
    const { feeders, plans, feeds, scheduler } = boot();
    const other = feeders.create({ householdId: FIRST_HOUSEHOLD, name: "Hall", profile: "feedkeeper" }).feeder
      .id;
    plans.replace(other, {
      timezone: TZ,
      meals: [{ id: "breakfast", time: "07:30", days: WEEKDAYS, portions: 1 }],
    });
    scheduler.start();
    feeders.remove(feederId);
    clock.advance(mins(31));
    expect(feeds.listForFeeder(other, { limit: 5 }).map((f) => f.commandId)).toEqual([
      `${other}/2026-11-26/breakfast`,
    ]);
    scheduler.stop();
  });

  it("follows the feeder's time zone when it changes", () => {
    const { plans, feeds, scheduler } = boot();
    scheduler.start();
    // Now 07:00 in Berlin = 01:00 in New York; breakfast moves to 07:30 New York time (12:30Z).
    plans.replace(feederId, {
      timezone: "America/New_York",
      meals: [{ id: "breakfast", time: "07:30", days: WEEKDAYS, portions: 2 }],
    });
    clock.advance(mins(60 * 6 + 29));
    expect(scheduledFeeds(feeds)).toHaveLength(0);
    clock.advance(mins(2));
    expect(scheduledFeeds(feeds)).toHaveLength(1);
    scheduler.stop();
  });
});
