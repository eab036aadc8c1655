/**
 * When a planned meal happens, in the feeder's own time zone. Calendar and
 * time-zone arithmetic is Temporal's (temporal-polyfill); this module only
 * states our rules on top of it:
 *
 * - A meal at a wall-clock time that does not exist that day (the hour skipped
 *   when clocks spring forward) runs once, at the first valid minute after the
 *   gap (02:30 on a Berlin spring-forward day runs at 03:00).
 * - A meal at a wall-clock time that happens twice (the hour repeated when
 *   clocks fall back) runs once, at the first of the two.
 */
import { Temporal } from "temporal-polyfill";

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface MealSlot {
  id: string;
  /** Local wall-clock time, HH:MM (24 h). */
  time: string;
  days: readonly Weekday[];
  enabled: boolean;
  /** A one-off meal's local date (YYYY-MM-DD); it then happens on that date only, whatever `days` says. */
  date?: string | undefined;
}

export interface Occurrence {
  mealId: string;
  /** The feeder's local calendar date, YYYY-MM-DD. */
  localDate: string;
  dueAt: Date;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    Temporal.Now.zonedDateTimeISO(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The id that makes one occurrence dispatch at most once, ever: `<feeder>/<local date>/<meal>`. */
export function occurrenceId(feederId: string, localDate: string, mealId: string): string {
  return `${feederId}/${localDate}/${mealId}`;
}

/** The feeder's local calendar date (YYYY-MM-DD) at an instant. */
export function localDateAt(at: Date, timeZone: string): string {
  return Temporal.Instant.fromEpochMilliseconds(at.getTime())
    .toZonedDateTimeISO(timeZone)
    .toPlainDate()
    .toString();
}

/** The instant a meal is due on a local date, with the DST rules above. */
export function dueInstant(localDate: string, time: string, timeZone: string): Date {
  const wall = Temporal.PlainDateTime.from(`${localDate}T${time}`);
  const compatible = wall.toZonedDateTime(timeZone, { disambiguation: "compatible" });
  if (Temporal.PlainDateTime.compare(compatible.toPlainDateTime(), wall) === 0) {
    // Exists (once, or twice: "compatible" takes the earlier of a repeated hour).
    return new Date(compatible.epochMilliseconds);
  }
  // Skipped by a forward transition: the transition itself is the first valid minute after the gap.
  const before = wall.toZonedDateTime(timeZone, { disambiguation: "earlier" });
  const transition = before.getTimeZoneTransition("next");
  return new Date((transition ?? compatible).epochMilliseconds);
}

/** A meal's occurrence on a local date, if it is enabled and planned for that date. */
export function occurrenceOn(meal: MealSlot, localDate: string, timeZone: string): Occurrence | undefined {
  if (!meal.enabled) return undefined;
  const weekday = WEEKDAYS[Temporal.PlainDate.from(localDate).dayOfWeek - 1] as Weekday;
  if (meal.date !== undefined ? meal.date !== localDate : !meal.days.includes(weekday)) return undefined;
  return { mealId: meal.id, localDate, dueAt: dueInstant(localDate, meal.time, timeZone) };
}

/** Every enabled meal's occurrence due in [from, to), in order of time. */
export function occurrencesBetween(
  meals: readonly MealSlot[],
  timeZone: string,
  from: Date,
  to: Date,
): Occurrence[] {
  const active = meals.filter((m) => m.enabled && (m.date !== undefined || m.days.length > 0));
  if (active.length === 0 || to <= from) return [];
  // A local day can start up to 14 h before or after UTC midnight: widen by a day each side, filter by instant.
  const first = Temporal.Instant.fromEpochMilliseconds(from.getTime())
    .toZonedDateTimeISO(timeZone)
    .toPlainDate();
  const last = Temporal.Instant.fromEpochMilliseconds(to.getTime())
    .toZonedDateTimeISO(timeZone)
    .toPlainDate();
  const out: Occurrence[] = [];
  for (
    let day = first.subtract({ days: 1 });
    Temporal.PlainDate.compare(day, last) <= 0;
    day = day.add({ days: 1 })
  ) {
    const localDate = day.toString();
    for (const meal of active) {
      const occurrence = occurrenceOn(meal, localDate, timeZone);
      if (occurrence && occurrence.dueAt >= from && occurrence.dueAt < to) out.push(occurrence);
    }
  }
  return out.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || a.mealId.localeCompare(b.mealId));
}

/**
 * The local calendar day in `timeZone` that contains `at`, as instants [start, end). Such a day is
 * 23 or 25 hours long when clocks change, and starts at 01:00 where a change skips midnight.
 */
export function localDayContaining(at: Date, timeZone: string): { start: Date; end: Date } {
  const date = Temporal.Instant.fromEpochMilliseconds(at.getTime())
    .toZonedDateTimeISO(timeZone)
    .toPlainDate();
  return {
    start: new Date(date.toZonedDateTime(timeZone).epochMilliseconds),
    end: new Date(date.add({ days: 1 }).toZonedDateTime(timeZone).epochMilliseconds),
  };
}
