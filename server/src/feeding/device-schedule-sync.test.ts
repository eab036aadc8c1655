import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FIRST_HOUSEHOLD } from "../store/schema.js";
import { FakeClock } from "../testing/fake-clock.js";
import { shippedProfiles } from "../testing/profiles.js";
import { silentLogger, tempStore } from "../testing/temp-store.js";
import { type Alert, AlertService } from "./alerts.js";
import {
  CONFIRM_WITHIN_MS,
  type DeviceSchedule,
  DeviceScheduleSync,
  MAX_CLOCK_SKEW_MS,
} from "./device-schedule-sync.js";
import { FeederService } from "./feeders.js";
import { MealPlanService } from "./meal-plans.js";
import { WEEKDAYS } from "./meal-time.js";

const TZ = "Europe/Berlin";
const mins = (n: number) => n * 60_000;

let store: ReturnType<typeof tempStore>;
let clock: FakeClock;
let feeders: FeederService;
let plans: MealPlanService;
let sync: DeviceScheduleSync;
let notified: Alert[];
let sent: Array<{ feederId: string; schedule: DeviceSchedule }>;
let feederId: string;

beforeEach(() => {
  store = tempStore();
  // 08:00 in Berlin.
  clock = new FakeClock(Date.parse("2026-11-26T07:00:00Z"));
  feeders = new FeederService(store, clock, silentLogger, shippedProfiles());
  plans = new MealPlanService(store, feeders, clock, TZ);
  notified = [];
  const alerts = new AlertService(
    store,
    clock,
    [{ name: "recording", notify: async (alert) => void notified.push(alert) }],
    silentLogger,
  );
  sync = new DeviceScheduleSync(plans, feeders, alerts, clock, silentLogger);
  sent = [];
  sync.start({ sendSchedule: async (id, schedule) => void sent.push({ feederId: id, schedule }) });
  feederId = feeders.create({ householdId: FIRST_HOUSEHOLD, name: "Kitchen", profile: "feedkeeper" }).feeder
    .id;
});
afterEach(() => {
  sync.stop();
  store.dispose();
});

/** The device's ready sequence, as the bridge relays it: subscribe to commands, then say hello. */
function connect(
  id = feederId,
  hello: { scheduleVersion?: number; deviceTime?: string; capabilities?: string[] } = {},
) {
  const { capabilities = ["feed", "schedule"], ...rest } = hello;
  feeders.commandsSubscribed(id);
  feeders.helloReceived(id, { protocolVersion: 1, model: "PF-1", firmware: "1.0", capabilities, ...rest });
  sync.helloReceived(id, rest);
}

function planBreakfast(portions = 2) {
  return plans.replace(feederId, {
    timezone: TZ,
    meals: [{ id: "breakfast", time: "07:30", days: WEEKDAYS, portions }],
  });
}

const confirm = (version = plans.get(feederId).version) =>
  sync.scheduleReported(feederId, { version, status: "applied" });
const versionsSent = () => sent.map((s) => s.schedule.version);
const drift = () => notified.filter((a) => a.kind === "schedule_drift");
const skews = () => notified.filter((a) => a.kind === "clock_skew");

describe("DeviceScheduleSync: pushing the plan", () => {
  it("sends nothing to a feeder that cannot store a schedule", () => {
    connect(feederId, { capabilities: ["feed"] });
    planBreakfast();
    planBreakfast(3);
    expect(sent).toEqual([]);
  });

  it("sends every plan change to a ready device-driven feeder", () => {
    connect();
    expect(sent).toEqual([]);
    const first = planBreakfast();
    expect(sent).toMatchObject([{ feederId, schedule: { version: first.version } }]);
    confirm();
    const second = planBreakfast(3);
    expect(second.version).toBe(first.version + 1);
    expect(versionsSent()).toEqual([first.version, second.version]);
    expect(sent[1]?.schedule.meals).toEqual([
      { id: "breakfast", time: "07:30", days: [...WEEKDAYS], portions: 3, enabled: true },
    ]);
  });

  it("holds a change while the feeder is offline and sends it when it is ready again", () => {
    connect();
    feeders.disconnected(feederId);
    const plan = planBreakfast();
    expect(sent).toEqual([]);
    feeders.commandsSubscribed(feederId);
    expect(versionsSent()).toEqual([plan.version]);
  });

  it("never sends version 0, a plan that was never made", () => {
    connect();
    connect(feederId, { scheduleVersion: 0 });
    // Even a device that runs some other schedule learns nothing from an empty plan.
    connect(feederId, { scheduleVersion: 3 });
    feeders.disconnected(feederId);
    feeders.commandsSubscribed(feederId);
    expect(plans.get(feederId).version).toBe(0);
    expect(sent).toEqual([]);
    expect(notified).toEqual([]);
  });

  it("sends the plan again when the device comes back with another version", () => {
    connect();
    const plan = planBreakfast();
    // Gone before applying it; back with nothing.
    feeders.disconnected(feederId);
    feeders.commandsSubscribed(feederId);
    const before = sent.length;
    sync.helloReceived(feederId, { scheduleVersion: 0 });
    expect(sent.length).toBe(before + 1);
    expect(sent.at(-1)?.schedule.version).toBe(plan.version);
    // Back with the current version: nothing to send.
    confirm();
    feeders.disconnected(feederId);
    connect(feederId, { scheduleVersion: plan.version });
    expect(sent.length).toBe(before + 1);
    expect(drift()).toEqual([]);
  });

  it("carries one-offs, upcoming skips and the pause", () => {
    connect();
    planBreakfast();
    const oneOff = plans.addOneOff(feederId, {
      date: "2026-11-28",
      time: "12:00",
      portions: 1,
      label: "treat",
    });
    plans.skip(feederId, "2026-11-27", "breakfast");
    const plan = plans.setPause(feederId, { from: "2026-12-24", until: "2026-12-26" });
    expect(sent.at(-1)?.schedule).toEqual({
      version: plan.version,
      timezone: TZ,
      meals: [{ id: "breakfast", time: "07:30", days: [...WEEKDAYS], portions: 2, enabled: true }],
      oneOffs: [{ id: oneOff.id, date: "2026-11-28", time: "12:00", portions: 1 }],
      skips: ["2026-11-27/breakfast"],
      pause: { from: "2026-12-24", until: "2026-12-26" },
    });
    // Once the skipped meal's time has passed, the device no longer needs to hear of it.
    confirm();
    clock.advance(mins(24 * 60));
    plans.setPause(feederId, null);
    expect(sent.at(-1)?.schedule).toMatchObject({ skips: [], pause: null });
  });
});

describe("DeviceScheduleSync: drift", () => {
  it("alerts when a device that had confirmed the plan comes back without it, and sends it again", () => {
    connect();
    const plan = planBreakfast();
    confirm();
    feeders.disconnected(feederId);
    connect(feederId, { scheduleVersion: 0 });
    expect(drift()).toHaveLength(1);
    expect(drift()[0]?.message).toContain(`confirmed version ${plan.version}`);
    expect(sent.at(-1)?.schedule.version).toBe(plan.version);
    expect(plans.get(feederId).deviceVersion).toBe(0);
    // Losing it again before confirming is the same fact.
    feeders.disconnected(feederId);
    connect(feederId, { scheduleVersion: 0 });
    expect(drift()).toHaveLength(1);
  });

  it("does not alert a device that comes back with an older plan it never confirmed the change of", () => {
    connect();
    const first = planBreakfast();
    confirm();
    feeders.disconnected(feederId);
    const second = planBreakfast(3);
    connect(feederId, { scheduleVersion: first.version });
    expect(sent.at(-1)?.schedule.version).toBe(second.version);
    expect(drift()).toEqual([]);
  });

  it("alerts a rejected schedule with the device's reason, once", () => {
    connect();
    const plan = planBreakfast();
    sync.scheduleReported(feederId, { version: plan.version, status: "rejected", error: "too many slots" });
    expect(drift()).toHaveLength(1);
    expect(drift()[0]?.message).toContain("too many slots");
    // The refusal is the drift; the confirmation it will never get is not a second one.
    clock.advance(CONFIRM_WITHIN_MS * 2);
    expect(drift()).toHaveLength(1);
  });

  it("alerts once when the device does not confirm in time", () => {
    connect();
    const plan = planBreakfast();
    clock.advance(CONFIRM_WITHIN_MS - 1);
    expect(drift()).toEqual([]);
    clock.advance(1);
    expect(drift()).toHaveLength(1);
    expect(drift()[0]?.message).toContain(`has not confirmed schedule version ${plan.version}`);
    clock.advance(CONFIRM_WITHIN_MS * 5);
    expect(drift()).toHaveLength(1);
  });

  it("does not alert when the device confirms in time", () => {
    connect();
    planBreakfast();
    clock.advance(mins(1));
    confirm();
    clock.advance(CONFIRM_WITHIN_MS * 2);
    expect(notified).toEqual([]);
  });

  it("does not alert when the feeder went offline before confirming", () => {
    connect();
    planBreakfast();
    clock.advance(mins(1));
    feeders.disconnected(feederId);
    clock.advance(CONFIRM_WITHIN_MS * 2);
    expect(notified).toEqual([]);
  });

  it("forgets a deleted feeder's pending confirmation", () => {
    connect();
    planBreakfast();
    feeders.remove(feederId);
    expect(() => clock.advance(CONFIRM_WITHIN_MS * 2)).not.toThrow();
    expect(notified).toEqual([]);
  });
});

describe("DeviceScheduleSync: device clock", () => {
  const deviceTime = (offsetMs: number) => new Date(clock.now() + offsetMs).toISOString();

  it.each([
    ["ahead", mins(3), "3 min 0 s ahead of"],
    ["behind", -mins(3) - 5_000, "3 min 5 s behind"],
  ])("alerts a clock %s by more than MAX_CLOCK_SKEW_MS once a day per feeder", (_, offset, text) => {
    connect(feederId, { deviceTime: deviceTime(offset) });
    expect(skews()).toHaveLength(1);
    expect(skews()[0]).toMatchObject({ feederId });
    expect(skews()[0]?.message).toContain(text);
    clock.advance(mins(60));
    connect(feederId, { deviceTime: deviceTime(offset) });
    connect(feederId, { deviceTime: deviceTime(-offset) });
    expect(skews()).toHaveLength(1);
    const other = feeders.create({ householdId: FIRST_HOUSEHOLD, name: "Hall", profile: "feedkeeper" }).feeder
      .id;
    connect(other, { deviceTime: deviceTime(offset) });
    expect(skews().map((a) => a.feederId)).toEqual([feederId, other]);
    clock.advance(mins(24 * 60));
    connect(feederId, { deviceTime: deviceTime(offset) });
    expect(skews()).toHaveLength(3);
  });

  it("lets a small difference pass", () => {
    connect(feederId, { deviceTime: deviceTime(mins(1)) });
    connect(feederId, { deviceTime: deviceTime(-mins(1)) });
    connect(feederId, { deviceTime: deviceTime(MAX_CLOCK_SKEW_MS) });
    connect(feederId, { deviceTime: deviceTime(-MAX_CLOCK_SKEW_MS) });
    expect(notified).toEqual([]);
  });
});

describe("DeviceScheduleSync: devices that echo the plan they hold", () => {
  const holdsPortions = (portions: number) => (desired: DeviceSchedule) =>
    desired.meals.every((m) => m.portions === portions);

  it("counts a matching echo as confirmed, and re-sends after a mismatch once the last send was answered", () => {
    connect();
    planBreakfast(2);
    expect(versionsSent()).toEqual([1]);
    // The device first echoes what it held before: no second send while the first waits for its echo.
    sync.scheduleHeld(feederId, holdsPortions(9));
    expect(versionsSent()).toEqual([1]);
    sync.scheduleHeld(feederId, holdsPortions(2));
    expect(plans.get(feederId).deviceVersion).toBe(1);

    // A gateway's echo may confirm before the device reports something else: no resend loop right away.
    sync.scheduleHeld(feederId, holdsPortions(5));
    expect(versionsSent()).toEqual([1]);

    // Later the device turns out to hold something else (reset by hand, say): drift, and the plan again.
    clock.advance(CONFIRM_WITHIN_MS);
    sync.scheduleHeld(feederId, holdsPortions(5));
    expect(versionsSent()).toEqual([1, 1]);
    expect(drift()).toHaveLength(1);
    clock.advance(CONFIRM_WITHIN_MS);
    expect(drift()).toHaveLength(2);
  });

  it("sends the current plan whenever the device asks for it", () => {
    connect();
    planBreakfast(2);
    confirm();
    sync.resend(feederId);
    expect(versionsSent()).toEqual([1, 1]);
  });
});

describe("DeviceScheduleSync: devices that get their plan in UTC", () => {
  it("sends the plan again when the plan's zone changes its UTC offset, and not before", () => {
    sync.stop();
    sync.start({
      sendSchedule: async (id, schedule) => void sent.push({ feederId: id, schedule }),
      sendsPlanInUtc: () => true,
    });
    connect();
    planBreakfast();
    confirm();
    expect(versionsSent()).toEqual([1]);
    // Berlin leaves winter time on 2027-03-28 at 01:00 UTC.
    const change = Date.parse("2027-03-28T01:00:00Z");
    clock.advance(change - clock.now() - 1);
    expect(versionsSent()).toEqual([1]);
    clock.advance(1);
    expect(versionsSent()).toEqual([1, 1]);
    // And again at the next change, in the autumn.
    clock.advance(Date.parse("2027-10-31T01:00:00Z") - clock.now());
    expect(versionsSent()).toEqual([1, 1, 1]);
  });
});
