/**
 * The feed ledger summed per local day, shared by a pet's intake and a feeder's history so both say the same
 * grams for the same feeds:
 *
 * - Dispensed feeds count; a `timed_out` one may or may not have come out, so it counts nowhere. Failed feeds
 *   are counted apart (they dispensed nothing).
 * - A feed's grams are what the device measured, else its portions times the feeder's portion size
 *   (portionGrams, from the device's hello) as an estimate; with neither, its portions are `unknownPortions`,
 *   so a day's grams are never silently low.
 * - A feed belongs to the local day it ended (completedAt, else requestedAt) in the zone given.
 */
import { and, eq, gte, inArray, type SQL } from "drizzle-orm";
import { Temporal } from "temporal-polyfill";
import type { Store } from "../store/db.js";
import { feeders, feeds } from "../store/schema.js";
import { localDateAt } from "./meal-time.js";

export interface FeedDay {
  /** Local calendar date, YYYY-MM-DD. */
  date: string;
  /** Measured and estimated grams of the dispensed feeds, to 0.1 g; portions of unknown weight are not in it. */
  grams: number;
  /** Dispensed portions whose weight is unknown (no measurement, no portion size). */
  unknownPortions: number;
  /** Portions dispensed. */
  portions: number;
  /** Feeds dispensed. */
  feeds: number;
  /** Feeds that failed. */
  failed: number;
}

/**
 * A feed ends at most its expiry (at most a day) plus its result timeout (at most an hour) after it was
 * requested: looking two days further back by request time finds every feed that ended in the window (short of
 * a device reporting its result more than a day late), and lets the (feeder_id, requested_at) index bound the
 * scan.
 */
const REQUEST_LOOKBACK_DAYS = 2;

/**
 * Each of the `days` local days in `timeZone` up to and including the one containing `now`, oldest first,
 * with the feeds of the feeders `which` selects (a condition on the feeders table).
 */
export function feedDays(
  store: Store,
  which: SQL | undefined,
  options: { now: Date; timeZone: string; days: number },
): FeedDay[] {
  const { timeZone, days } = options;
  const today = Temporal.PlainDate.from(localDateAt(options.now, timeZone));
  const first = today.subtract({ days: days - 1 });
  const totals = new Map<string, FeedDay>(
    Array.from({ length: days }, (_, i) => {
      const date = first.add({ days: i }).toString();
      return [date, { date, grams: 0, unknownPortions: 0, portions: 0, feeds: 0, failed: 0 }];
    }),
  );

  const lookFrom = first.subtract({ days: REQUEST_LOOKBACK_DAYS }).toZonedDateTime(timeZone);
  const rows = store.db
    .select({
      status: feeds.status,
      portions: feeds.portions,
      grams: feeds.grams,
      requestedAt: feeds.requestedAt,
      completedAt: feeds.completedAt,
      portionGrams: feeders.portionGrams,
    })
    // SQLite never reorders a CROSS JOIN: the selected feeders stay the outer loop and each one's feeds come
    // from the (feeder_id, requested_at) index. As an inner join, without statistics, it scans all feeds.
    .from(feeders)
    .crossJoin(feeds)
    .where(
      and(
        which,
        eq(feeds.feederId, feeders.id),
        inArray(feeds.status, ["dispensed", "failed"]),
        gte(feeds.requestedAt, new Date(lookFrom.epochMilliseconds)),
      ),
    )
    .all();
  for (const row of rows) {
    const day = totals.get(localDateAt(row.completedAt ?? row.requestedAt, timeZone));
    if (!day) continue;
    if (row.status === "failed") {
      day.failed += 1;
      continue;
    }
    day.feeds += 1;
    day.portions += row.portions;
    if (row.grams !== null) day.grams += row.grams;
    else if (row.portionGrams !== null) day.grams += row.portions * row.portionGrams;
    else day.unknownPortions += row.portions;
  }
  return [...totals.values()].map((day) => ({ ...day, grams: Math.round(day.grams * 10) / 10 }));
}
