/**
 * Quiet hours: a daily span of local wall-clock time (the server's zone) in which notifications wait.
 * A span whose end is not after its start runs over midnight (22:00–07:00). Deliveries that fall due
 * inside it are held and go out when it ends.
 */
import { Temporal } from "temporal-polyfill";

export interface QuietHours {
  /** HH:MM, local. */
  start: string;
  /** HH:MM, local; the first minute that is no longer quiet. */
  end: string;
}

export const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;

function minutesOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

function localAt(at: number, timeZone: string): Temporal.ZonedDateTime {
  return Temporal.Instant.fromEpochMilliseconds(at).toZonedDateTimeISO(timeZone);
}

/** Whether `at` falls inside the quiet span. A span from a time to the same time is no span at all. */
export function isQuiet(quiet: QuietHours, at: number, timeZone: string): boolean {
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return false;
  const local = localAt(at, timeZone);
  const now = local.hour * 60 + local.minute;
  return start < end ? start <= now && now < end : now >= start || now < end;
}

/**
 * The instant the quiet span containing `at` ends: the next local `end` after `at`. A wall time a DST
 * change skips is moved forward by the gap ("compatible": 02:30 becomes 03:30), so it still comes.
 */
export function quietEndsAt(quiet: QuietHours, at: number, timeZone: string): number {
  const local = localAt(at, timeZone);
  const [hour, minute] = [Number(quiet.end.slice(0, 2)), Number(quiet.end.slice(3, 5))];
  for (let days = 0; days <= 1; days++) {
    const candidate = local
      .toPlainDate()
      .add({ days })
      .toZonedDateTime({ timeZone, plainTime: Temporal.PlainTime.from({ hour, minute }) });
    if (candidate.epochMilliseconds > at) return candidate.epochMilliseconds;
  }
  // Unreachable: tomorrow's end is always after now.
  return at + 24 * 3_600_000;
}
