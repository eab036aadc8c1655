/**
 * Watches what feeders say about themselves and alerts the owner when one needs a hand: food running low,
 * a fault such as a jam, a battery running down, or a feeder gone offline for too long.
 *
 * Each condition is alerted once per episode: from the moment it starts until it clears. Levels re-arm only
 * REARM_POINTS above their threshold, so a sensor wobbling around the line does not send an alert a minute.
 * Episodes are kept in server_state, so a restart neither repeats an alert nor forgets one that is due.
 */
import { randomUUID } from "node:crypto";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/db.js";
import { deleteServerState, readServerStates, writeServerState } from "../store/server-state.js";
import type { AlertService } from "./alerts.js";
import type { FeederService, LiveFeederView } from "./feeders.js";

export interface ConditionThresholds {
  /** Food level (percent) below which an alert is raised; 0: only the device's own low-food flag. */
  foodLowPercent: number;
  /** Battery (percent, while not charging) below which an alert is raised; 0: only the device's flag. */
  batteryLowPercent: number;
  /** Minutes offline before an alert; 0: never. */
  offlineMinutes: number;
}

/** How far above its threshold a level must rise before it can alert again. */
export const REARM_POINTS = 10;

const STATE_PREFIX = "condition-watch:";

/** What one feeder's conditions stand at; kept as JSON in server_state. */
interface Conditions {
  /** The food level went below the threshold and has not risen REARM_POINTS above it since. */
  foodLevelLow: boolean;
  /** The device flags low food or an empty hopper. */
  foodFlag: boolean;
  /** Start of the food-low episode; it names the episode's alert. */
  foodSince?: number;
  batteryLevelLow: boolean;
  batteryFlag: boolean;
  batterySince?: number;
  faultSince?: number;
  /** Start of an offline episode already alerted: none again until the feeder has been online. */
  offlineAlerted?: number;
}

/**
 * What a device's standing error means here. Devices show one problem at a time (the gravest, or the lowest
 * bit of a bitmask), so a low-food or low-battery flag hidden behind another problem is not taken as cleared;
 * only "all is well" (no error, `ok`, or merely running on battery) clears them.
 */
type ErrorClass = "none" | "food" | "battery" | "fault";

function classify(error: string | undefined): ErrorClass {
  if (error === undefined || error === "" || error === "ok" || error === "on_battery") return "none";
  if (error === "food_low" || error === "empty") return "food";
  if (error === "battery_low") return "battery";
  return "fault";
}

/** What a canonical fault means for the owner, after "<feeder> reports "; a native feeder's own text is quoted. */
const FAULT_WORDS: Record<string, string> = {
  jam: "a fault: its dispenser is jammed. Meals cannot come out until it is cleared.",
  blocked: "a fault: its food outlet is blocked. Meals cannot come out until it is cleared.",
  lid_open: "a fault: its lid is open; close it.",
  desiccant: "a fault: its desiccant needs replacing.",
  unknown: "a fault it does not name; check the feeder. Meals may not come out until it is fixed.",
};

/** Percent, rounded to millionths first: 0.29 × 100 is 28.999999999999996 in binary floating point. */
const percent = (fraction: number) => Math.round(fraction * 1e6) / 1e4;

/**
 * A level's low state with hysteresis: low below the threshold (if `mayStart`), clear at threshold +
 * REARM_POINTS or above, unchanged in between and when the reading is absent.
 */
function levelLow(was: boolean, fraction: number | undefined, threshold: number, mayStart = true): boolean {
  if (threshold === 0) return false;
  if (fraction === undefined) return was;
  const value = percent(fraction);
  if (value >= threshold + REARM_POINTS) return false;
  if (value < threshold && mayStart) return true;
  return was;
}

const fresh = (): Conditions => ({
  foodLevelLow: false,
  foodFlag: false,
  batteryLevelLow: false,
  batteryFlag: false,
});

const FRESH = JSON.stringify(fresh());

export class ConditionWatch {
  private readonly conditions = new Map<string, Conditions>();
  /** The JSON last written per feeder: only a change is written. */
  private readonly saved = new Map<string, string>();
  /**
   * Feeders known to exist, so a device message costs no database read (feeders added by another process,
   * `feedkeeper create-feeder`, are looked up once); a change trailing a deletion finds its feeder gone.
   */
  private readonly known = new Set<string>();
  /** The timers of feeders being timed offline: each alerts when its feeder has been away too long. */
  private readonly offline = new Map<string, { cancel(): void }>();
  private running = false;

  constructor(
    private readonly store: Store,
    private readonly feeders: FeederService,
    private readonly alerts: AlertService,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly thresholds: ConditionThresholds,
  ) {
    // Listeners cannot be removed: they stay registered and do nothing while the watch is stopped.
    feeders.onChange((id) => this.guarded(id, () => this.check(id)));
    feeders.onAdded((feeder) => this.known.add(feeder.id));
    feeders.onRemoved((id) => {
      this.known.delete(id);
      this.guarded(id, () => this.forget(id));
    });
  }

  /**
   * Loads the episodes from before a restart and looks at every feeder. Feeders are all offline now (a
   * restart drops every connection), so each one that was ever connected gets the full offline time from
   * now to come back: what happened while the server was down cannot be told from here.
   */
  start(): void {
    this.running = true;
    for (const row of readServerStates(this.store, STATE_PREFIX)) {
      const id = row.name;
      try {
        this.conditions.set(id, { ...fresh(), ...(JSON.parse(row.value) as Partial<Conditions>) });
        this.saved.set(id, row.value);
      } catch (err) {
        this.logger.warn({ err, feederId: id }, "condition watch state unreadable; starting afresh");
        this.forget(id);
      }
    }
    const views = this.feeders.listAll();
    this.known.clear();
    for (const view of views) this.known.add(view.id);
    for (const id of this.conditions.keys()) if (!this.known.has(id)) this.forget(id);
    for (const view of views) this.guarded(view.id, () => this.evaluate(view));
  }

  stop(): void {
    this.running = false;
    for (const timer of this.offline.values()) timer.cancel();
    this.offline.clear();
  }

  private guarded(feederId: string, fn: () => void): void {
    if (!this.running) return;
    try {
      fn();
    } catch (err) {
      this.logger.error({ err, feederId }, "condition watch failed");
    }
  }

  private check(feederId: string): void {
    if (!this.known.has(feederId)) {
      // A change can trail a deletion (a session closing after its feeder went).
      if (!this.feeders.find(feederId)) return;
      this.known.add(feederId);
    }
    this.evaluate(this.feeders.liveView(feederId));
  }

  private evaluate(view: LiveFeederView): void {
    const now = this.clock.now();
    const c = this.conditions.get(view.id) ?? fresh();
    this.conditions.set(view.id, c);
    if (view.telemetry) this.readings(view, c, now);
    this.connection(view, c, now);
    this.save(view.id, c);
  }

  private readings(view: LiveFeederView, c: Conditions, now: number): void {
    const t = view.telemetry;
    if (!t) return;
    const { foodLowPercent, batteryLowPercent } = this.thresholds;
    const cls = classify(t.error);
    const flag = (kind: ErrorClass, was: boolean) => (cls === kind ? true : cls === "none" ? false : was);

    c.foodLevelLow = levelLow(c.foodLevelLow, t.foodLevel, foodLowPercent);
    c.foodFlag = flag("food", c.foodFlag);
    if (!(c.foodLevelLow || c.foodFlag)) delete c.foodSince;
    else if (c.foodSince === undefined) {
      c.foodSince = now;
      const message =
        cls === "food"
          ? t.error === "empty"
            ? `${view.name} reports its hopper is empty; meals cannot come out until it is refilled.`
            : `${view.name} reports its food is running low; refill it soon.`
          : `${view.name} is low on food: ${Math.round(percent(t.foodLevel ?? 0))} % left (the alert is set below ${foodLowPercent} %); refill it soon.`;
      this.raise("food_low", view.id, now, message);
    }

    // Mains power or charging stops a low battery from starting an alert, not one already raised.
    c.batteryLevelLow = levelLow(c.batteryLevelLow, t.battery, batteryLowPercent, t.charging !== true);
    c.batteryFlag = flag("battery", c.batteryFlag);
    if (!(c.batteryLevelLow || c.batteryFlag)) delete c.batterySince;
    else if (c.batterySince === undefined) {
      c.batterySince = now;
      const message =
        cls === "battery"
          ? `${view.name} reports its battery is low; charge it or connect it to power.`
          : `${view.name}'s battery is down to ${Math.round(percent(t.battery ?? 0))} % and it is not charging (the alert is set below ${batteryLowPercent} %); charge it or connect it to power.`;
      this.raise("battery_low", view.id, now, message);
    }

    // A fault is the one problem the device shows: it ends as soon as the device shows another, or none.
    if (cls !== "fault") delete c.faultSince;
    else if (c.faultSince === undefined) {
      c.faultSince = now;
      const error = t.error ?? "unknown";
      const words =
        FAULT_WORDS[error] ?? `a fault: ${JSON.stringify(error)}. Meals may not come out until it is fixed.`;
      this.raise("fault", view.id, now, `${view.name} reports ${words}`);
    }
  }

  /**
   * A feeder offline longer than the set time is alerted once per outage. One never connected since it was
   * added is left alone: it is still being set up, and the feeder list shows it as never seen.
   */
  private connection(view: LiveFeederView, c: Conditions, now: number): void {
    const tracked = this.offline.get(view.id);
    if (view.online) {
      tracked?.cancel();
      this.offline.delete(view.id);
      delete c.offlineAlerted;
      return;
    }
    const minutes = this.thresholds.offlineMinutes;
    if (tracked || c.offlineAlerted !== undefined || minutes === 0 || view.lastSeenAt === null) return;
    const timer = this.clock.setTimeout(
      () => this.guarded(view.id, () => this.offlineTooLong(view.id, now)),
      minutes * 60_000,
    );
    this.offline.set(view.id, timer);
  }

  private offlineTooLong(feederId: string, since: number): void {
    this.offline.delete(feederId);
    if (!this.feeders.find(feederId)) return;
    const view = this.feeders.view(feederId);
    if (view.online) return;
    const c = this.conditions.get(feederId) ?? fresh();
    c.offlineAlerted = since;
    this.conditions.set(feederId, c);
    const minutes = this.thresholds.offlineMinutes;
    const lastSeen = view.lastSeenAt ? ` (last heard from at ${view.lastSeenAt.toISOString()})` : "";
    this.raise(
      "feeder_offline",
      feederId,
      since,
      `${view.name} has been offline for more than ${minutes} minutes${lastSeen}. Remote feeds and meals the server sends cannot reach it until it is back; check its power and network.`,
    );
    this.save(feederId, c);
  }

  private raise(
    kind: "food_low" | "battery_low" | "fault" | "feeder_offline",
    feederId: string,
    since: number,
    message: string,
  ): void {
    // The start names the episode; the random part keeps two episodes begun in one millisecond apart.
    const key = `${kind}:${feederId}:${since}:${randomUUID().slice(0, 8)}`;
    this.alerts.raise({ kind, feederId, key, message });
  }

  private save(feederId: string, c: Conditions): void {
    const value = JSON.stringify(c);
    const saved = this.saved.get(feederId);
    // Nothing to remember about a feeder that has never had a problem: no row for it.
    if (saved === value || (saved === undefined && value === FRESH)) return;
    writeServerState(this.store, STATE_PREFIX + feederId, value);
    this.saved.set(feederId, value);
  }

  private forget(feederId: string): void {
    this.offline.get(feederId)?.cancel();
    this.offline.delete(feederId);
    this.conditions.delete(feederId);
    this.saved.delete(feederId);
    deleteServerState(this.store, STATE_PREFIX + feederId);
  }
}
