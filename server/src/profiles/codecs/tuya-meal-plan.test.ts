import { describe, expect, it } from "vitest";
import {
  bytesFromBase64,
  bytesFromHex,
  CLEARED_PLAN,
  decodeMealPlan,
  encodeMealPlan,
  MealPlanFormatError,
  mealPlanFingerprint,
  type TuyaMealEntry,
  toBase64,
  toHex,
} from "./tuya-meal-plan.js";

const EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;

/** The cloud status of a PLAF101 (protocol-facts §2.2): every day 06:00 and 16:00, 8 portions, enabled. */
const PLAF101 = "fwYACAF/EAAIAQ==";

describe("Tuya meal_plan", () => {
  it("decodes the PLAF101 example exactly", () => {
    const bytes = bytesFromBase64(PLAF101);
    expect(toHex(bytes)).toBe("7F060008017F10000801");
    expect(decodeMealPlan(bytes, 10)).toEqual([
      { days: [...EVERY_DAY], hour: 6, minute: 0, portions: 8, enabled: true },
      { days: [...EVERY_DAY], hour: 16, minute: 0, portions: 8, enabled: true },
    ]);
  });

  it("encodes back to the same bytes, in hex and base64", () => {
    const entries = decodeMealPlan(bytesFromBase64(PLAF101), 10);
    const bytes = encodeMealPlan(entries, 10);
    expect(toBase64(bytes)).toBe(PLAF101);
    expect(toHex(bytes)).toBe("7F060008017F10000801");
    expect(bytesFromHex("7f060008017f10000801")).toEqual(bytes);
  });

  it("maps days to bits, Monday first", () => {
    const entry: TuyaMealEntry = {
      days: ["mon", "wed", "sun"],
      hour: 7,
      minute: 30,
      portions: 2,
      enabled: false,
    };
    expect(toHex(encodeMealPlan([entry], 10))).toBe("45071E0200");
    expect(decodeMealPlan(bytesFromHex("45071E0200"), 10)).toEqual([entry]);
    const weekend = decodeMealPlan(bytesFromHex("6012000300"), 10)[0];
    expect(weekend?.days).toEqual(["sat", "sun"]);
  });

  it("clears with one zero byte and reads zero bytes or that byte as no meals", () => {
    expect(encodeMealPlan([], 10)).toEqual(CLEARED_PLAN);
    expect(toHex(CLEARED_PLAN)).toBe("00");
    expect(decodeMealPlan(Buffer.alloc(0), 10)).toEqual([]);
    expect(decodeMealPlan(CLEARED_PLAN, 10)).toEqual([]);
  });

  it("holds as many meals as the device has slots", () => {
    const meal: TuyaMealEntry = { days: ["mon"], hour: 8, minute: 0, portions: 1, enabled: true };
    expect(encodeMealPlan(Array(10).fill(meal), 10)).toHaveLength(50);
    expect(() => encodeMealPlan(Array(11).fill(meal), 10)).toThrow("11 meals, the device holds at most 10");
    expect(() => decodeMealPlan(Buffer.alloc(55, 1), 10)).toThrow("11 meals, at most 10");
  });

  it("refuses malformed values with the reason", () => {
    const refused = (hex: string) => {
      try {
        decodeMealPlan(bytesFromHex(hex), 10);
      } catch (err) {
        expect(err).toBeInstanceOf(MealPlanFormatError);
        return (err as Error).message;
      }
      throw new Error(`${hex} was accepted`);
    };
    expect(refused("7F060008")).toBe("meal plan: 4 bytes is not a whole number of 5-byte meals");
    expect(refused("7F06000801FF06000801")).toBe("meal plan entry 2: days 0xFF sets a bit above Sunday");
    expect(refused("7F18000801")).toBe("meal plan entry 1: no time 24:0");
    expect(refused("7F063C0801")).toBe("meal plan entry 1: no time 6:60");
    expect(refused("7F06000802")).toBe("meal plan entry 1: enabled is 2, expected 0 or 1");
    expect(() => bytesFromHex("7F0")).toThrow('"7F0" is not hex bytes');
    expect(() => bytesFromHex("7G")).toThrow("not hex bytes");
    expect(() => bytesFromBase64("fwYACAF/EAAIAQ")).toThrow("is not base64");
  });

  it("refuses what a byte cannot carry when encoding", () => {
    const meal: TuyaMealEntry = { days: ["mon"], hour: 8, minute: 0, portions: 1, enabled: true };
    expect(() => encodeMealPlan([{ ...meal, portions: 256 }], 10)).toThrow(
      "256 portions do not fit in a byte",
    );
    expect(() => encodeMealPlan([{ ...meal, hour: 24 }], 10)).toThrow("hour 24 is not 0-23");
    expect(() => encodeMealPlan([{ ...meal, minute: 7.5 }], 10)).toThrow("minute 7.5 is not 0-59");
    expect(() => encodeMealPlan([{ ...meal, days: [] }], 10)).toThrow("no days");
  });

  it("fingerprints a plan the same whatever order its meals are in", () => {
    const a = bytesFromHex("7F060008017F10000801");
    const b = bytesFromHex("7F100008017F06000801");
    expect(mealPlanFingerprint(a)).toBe("7F06000801,7F10000801");
    expect(mealPlanFingerprint(b)).toBe(mealPlanFingerprint(a));
    expect(mealPlanFingerprint(bytesFromHex("7F06000800"))).not.toBe(
      mealPlanFingerprint(bytesFromHex("7F06000801")),
    );
    expect(mealPlanFingerprint(CLEARED_PLAN)).toBe("");
    expect(mealPlanFingerprint(Buffer.alloc(0))).toBe("");
  });
});
