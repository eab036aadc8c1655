/**
 * Dispatches planned meals for feeders whose schedule lives on the server.
 * Each occurrence is decided once: a row keyed `<feeder>/<date>/<meal>` is
 * written together with its feed, so neither a tick racing a restart nor a
 * replayed window can feed the same meal twice.
 *
 * After a restart, meals that fell due while the server was down are fed once
 * if they are still within the feeder's grace window, and recorded as missed
 * otherwise; each decision is logged.
 *
 * A feeder that stores its schedule feeds itself: its occurrences are recorded
 * as `expected`, never sent, and its own reports are matched to them
 * (MealReconciler). Paused days are recorded as `paused`.
 */
import { randomUUID } from "node:crypto";
import { getTableName } from "drizzle-orm";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/db.js";
import { occurrences } from "../store/schema.js";
import { readServerState, writeServerState } from "../store/server-state.js";
import type { FeedRecord, FeedService } from "./feeds.js";
import { isPaused, type MealPlan, type MealPlanService, plannedSlots } from "./meal-plans.js";
import { type Occurrence, occurrenceId, occurrencesBetween } from "./meal-time.js";

interface Decision {
  id: string;
  feederId: string;
  occurrence: Occurrence;
  portions: number;
  graceMs: number;
  status: "dispatched" | "missed" | "expected" | "paused";
}

/** A watched feeder's next meal, with the plan and the occurrences worked out when it was (re)planned. */
interface Upcoming {
  at: number;
  plan: MealPlan;
  /** Every occurrence in [planned from, coveredUntil), in time order. */
  occurrences: Occurrence[];
  coveredUntil: number;
}

const CHECKPOINT_KEY = "meals_evaluated_until";
const TICK_MS = 1000;
/** How long after a tick the fed feeders' next meals are looked up (see tick()). */
const REPLAN_AFTER_MS = 50;
/** How far back a restart looks for meals it may have missed. */
const MAX_CATCH_UP_MS = 7 * 24 * 60 * 60 * 1000;
/** How far ahead the next due meal is searched for. */
const LOOKAHEAD_MS = 8 * 24 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export class MealScheduler {
  /** The instant each watched feeder's next meal is due (ms); evaluated up to `evaluatedUntil`. */
  private readonly nextDue = new Map<string, Upcoming>();
  private evaluatedUntil = 0;
  private timer: { cancel(): void } | undefined;
  private lastCheckpointWrite = 0;
  private insertOccurrencePrepared: ReturnType<typeof prepareInsertOccurrence> | undefined;

  constructor(
    private readonly store: Store,
    private readonly plans: MealPlanService,
    private readonly feeds: FeedService,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    plans.onChange((feederId) => this.replan(feederId));
    plans.onFeederRemoved((feederId) => this.nextDue.delete(feederId));
    // The plan snapshot says who feeds (server or device): refresh it when the device may have changed.
    plans.onDeviceAnnounced((feederId) => {
      if (this.nextDue.has(feederId)) this.replanSafely(feederId, this.clock.now());
    });
  }

  start(): void {
    const now = this.clock.now();
    const saved = readServerState(this.store, CHECKPOINT_KEY);
    const since = saved ? Math.max(Number(saved), now - MAX_CATCH_UP_MS) : now;
    const watched = this.plans.feedersWithMeals();
    this.apply(
      watched.flatMap((feederId) => this.decide(this.plans.get(feederId), since, now)),
      true,
    );
    this.evaluatedUntil = now;
    for (const feederId of watched) this.replanSafely(feederId, now + 1);
    this.writeCheckpoint(now);
    this.schedule();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.writeCheckpoint(this.evaluatedUntil);
  }

  /**
   * Runs every meal that fell due since the last tick, all in one transaction.
   * The plans were read when each feeder's next meal was found (and again on
   * every change to the plan and every hello), so a fleet's meals go out
   * without a query per feeder first.
   */
  tick(): void {
    const now = this.clock.now();
    const due: string[] = [];
    const decisions: Decision[] = [];
    for (const [feederId, next] of this.nextDue) {
      if (next.at > now) continue;
      due.push(feederId);
      // One feeder's broken plan must never hold up the others' meals.
      try {
        const from = this.evaluatedUntil;
        // The occurrences were worked out when the feeder was replanned; only a window beyond them needs Temporal.
        const occurrences =
          now < next.coveredUntil
            ? next.occurrences.filter((o) => o.dueAt.getTime() > from && o.dueAt.getTime() <= now)
            : this.occurrencesDue(next.plan, from, now);
        decisions.push(...this.decisionsFor(next.plan, occurrences, now));
      } catch (err) {
        this.logger.error(
          { err, feederId },
          "could not evaluate this feeder's meal plan; it is skipped until saved again",
        );
      }
    }
    for (const feederId of due) this.nextDue.delete(feederId);
    this.apply(decisions, false);
    this.evaluatedUntil = now;
    // The checkpoint only bounds a restart's look-back; a stale one just re-checks decided rows.
    if (now - this.lastCheckpointWrite >= 30_000) this.writeCheckpoint(now);
    // Finding the next meals can take a while for a fleet: let the commands just handed over reach the
    // network first. Nothing is lost meanwhile; a meal due before then is caught by the next tick's window.
    if (due.length > 0) {
      this.clock.setTimeout(() => {
        for (const feederId of due) this.replanSafely(feederId, now + 1);
      }, REPLAN_AFTER_MS);
    }
  }

  /** Ticks every second, or at the instant the next meal is due if that is sooner. */
  private schedule(): void {
    let soonest = Number.POSITIVE_INFINITY;
    for (const next of this.nextDue.values()) soonest = Math.min(soonest, next.at);
    const delay = Math.max(0, Math.min(TICK_MS, soonest - this.clock.now()));
    this.timer = this.clock.setTimeout(() => {
      try {
        this.tick();
      } catch (err) {
        this.logger.error({ err }, "meal scheduler tick failed");
      }
      this.schedule();
    }, delay);
  }

  private replanSafely(feederId: string, from: number): void {
    try {
      this.replan(feederId, from);
    } catch (err) {
      this.nextDue.delete(feederId);
      this.logger.error(
        { err, feederId },
        "could not evaluate this feeder's meal plan; it is skipped until saved again",
      );
    }
  }

  private replan(feederId: string, from = this.clock.now()): void {
    const plan = this.plans.get(feederId);
    const slots = plannedSlots(plan);
    const between = (start: number, end: number) =>
      occurrencesBetween(slots, plan.effectiveTimezone, new Date(start), new Date(end));
    // Most plans have a meal within a day: that short window first (a whole fleet is replanned at once),
    // kept so the tick that runs them needs no calendar arithmetic; the rest of the lookahead only if empty.
    const today = between(from, from + DAY_MS);
    const next = today[0] ?? between(from + DAY_MS, from + LOOKAHEAD_MS)[0];
    if (!next) {
      this.nextDue.delete(feederId);
      return;
    }
    this.nextDue.set(feederId, {
      at: next.dueAt.getTime(),
      plan,
      occurrences: today,
      // With nothing today, the tick that reaches the next meal works its window out afresh.
      coveredUntil: today.length > 0 ? from + DAY_MS : from,
    });
  }

  /** Occurrences due in (from, to]. */
  private occurrencesDue(plan: MealPlan, from: number, to: number): Occurrence[] {
    return occurrencesBetween(
      plannedSlots(plan),
      plan.effectiveTimezone,
      new Date(from + 1),
      new Date(to + 1),
    );
  }

  private decide(plan: MealPlan, from: number, to: number): Decision[] {
    return this.decisionsFor(plan, this.occurrencesDue(plan, from, to), to);
  }

  /** What to do with each occurrence due by `to`: feed it, or (past its grace) record it missed. */
  private decisionsFor(plan: MealPlan, due: readonly Occurrence[], to: number): Decision[] {
    const { feederId } = plan;
    const slots = plannedSlots(plan);
    const graceMs = plan.graceMinutes * 60_000;
    return due.flatMap((occurrence): Decision[] => {
      const meal = slots.find((m) => m.id === occurrence.mealId);
      if (!meal) return [];
      const status = isPaused(plan, occurrence.localDate)
        ? "paused"
        : plan.deviceDriven
          ? "expected"
          : to - occurrence.dueAt.getTime() <= graceMs
            ? "dispatched"
            : "missed";
      return [
        {
          id: occurrenceId(feederId, occurrence.localDate, occurrence.mealId),
          feederId,
          occurrence,
          portions: meal.portions,
          graceMs,
          status,
        },
      ];
    });
  }

  private apply(decisions: Decision[], catchingUp: boolean): void {
    if (decisions.length === 0) return;
    const feeds: Array<{ decision: Decision; feed: FeedRecord }> = [];
    const missed: Decision[] = [];
    this.store.transaction(() => {
      for (const decision of decisions) {
        // The feed's id is chosen first, so the occurrence row names its feed from the start.
        const feedId = decision.status === "dispatched" ? randomUUID() : null;
        if (!this.insertOccurrence(decision, feedId)) continue;
        if (decision.status === "missed") missed.push(decision);
        if (feedId === null) continue;
        const feed = this.feeds.recordScheduled({
          id: feedId,
          feederId: decision.feederId,
          occurrenceId: decision.id,
          portions: decision.portions,
          // The feeder may still start it until the grace window closes, never later.
          expiresAt: new Date(decision.occurrence.dueAt.getTime() + decision.graceMs),
        });
        feeds.push({ decision, feed });
      }
    });
    // Every feed on its way first, then the log lines: a fleet's meals must not wait for each other's logging.
    for (const { feed } of feeds) this.feeds.track(feed);
    for (const { decision, feed } of feeds) {
      this.logger.info(
        { occurrenceId: decision.id, dueAt: decision.occurrence.dueAt.toISOString(), feedId: feed.id },
        catchingUp
          ? "meal due while the server was down: within its grace window, feeding now"
          : "meal dispatched",
      );
    }
    for (const decision of missed) {
      this.logger.warn(
        { occurrenceId: decision.id, dueAt: decision.occurrence.dueAt.toISOString() },
        "meal missed: due while the server was down and past its grace window",
      );
    }
  }

  /** False when this occurrence was already decided (by an earlier run, before a restart). */
  private insertOccurrence(decision: Decision, feedId: string | null): boolean {
    const { changes } = this.insertOccurrenceStatement().run(
      decision.id,
      decision.feederId,
      decision.occurrence.mealId,
      decision.occurrence.localDate,
      decision.occurrence.dueAt.getTime(),
      decision.status,
      feedId,
      this.clock.now(),
      // Nothing can go wrong with a paused meal; the rest stay watched until their outcome is known.
      decision.status === "paused" ? 1 : 0,
    );
    return changes > 0;
  }

  private insertOccurrenceStatement() {
    this.insertOccurrencePrepared ??= prepareInsertOccurrence(this.store);
    return this.insertOccurrencePrepared;
  }

  private writeCheckpoint(at: number): void {
    this.lastCheckpointWrite = at;
    writeServerState(this.store, CHECKPOINT_KEY, String(at));
  }
}

/**
 * Prepared once: when a fleet's meals fall due together, one tick runs thousands of these. Without RETURNING
 * (a conflict shows as no change), which made each insert several times slower.
 */
/** Column names come from the schema, so a renamed column cannot leave this statement behind. */
function prepareInsertOccurrence(store: Store) {
  const o = occurrences;
  const columns = [
    o.id,
    o.feederId,
    o.mealId,
    o.localDate,
    o.dueAt,
    o.status,
    o.feedId,
    o.decidedAt,
    o.checked,
  ];
  return store.statement(
    `insert into ${getTableName(o)} (${columns.map((c) => c.name).join(", ")}) values (${columns.map(() => "?").join(", ")}) on conflict do nothing`,
  );
}
