import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FIRST_HOUSEHOLD, occurrences } from "../store/schema.js";
import { FakeClock } from "../testing/fake-clock.js";
import { type MealServices, startMealServices } from "../testing/meal-services.js";
import { silentLogger, type tempStore } from "../testing/temp-store.js";
import type { AlertService } from "./alerts.js";
import type { FeederService } from "./feeders.js";
import type { FeedReport, FeedService } from "./feeds.js";
import { MealCalendar } from "./meal-calendar.js";
import type { MealPlanService } from "./meal-plans.js";
import { MealScheduler } from "./meal-scheduler.js";
import { WEEKDAYS } from "./meal-time.js";
import { MealWatch, MISSED_AFTER_MS } from "./meal-watch.js";

const TZ = "Europe/Berlin";
const DAY = "2026-11-26";
/** A Berlin wall-clock time (UTC+1 in November), on DAY unless given. */
const berlin = (hhmm: string, date = DAY) => new Date(`${date}T${hhmm}:00+01:00`);
const DUE = berlin("07:30").getTime();

let store: ReturnType<typeof tempStore>;
let clock: FakeClock;
let feeders: FeederService;
let feeds: FeedService;
let plans: MealPlanService;
let alerts: AlertService;
let raised: MealServices["raised"];
let feederId: string;
let breakfastId: string;
const running: Array<{ stop(): void }> = [];

beforeEach(() => {
  clock = new FakeClock(berlin("07:25").getTime());
  // The feeder stays offline unless a test says hello: server-sent feeds wait as `pending`.
  ({ store, feeders, feeds, plans, alerts, raised } = startMealServices(clock, TZ, {
    sendFeed: async () => undefined,
  }));
  feederId = feeders.create({ householdId: FIRST_HOUSEHOLD, name: "Kitchen", profile: "feedkeeper" }).feeder
    .id;
  breakfastId = `${feederId}/${DAY}/breakfast`;
  plans.replace(feederId, {
    timezone: TZ,
    meals: [{ id: "breakfast", time: "07:30", days: WEEKDAYS, portions: 2 }],
  });
});
afterEach(() => {
  for (const service of running.splice(0)) service.stop();
  feeds.stop();
  store.dispose();
});

function startScheduler(): MealScheduler {
  const scheduler = new MealScheduler(store, plans, feeds, clock, silentLogger);
  scheduler.start();
  running.push(scheduler);
  return scheduler;
}

function startWatch(): MealWatch {
  const watch = new MealWatch(store, alerts, clock, silentLogger);
  watch.start();
  running.push(watch);
  return watch;
}

function deviceDriven() {
  feeders.helloReceived(feederId, {
    protocolVersion: 1,
    model: "PF-1",
    firmware: "1.0",
    capabilities: ["feed", "schedule"],
  });
}

/** Moves the clock forward to an instant, in steps: FakeClock only drops fired timers after each advance. */
function until(at: Date | number) {
  const target = new Date(at).getTime();
  while (clock.now() < target) clock.advance(Math.min(10 * 60_000, target - clock.now()));
}

function report(extra: Partial<FeedReport> = {}) {
  feeds.deviceReported(feederId, {
    id: breakfastId,
    status: "dispensed",
    portions: 2,
    source: "schedule",
    at: new Date(clock.now()),
    ...extra,
  });
}

const occurrence = () => store.db.select().from(occurrences).all()[0];
const stored = () => alerts.list({ householdId: FIRST_HOUSEHOLD, limit: 50 });

describe("MealWatch", () => {
  it("checks off a dispensed meal without an alert", () => {
    startScheduler();
    startWatch();
    until(DUE + 5_000);
    report();
    until(DUE + 2 * MISSED_AFTER_MS);
    expect(occurrence()).toMatchObject({ id: breakfastId, status: "dispatched", checked: true });
    expect(stored()).toEqual([]);
    expect(raised()).toEqual([]);
  });

  it("alerts a failed meal with the device's error at the next check, without waiting", () => {
    startScheduler();
    startWatch();
    until(DUE + 5_000);
    report({ status: "failed", error: "motor jammed" });
    until(DUE + 15_000);
    expect(raised()).toMatchObject([
      { kind: "meal_failed", feederId, occurrenceId: breakfastId, key: `meal:${breakfastId}` },
    ]);
    expect(raised()[0]?.message).toContain("motor jammed");
    expect(occurrence()?.checked).toBe(true);
  });

  it("alerts a meal still open once it is MISSED_AFTER_MS late, and only once", () => {
    startScheduler();
    startWatch();
    until(DUE + MISSED_AFTER_MS - 1);
    expect(occurrence()).toMatchObject({ status: "dispatched", checked: false });
    expect(raised()).toEqual([]);
    until(DUE + MISSED_AFTER_MS);
    expect(raised()).toMatchObject([{ kind: "meal_missed", occurrenceId: breakfastId }]);
    expect(raised()[0]?.message).toContain("not dispensed yet (feed pending");
    // The feed expiring later, and many more checks, change nothing.
    until(DUE + 20 * 60_000);
    expect(raised()).toHaveLength(1);
    expect(stored()).toHaveLength(1);
  });

  it("alerts a meal recorded as missed because the server was down past its grace window", () => {
    startScheduler().stop();
    until(berlin("07:50"));
    startScheduler();
    expect(occurrence()).toMatchObject({ status: "missed", feedId: null });
    startWatch();
    until(berlin("07:50").getTime() + 15_000);
    expect(raised()).toMatchObject([{ kind: "meal_missed", occurrenceId: breakfastId }]);
    expect(raised()[0]?.message).toContain("server was down");
  });

  it("marks an unreported device-side meal missed, and still shows it dispensed when the report comes", () => {
    deviceDriven();
    startScheduler();
    startWatch();
    until(DUE + MISSED_AFTER_MS - 1);
    expect(occurrence()).toMatchObject({ status: "expected", checked: false });
    expect(raised()).toEqual([]);
    until(DUE + MISSED_AFTER_MS);
    expect(occurrence()).toMatchObject({ status: "missed", checked: true });
    expect(raised()).toMatchObject([{ kind: "meal_missed", occurrenceId: breakfastId }]);
    expect(raised()[0]?.message).toContain("has not reported");

    // The device fed on time but was offline; its report arrives later.
    until(DUE + 10 * 60_000);
    report({ at: new Date(DUE), mealId: "breakfast", grams: 20 });
    const entry = new MealCalendar(store, plans).occurrence(feederId, {
      id: breakfastId,
      dueAt: new Date(DUE),
    });
    expect(entry).toMatchObject({ state: "dispensed", source: "schedule", grams: 20 });
    until(DUE + 20 * 60_000);
    expect(raised()).toHaveLength(1);
  });

  it("gives an unreported meal MISSED_AFTER_MS from a restart before alerting it", () => {
    deviceDriven();
    startScheduler();
    const before = startWatch();
    until(DUE + 60_000);
    before.stop();
    until(berlin("08:00"));
    startWatch();
    until(berlin("08:00").getTime() + MISSED_AFTER_MS - 1);
    expect(raised()).toEqual([]);
    expect(occurrence()).toMatchObject({ status: "expected", checked: false });
    until(berlin("08:00").getTime() + MISSED_AFTER_MS);
    expect(raised()).toMatchObject([{ kind: "meal_missed", occurrenceId: breakfastId }]);
  });

  it("never alerts skipped or paused meals", () => {
    plans.skip(feederId, DAY, "breakfast");
    plans.setPause(feederId, { from: "2026-11-27", until: "2026-11-27" });
    startWatch();
    const today = startScheduler();
    until(DUE + 2 * MISSED_AFTER_MS);
    // Quicker than ticking all night: the scheduler rests until morning and catches up when started.
    today.stop();
    until(berlin("07:25", "2026-11-27"));
    startScheduler();
    until(berlin("07:30", "2026-11-27").getTime() + 2 * MISSED_AFTER_MS);
    expect(
      store.db
        .select()
        .from(occurrences)
        .all()
        .map((o) => [o.localDate, o.status]),
    ).toEqual([
      [DAY, "skipped"],
      ["2026-11-27", "paused"],
    ]);
    expect(stored()).toEqual([]);
    expect(raised()).toEqual([]);
  });

  it("checks off skipped and paused meals it finds unchecked, without an alert", () => {
    for (const [mealId, status] of [
      ["breakfast", "skipped"],
      ["dinner", "paused"],
    ] as const) {
      store.db
        .insert(occurrences)
        .values({
          id: `${feederId}/${DAY}/${mealId}`,
          feederId,
          mealId,
          localDate: DAY,
          dueAt: new Date(DUE),
          status,
          decidedAt: new Date(clock.now()),
          checked: false,
        })
        .run();
    }
    startWatch();
    until(DUE + 2 * MISSED_AFTER_MS);
    expect(
      store.db
        .select()
        .from(occurrences)
        .all()
        .map((o) => o.checked),
    ).toEqual([true, true]);
    expect(raised()).toEqual([]);
  });
});
