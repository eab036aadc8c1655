import { describe, expect, it } from "vitest";
import { FakeClock } from "../testing/fake-clock.js";
import { DEFAULT_FLAPPING, FlappingDetector } from "./flapping.js";

const MINUTE = 60_000;

function detector(options = DEFAULT_FLAPPING) {
  const clock = new FakeClock();
  return { clock, flapping: new FlappingDetector(clock, options) };
}

/** `n` accepted connects of `id`, `everyMs` apart; the ban each one started (0 for none). */
function connects(d: ReturnType<typeof detector>, id: string, n: number, everyMs: number): number[] {
  const bans: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0) d.clock.advance(everyMs);
    bans.push(d.flapping.connected(id, `device-${id}`));
  }
  return bans;
}

describe("FlappingDetector", () => {
  it("never bans a feeder reconnecting after Wi-Fi blips, even a few times a minute for a day", () => {
    const d = detector();
    // One reconnect every 5 s is 12 a minute, every minute of a day.
    expect(connects(d, "feeder", 24 * 60 * 12, 5_000).every((ban) => ban === 0)).toBe(true);
    expect(d.flapping.bannedFor("feeder")).toBe(0);
  });

  it("bans the 16th connect within a minute, for a minute, and that id only", () => {
    const d = detector();
    const bans = connects(d, "loop", 16, 100);
    expect(bans.slice(0, 15)).toEqual(Array(15).fill(0));
    expect(bans[15]).toBe(MINUTE);
    expect(d.flapping.bannedFor("loop")).toBe(MINUTE);
    expect(d.flapping.bannedFor("other")).toBe(0);
    d.clock.advance(MINUTE - 1);
    expect(d.flapping.bannedFor("loop")).toBe(1);
    d.clock.advance(1);
    expect(d.flapping.bannedFor("loop")).toBe(0);
  });

  it("counts connects in a sliding window: 15 a minute forever is allowed", () => {
    const d = detector();
    expect(connects(d, "busy", 15 * 60, MINUTE / 15).every((ban) => ban === 0)).toBe(true);
  });

  it("doubles the ban of an id that keeps flapping, up to 15 minutes, and forgives it after an hour of quiet", () => {
    const d = detector();
    const lengths: number[] = [];
    for (let round = 0; round < 6; round++) {
      const bans = connects(d, "loop", 16, 100);
      lengths.push(bans[15] ?? 0);
      d.clock.advance(d.flapping.bannedFor("loop"));
    }
    expect(lengths).toEqual([1, 2, 4, 8, 15, 15].map((m) => m * MINUTE));
    d.clock.advance(60 * MINUTE);
    expect(connects(d, "loop", 16, 100)[15]).toBe(MINUTE);
  });

  it("lifts the bans of every id that connected as a device when its owner acts on it, and no others", () => {
    const d = detector();
    connects(d, "loop", 16, 100);
    connects(d, "other", 16, 100);
    d.flapping.forgive("device-loop");
    expect(d.flapping.bannedFor("loop")).toBe(0);
    expect(d.flapping.bannedFor("other")).toBe(MINUTE);
    // Forgiven means a fresh start: another 15 connects within the minute are fine.
    expect(connects(d, "loop", 15, 100).every((ban) => ban === 0)).toBe(true);
  });

  it("forgets the least recently connected id beyond its capacity", () => {
    const d = detector({ ...DEFAULT_FLAPPING, maxTracked: 2 });
    connects(d, "a", 16, 1);
    expect(d.flapping.bannedFor("a")).toBeGreaterThan(0);
    d.flapping.connected("b", "B");
    d.flapping.connected("c", "C");
    expect(d.flapping.bannedFor("a")).toBe(0);
  });
});
