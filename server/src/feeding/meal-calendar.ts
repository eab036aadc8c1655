/**
 * The meal calendar a person reads: every planned occurrence in a period with
 * what became of it, joining the plan (what should happen) with the decided
 * occurrences and their feeds (what did).
 */
import { and, eq, gte, lt } from "drizzle-orm";
import type { Store } from "../store/db.js";
import { feeds, occurrences } from "../store/schema.js";
import type { MealPlanService } from "./meal-plans.js";
import { occurrenceId, occurrencesBetween } from "./meal-time.js";

export const MEAL_STATES = ["planned", "dispatched", "dispensed", "failed", "missed"] as const;
export type MealState = (typeof MEAL_STATES)[number];

export interface CalendarEntry {
  occurrenceId: string;
  mealId: string;
  label: string;
  localDate: string;
  dueAt: Date;
  portions: number;
  state: MealState;
  feedId: string | null;
  grams: number | null;
  source: "remote" | "schedule" | "button" | null;
  error: string | null;
}

export class MealCalendar {
  constructor(
    private readonly store: Store,
    private readonly plans: MealPlanService,
  ) {}

  between(feederId: string, from: Date, to: Date): CalendarEntry[] {
    const plan = this.plans.get(feederId);
    const decided = this.store.db
      .select({ occurrence: occurrences, feed: feeds })
      .from(occurrences)
      .leftJoin(feeds, eq(feeds.id, occurrences.feedId))
      .where(and(eq(occurrences.feederId, feederId), gte(occurrences.dueAt, from), lt(occurrences.dueAt, to)))
      .all();
    const byId = new Map(decided.map((d) => [d.occurrence.id, d]));
    const entries = occurrencesBetween(plan.meals, plan.effectiveTimezone, from, to).map(
      (o): CalendarEntry => {
        const id = occurrenceId(feederId, o.localDate, o.mealId);
        const meal = plan.meals.find((m) => m.id === o.mealId);
        const row = byId.get(id);
        byId.delete(id);
        return this.entry(id, o.mealId, meal?.label ?? "", o.localDate, o.dueAt, meal?.portions ?? 0, row);
      },
    );
    // Decided occurrences of meals since removed from the plan still happened (or did not): keep them.
    for (const [id, row] of byId) {
      const { occurrence } = row;
      entries.push(this.entry(id, occurrence.mealId, "", occurrence.localDate, occurrence.dueAt, 0, row));
    }
    return entries.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
  }

  private entry(
    id: string,
    mealId: string,
    label: string,
    localDate: string,
    dueAt: Date,
    portions: number,
    row: { occurrence: typeof occurrences.$inferSelect; feed: typeof feeds.$inferSelect | null } | undefined,
  ): CalendarEntry {
    const feed = row?.feed ?? null;
    return {
      occurrenceId: id,
      mealId,
      label,
      localDate,
      dueAt,
      portions: feed?.portions ?? portions,
      state: stateOf(row?.occurrence.status, feed?.status),
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
  if (!occurrence) return "planned";
  if (occurrence === "missed") return "missed";
  switch (feed) {
    case "dispensed":
      return "dispensed";
    case "failed":
    case "timed_out":
      return "failed";
    // Expired means the feeder never started it: for the pet, that meal was missed.
    case "expired":
      return "missed";
    default:
      return "dispatched";
  }
}
