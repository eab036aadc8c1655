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
import { eq, sql } from "drizzle-orm";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/db.js";
import { occurrences, serverState } from "../store/schema.js";
import type { FeedRecord, FeedService } from "./feeds.js";
import { isPaused, type MealPlanService, plannedSlots } from "./meal-plans.js";
import { type Occurrence, occurrenceId, occurrencesBetween } from "./meal-time.js";

interface Decision {
  id: string;
  feederId: string;
  occurrence: Occurrence;
  portions: number;
  graceMs: number;
  status: "dispatched" | "missed" | "expected" | "paused";
}

const CHECKPOINT_KEY = "meals_evaluated_until";
const TICK_MS = 1000;
/** How far back a restart looks for meals it may have missed. */
const MAX_CATCH_UP_MS = 7 * 24 * 60 * 60 * 1000;
/** How far ahead the next due meal is searched for. */
const LOOKAHEAD_MS = 8 * 24 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export class MealScheduler {
  /** The instant each watched feeder's next meal is due (ms); evaluated up to `evaluatedUntil`. */
  private readonly nextDue = new Map<string, number>();
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
  }

  start(): void {
    const now = this.clock.now();
    const saved = this.store.db.select().from(serverState).where(eq(serverState.key, CHECKPOINT_KEY)).get();
    const since = saved ? Math.max(Number(saved.value), now - MAX_CATCH_UP_MS) : now;
    const watched = this.plans.feedersWithMeals();
    this.apply(
      watched.flatMap((feederId) => this.decide(feederId, since, now)),
      true,
    );
    this.evaluatedUntil = now;
    for (const feederId of watched) this.replan(feederId, now + 1);
    this.writeCheckpoint(now);
    this.schedule();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.writeCheckpoint(this.evaluatedUntil);
  }

  /** Runs every meal that fell due since the last tick, all in one transaction. */
  tick(): void {
    const now = this.clock.now();
    const due = [...this.nextDue].filter(([, at]) => at <= now).map(([feederId]) => feederId);
    const decisions: Decision[] = [];
    for (const feederId of due) {
      // One feeder's broken plan must never hold up the others' meals.
      try {
        decisions.push(...this.decide(feederId, this.evaluatedUntil, now));
        this.replan(feederId, now + 1);
      } catch (err) {
        this.nextDue.delete(feederId);
        this.logger.error(
          { err, feederId },
          "could not evaluate this feeder's meal plan; it is skipped until saved again",
        );
      }
    }
    this.apply(decisions, false);
    this.evaluatedUntil = now;
    // The checkpoint only bounds a restart's look-back; a stale one just re-checks decided rows.
    if (now - this.lastCheckpointWrite >= 30_000) this.writeCheckpoint(now);
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      try {
        this.tick();
      } catch (err) {
        this.logger.error({ err }, "meal scheduler tick failed");
      }
      this.schedule();
    }, TICK_MS);
  }

  private replan(feederId: string, from = this.clock.now()): void {
    const plan = this.plans.get(feederId);
    const slots = plannedSlots(plan);
    const first = (start: number, end: number) =>
      occurrencesBetween(slots, plan.effectiveTimezone, new Date(start), new Date(end))[0];
    // Most plans have a meal within a day: that short window first (a whole fleet is replanned in one
    // tick), the rest of the lookahead only if it has none. Either way the earliest occurrence wins.
    const next = first(from, from + DAY_MS) ?? first(from + DAY_MS, from + LOOKAHEAD_MS);
    if (next) this.nextDue.set(feederId, next.dueAt.getTime());
    else this.nextDue.delete(feederId);
  }

  /** What to do with each occurrence due in (from, to]: feed it, or (past its grace) record it missed. */
  private decide(feederId: string, from: number, to: number): Decision[] {
    const plan = this.plans.get(feederId);
    const slots = plannedSlots(plan);
    const due = occurrencesBetween(slots, plan.effectiveTimezone, new Date(from + 1), new Date(to + 1));
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
    const { changes } = this.insertOccurrenceStatement().run({
      id: decision.id,
      feederId: decision.feederId,
      mealId: decision.occurrence.mealId,
      localDate: decision.occurrence.localDate,
      dueAt: decision.occurrence.dueAt,
      status: decision.status,
      feedId,
      decidedAt: new Date(this.clock.now()),
      // Nothing can go wrong with a paused meal; the rest stay watched until their outcome is known.
      checked: decision.status === "paused",
    });
    return changes > 0;
  }

  private insertOccurrenceStatement() {
    this.insertOccurrencePrepared ??= prepareInsertOccurrence(this.store);
    return this.insertOccurrencePrepared;
  }

  private writeCheckpoint(at: number): void {
    this.lastCheckpointWrite = at;
    this.store.db
      .insert(serverState)
      .values({ key: CHECKPOINT_KEY, value: String(at) })
      .onConflictDoUpdate({ target: serverState.key, set: { value: String(at) } })
      .run();
  }
}

/**
 * Prepared once: when a fleet's meals fall due together, one tick runs thousands of these. Without RETURNING
 * (a conflict shows as no change), which made each insert several times slower.
 */
function prepareInsertOccurrence(store: Store) {
  const p = sql.placeholder;
  return store.db
    .insert(occurrences)
    .values({
      id: p("id"),
      feederId: p("feederId"),
      mealId: p("mealId"),
      localDate: p("localDate"),
      dueAt: p("dueAt"),
      status: p("status"),
      feedId: p("feedId"),
      decidedAt: p("decidedAt"),
      checked: p("checked"),
    })
    .onConflictDoNothing()
    .prepare();
}
