import { describe, expect, it } from "vitest";
import { MAX_ATTEMPTS, RETRY_DELAYS_MS, retryDelay } from "./backoff.js";

describe("retry backoff", () => {
  it("waits 30 s, 2 min, 10 min, 1 h, 3 h, 6 h, then gives up", () => {
    const delays = [];
    for (let attempts = 1; retryDelay(attempts) !== undefined; attempts++) delays.push(retryDelay(attempts));
    expect(delays).toEqual([30_000, 120_000, 600_000, 3_600_000, 10_800_000, 21_600_000]);
    expect(MAX_ATTEMPTS).toBe(7);
    expect(retryDelay(MAX_ATTEMPTS)).toBeUndefined();
    expect(retryDelay(MAX_ATTEMPTS + 5)).toBeUndefined();
  });

  it("grows every time and stays bounded", () => {
    for (let i = 1; i < RETRY_DELAYS_MS.length; i++) {
      expect(RETRY_DELAYS_MS[i]).toBeGreaterThan(RETRY_DELAYS_MS[i - 1] as number);
    }
    expect(RETRY_DELAYS_MS.reduce((a, b) => a + b, 0)).toBeLessThan(12 * 3_600_000);
  });
});
