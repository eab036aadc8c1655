/** Domain records → API JSON. The only place that decides what leaves the server. */
import type { z } from "@hono/zod-openapi";
import type { ApiTokenRecord, User } from "../auth/accounts.js";
import type { FeederView } from "../feeding/feeders.js";
import type { FeedRecord } from "../feeding/feeds.js";
import type { CalendarEntry } from "../feeding/meal-calendar.js";
import type { PetIntake, PetRecord } from "../feeding/pets.js";
import type {
  ApiTokenSchema,
  FeederSchema,
  FeedSchema,
  PetIntakeSchema,
  PetSchema,
  UserSchema,
} from "./schemas.js";

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

export function presentUser(user: User): z.infer<typeof UserSchema> {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    createdAt: user.createdAt.toISOString(),
    expiresAt: iso(user.expiresAt),
  };
}

export function presentFeed(feed: FeedRecord): z.infer<typeof FeedSchema> {
  return {
    id: feed.id,
    feederId: feed.feederId,
    source: feed.source,
    portions: feed.portions,
    status: feed.status,
    error: feed.error,
    grams: feed.grams,
    requestedAt: feed.requestedAt.toISOString(),
    expiresAt: iso(feed.expiresAt),
    sentAt: iso(feed.sentAt),
    acceptedAt: iso(feed.acceptedAt),
    completedAt: iso(feed.completedAt),
  };
}

/** What a feeder's card needs besides the feeder: from its plan and its alerts. */
export interface FeederOutlook {
  timeZone: string;
  nextMeal: CalendarEntry | undefined;
  openAlerts: number;
}

export function presentFeeder(
  feeder: FeederView,
  lastFeed: FeedRecord | undefined,
  outlook: FeederOutlook,
): z.infer<typeof FeederSchema> {
  return {
    id: feeder.id,
    name: feeder.name,
    profile: feeder.profile,
    profileModel: feeder.profileModel,
    deviceKey: feeder.deviceKey,
    maxPortions: feeder.maxPortions,
    dailyMaxPortions: feeder.dailyMaxPortions,
    minFeedIntervalSeconds: feeder.minFeedIntervalSeconds,
    createdAt: feeder.createdAt.toISOString(),
    online: feeder.online,
    lastSeenAt: iso(feeder.lastSeenAt),
    model: feeder.model,
    firmware: feeder.firmware,
    capabilities: feeder.capabilities ?? [],
    portionGrams: feeder.portionGrams,
    petId: feeder.petId,
    telemetry: feeder.telemetry
      ? { ...feeder.telemetry, at: new Date(feeder.telemetry.at).toISOString() }
      : null,
    lastFeed: lastFeed ? presentFeed(lastFeed) : null,
    timeZone: outlook.timeZone,
    nextMeal: outlook.nextMeal
      ? {
          dueAt: outlook.nextMeal.dueAt.toISOString(),
          portions: outlook.nextMeal.portions,
          label: outlook.nextMeal.label,
          kind: outlook.nextMeal.kind === "one-off" ? "one-off" : "meal",
        }
      : null,
    openAlerts: outlook.openAlerts,
  };
}

export function presentToken(token: ApiTokenRecord): z.infer<typeof ApiTokenSchema> {
  return {
    id: token.id,
    name: token.name,
    role: token.role,
    createdAt: token.createdAt.toISOString(),
    expiresAt: iso(token.expiresAt),
    lastUsedAt: iso(token.lastUsedAt),
  };
}

export function presentPet(pet: PetRecord): z.infer<typeof PetSchema> {
  return {
    id: pet.id,
    name: pet.name,
    dailyGramsTarget: pet.dailyGramsTarget,
    createdAt: pet.createdAt.toISOString(),
  };
}

export function presentPetIntake(intake: PetIntake): z.infer<typeof PetIntakeSchema> {
  return { pet: presentPet(intake.pet), timezone: intake.timezone, days: intake.days };
}
