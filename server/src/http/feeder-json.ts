import type { FeederView } from "../feeding/feeders.js";
/** A feeder as the API shows it, with what its card needs from its plan and alerts. */
import type { Services } from "./context.js";
import { type FeederOutlook, presentFeeder } from "./presenters.js";

/** A card's outlook, from the feeder as the caller already read it (a list reads each record once). */
export function outlook(services: Services, feeder: FeederView, openAlerts: number): FeederOutlook {
  const plan = services.plans.get(feeder.id, feeder);
  return {
    timeZone: plan.effectiveTimezone,
    nextMeal: services.calendar.next(feeder.id, new Date(services.clock.now()), plan),
    openAlerts,
  };
}

export function feederJson(services: Services, id: string) {
  const view = services.feeders.view(id);
  const open = services.alerts.openByFeeder(view.householdId).get(id) ?? 0;
  return presentFeeder(view, services.feeds.latestForFeeder(id), outlook(services, view, open));
}
