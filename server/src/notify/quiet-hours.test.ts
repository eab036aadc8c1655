import { describe, expect, it } from "vitest";
import { isQuiet, quietEndsAt } from "./quiet-hours.js";

const at = (iso: string) => Date.parse(iso);
const TZ = "Europe/Berlin";

describe("quiet hours", () => {
  it("within one day: start included, end excluded", () => {
    const q = { start: "13:00", end: "15:00" };
    expect(isQuiet(q, at("2026-11-26T11:59:00Z"), TZ)).toBe(false); // 12:59 local
    expect(isQuiet(q, at("2026-11-26T12:00:00Z"), TZ)).toBe(true); // 13:00
    expect(isQuiet(q, at("2026-11-26T13:59:00Z"), TZ)).toBe(true); // 14:59
    expect(isQuiet(q, at("2026-11-26T14:00:00Z"), TZ)).toBe(false); // 15:00
    expect(quietEndsAt(q, at("2026-11-26T12:30:00Z"), TZ)).toBe(at("2026-11-26T14:00:00Z"));
  });

  it("over midnight: quiet late in the evening and early in the morning, ending the next morning", () => {
    const q = { start: "22:00", end: "07:00" };
    expect(isQuiet(q, at("2026-11-26T20:59:00Z"), TZ)).toBe(false); // 21:59
    expect(isQuiet(q, at("2026-11-26T21:00:00Z"), TZ)).toBe(true); // 22:00
    expect(isQuiet(q, at("2026-11-26T23:30:00Z"), TZ)).toBe(true); // 00:30 the 27th
    expect(isQuiet(q, at("2026-11-27T05:59:00Z"), TZ)).toBe(true); // 06:59
    expect(isQuiet(q, at("2026-11-27T06:00:00Z"), TZ)).toBe(false); // 07:00
    // Before midnight the end is tomorrow's 07:00; after midnight it is the same day's.
    expect(quietEndsAt(q, at("2026-11-26T21:30:00Z"), TZ)).toBe(at("2026-11-27T06:00:00Z"));
    expect(quietEndsAt(q, at("2026-11-27T01:00:00Z"), TZ)).toBe(at("2026-11-27T06:00:00Z"));
  });

  it("reads the wall clock of the zone, across a DST change", () => {
    const q = { start: "01:00", end: "03:00" };
    // 2026-03-29 in Berlin: 02:00 jumps to 03:00. 01:30 CET is 00:30Z; the end (03:00 CEST) is 01:00Z.
    expect(isQuiet(q, at("2026-03-29T00:30:00Z"), TZ)).toBe(true);
    expect(quietEndsAt(q, at("2026-03-29T00:30:00Z"), TZ)).toBe(at("2026-03-29T01:00:00Z"));
    // An end inside the skipped hour is moved forward by the gap, as the clocks were: 02:30 → 03:30 CEST.
    expect(quietEndsAt({ start: "01:00", end: "02:30" }, at("2026-03-29T00:30:00Z"), TZ)).toBe(
      at("2026-03-29T01:30:00Z"),
    );
  });

  it("is no span at all from a time to the same time", () => {
    expect(isQuiet({ start: "08:00", end: "08:00" }, at("2026-11-26T07:00:00Z"), TZ)).toBe(false);
  });
});
