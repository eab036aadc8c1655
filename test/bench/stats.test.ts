import { describe, expect, it } from "vitest";
import { percentile, round, summarize } from "./stats.js";

describe("percentile (nearest rank)", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it("picks the sample at rank ceil(p/100 * n)", () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile(hundred, 0.5)).toBe(1);
  });

  it("lets the slowest sample set p99 when there are fewer than 100 samples", () => {
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 50];
    expect(percentile(ten, 99)).toBe(50);
    expect(percentile(ten, 90)).toBe(9);
    expect(percentile(ten, 50)).toBe(5);
  });

  it("returns the only sample of a single-sample set", () => {
    expect(percentile([7], 1)).toBe(7);
    expect(percentile([7], 99)).toBe(7);
  });

  it("refuses empty input and percentiles outside (0, 100]", () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });
});

describe("summarize", () => {
  it("sorts a copy and reports min, percentiles, max and mean", () => {
    const samples = [5, 1, 4, 2, 3];
    const s = summarize(samples);
    expect(s).toEqual({ count: 5, min: 1, p50: 3, p90: 5, p99: 5, max: 5, mean: 3 });
    expect(samples).toEqual([5, 1, 4, 2, 3]);
  });

  it("refuses empty input", () => {
    expect(() => summarize([])).toThrow(RangeError);
  });
});

describe("round", () => {
  it("rounds to the given number of decimals", () => {
    expect(round(1.23456)).toBe(1.23);
    expect(round(1.23556, 3)).toBe(1.236);
    expect(round(2.5, 0)).toBe(3);
  });
});
