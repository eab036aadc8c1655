import { intlLocale } from "./i18n";

/**
 * Calendar dates (YYYY-MM-DD) as the server uses them: local dates in a feeder's time zone, which may
 * differ from the browser's.
 */

/** The date on the wall calendar of `timeZone` at `at`. */
export function localDate(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/** The instant (epoch ms) `date` begins in `timeZone`. */
export function startOfDay(date: string, timeZone: string): number {
  const midnightUtc = Date.parse(`${date}T00:00:00Z`);
  // The zone's offset at UTC midnight is a guess; its offset at the guess is right unless the day starts in a
  // daylight saving change, and then an hour off at most.
  const guess = midnightUtc - offsetAt(midnightUtc, timeZone);
  return midnightUtc - offsetAt(guess, timeZone);
}

/** How far `timeZone`'s wall clock is ahead of UTC at `at`, in milliseconds. */
function offsetAt(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  }).formatToParts(at);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(
    part("year"),
    part("month") - 1,
    part("day"),
    part("hour"),
    part("minute"),
    part("second"),
  );
  return wall - (at - (at % 1000));
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** A date for people, e.g. "Thursday, November 26" or "11月26日木曜日", in the UI's language. */
export function formatDate(date: string, style: "long" | "short" = "long"): string {
  const d = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return date;
  return d.toLocaleDateString(intlLocale(), {
    timeZone: "UTC",
    weekday: style,
    day: "numeric",
    month: style,
  });
}

/** A date in few characters in the UI's language, e.g. "11/26" (en-US, ja) or "26/11" (en-GB): for chart axes. */
export function formatShortDate(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return date;
  return d.toLocaleDateString(intlLocale(), { timeZone: "UTC", month: "numeric", day: "numeric" });
}

/** Wall-clock time (HH:MM, 24 h) of an instant in `timeZone`. */
export function timeIn(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat(intlLocale(), {
    timeZone,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
}

const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

/**
 * An instant for people, in the UI's language: the time alone when it is today, else date and time; "" for
 * none or garbage. With `timeZone` (a feeder's), it is that zone's wall clock, named when it is not the
 * browser's own, so "07:30" means breakfast time at the feeder even when its owner is abroad.
 */
export function formatInstant(
  iso: string | null,
  timeZone?: string,
  options: { seconds?: boolean } = {},
): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const zone = timeZone ?? browserZone();
  const sameDay = localDate(date, zone) === localDate(new Date(), zone);
  const text = sameDay
    ? date.toLocaleTimeString(intlLocale(), {
        timeZone: zone,
        hour: "2-digit",
        minute: "2-digit",
        // Seconds tell events apart; a planned time has none worth reading.
        ...(options.seconds !== false && { second: "2-digit" }),
      })
    : date.toLocaleString(intlLocale(), { timeZone: zone, dateStyle: "medium", timeStyle: "short" });
  // dateStyle cannot be combined with timeZoneName, so the zone is added by hand.
  return zone === browserZone() ? text : `${text} (${zoneName(date, zone)})`;
}

/** A number for people in the UI's language (grams, percentages). */
export function formatNumber(value: number, maximumFractionDigits = 1): string {
  return new Intl.NumberFormat(intlLocale(), { maximumFractionDigits }).format(value);
}

/** The short name of `timeZone` at `at`, e.g. "CET" or "GMT+9". */
function zoneName(at: Date, timeZone: string): string {
  const part = new Intl.DateTimeFormat(intlLocale(), { timeZone, timeZoneName: "short" })
    .formatToParts(at)
    .find((p) => p.type === "timeZoneName");
  return part?.value ?? timeZone;
}
