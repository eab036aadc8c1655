import { describe, expect, it } from "vitest";
import { LogThrottle } from "./log-throttle.js";
import { FakeClock } from "./testing/fake-clock.js";

describe("LogThrottle", () => {
  it("logs the first few per window, counts the rest, and reports the count in the next window", () => {
    const clock = new FakeClock();
    const throttle = new LogThrottle(clock, 3, 60_000);
    const results = Array.from({ length: 10 }, () => throttle.admit("a").log);
    expect(results).toEqual([true, true, true, false, false, false, false, false, false, false]);
    expect(throttle.admit("b").log).toBe(true);
    clock.advance(60_000);
    expect(throttle.admit("a")).toEqual({ log: true, suppressed: 7 });
    expect(throttle.admit("a")).toEqual({ log: true, suppressed: 0 });
  });
});
