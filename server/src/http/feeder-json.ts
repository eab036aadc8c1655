/** A feeder as the API shows it, with what its card needs from its plan and alerts. */
import type { Services } from "./context.js";
import { type FeederOutlook, presentFeeder } from "./presenters.js";

export function outlook(services: Services, feederId: string, openAlerts: number): FeederOutlook {
  return {
    timeZone: services.plans.get(feederId).effectiveTimezone,
    nextMeal: services.calendar.next(feederId, new Date(services.clock.now())),
    openAlerts,
  };
}

export function feederJson(services: Services, id: string) {
  const view = services.feeders.view(id);
  const open = services.alerts.openByFeeder(view.householdId).get(id) ?? 0;
  return presentFeeder(view, services.feeds.latestForFeeder(id), outlook(services, id, open));
}
