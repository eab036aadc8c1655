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
  return localDayAt(at.getTime(), timeZone).date;
}

/**
 * Results of the calendar arithmetic below, which is pure but slow in Temporal (tens of µs a step): the
 * scheduler asks the same questions (this date in this zone, a meal at 07:30 on it) for every feeder of a
 * fleet, every tick.
 * Bounded: emptied when full, so a server with unusually many distinct triples just computes more.
 */
const CACHE_MAX = 20_000;
const dueInstants = new Map<string, number>();
const weekdays = new Map<string, Weekday>();

function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(key, value);
  return value;
}

/** The instant a meal is due on a local date, with the DST rules above. */
export function dueInstant(localDate: string, time: string, timeZone: string): Date {
  const key = `${timeZone} ${localDate}T${time}`;
  const at = dueInstants.get(key) ?? remember(dueInstants, key, computeDueInstant(localDate, time, timeZone));
  return new Date(at);
}

interface LocalDay {
  /** The day is [start, end): its first instant to the next day's, 23 or 25 hours when clocks change. */
  start: number;
  end: number;
  date: string;
  previous: string;
}
/** Per zone, the few local days last asked about: every feeder in a zone asks about the same instants. */
const localDays = new Map<string, LocalDay[]>();
const LOCAL_DAYS_PER_ZONE = 8;
const nextDates = new Map<string, string>();

/** The local date at an instant (and the date before it), from a cached day when the instant is in one. */
function localDayAt(at: number, timeZone: string): LocalDay {
  const days = localDays.get(timeZone) ?? remember(localDays, timeZone, []);
  const cached = days.find((d) => d.start <= at && at < d.end);
  if (cached) return cached;
  const date = Temporal.Instant.fromEpochMilliseconds(at).toZonedDateTimeISO(timeZone).toPlainDate();
  const day = {
    start: date.toZonedDateTime(timeZone).epochMilliseconds,
    end: date.add({ days: 1 }).toZonedDateTime(timeZone).epochMilliseconds,
    date: date.toString(),
    previous: date.subtract({ days: 1 }).toString(),
  };
  if (days.push(day) > LOCAL_DAYS_PER_ZONE) days.shift();
  return day;
}

function nextDate(localDate: string): string {
  return (
    nextDates.get(localDate) ??
    remember(nextDates, localDate, Temporal.PlainDate.from(localDate).add({ days: 1 }).toString())
  );
}

function weekdayOf(localDate: string): Weekday {
  return (
    weekdays.get(localDate) ??
    remember(weekdays, localDate, WEEKDAYS[Temporal.PlainDate.from(localDate).dayOfWeek - 1] as Weekday)
  );
}

function computeDueInstant(localDate: string, time: string, timeZone: string): number {
  const wall = Temporal.PlainDateTime.from(`${localDate}T${time}`);
  const compatible = wall.toZonedDateTime(timeZone, { disambiguation: "compatible" });
  if (Temporal.PlainDateTime.compare(compatible.toPlainDateTime(), wall) === 0) {
    // Exists (once, or twice: "compatible" takes the earlier of a repeated hour).
    return compatible.epochMilliseconds;
  }
  // Skipped by a forward transition: the transition itself is the first valid minute after the gap.
  const before = wall.toZonedDateTime(timeZone, { disambiguation: "earlier" });
  const transition = before.getTimeZoneTransition("next");
  return (transition ?? compatible).epochMilliseconds;
}

/** A meal's occurrence on a local date, if it is enabled and planned for that date. */
export function occurrenceOn(meal: MealSlot, localDate: string, timeZone: string): Occurrence | undefined {
  if (!meal.enabled) return undefined;
  const weekday = weekdayOf(localDate);
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
  const first = localDayAt(from.getTime(), timeZone);
  const last = localDayAt(to.getTime(), timeZone).date;
  const out: Occurrence[] = [];
  // ISO dates (four-digit years) sort as strings do.
  for (let localDate = first.previous; localDate <= last; localDate = nextDate(localDate)) {
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
  const day = localDayAt(at.getTime(), timeZone);
  return { start: new Date(day.start), end: new Date(day.end) };
}
