/**
 * The meal calendar a person reads: every planned occurrence in a period with
 * what became of it, joining the plan (what should happen) with the decided
 * occurrences and their feeds (what did), plus the extra meals nobody planned
 * (feed now, button presses, device schedule runs that match no meal).
 */
import { and, eq, gte, inArray, isNotNull, lt, sql } from "drizzle-orm";
import type { Store } from "../store/db.js";
import { feeds, occurrences } from "../store/schema.js";
import { isPaused, type MealPlan, type MealPlanService, plannedSlots } from "./meal-plans.js";
import { localDateAt, occurrenceId, occurrencesBetween } from "./meal-time.js";

const DAY_MS = 24 * 60 * 60 * 1000;

export const MEAL_STATES = [
  "planned",
  "dispatched",
  "dispensed",
  "failed",
  "missed",
  "skipped",
  "paused",
] as const;
export type MealState = (typeof MEAL_STATES)[number];
export const MEAL_KINDS = ["meal", "one-off", "extra"] as const;

export interface CalendarEntry {
  /** Null for an extra meal, which belongs to no plan. */
  occurrenceId: string | null;
  kind: (typeof MEAL_KINDS)[number];
  mealId: string;
  label: string;
  localDate: string;
  dueAt: Date;
  portions: number;
  state: MealState;
  feedId: string | null;
  grams: number | null;
  source: (typeof feeds.$inferSelect)["source"] | null;
  error: string | null;
}

export class MealCalendar {
  // Every feeder card asks for its next meal: prepared once, not per feeder and request.
  private readonly decided;

  constructor(
    private readonly store: Store,
    private readonly plans: MealPlanService,
  ) {
    this.decided = store.db
      .select({ occurrence: occurrences, feed: feeds })
      .from(occurrences)
      .leftJoin(feeds, eq(feeds.id, occurrences.feedId))
      .where(
        and(
          eq(occurrences.feederId, sql.placeholder("feederId")),
          gte(occurrences.dueAt, sql.placeholder("from")),
          lt(occurrences.dueAt, sql.placeholder("to")),
        ),
      )
      .prepare();
  }

  between(feederId: string, from: Date, to: Date): CalendarEntry[] {
    const plan = this.plans.get(feederId);
    const entries = this.planned(feederId, plan, from, to);
    entries.push(...this.extras(feederId, plan.effectiveTimezone, from, to));
    return entries.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
  }

  /** The next meal still to come within 8 days: planned, not skipped, paused or already fed. */
  next(feederId: string, now: Date, plan: MealPlan = this.plans.get(feederId)): CalendarEntry | undefined {
    // No meal, no next meal: nothing to read (every feeder without a plan, on every list of feeders).
    if (plannedSlots(plan).length === 0) return undefined;
    // Extra meals are never "next": only the plan's occurrences are read.
    return this.planned(feederId, plan, now, new Date(now.getTime() + 8 * DAY_MS))
      .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime())
      .find((e) => e.state === "planned");
  }

  /** The plan's occurrences in the period with what became of them, unsorted. */
  private planned(feederId: string, plan: MealPlan, from: Date, to: Date): CalendarEntry[] {
    const decided = this.decided.all({ feederId, from: from.getTime(), to: to.getTime() });
    const byId = new Map(decided.map((d) => [d.occurrence.id, d]));
    const slots = plannedSlots(plan);
    const entries = occurrencesBetween(slots, plan.effectiveTimezone, from, to).map((o): CalendarEntry => {
      const id = occurrenceId(feederId, o.localDate, o.mealId);
      const meal = slots.find((m) => m.id === o.mealId);
      const row = byId.get(id);
      byId.delete(id);
      const entry = this.entry(
        id,
        o.mealId,
        meal?.label ?? "",
        o.localDate,
        o.dueAt,
        meal?.portions ?? 0,
        row,
      );
      if (meal?.oneOff) entry.kind = "one-off";
      // Not decided yet, but the pause already says what will happen.
      if (!row && isPaused(plan, o.localDate)) entry.state = "paused";
      return entry;
    });
    // Decided occurrences of meals since removed from the plan still happened (or did not): keep them.
    for (const [id, row] of byId) {
      const { occurrence } = row;
      entries.push(this.entry(id, occurrence.mealId, "", occurrence.localDate, occurrence.dueAt, 0, row));
    }
    return entries;
  }

  /** One occurrence as the calendar shows it. */
  occurrence(feederId: string, occurrence: { id: string; dueAt: Date }): CalendarEntry {
    const at = occurrence.dueAt.getTime();
    const entry = this.between(feederId, new Date(at), new Date(at + 1)).find(
      (e) => e.occurrenceId === occurrence.id,
    );
    if (!entry) throw new Error(`occurrence ${occurrence.id} is not in the calendar`);
    return entry;
  }

  /** Feeds in the period that no occurrence accounts for. */
  private extras(feederId: string, timeZone: string, from: Date, to: Date): CalendarEntry[] {
    const inPeriod = and(
      eq(feeds.feederId, feederId),
      gte(feeds.requestedAt, from),
      lt(feeds.requestedAt, to),
    );
    // A feed is linked to an occurrence due at most a grace window (3 h at most) from it: a day's margin
    // keeps this on the (feeder, due) index instead of reading the feeder's whole history.
    const linked = this.store.db
      .select({ id: occurrences.feedId })
      .from(occurrences)
      .where(
        and(
          eq(occurrences.feederId, feederId),
          gte(occurrences.dueAt, new Date(from.getTime() - DAY_MS)),
          lt(occurrences.dueAt, new Date(to.getTime() + DAY_MS)),
          isNotNull(occurrences.feedId),
        ),
      );
    const rows = this.store.db
      .select()
      .from(feeds)
      .where(and(inPeriod, inArray(feeds.status, ["dispensed", "failed", "timed_out", "accepted"])))
      .all();
    const linkedIds = new Set(
      linked
        .all()
        .map((r) => r.id)
        .filter((id): id is string => id !== null),
    );
    return rows
      .filter((f) => !linkedIds.has(f.id))
      .map((feed) => ({
        ...this.entry(
          null,
          "",
          "",
          localDateAt(feed.requestedAt, timeZone),
          feed.requestedAt,
          feed.portions,
          {
            occurrence: undefined,
            feed,
          },
        ),
        kind: "extra" as const,
      }));
  }

  private entry(
    id: string | null,
    mealId: string,
    label: string,
    localDate: string,
    dueAt: Date,
    portions: number,
    row:
      | { occurrence: typeof occurrences.$inferSelect | undefined; feed: typeof feeds.$inferSelect | null }
      | undefined,
  ): CalendarEntry {
    const feed = row?.feed ?? null;
    return {
      occurrenceId: id,
      kind: "meal",
      mealId,
      label,
      localDate,
      dueAt,
      portions: feed?.portions ?? portions,
      state: stateOf(row?.occurrence?.status, feed?.status),
      feedId: feed?.id ?? null,
      grams: feed?.grams ?? null,
      source: feed?.source ?? null,
      error: feed?.status === "timed_out" ? "no result from the feeder" : (feed?.error ?? null),
    };
  }
}

function stateOf(
  occurrence: (typeof occurrences.$inferSelect)["status"] | undefined,
  feed: (typeof feeds.$inferSelect)["status"] | undefined,
): MealState {
  switch (feed) {
    case "dispensed":
      return "dispensed";
    case "failed":
    case "timed_out":
      return "failed";
    // Expired means the feeder never started it: for the pet, that meal was missed.
    case "expired":
      return "missed";
    case undefined:
      // No feed: what the server decided, or nothing yet (a device-side meal not yet reported is still planned).
      return occurrence === undefined || occurrence === "expected" || occurrence === "dispatched"
        ? "planned"
        : occurrence;
    default:
      return "dispatched";
  }
}
