/**
 * A feeder's meal plan: its time zone, its catch-up grace and its meals.
 * Saving a plan replaces it whole (like the devices that store one), and
 * tells listeners (the scheduler) so upcoming meals follow at once.
 */
import { asc, eq } from "drizzle-orm";
import { randomId } from "../auth/secrets.js";
import { AppError } from "../errors.js";
import type { Store } from "../store/db.js";
import { feeders, meals } from "../store/schema.js";
import type { FeederService } from "./feeders.js";
import { isValidTimeZone, type MealSlot, WEEKDAYS, type Weekday } from "./meal-time.js";

export interface Meal extends MealSlot {
  days: Weekday[];
  portions: number;
  label: string;
}

export interface MealPlan {
  feederId: string;
  /** The zone set on the feeder, or null for the server's. */
  timezone: string | null;
  /** The zone meals are actually evaluated in. */
  effectiveTimezone: string;
  graceMinutes: number;
  meals: Meal[];
}

export interface MealPlanInput {
  timezone?: string | null | undefined;
  graceMinutes?: number | undefined;
  meals: Array<
    Omit<Meal, "id" | "label" | "enabled" | "days"> & {
      id?: string | undefined;
      label?: string | undefined;
      enabled?: boolean | undefined;
      days: readonly Weekday[];
    }
  >;
}

export const MAX_MEALS = 24;

export class MealPlanService {
  private readonly listeners: Array<(feederId: string) => void> = [];

  constructor(
    private readonly store: Store,
    private readonly feeders: FeederService,
    private readonly serverTimeZone: string,
  ) {}

  onChange(listener: (feederId: string) => void): void {
    this.listeners.push(listener);
  }

  /** A deleted feeder's meals are gone with it (cascade); listeners drop what they held. */
  onFeederRemoved(listener: (feederId: string) => void): void {
    this.feeders.onRemoved(listener);
  }

  get(feederId: string): MealPlan {
    const feeder = this.feeders.require(feederId);
    const rows = this.store.db
      .select()
      .from(meals)
      .where(eq(meals.feederId, feederId))
      .orderBy(asc(meals.position))
      .all();
    return {
      feederId,
      timezone: feeder.timezone,
      effectiveTimezone: feeder.timezone ?? this.serverTimeZone,
      graceMinutes: feeder.graceMinutes,
      meals: rows.map((r) => ({
        id: r.id,
        time: r.time,
        days: WEEKDAYS.filter((d) => r.days.includes(d)),
        portions: r.portions,
        label: r.label,
        enabled: r.enabled,
      })),
    };
  }

  /** Feeders that have at least one meal, for the scheduler to watch. */
  feedersWithMeals(): string[] {
    return [
      ...new Set(
        this.store.db
          .select({ id: meals.feederId })
          .from(meals)
          .all()
          .map((r) => r.id),
      ),
    ];
  }

  replace(feederId: string, input: MealPlanInput): MealPlan {
    const feeder = this.feeders.require(feederId);
    if (input.timezone && !isValidTimeZone(input.timezone)) {
      throw new AppError("validation_failed", `timezone: "${input.timezone}" is not an IANA time zone.`);
    }
    const tooMany = input.meals.find((m) => m.portions > feeder.maxPortions);
    if (tooMany) {
      throw new AppError(
        "portions_out_of_range",
        `A meal at ${tooMany.time} asks for ${tooMany.portions} portions; this feeder allows at most ${feeder.maxPortions}.`,
      );
    }
    const ids = input.meals.map((m) => m.id).filter((id): id is string => id !== undefined);
    if (new Set(ids).size !== ids.length)
      throw new AppError("validation_failed", "meals: two meals share an id.");
    this.store.transaction(() => {
      const settings = {
        ...(input.timezone !== undefined && { timezone: input.timezone }),
        ...(input.graceMinutes !== undefined && { graceMinutes: input.graceMinutes }),
      };
      if (Object.keys(settings).length > 0) {
        this.store.db.update(feeders).set(settings).where(eq(feeders.id, feederId)).run();
      }
      this.store.db.delete(meals).where(eq(meals.feederId, feederId)).run();
      if (input.meals.length > 0) {
        this.store.db
          .insert(meals)
          .values(
            input.meals.map((m, position) => ({
              // Ids are kept across saves so an occurrence already decided today is recognised as the same meal.
              id: m.id ?? randomId(8),
              feederId,
              time: m.time,
              days: [...new Set<Weekday>(m.days)],
              portions: m.portions,
              label: m.label ?? "",
              enabled: m.enabled ?? true,
              position,
            })),
          )
          .run();
      }
    });
    for (const listener of this.listeners) listener(feederId);
    return this.get(feederId);
  }
}
