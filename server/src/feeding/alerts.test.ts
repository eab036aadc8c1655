import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AppError } from "../errors.js";
import { FIRST_HOUSEHOLD } from "../store/schema.js";
import { FakeClock } from "../testing/fake-clock.js";
import { shippedProfiles } from "../testing/profiles.js";
import { silentLogger, tempStore } from "../testing/temp-store.js";
import { type Alert, AlertService, type NewAlert, type Notifier } from "./alerts.js";
import { FeederService } from "./feeders.js";

let store: ReturnType<typeof tempStore>;
let clock: FakeClock;
let notified: Alert[];
let recording: Notifier;
let kitchen: string;
let hall: string;

const flush = () => new Promise((r) => setImmediate(r));
const missed = (feederId: string | null, key: string): NewAlert => ({
  kind: "meal_missed",
  feederId,
  key,
  message: `${key} was not fed`,
});

beforeEach(() => {
  store = tempStore();
  clock = new FakeClock();
  notified = [];
  recording = { name: "recording", notify: async (alert) => void notified.push(alert) };
  const feeders = new FeederService(store, clock, silentLogger, shippedProfiles());
  kitchen = feeders.create({ householdId: FIRST_HOUSEHOLD, name: "Kitchen", profile: "feedkeeper" }).feeder
    .id;
  hall = feeders.create({ householdId: FIRST_HOUSEHOLD, name: "Hall", profile: "feedkeeper" }).feeder.id;
});
afterEach(() => store.dispose());

describe("AlertService", () => {
  it("stores and sends one alert per key", () => {
    const alerts = new AlertService(store, clock, [recording], silentLogger);
    const first = alerts.raise({ ...missed(kitchen, "meal:a"), occurrenceId: "a" });
    expect(first).toMatchObject({
      kind: "meal_missed",
      feederId: kitchen,
      key: "meal:a",
      occurrenceId: "a",
      acknowledgedAt: null,
      createdAt: new Date(clock.now()),
    });
    clock.advance(60_000);
    expect(alerts.raise({ ...missed(kitchen, "meal:a"), message: "again" })).toBeUndefined();
    expect(alerts.list({ householdId: FIRST_HOUSEHOLD, limit: 10 })).toEqual([first]);
    expect(notified).toEqual([first]);
  });

  it("keeps the alert and the other notifiers when a notifier fails", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "error" }, { write: (line: string) => void lines.push(line) });
    const rejecting: Notifier = {
      name: "ntfy",
      notify: async () => {
        throw new Error("ntfy unreachable");
      },
    };
    const throwing: Notifier = {
      name: "webhook",
      notify: () => {
        throw new Error("bad webhook url");
      },
    };
    const alerts = new AlertService(store, clock, [rejecting, throwing, recording], logger);
    // Alerts are raised inside the transactions that record what happened: a notifier must not undo them.
    const alert = store.transaction(() => alerts.raise(missed(kitchen, "meal:b")));
    expect(alert).toBeDefined();
    expect(alerts.list({ householdId: FIRST_HOUSEHOLD, limit: 10 })).toEqual([alert]);
    // Notified once the raising transaction has committed.
    expect(notified).toEqual([]);
    await flush();
    expect(notified).toEqual([alert]);
    const failures = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "notifier failed");
    expect(failures.map((l) => l.notifier).sort()).toEqual(["ntfy", "webhook"]);
    expect(failures.every((l) => l.alertId === alert?.id)).toBe(true);
  });

  it("lists newest first, filtered by feeder and by acknowledgement", () => {
    const alerts = new AlertService(store, clock, [], silentLogger);
    const a = alerts.raise(missed(kitchen, "a"));
    clock.advance(60_000);
    const b = alerts.raise(missed(hall, "b"));
    clock.advance(60_000);
    const c = alerts.raise(missed(kitchen, "c"));
    clock.advance(60_000);
    const d = alerts.raise(missed(null, "d"));
    const keys = (list: Alert[]) => list.map((x) => x.key);
    expect([a, b, c, d].every(Boolean)).toBe(true);
    expect(keys(alerts.list({ householdId: FIRST_HOUSEHOLD, limit: 10 }))).toEqual(["d", "c", "b", "a"]);
    expect(keys(alerts.list({ householdId: FIRST_HOUSEHOLD, limit: 2 }))).toEqual(["d", "c"]);
    expect(keys(alerts.list({ householdId: FIRST_HOUSEHOLD, limit: 10, feederId: kitchen }))).toEqual([
      "c",
      "a",
    ]);
    alerts.acknowledge(c?.id ?? "");
    expect(keys(alerts.list({ householdId: FIRST_HOUSEHOLD, limit: 10, unacknowledgedOnly: true }))).toEqual([
      "d",
      "b",
      "a",
    ]);
    expect(
      keys(
        alerts.list({ householdId: FIRST_HOUSEHOLD, limit: 10, unacknowledgedOnly: true, feederId: kitchen }),
      ),
    ).toEqual(["a"]);
    expect(keys(alerts.list({ householdId: FIRST_HOUSEHOLD, limit: 10, unacknowledgedOnly: false }))).toEqual(
      ["d", "c", "b", "a"],
    );
  });

  it("acknowledges once and counts what is left", () => {
    const alerts = new AlertService(store, clock, [], silentLogger);
    const a = alerts.raise(missed(kitchen, "a"));
    alerts.raise(missed(hall, "b"));
    expect(alerts.countUnacknowledged(FIRST_HOUSEHOLD)).toBe(2);
    clock.advance(60_000);
    const acknowledged = alerts.acknowledge(a?.id ?? "");
    expect(acknowledged).toMatchObject({ id: a?.id, acknowledgedAt: new Date(clock.now()) });
    clock.advance(60_000);
    expect(alerts.acknowledge(a?.id ?? "")).toEqual(acknowledged);
    expect(alerts.countUnacknowledged(FIRST_HOUSEHOLD)).toBe(1);
  });

  it("refuses to acknowledge an alert it does not know", () => {
    const alerts = new AlertService(store, clock, [], silentLogger);
    let error: unknown;
    try {
      alerts.acknowledge("nope");
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: "alert_not_found", status: 404 });
    expect(alerts.countUnacknowledged(FIRST_HOUSEHOLD)).toBe(0);
  });
});
