/**
 * The one retained state message of a feeder (feedkeeper/ha/<id>/state) its entities read with their
 * value templates. Pure. A value nobody knows is null, which Home Assistant shows as unknown.
 */
import type { LatestTelemetry } from "../../feeding/feeders.js";
import type { FeedRecord } from "../../feeding/feeds.js";

export interface StateInput {
  online: boolean;
  telemetry: LatestTelemetry | null;
  /** Portions per press of the Feed button. */
  portions: number;
  /** The newest feed that dispensed. */
  lastMeal: Pick<FeedRecord, "requestedAt" | "completedAt" | "portions" | "grams" | "source"> | undefined;
  nextMeal: { dueAt: Date; portions: number; label: string } | undefined;
  openAlerts: number;
  lastPress: { at: Date; result: string } | undefined;
}

export interface HaState {
  online: boolean;
  portions: number;
  food_level: number | null;
  bowl_weight: number | null;
  battery: number | null;
  charging: "ON" | "OFF" | null;
  signal_strength: number | null;
  link_quality: number | null;
  last_meal: string | null;
  last_meal_portions: number | null;
  last_meal_grams: number | null;
  last_meal_source: string | null;
  next_meal: string | null;
  next_meal_portions: number | null;
  next_meal_label: string | null;
  problem: boolean;
  fault: string | null;
  open_alerts: number;
  last_press: string | null;
  last_press_result: string | null;
}

/** Devices report fractions (1 = full); Home Assistant shows percent. */
const percent = (fraction: number | undefined) =>
  fraction === undefined ? null : Math.round(fraction * 100);

export function buildState(input: StateInput): HaState {
  const t = input.telemetry;
  // "ok" is a device saying its fault cleared, not a fault.
  const fault = t?.error && t.error !== "ok" ? t.error : null;
  return {
    online: input.online,
    portions: input.portions,
    food_level: percent(t?.foodLevel),
    bowl_weight: t?.weightGrams ?? null,
    battery: percent(t?.battery),
    charging: t?.charging === undefined ? null : t.charging ? "ON" : "OFF",
    signal_strength: t?.rssi ?? null,
    link_quality: t?.linkQuality ?? null,
    last_meal: input.lastMeal
      ? (input.lastMeal.completedAt ?? input.lastMeal.requestedAt).toISOString()
      : null,
    last_meal_portions: input.lastMeal?.portions ?? null,
    last_meal_grams: input.lastMeal?.grams ?? null,
    last_meal_source: input.lastMeal?.source ?? null,
    next_meal: input.nextMeal?.dueAt.toISOString() ?? null,
    next_meal_portions: input.nextMeal?.portions ?? null,
    next_meal_label: input.nextMeal?.label ?? null,
    problem: fault !== null || input.openAlerts > 0,
    fault,
    open_alerts: input.openAlerts,
    last_press: input.lastPress?.at.toISOString() ?? null,
    last_press_result: input.lastPress?.result ?? null,
  };
}
