import { describe, expect, it } from "vitest";
import { buildState } from "./state.js";
import { feederOfTopic, parseCommandTopic } from "./topics.js";

describe("Home Assistant state", () => {
  it("gives percent for fractions, null for what nobody knows, and a problem for faults and alerts", () => {
    const state = buildState({
      online: true,
      telemetry: { at: 0, foodLevel: 0.424, battery: 0.9, error: "jam", charging: false },
      portions: 2,
      lastMeal: {
        requestedAt: new Date("2026-05-04T07:30:00Z"),
        completedAt: new Date("2026-05-04T07:30:02Z"),
        portions: 2,
        grams: 24,
        source: "home_assistant",
      },
      nextMeal: { dueAt: new Date("2026-05-04T18:00:00Z"), portions: 1, label: "Dinner" },
      openAlerts: 0,
      lastPress: undefined,
    });
    expect(state).toMatchObject({
      food_level: 42,
      battery: 90,
      charging: "OFF",
      bowl_weight: null,
      signal_strength: null,
      last_meal: "2026-05-04T07:30:02.000Z",
      last_meal_source: "home_assistant",
      next_meal: "2026-05-04T18:00:00.000Z",
      next_meal_label: "Dinner",
      problem: true,
      fault: "jam",
      last_press: null,
    });
    const quiet = buildState({
      online: false,
      telemetry: { at: 0, error: "ok" },
      portions: 1,
      lastMeal: undefined,
      nextMeal: undefined,
      openAlerts: 0,
      lastPress: undefined,
    });
    expect(quiet).toMatchObject({ problem: false, fault: null, last_meal: null, next_meal: null });
    expect(buildState({ ...quietInput(), openAlerts: 2 }).problem).toBe(true);
  });
});

function quietInput() {
  return {
    online: true,
    telemetry: null,
    portions: 1,
    lastMeal: undefined,
    nextMeal: undefined,
    openAlerts: 0,
    lastPress: undefined,
  };
}

describe("Home Assistant topics", () => {
  it("reads commands and feeders only from well-formed topics", () => {
    expect(parseCommandTopic("feedkeeper/ha/abc123/feed/set")).toEqual({
      feederId: "abc123",
      command: "feed",
    });
    expect(parseCommandTopic("feedkeeper/ha/abc123/portions/set")?.command).toBe("portions");
    expect(parseCommandTopic("feedkeeper/ha/ABC/feed/set")).toBeUndefined();
    expect(parseCommandTopic("feedkeeper/ha/abc123/feed")).toBeUndefined();
    expect(feederOfTopic("homeassistant", "homeassistant/device/feedkeeper_abc123/config")).toBe("abc123");
    expect(feederOfTopic("homeassistant", "homeassistant/device/other_abc123/config")).toBeUndefined();
    expect(feederOfTopic("homeassistant", "feedkeeper/ha/abc123/state")).toBe("abc123");
    expect(feederOfTopic("homeassistant", "feedkeeper/ha/status")).toBeUndefined();
    expect(feederOfTopic("homeassistant", "feedkeeper/abc123/telemetry")).toBeUndefined();
  });
});
