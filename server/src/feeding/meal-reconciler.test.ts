import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FIRST_HOUSEHOLD, occurrences } from "../store/schema.js";
import { FakeClock } from "../testing/fake-clock.js";
import { type MealServices, startMealServices } from "../testing/meal-services.js";
import { silentLogger, type tempStore } from "../testing/temp-store.js";
import type { FeederService } from "./feeders.js";
import type { FeedCommand, FeedReport, FeedService } from "./feeds.js";
import { MealCalendar } from "./meal-calendar.js";
import type { MealPlanService } from "./meal-plans.js";
import { MealScheduler } from "./meal-scheduler.js";
import { WEEKDAYS } from "./meal-time.js";

const TZ = "Europe/Berlin";
const DAY = "2026-11-26";
/** A Berlin wall-clock time on DAY (UTC+1 in November). */
const berlin = (hhmm: string) => new Date(`${DAY}T${hhmm}:00+01:00`);

let store: ReturnType<typeof tempStore>;
let clock: FakeClock;
let feeders: FeederService;
let feeds: FeedService;
let plans: MealPlanService;
let raised: MealServices["raised"];
let sent: FeedCommand[];
let feederId: string;
let breakfastId: string;

beforeEach(() => {
  clock = new FakeClock(berlin("07:20").getTime());
  sent = [];
  ({ store, feeders, feeds, plans, raised } = startMealServices(clock, TZ, {
    sendFeed: async (_, command) => void sent.push(command),
  }));
  feederId = feeders.create({ householdId: FIRST_HOUSEHOLD, name: "Kitchen", profile: "feedkeeper" }).feeder
    .id;
  breakfastId = `${feederId}/${DAY}/breakfast`;
  deviceSays(["feed", "schedule"]);
  plans.replace(feederId, {
    timezone: TZ,
    meals: [
      { id: "breakfast", time: "07:30", days: WEEKDAYS, portions: 2 },
      { id: "dinner", time: "18:00", days: WEEKDAYS, portions: 2 },
    ],
  });
});
afterEach(() => {
  feeds.stop();
  store.dispose();
});

function deviceSays(capabilities: string[]) {
  feeders.helloReceived(feederId, { protocolVersion: 1, model: "PF-1", firmware: "1.0", capabilities });
}

/** Moves the clock forward to a Berlin time on DAY. */
function until(hhmm: string) {
  clock.advance(berlin(hhmm).getTime() - clock.now());
}

/** A report from the device, as the bridge hands it over; `at` is now unless given. */
function report(id: string, extra: Partial<FeedReport> = {}) {
  feeds.deviceReported(feederId, {
    id,
    status: "dispensed",
    portions: 2,
    source: "schedule",
    at: new Date(clock.now()),
    ...extra,
  });
}

const feedRows = () => feeds.listForFeeder(feederId, { limit: 50 });
const feedByCommand = (commandId: string) => feedRows().find((f) => f.commandId === commandId);
const occurrenceRows = () => store.db.select().from(occurrences).all();
const doubled = () => raised().filter((a) => a.kind === "meal_doubled");

describe("MealReconciler", () => {
  it("links a report named by its occurrence id to that occurrence, a few minutes late", () => {
    const scheduler = new MealScheduler(store, plans, feeds, clock, silentLogger);
    scheduler.start();
    until("07:31");
    // The device feeds from its own schedule: the server only expects the meal.
    expect(occurrenceRows()).toMatchObject([{ id: breakfastId, status: "expected", feedId: null }]);
    until("07:34");
    report(breakfastId, { mealId: "breakfast", grams: 20 });
    const feed = feedByCommand(breakfastId);
    expect(feed).toMatchObject({ source: "schedule", status: "dispensed" });
    expect(occurrenceRows()).toMatchObject([
      { id: breakfastId, mealId: "breakfast", localDate: DAY, status: "expected", feedId: feed?.id },
    ]);
    expect(sent).toEqual([]);
    const calendar = new MealCalendar(store, plans).between(feederId, berlin("00:00"), berlin("23:59"));
    expect(calendar.map((e) => [e.mealId, e.kind, e.state])).toEqual([
      ["breakfast", "meal", "dispensed"],
      ["dinner", "meal", "planned"],
    ]);
    scheduler.stop();
  });

  it("links a report that names its meal by mealId, even when another meal is nearer in time", () => {
    plans.replace(feederId, {
      meals: [
        { id: "breakfast", time: "07:30", days: WEEKDAYS, portions: 2 },
        { id: "snack", time: "07:40", days: WEEKDAYS, portions: 1 },
      ],
    });
    until("07:38");
    report("dev-4f2a", { mealId: "breakfast" });
    expect(occurrenceRows()).toMatchObject([
      { id: breakfastId, mealId: "breakfast", feedId: feedByCommand("dev-4f2a")?.id },
    ]);
  });

  it("links an unnamed report to the nearest planned meal, and leaves one far from any meal unmatched", () => {
    until("07:33");
    report("dev-1");
    expect(occurrenceRows()).toMatchObject([
      { id: breakfastId, status: "expected", feedId: feedByCommand("dev-1")?.id },
    ]);
    until("10:33");
    report("dev-2");
    expect(feedByCommand("dev-2")).toMatchObject({ status: "dispensed", source: "schedule" });
    expect(occurrenceRows()).toHaveLength(1);
    const calendar = new MealCalendar(store, plans).between(feederId, berlin("00:00"), berlin("23:59"));
    expect(calendar.filter((e) => e.kind === "extra").map((e) => e.feedId)).toEqual([
      feedByCommand("dev-2")?.id,
    ]);
  });

  it("never links a button press, even right at meal time", () => {
    until("07:30");
    report("btn-1", { source: "button", mealId: "breakfast" });
    report(breakfastId, { source: "button" });
    expect(feedRows()).toHaveLength(2);
    expect(occurrenceRows()).toEqual([]);
  });

  it("counts a resent report once, and alerts once when the meal is dispensed again under another id", () => {
    until("07:31");
    report(breakfastId, { mealId: "breakfast" });
    report(breakfastId, { mealId: "breakfast" });
    expect(feedRows()).toHaveLength(1);
    const first = feedByCommand(breakfastId);
    expect(occurrenceRows()).toMatchObject([{ id: breakfastId, feedId: first?.id }]);
    expect(raised()).toEqual([]);

    until("07:36");
    report("again-1", { mealId: "breakfast" });
    report("again-1", { mealId: "breakfast" });
    expect(feedRows()).toHaveLength(2);
    expect(doubled()).toHaveLength(1);
    expect(doubled()[0]).toMatchObject({ feederId, occurrenceId: breakfastId });
    expect(doubled()[0]?.message).toContain("dispensed twice");
    expect(occurrenceRows()).toMatchObject([{ id: breakfastId, feedId: first?.id }]);
  });

  it("relinks the occurrence to a dispensed retry after a failed run, without a doubled alert", () => {
    until("07:30");
    report(breakfastId, { status: "failed", error: "motor jammed", mealId: "breakfast" });
    expect(occurrenceRows()).toMatchObject([{ feedId: feedByCommand(breakfastId)?.id }]);
    until("07:32");
    report("retry-1", { mealId: "breakfast" });
    expect(feedByCommand(breakfastId)?.status).toBe("failed");
    expect(occurrenceRows()).toMatchObject([{ id: breakfastId, feedId: feedByCommand("retry-1")?.id }]);
    expect(raised()).toEqual([]);
  });

  it.each([
    ["device-driven", ["feed", "schedule"]],
    ["server-driven", ["feed"]],
  ])(
    "records a report that comes before the scheduler decided the meal, and the scheduler then feeds nothing (%s)",
    (_, capabilities) => {
      deviceSays(capabilities);
      const scheduler = new MealScheduler(store, plans, feeds, clock, silentLogger);
      scheduler.start();
      // The device's clock runs a minute fast: it fed before the server's 07:30.
      until("07:29");
      report(breakfastId, { mealId: "breakfast" });
      const feed = feedByCommand(breakfastId);
      expect(occurrenceRows()).toMatchObject([{ id: breakfastId, status: "expected", feedId: feed?.id }]);
      until("07:45");
      expect(feedRows().map((f) => f.id)).toEqual([feed?.id]);
      expect(occurrenceRows()).toMatchObject([{ id: breakfastId, status: "expected", feedId: feed?.id }]);
      expect(sent).toEqual([]);
      scheduler.stop();
    },
  );
});
