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

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** A date for people, e.g. "Thursday, November 26", in the browser's language. */
export function formatDate(date: string, style: "long" | "short" = "long"): string {
  const d = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return date;
  return d.toLocaleDateString([], { timeZone: "UTC", weekday: style, day: "numeric", month: style });
}

/** Wall-clock time (HH:MM, 24 h) of an instant in `timeZone`. */
export function timeIn(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat([], { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

/** An instant for people: the time alone when it is today, else date and time; "" for none or garbage. */
export function formatInstant(iso: string | null): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })
    : date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}
