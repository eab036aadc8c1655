/**
 * The `meal_plan` value of Tuya Wi-Fi feeders (../shared/reference/protocol-facts.md §2.3): 5 bytes per
 * meal, simply concatenated, [days, hour, minute, portions, enabled]. Days is a bitmap, bit 0 = Monday …
 * bit 6 = Sunday. Cloud and local JSON show the value base64-encoded (e.g. "fwYACAF/EAAIAQ=="); Tasmota
 * sends and reports it as hex.
 */
import type { Weekday } from "../../feeding/meal-time.js";

export interface TuyaMealEntry {
  days: Weekday[];
  hour: number;
  minute: number;
  portions: number;
  enabled: boolean;
}

export const ENTRY_BYTES = 5;
const DAY_BITS: readonly Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/**
 * What clears the plan: Tuya documents setting meal_plan to empty or 0, and Tasmota's TuyaSend6 cannot
 * send an empty value, so one zero byte. Read back, it (or an empty value) is a plan without meals.
 */
export const CLEARED_PLAN = Buffer.from([0]);

export class MealPlanFormatError extends Error {}

function isCleared(bytes: Buffer): boolean {
  return bytes.length === 0 || bytes.equals(CLEARED_PLAN);
}

export function decodeMealPlan(bytes: Buffer, maxEntries: number): TuyaMealEntry[] {
  if (isCleared(bytes)) return [];
  if (bytes.length % ENTRY_BYTES !== 0) {
    throw new MealPlanFormatError(
      `meal plan: ${bytes.length} bytes is not a whole number of ${ENTRY_BYTES}-byte meals`,
    );
  }
  const count = bytes.length / ENTRY_BYTES;
  if (count > maxEntries) throw new MealPlanFormatError(`meal plan: ${count} meals, at most ${maxEntries}`);
  const entries: TuyaMealEntry[] = [];
  for (let i = 0; i < count; i++) {
    const [days = 0, hour = 0, minute = 0, portions = 0, enabled = 0] = bytes.subarray(
      i * ENTRY_BYTES,
      (i + 1) * ENTRY_BYTES,
    );
    const which = `meal plan entry ${i + 1}`;
    if (days > 0x7f) throw new MealPlanFormatError(`${which}: days 0x${hex(days)} sets a bit above Sunday`);
    if (hour > 23 || minute > 59) throw new MealPlanFormatError(`${which}: no time ${hour}:${minute}`);
    if (enabled > 1) throw new MealPlanFormatError(`${which}: enabled is ${enabled}, expected 0 or 1`);
    entries.push({
      days: DAY_BITS.filter((_, bit) => days & (1 << bit)),
      hour,
      minute,
      portions,
      enabled: enabled === 1,
    });
  }
  return entries;
}

export function encodeMealPlan(entries: readonly TuyaMealEntry[], maxEntries: number): Buffer {
  if (entries.length > maxEntries) {
    throw new MealPlanFormatError(
      `meal plan: ${entries.length} meals, the device holds at most ${maxEntries}`,
    );
  }
  if (entries.length === 0) return CLEARED_PLAN;
  return Buffer.concat(
    entries.map((e, i) => {
      const which = `meal plan entry ${i + 1}`;
      if (!Number.isInteger(e.hour) || e.hour < 0 || e.hour > 23) {
        throw new MealPlanFormatError(`${which}: hour ${e.hour} is not 0-23`);
      }
      if (!Number.isInteger(e.minute) || e.minute < 0 || e.minute > 59) {
        throw new MealPlanFormatError(`${which}: minute ${e.minute} is not 0-59`);
      }
      if (!Number.isInteger(e.portions) || e.portions < 0 || e.portions > 255) {
        throw new MealPlanFormatError(`${which}: ${e.portions} portions do not fit in a byte`);
      }
      if (e.days.length === 0) throw new MealPlanFormatError(`${which}: no days`);
      const days = e.days.reduce((bits, day) => bits | (1 << DAY_BITS.indexOf(day)), 0);
      return Buffer.from([days, e.hour, e.minute, e.portions, e.enabled ? 1 : 0]);
    }),
  );
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function hex(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, "0");
}

/** Bytes from hex as Tasmota writes them (either case, no separators). */
export function bytesFromHex(text: string): Buffer {
  if (!HEX.test(text)) throw new MealPlanFormatError(`meal plan: "${text}" is not hex bytes`);
  return Buffer.from(text, "hex");
}

export function bytesFromBase64(text: string): Buffer {
  if (!BASE64.test(text)) throw new MealPlanFormatError(`meal plan: "${text}" is not base64`);
  return Buffer.from(text, "base64");
}

/** Upper-case hex, as TuyaSend6 takes it. */
export function toHex(bytes: Buffer): string {
  return bytes.toString("hex").toUpperCase();
}

export function toBase64(bytes: Buffer): string {
  return bytes.toString("base64");
}

/**
 * A plan's bytes as the device holds them, whatever order its meals are in: each 5-byte meal as hex,
 * sorted. Two plans that feed the same meals give the same string; a cleared plan gives "".
 */
export function mealPlanFingerprint(bytes: Buffer): string {
  if (isCleared(bytes)) return "";
  const meals: string[] = [];
  for (let at = 0; at < bytes.length; at += ENTRY_BYTES)
    meals.push(toHex(bytes.subarray(at, at + ENTRY_BYTES)));
  return meals.sort().join(",");
}
