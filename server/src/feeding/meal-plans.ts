/**
 * A feeder's meal plan: its time zone, its catch-up grace, its meals, one-off
 * meals, skipped occurrences and a pause. Saving a plan replaces it whole
 * (like the devices that store one). Every change bumps the plan's version and
 * tells listeners (the scheduler, the device schedule sync) so upcoming meals
 * follow at once.
 */
import { and, asc, eq, gt, sql } from "drizzle-orm";
import { randomId } from "../auth/secrets.js";
import type { Clock } from "../clock.js";
import { AppError } from "../errors.js";
import { CAPABILITY_SCHEDULE } from "../protocol/native-v1.js";
import type { Store } from "../store/db.js";
import { feeders, meals, occurrences, oneOffMeals } from "../store/schema.js";
import type { FeederRecord, FeederService } from "./feeders.js";
import {
  isValidTimeZone,
  localDateAt,
  type MealSlot,
  occurrenceId,
  occurrenceOn,
  occurrencesBetween,
  WEEKDAYS,
  type Weekday,
} from "./meal-time.js";

export interface Meal extends MealSlot {
  days: Weekday[];
  portions: number;
  label: string;
}

export interface OneOffMeal {
  id: string;
  date: string;
  time: string;
  portions: number;
  label: string;
}

export interface Pause {
  from: string;
  until: string;
}

/** Anything that can fall due: a plan meal, or a one-off (which carries its date). */
export interface PlannedSlot extends MealSlot {
  portions: number;
  label: string;
  oneOff: boolean;
}

export interface MealPlan {
  feederId: string;
  /** The zone set on the feeder, or null for the server's. */
  timezone: string | null;
  /** The zone meals are actually evaluated in. */
  effectiveTimezone: string;
  graceMinutes: number;
  meals: Meal[];
  oneOffs: OneOffMeal[];
  pause: Pause | null;
  /** Bumped by every change; a device that stores schedules confirms the version it runs. */
  version: number;
  deviceVersion: number | null;
  /** The device stores this plan and feeds from it itself; the server only reconciles. */
  deviceDriven: boolean;
}

/** The plan's meals and one-offs as one list of slots, for calendar arithmetic. */
export function plannedSlots(plan: MealPlan): PlannedSlot[] {
  return [
    ...plan.meals.map((m) => ({ ...m, oneOff: false })),
    ...plan.oneOffs.map((o) => ({
      id: o.id,
      time: o.time,
      days: [],
      date: o.date,
      enabled: true,
      portions: o.portions,
      label: o.label,
      oneOff: true,
    })),
  ];
}

export function isPaused(plan: MealPlan, localDate: string): boolean {
  return plan.pause !== null && plan.pause.from <= localDate && localDate <= plan.pause.until;
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

/** An occurrence named by its id and due instant, as the calendar looks it up. */
export interface DecidedOccurrence {
  id: string;
  dueAt: Date;
}

export const MAX_MEALS = 24;
export const MAX_ONE_OFFS = 50;
const ONE_OFF_PREFIX = "once";
/** "Skip next" looks this far ahead: a week and a day covers every weekly meal. */
const SKIP_NEXT_HORIZON_MS = 8 * 24 * 60 * 60 * 1000;
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

export class MealPlanService {
  private readonly listeners: Array<(feederId: string) => void> = [];
  // The scheduler reads every due feeder's plan on each tick: prepared once, not rebuilt per call.
  private readonly mealsOf;
  private readonly oneOffsOf;

  constructor(
    private readonly store: Store,
    private readonly feeders: FeederService,
    private readonly clock: Clock,
    private readonly serverTimeZone: string,
  ) {
    const feederId = sql.placeholder("feederId");
    this.mealsOf = store.db
      .select()
      .from(meals)
      .where(eq(meals.feederId, feederId))
      .orderBy(asc(meals.position))
      .prepare();
    this.oneOffsOf = store.db
      .select()
      .from(oneOffMeals)
      .where(eq(oneOffMeals.feederId, feederId))
      .orderBy(asc(oneOffMeals.localDate), asc(oneOffMeals.time))
      .prepare();
  }

  onChange(listener: (feederId: string) => void): void {
    this.listeners.push(listener);
  }

  /** A deleted feeder's meals are gone with it (cascade); listeners drop what they held. */
  onFeederRemoved(listener: (feederId: string) => void): void {
    this.feeders.onRemoved(listener);
  }

  /** A device said hello: whether it keeps the plan itself may have changed. */
  onDeviceAnnounced(listener: (feederId: string) => void): void {
    this.feeders.onHello(listener);
  }

  /** The feeder's plan; `feeder` saves reading its record again when the caller has it (lists of feeders). */
  get(feederId: string, feeder: Omit<FeederRecord, "secretHash"> = this.feeders.require(feederId)): MealPlan {
    const rows = this.mealsOf.all({ feederId });
    const oneOffs = this.oneOffsOf.all({ feederId });
    return {
      feederId,
      timezone: feeder.timezone,
      effectiveTimezone: feeder.timezone ?? this.serverTimeZone,
      graceMinutes: feeder.graceMinutes,
      oneOffs: oneOffs.map((o) => ({
        id: o.id,
        date: o.localDate,
        time: o.time,
        portions: o.portions,
        label: o.label,
      })),
      pause:
        feeder.pausedFrom && feeder.pausedUntil
          ? { from: feeder.pausedFrom, until: feeder.pausedUntil }
          : null,
      version: feeder.scheduleVersion,
      deviceVersion: feeder.deviceScheduleVersion,
      // The device keeps the plan itself when it announced the `schedule` capability.
      deviceDriven: feeder.capabilities?.includes(CAPABILITY_SCHEDULE) ?? false,
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

  /** Feeders that have at least one meal or one-off, for the scheduler to watch. */
  feedersWithMeals(): string[] {
    const rows = this.store.db
      .select({ id: meals.feederId })
      .from(meals)
      .union(this.store.db.select({ id: oneOffMeals.feederId }).from(oneOffMeals))
      .all();
    return rows.map((r) => r.id);
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
    // Planned meals are never refused when they fall due, so a plan beyond the daily limit is refused here.
    const dayNames = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
    for (const [i, day] of WEEKDAYS.entries()) {
      const planned = input.meals
        .filter((m) => (m.enabled ?? true) && m.days.includes(day))
        .reduce((sum, m) => sum + m.portions, 0);
      if (planned > feeder.dailyMaxPortions) {
        throw new AppError(
          "safety_limit",
          `The meals on ${dayNames[i]} add up to ${planned} portions; the daily limit for this feeder is ${feeder.dailyMaxPortions}.`,
        );
      }
    }
    const ids = input.meals.map((m) => m.id).filter((id): id is string => id !== undefined);
    if (new Set(ids).size !== ids.length)
      throw new AppError("validation_failed", "meals: two meals share an id.");
    if (ids.some((id) => id.startsWith(ONE_OFF_PREFIX))) {
      throw new AppError(
        "validation_failed",
        `meals: ids starting with "${ONE_OFF_PREFIX}" are for one-off meals.`,
      );
    }
    this.store.transaction(() => {
      this.bumpVersion(feederId);
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
    this.changed(feederId);
    return this.get(feederId);
  }

  addOneOff(
    feederId: string,
    input: { date: string; time: string; portions: number; label?: string | undefined },
  ): OneOffMeal {
    const feeder = this.feeders.require(feederId);
    if (input.portions > feeder.maxPortions) {
      throw new AppError(
        "portions_out_of_range",
        `This one-off meal asks for ${input.portions} portions; this feeder allows at most ${feeder.maxPortions}.`,
      );
    }
    // Past one-offs are history (their occurrences stay); they no longer count towards the limit below.
    this.pruneOneOffs(feederId);
    const plan = this.get(feederId);
    const slot = { id: "new", time: input.time, days: [], date: input.date, enabled: true };
    const occurrence = occurrenceOn(slot, input.date, plan.effectiveTimezone);
    if (!occurrence || occurrence.dueAt.getTime() <= this.clock.now()) {
      throw new AppError(
        "validation_failed",
        `${input.date} ${input.time} has already passed in ${plan.effectiveTimezone}.`,
      );
    }
    const planned = plannedSlots(plan)
      .filter((m) => occurrenceOn(m, input.date, plan.effectiveTimezone) !== undefined)
      .reduce((sum, m) => sum + m.portions, input.portions);
    if (planned > feeder.dailyMaxPortions) {
      throw new AppError(
        "safety_limit",
        `With this one-off meal, ${input.date} would have ${planned} portions planned; the daily limit for this feeder is ${feeder.dailyMaxPortions}.`,
      );
    }
    if (plan.oneOffs.length >= MAX_ONE_OFFS) {
      throw new AppError(
        "validation_failed",
        `At most ${MAX_ONE_OFFS} one-off meals may be waiting; delete one first.`,
      );
    }
    const oneOff: OneOffMeal = {
      id: `${ONE_OFF_PREFIX}${randomId(8)}`,
      date: input.date,
      time: input.time,
      portions: input.portions,
      label: input.label ?? "",
    };
    this.store.transaction(() => {
      this.bumpVersion(feederId);
      this.store.db
        .insert(oneOffMeals)
        .values({ ...oneOff, localDate: oneOff.date, feederId, createdAt: new Date(this.clock.now()) })
        .run();
    });
    this.changed(feederId);
    return oneOff;
  }

  removeOneOff(feederId: string, id: string): void {
    this.feeders.require(feederId);
    const removed = this.store.transaction(() => {
      const row = this.store.db
        .delete(oneOffMeals)
        .where(and(eq(oneOffMeals.feederId, feederId), eq(oneOffMeals.id, id)))
        .returning()
        .get();
      if (row) this.bumpVersion(feederId);
      return row;
    });
    if (!removed) throw new AppError("meal_not_found", `No one-off meal "${id}" on this feeder.`);
    this.changed(feederId);
  }

  setPause(feederId: string, pause: Pause | null): MealPlan {
    this.feeders.require(feederId);
    if (
      pause &&
      !(DATE_PATTERN.test(pause.from) && DATE_PATTERN.test(pause.until) && pause.from <= pause.until)
    ) {
      throw new AppError(
        "validation_failed",
        "pause: from and until are dates (YYYY-MM-DD) and from is not after until.",
      );
    }
    this.store.transaction(() => {
      this.bumpVersion(feederId);
      this.store.db
        .update(feeders)
        .set({ pausedFrom: pause?.from ?? null, pausedUntil: pause?.until ?? null })
        .where(eq(feeders.id, feederId))
        .run();
    });
    this.changed(feederId);
    return this.get(feederId);
  }

  /**
   * Skips one future occurrence. Recorded as a decided occurrence, so the
   * scheduler passes it over the same way it never feeds a decided one twice.
   */
  skip(feederId: string, localDate: string, mealId: string): DecidedOccurrence {
    const plan = this.get(feederId);
    const slot = plannedSlots(plan).find((m) => m.id === mealId);
    if (!slot) throw new AppError("meal_not_found", `No meal "${mealId}" in this feeder's plan.`);
    const now = this.clock.now();
    const occurrence = occurrenceOn(slot, localDate, plan.effectiveTimezone);
    if (!occurrence || occurrence.dueAt.getTime() <= now) {
      throw new AppError(
        "meal_not_planned",
        `"${mealId}" is not planned on ${localDate}, or its time has passed.`,
      );
    }
    const id = occurrenceId(feederId, localDate, mealId);
    this.store.transaction(() => {
      const existing = this.store.db.select().from(occurrences).where(eq(occurrences.id, id)).get();
      if (existing?.status === "skipped") return;
      if (existing)
        throw new AppError("meal_not_planned", `${localDate} ${mealId} is already ${existing.status}.`);
      this.bumpVersion(feederId);
      this.store.db
        .insert(occurrences)
        .values({
          id,
          feederId,
          mealId,
          localDate,
          dueAt: occurrence.dueAt,
          status: "skipped",
          decidedAt: new Date(now),
          checked: true,
        })
        .run();
    });
    this.changed(feederId);
    return { id, dueAt: occurrence.dueAt };
  }

  /** Skips the next meal that is still planned (not yet fed, skipped or paused). */
  skipNext(feederId: string): DecidedOccurrence {
    const plan = this.get(feederId);
    const now = this.clock.now();
    const decided = new Set(
      this.store.db
        .select({ id: occurrences.id })
        .from(occurrences)
        .where(and(eq(occurrences.feederId, feederId), gt(occurrences.dueAt, new Date(now))))
        .all()
        .map((r) => r.id),
    );
    const next = occurrencesBetween(
      plannedSlots(plan),
      plan.effectiveTimezone,
      new Date(now),
      new Date(now + SKIP_NEXT_HORIZON_MS),
    ).find(
      (o) => !isPaused(plan, o.localDate) && !decided.has(occurrenceId(feederId, o.localDate, o.mealId)),
    );
    if (!next) throw new AppError("meal_not_planned", "No meal is planned in the next 8 days.");
    return this.skip(feederId, next.localDate, next.mealId);
  }

  unskip(feederId: string, localDate: string, mealId: string): DecidedOccurrence {
    this.feeders.require(feederId);
    const id = occurrenceId(feederId, localDate, mealId);
    const removed = this.store.transaction(() => {
      const row = this.store.db
        .delete(occurrences)
        .where(
          and(
            eq(occurrences.id, id),
            eq(occurrences.status, "skipped"),
            gt(occurrences.dueAt, new Date(this.clock.now())),
          ),
        )
        .returning()
        .get();
      if (row) this.bumpVersion(feederId);
      return row;
    });
    if (!removed)
      throw new AppError("meal_not_planned", `${localDate} ${mealId} is not a skipped future meal.`);
    this.changed(feederId);
    return { id, dueAt: removed.dueAt };
  }

  /** Future skips, as `<local date>/<meal id>`: what a device-side schedule must leave out. */
  upcomingSkips(feederId: string): string[] {
    return this.store.db
      .select({ localDate: occurrences.localDate, mealId: occurrences.mealId })
      .from(occurrences)
      .where(
        and(
          eq(occurrences.feederId, feederId),
          eq(occurrences.status, "skipped"),
          gt(occurrences.dueAt, new Date(this.clock.now())),
        ),
      )
      .all()
      .map((r) => `${r.localDate}/${r.mealId}`);
  }

  /** The device says which plan version it runs. */
  deviceRuns(feederId: string, version: number): void {
    this.store.db
      .update(feeders)
      .set({ deviceScheduleVersion: version })
      .where(eq(feeders.id, feederId))
      .run();
  }

  private pruneOneOffs(feederId: string): void {
    const plan = this.get(feederId);
    const today = localDateAt(new Date(this.clock.now()), plan.effectiveTimezone);
    this.store.db
      .delete(oneOffMeals)
      .where(and(eq(oneOffMeals.feederId, feederId), sql`${oneOffMeals.localDate} < ${today}`))
      .run();
  }

  private bumpVersion(feederId: string): void {
    this.store.db
      .update(feeders)
      .set({ scheduleVersion: sql`${feeders.scheduleVersion} + 1` })
      .where(eq(feeders.id, feederId))
      .run();
  }

  private changed(feederId: string): void {
    for (const listener of this.listeners) listener(feederId);
  }
}
