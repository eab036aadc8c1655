/**
 * meal-time.ts caches its calendar arithmetic (due instants, weekdays, local days per zone, next dates). The
 * answers must be the same as computing afresh, above all around clock changes, where a cached local day is
 * 23 or 25 hours long. Checked against the plain Temporal computation, for windows that walk across them.
 */
import { Temporal } from "temporal-polyfill";
import { describe, expect, it } from "vitest";
import { type MealSlot, type Occurrence, occurrencesBetween, WEEKDAYS, type Weekday } from "./meal-time.js";

/** occurrencesBetween as computed without any cache. */
function reference(meals: readonly MealSlot[], timeZone: string, from: Date, to: Date): Occurrence[] {
  const out: Occurrence[] = [];
  if (to <= from) return out;
  const day0 = Temporal.Instant.fromEpochMilliseconds(from.getTime())
    .toZonedDateTimeISO(timeZone)
    .toPlainDate();
  const last = Temporal.Instant.fromEpochMilliseconds(to.getTime())
    .toZonedDateTimeISO(timeZone)
    .toPlainDate();
  for (
    let day = day0.subtract({ days: 1 });
    Temporal.PlainDate.compare(day, last) <= 0;
    day = day.add({ days: 1 })
  ) {
    const localDate = day.toString();
    for (const meal of meals) {
      if (!meal.enabled) continue;
      const weekday = WEEKDAYS[day.dayOfWeek - 1] as Weekday;
      if (meal.date !== undefined ? meal.date !== localDate : !meal.days.includes(weekday)) continue;
      const wall = Temporal.PlainDateTime.from(`${localDate}T${meal.time}`);
      const compatible = wall.toZonedDateTime(timeZone, { disambiguation: "compatible" });
      const dueAt =
        Temporal.PlainDateTime.compare(compatible.toPlainDateTime(), wall) === 0
          ? compatible.epochMilliseconds
          : (
              wall.toZonedDateTime(timeZone, { disambiguation: "earlier" }).getTimeZoneTransition("next") ??
              compatible
            ).epochMilliseconds;
      if (dueAt >= from.getTime() && dueAt < to.getTime())
        out.push({ mealId: meal.id, localDate, dueAt: new Date(dueAt) });
    }
  }
  return out.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || a.mealId.localeCompare(b.mealId));
}

const meals: MealSlot[] = [
  { id: "midnight", time: "00:00", days: WEEKDAYS, enabled: true },
  { id: "gap", time: "02:30", days: WEEKDAYS, enabled: true },
  { id: "breakfast", time: "07:30", days: ["mon", "wed", "sat", "sun"], enabled: true },
  { id: "late", time: "23:59", days: WEEKDAYS, enabled: true },
  { id: "once", time: "01:15", days: [], enabled: true, date: "2026-03-29" },
];

describe("meal-time caches", () => {
  it("give the same occurrences as computing afresh, across clock changes and zones", () => {
    // Berlin springs forward on 2026-03-29, New York on 2026-03-08; Santiago's change skips midnight.
    const windows: Array<[string, string]> = [
      ["Europe/Berlin", "2026-03-27T00:00:00Z"],
      ["America/New_York", "2026-03-06T00:00:00Z"],
      ["America/Santiago", "2026-09-04T00:00:00Z"],
      ["Europe/Berlin", "2026-10-23T00:00:00Z"],
    ];
    const step = 47 * 60_000;
    for (let i = 0; i < 5 * 24 * 60 * 60_000; i += step) {
      // Zones interleaved, so each lookup finds the per-zone cache holding other days.
      for (const [zone, start] of windows) {
        const from = new Date(Date.parse(start) + i);
        for (const span of [60_000, 24 * 60 * 60_000, 8 * 24 * 60 * 60_000]) {
          const to = new Date(from.getTime() + span);
          expect(occurrencesBetween(meals, zone, from, to)).toEqual(reference(meals, zone, from, to));
        }
      }
    }
  });

  it("place instants at the very edges of a local day on the right day", () => {
    for (const [zone, first] of [
      ["Europe/Berlin", "2026-03-27"],
      ["America/Santiago", "2026-09-04"],
      ["Europe/Berlin", "2026-10-23"],
    ] as const) {
      for (let d = 0; d < 5; d++) {
        const start = Temporal.PlainDate.from(first).add({ days: d }).toZonedDateTime(zone).epochMilliseconds;
        for (const at of [start - 1, start, start + 1]) {
          // The window ends at the edge too, so both ends of the loop meet a cached day's boundary.
          for (const [from, to] of [
            [at, at + 24 * 60 * 60_000],
            [at - 24 * 60 * 60_000, at],
          ] as const) {
            expect(occurrencesBetween(meals, zone, new Date(from), new Date(to))).toEqual(
              reference(meals, zone, new Date(from), new Date(to)),
            );
          }
        }
      }
    }
  });
});
