/**
 * What a feeder's meal plan may hold. A feeder that stores its plan itself
 * can hold only what its profile says (a Tuya meal_plan has 10 recurring
 * entries and no dates); asking for more is refused with why, rather than
 * saved and silently never fed. Feeders fed by the server, and Feedkeeper's
 * own protocol, hold everything.
 */
import { AppError } from "../../../errors.js";
import type { ScheduleFeature } from "../../../profiles/profile-schema.js";
import type { Services } from "../../context.js";

const FEATURE_NAMES: Record<ScheduleFeature, string> = {
  weekdays: "meals on some weekdays only",
  oneOffs: "one-off meals",
  skips: "skipping single meals",
  pause: "pausing meals",
};

/** The limits of a device-stored plan, or undefined when the plan is not limited. */
export function deviceScheduleLimits(
  services: Services,
  feederId: string,
): { features: ScheduleFeature[]; slots: number | undefined; profile: string } | undefined {
  if (!services.plans.get(feederId).deviceDriven) return undefined;
  const feeder = services.feeders.view(feederId);
  const schedule = services.profiles.find(feeder.profile)?.capabilities.schedule;
  if (schedule?.storage !== "device") return undefined;
  return { features: schedule.features ?? [], slots: schedule.slots, profile: feeder.profile };
}

export function requireScheduleFeature(services: Services, feederId: string, feature: ScheduleFeature): void {
  const limits = deviceScheduleLimits(services, feederId);
  if (!limits || limits.features.includes(feature)) return;
  throw new AppError(
    "schedule_unsupported",
    `This feeder (${limits.profile}) stores its meal plan itself and cannot hold ${FEATURE_NAMES[feature]}; change its recurring meals instead.`,
  );
}

/** A plan's recurring meals must fit the device: its number of slots, and days other than every day. */
export function requirePlanFits(
  services: Services,
  feederId: string,
  meals: Array<{ enabled?: boolean | undefined; days?: readonly string[] | undefined }>,
): void {
  const limits = deviceScheduleLimits(services, feederId);
  if (!limits) return;
  const enabled = meals.filter((m) => m.enabled !== false);
  if (limits.slots && enabled.length > limits.slots) {
    throw new AppError(
      "schedule_unsupported",
      `meals: this feeder (${limits.profile}) stores at most ${limits.slots} meals; the plan has ${enabled.length} enabled.`,
    );
  }
  const someDays = enabled.some((m) => m.days !== undefined && new Set(m.days).size < 7);
  if (someDays && !limits.features.includes("weekdays")) {
    throw new AppError(
      "schedule_unsupported",
      `meals: this feeder (${limits.profile}) stores only meals for every day; ${FEATURE_NAMES.weekdays} cannot be stored on it.`,
    );
  }
}
