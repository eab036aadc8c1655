/**
 * A feeder's history for charts: what it dispensed per local day (from the feed ledger, summed as a pet's
 * intake is, see feed-days.ts) and its food level over the same days (from telemetry), in the feeder's
 * effective time zone.
 *
 * A feeder reporting every minute sends 43,000 readings a month; a chart on a phone shows a few hundred
 * points at most. So the food level is thinned in SQL to the last reading of each of at most
 * MAX_FOOD_LEVEL_POINTS equal slices of the period: real readings (never averages, which would smooth the
 * drop after a meal into a slope), and an answer that stays small whatever the period.
 */
import { and, eq, gte, isNotNull, sql } from "drizzle-orm";
import { Temporal } from "temporal-polyfill";
import type { Clock } from "../clock.js";
import type { Store } from "../store/db.js";
import { feeders, telemetry } from "../store/schema.js";
import { feedDays } from "./feed-days.js";
import type { FeederService } from "./feeders.js";
import { localDateAt } from "./meal-time.js";

export const DEFAULT_HISTORY_DAYS = 14;
export const MAX_HISTORY_DAYS = 90;
export const MAX_FOOD_LEVEL_POINTS = 300;

export interface HistoryDay {
  /** Local calendar date in the feeder's zone, YYYY-MM-DD. */
  date: string;
  /**
   * Grams dispensed (measured, else portions × portionGrams), to 0.1 g; null when some of the day's portions
   * have no known weight, since a partial sum would look like a small day.
   */
  grams: number | null;
  portions: number;
  /** Feeds dispensed. */
  feeds: number;
  /** Feeds that failed. */
  failed: number;
}

export interface FoodLevelPoint {
  at: Date;
  /** 0–1, as the device reports it. */
  foodLevel: number;
}

export interface FeederHistory {
  timeZone: string;
  /** Oldest first, ending with today. */
  days: HistoryDay[];
  /** Oldest first; at most MAX_FOOD_LEVEL_POINTS. */
  foodLevel: FoodLevelPoint[];
}

export class FeederHistoryService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly feeders: FeederService,
    private readonly serverTimeZone: string,
  ) {}

  history(feederId: string, days = DEFAULT_HISTORY_DAYS): FeederHistory {
    const timeZone = this.feeders.require(feederId).timezone ?? this.serverTimeZone;
    const now = this.clock.now();
    const perDay = feedDays(this.store, eq(feeders.id, feederId), { now: new Date(now), timeZone, days });
    const first = perDay[0]?.date ?? localDateAt(new Date(now), timeZone);
    const from = Temporal.PlainDate.from(first).toZonedDateTime(timeZone).epochMilliseconds;
    return {
      timeZone,
      days: perDay.map((day) => ({
        date: day.date,
        grams: day.unknownPortions > 0 ? null : day.grams,
        portions: day.portions,
        feeds: day.feeds,
        failed: day.failed,
      })),
      foodLevel: this.foodLevel(feederId, from, now),
    };
  }

  private foodLevel(feederId: string, from: number, now: number): FoodLevelPoint[] {
    // Readings wait up to 100 ms in the writer's batch; the card may already show the newest one.
    this.feeders.telemetryWriter.flush();
    // One more millisecond than the even split: a reading at `now` itself still falls in the last slice.
    const sliceMs = Math.floor((now - from) / MAX_FOOD_LEVEL_POINTS) + 1;
    const last = sql<number>`max(${telemetry.at})`;
    const rows = this.store.db
      // With one max() aggregate, SQLite takes the bare column (food_level) from the row holding the max.
      .select({ at: last, foodLevel: telemetry.foodLevel })
      .from(telemetry)
      .where(
        and(
          eq(telemetry.feederId, feederId),
          gte(telemetry.at, new Date(from)),
          isNotNull(telemetry.foodLevel),
        ),
      )
      // CAST: parameters may be bound as REAL, and the slice must be a whole number.
      .groupBy(sql`cast((${telemetry.at} - ${from}) / ${sliceMs} as integer)`)
      .orderBy(last)
      .all();
    return rows.flatMap((row) =>
      row.foodLevel === null ? [] : [{ at: new Date(row.at), foodLevel: row.foodLevel }],
    );
  }
}
