/**
 * The feeding services a meal test needs, on a throwaway store, wired as the server wires them: the
 * reconciler ties the device's reports to planned meals and raises alerts.
 */
import type { Clock } from "../clock.js";
import { AlertService } from "../feeding/alerts.js";
import { FeederService } from "../feeding/feeders.js";
import { type FeedCommandSender, FeedService } from "../feeding/feeds.js";
import { MealPlanService } from "../feeding/meal-plans.js";
import { MealReconciler } from "../feeding/meal-reconciler.js";
import { FIRST_HOUSEHOLD } from "../store/schema.js";
import { shippedProfiles } from "./profiles.js";
import { silentLogger, tempStore } from "./temp-store.js";

const SETTINGS = { defaultExpirySeconds: 60, maxExpirySeconds: 900, resultTimeoutSeconds: 120 };

/** Started, with `sender` for the commands; a test stops `feeds` and disposes of `store` after. */
export function startMealServices(clock: Clock, timezone: string, sender: FeedCommandSender) {
  const store = tempStore();
  const feeders = new FeederService(store, clock, silentLogger, shippedProfiles());
  const feeds = new FeedService(store, feeders, clock, SETTINGS, silentLogger, timezone);
  const plans = new MealPlanService(store, feeders, clock, timezone);
  const alerts = new AlertService(store, clock, [], silentLogger);
  new MealReconciler(store, plans, alerts, clock, silentLogger).attach(feeds);
  feeds.start(sender);
  /** Alerts as stored, oldest first (notifiers hear of them once the raising transaction commits). */
  const raised = () => alerts.list({ householdId: FIRST_HOUSEHOLD, limit: 100 }).reverse();
  return { store, feeders, feeds, plans, alerts, raised };
}

export type MealServices = ReturnType<typeof startMealServices>;
