/**
 * The API's JSON shapes. The same zod schemas validate requests, type the
 * handlers and generate the OpenAPI document, and the web UI imports their
 * inferred types (api-types.ts).
 */
import { z } from "@hono/zod-openapi";
import { ERRORS } from "../errors.js";
import { MEAL_STATES } from "../feeding/meal-calendar.js";
import { MAX_MEALS } from "../feeding/meal-plans.js";
import { WEEKDAYS } from "../feeding/meal-time.js";
import { FEED_STATUSES } from "../store/schema.js";

const isoTime = z.iso.datetime().openapi({ example: "2026-11-26T07:30:00.000Z" });

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERRORS) as [keyof typeof ERRORS, ...(keyof typeof ERRORS)[]]),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi("Error");

export const UserSchema = z
  .object({
    id: z.string(),
    username: z.string(),
    role: z.enum(["owner"]),
    createdAt: isoTime,
  })
  .openapi("User");

export const CredentialsSchema = z
  .object({
    username: z
      .string()
      .trim()
      .min(1, "username is required")
      .max(64, "username must be at most 64 characters")
      .regex(/^[\p{L}\p{N}._@-]+$/u, "username may contain letters, digits and . _ @ - only")
      .openapi({ example: "admin" }),
    password: z.string().min(1, "password is required").max(1024, "password must be at most 1024 characters"),
  })
  .openapi("Credentials");

/** The first account's password: long enough that guessing it over the network is hopeless. */
export const SetupSchema = CredentialsSchema.extend({
  password: z.string().min(10, "password must be at least 10 characters").max(1024),
}).openapi("Setup");

export const FeedSchema = z
  .object({
    id: z.string().openapi({ example: "3f1c2a7e-9b1d-4a3e-8f60-3c1d2b9a7e10" }),
    feederId: z.string(),
    source: z.enum(["remote", "schedule", "button"]),
    portions: z.number().int(),
    status: z.enum(FEED_STATUSES),
    error: z.string().nullable(),
    grams: z.number().nullable(),
    requestedAt: isoTime,
    expiresAt: isoTime.nullable(),
    sentAt: isoTime.nullable(),
    acceptedAt: isoTime.nullable(),
    completedAt: isoTime.nullable(),
  })
  .openapi("Feed");

export const TelemetrySchema = z
  .object({
    at: isoTime,
    foodLevel: z.number().min(0).max(1).optional(),
    weightGrams: z.number().optional(),
    battery: z.number().min(0).max(1).optional(),
    rssi: z.number().optional(),
    error: z.string().optional(),
  })
  .openapi("Telemetry");

export const FeederSchema = z
  .object({
    id: z.string().openapi({ example: "k3x9q2m4p7ab" }),
    name: z.string(),
    profile: z.string(),
    maxPortions: z.number().int(),
    createdAt: isoTime,
    online: z.boolean(),
    lastSeenAt: isoTime.nullable(),
    model: z.string().nullable(),
    firmware: z.string().nullable(),
    capabilities: z.array(z.string()),
    portionGrams: z.number().nullable(),
    telemetry: TelemetrySchema.nullable(),
    lastFeed: FeedSchema.nullable(),
  })
  .openapi("Feeder");

export const FeederCredentialsSchema = z
  .object({
    username: z.string(),
    clientId: z.string(),
    password: z.string().openapi({ description: "Shown only in this response; stored as a salted hash." }),
    topicRoot: z.string().openapi({ example: "feedkeeper/k3x9q2m4p7ab" }),
  })
  .openapi("FeederCredentials");

export const NewFeederSchema = z
  .object({
    name: z.string().trim().min(1, "name is required").max(64, "name must be at most 64 characters"),
    profile: z.string().min(1).max(64).openapi({ example: "feedkeeper" }),
    maxPortions: z.number().int().min(1).max(100).optional(),
  })
  .openapi("NewFeeder");

export const FeederChangesSchema = NewFeederSchema.pick({ name: true, maxPortions: true })
  .partial()
  .openapi("FeederChanges");

export const NewFeedSchema = z
  .object({
    portions: z.number().int("portions must be a whole number").min(1, "portions must be at least 1"),
    expiresInSeconds: z
      .number()
      .int()
      .min(5, "expiresInSeconds must be at least 5")
      .optional()
      .openapi({ description: "How long the feeder may still start this feed. Default 60." }),
  })
  .openapi("NewFeed");

export const ApiTokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    createdAt: isoTime,
    expiresAt: isoTime.nullable(),
    lastUsedAt: isoTime.nullable(),
  })
  .openapi("ApiToken");

export const NewApiTokenSchema = z
  .object({
    name: z.string().trim().min(1, "name is required").max(64),
    expiresInDays: z.number().int().min(1).max(3650).optional(),
  })
  .openapi("NewApiToken");

const pathId = (name: string) =>
  z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name, in: "path" } });
export const FeederIdParam = z.object({ id: pathId("id") });
export const FeedIdParam = z.object({ feedId: pathId("feedId") });
export const TokenIdParam = z.object({ id: pathId("id") });

export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: describeStatus(s), content: { "application/json": { schema: ErrorSchema } } },
    ]),
  );

function describeStatus(status: number): string {
  const codes = Object.entries(ERRORS)
    .filter(([, e]) => e.status === status)
    .map(([code]) => code);
  return `Error: ${codes.join(", ")}`;
}

export const MealSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9]{1,16}$/, "meal id: 1-16 lower-case letters or digits")
      .openapi({ description: "Kept across saves; omit for a new meal.", example: "breakfast" }),
    time: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "time must be HH:MM, 00:00-23:59")
      .openapi({ description: "Local wall-clock time in the feeder's time zone", example: "07:30" }),
    days: z.array(z.enum(WEEKDAYS)).min(1, "days: pick at least one weekday").max(7),
    portions: z.number().int("portions must be a whole number").min(1, "portions must be at least 1"),
    label: z.string().trim().max(40, "label must be at most 40 characters"),
    enabled: z.boolean(),
  })
  .openapi("Meal");

export const ScheduleSchema = z
  .object({
    timezone: z
      .string()
      .nullable()
      .openapi({ description: "IANA zone; null = the server's", example: "Europe/Berlin" }),
    effectiveTimezone: z.string().openapi({ example: "Europe/Berlin" }),
    graceMinutes: z.number().int(),
    meals: z.array(MealSchema),
  })
  .openapi("Schedule");

export const ScheduleInputSchema = z
  .object({
    timezone: z.string().min(1).max(64).nullable().optional(),
    graceMinutes: z
      .number()
      .int()
      .min(0, "graceMinutes must be 0-180")
      .max(180, "graceMinutes must be 0-180")
      .optional()
      .openapi({
        description: "How late a meal missed during server downtime may still be fed. Default 15.",
      }),
    meals: z
      .array(MealSchema.partial({ id: true, label: true, enabled: true }))
      .max(MAX_MEALS, `at most ${MAX_MEALS} meals`),
  })
  .openapi("ScheduleInput");

export const MealOccurrenceSchema = z
  .object({
    occurrenceId: z.string().openapi({ example: "k3x9q2m4p7ab/2026-11-26/breakfast" }),
    mealId: z.string(),
    label: z.string(),
    localDate: z.string().openapi({ example: "2026-11-26" }),
    dueAt: isoTime,
    portions: z.number().int(),
    state: z.enum(MEAL_STATES),
    feedId: z.string().nullable(),
    grams: z.number().nullable(),
    source: z.enum(["remote", "schedule", "button"]).nullable(),
    error: z.string().nullable(),
  })
  .openapi("MealOccurrence");
