/**
 * The API's JSON shapes. The same zod schemas validate requests, type the
 * handlers and generate the OpenAPI document, and the web UI imports their
 * inferred types (api-types.ts).
 */
import { z } from "@hono/zod-openapi";
import { ROLES } from "../auth/accounts.js";
import { newPasswordSchema } from "../auth/password-rules.js";
import { ERRORS } from "../errors.js";
import { MEAL_KINDS, MEAL_STATES } from "../feeding/meal-calendar.js";
import { MAX_MEALS } from "../feeding/meal-plans.js";
import { WEEKDAYS } from "../feeding/meal-time.js";
import { MAX_DAILY_GRAMS_TARGET, MAX_PET_NAME_LENGTH } from "../feeding/pets.js";
import { ALERT_KINDS, FEED_SOURCES, FEED_STATUSES } from "../store/schema.js";

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
    role: z.enum(ROLES).openapi({
      description:
        "owner: everything; member: feed, meal plans, pets, alerts, and see everything; sitter: feed within the safety limits and see status and history, nothing else",
    }),
    createdAt: isoTime,
    expiresAt: isoTime
      .nullable()
      .openapi({ description: "The account ends then (a sitter's week); null: never" }),
  })
  .openapi("User");

// zod-to-openapi writes a pattern with flags as "^…$/u", which is no valid JSON Schema pattern: these
// patterns are given to the document as their source (JSON Schema patterns are Unicode-aware anyway).
const USERNAME_PATTERN = /^[\p{L}\p{N}._@-]+$/u;
const DEVICE_KEY_PATTERN = /^[^#+\p{Cc}]+$/u;

export const NewUserSchema = z
  .object({
    username: z
      .string()
      .trim()
      .min(1, "username is required")
      .max(64, "username must be at most 64 characters")
      .regex(USERNAME_PATTERN, "username may contain letters, digits and . _ @ - only")
      .openapi({ pattern: USERNAME_PATTERN.source }),
    password: newPasswordSchema,
    role: z.enum(ROLES),
    expiresAt: z.iso.datetime({ offset: true }).nullable().optional().openapi({
      description: "When the account ends (e.g. a sitter's last day); null or absent: never",
    }),
  })
  .openapi("NewUser");

export const UserChangesSchema = z
  .object({
    role: z.enum(ROLES).optional(),
    expiresAt: z.iso.datetime({ offset: true }).nullable().optional(),
  })
  .strict()
  .openapi("UserChanges");

export const PasswordChangeSchema = z
  .object({
    currentPassword: z.string().min(1, "currentPassword is required").max(1024),
    newPassword: newPasswordSchema,
  })
  .openapi("PasswordChange");

export const CredentialsSchema = z
  .object({
    username: z
      .string()
      .trim()
      .min(1, "username is required")
      .max(64, "username must be at most 64 characters")
      .regex(USERNAME_PATTERN, "username may contain letters, digits and . _ @ - only")
      .openapi({ example: "admin", pattern: USERNAME_PATTERN.source }),
    password: z.string().min(1, "password is required").max(1024, "password must be at most 1024 characters"),
  })
  .openapi("Credentials");

/** The first account's password: long enough that guessing it over the network is hopeless. */
export const SetupSchema = CredentialsSchema.extend({
  password: newPasswordSchema,
}).openapi("Setup");

export const FeedSchema = z
  .object({
    id: z.string().openapi({ example: "3f1c2a7e-9b1d-4a3e-8f60-3c1d2b9a7e10" }),
    feederId: z.string(),
    source: z.enum(FEED_SOURCES),
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
    linkQuality: z
      .number()
      .int()
      .min(0)
      .max(255)
      .optional()
      .openapi({ description: "Zigbee link quality, 0–255" }),
    charging: z.boolean().optional().openapi({ description: "On mains power or charging" }),
    error: z.string().optional(),
  })
  .openapi("Telemetry");

export const FeederSchema = z
  .object({
    id: z.string().openapi({ example: "k3x9q2m4p7ab" }),
    name: z.string(),
    profile: z.string(),
    profileModel: z
      .string()
      .nullable()
      .openapi({ description: "Which of the profile's models this feeder is (the owner's pick)" }),
    deviceKey: z.string().nullable().openapi({
      description:
        "The device's own id on the wire (serial, gateway id, Zigbee friendly name); null for devices using Feedkeeper-issued credentials",
    }),
    maxPortions: z.number().int(),
    dailyMaxPortions: z.number().int(),
    minFeedIntervalSeconds: z.number().int(),
    createdAt: isoTime,
    online: z.boolean(),
    lastSeenAt: isoTime.nullable(),
    model: z.string().nullable(),
    firmware: z.string().nullable(),
    capabilities: z.array(z.string()),
    portionGrams: z.number().nullable(),
    petId: z.string().nullable().openapi({ description: "The pet this feeder feeds; null = none" }),
    telemetry: TelemetrySchema.nullable(),
    lastFeed: FeedSchema.nullable(),
    timeZone: z.string().openapi({
      description: "The zone its meal times and days are counted in: its own, or the server's",
      example: "Asia/Tokyo",
    }),
    nextMeal: z
      .object({
        dueAt: isoTime,
        portions: z.number().int(),
        label: z.string(),
        kind: z.enum(["meal", "one-off"]),
      })
      .nullable()
      .openapi({ description: "The next planned meal within 8 days (skipped and paused ones left out)" }),
    openAlerts: z.number().int().openapi({ description: "Its alerts nobody has acknowledged yet" }),
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
    model: z.string().min(1).max(64).optional().openapi({
      description:
        "One of the profile's model ids (GET /api/profiles); needed when the profile has several, since models differ in data points and fault codes",
    }),
    deviceKey: z
      .string()
      .min(1)
      .max(128)
      .regex(DEVICE_KEY_PATTERN, "deviceKey must not contain # or +")
      .optional()
      .openapi({
        pattern: DEVICE_KEY_PATTERN.source,
        description:
          "For profiles on an external broker only: the device's id there, e.g. the Zigbee2MQTT friendly name",
      }),
    maxPortions: z.number().int().min(1).max(100).optional(),
    dailyMaxPortions: z
      .number()
      .int("dailyMaxPortions must be a whole number")
      .min(1, "dailyMaxPortions must be 1-1000")
      .max(1000, "dailyMaxPortions must be 1-1000")
      .optional()
      .openapi({
        description:
          "Safety limit: portions per local day from all sources (remote, schedule, button). A remote feed beyond it is refused with 409 unless overridden. Default 40.",
      }),
    minFeedIntervalSeconds: z
      .number()
      .int("minFeedIntervalSeconds must be a whole number")
      .min(0, "minFeedIntervalSeconds must be 0-86400")
      .max(86_400, "minFeedIntervalSeconds must be 0-86400")
      .optional()
      .openapi({
        description:
          "Safety limit: seconds from one remote feed to the next; an earlier one is refused with 409 unless overridden. 0 turns it off. Default 60.",
      }),
    petId: z.string().min(1, "petId must not be empty").max(64).nullable().optional().openapi({
      description:
        "The pet this feeder feeds (a feeder feeds at most one pet; a pet may have several feeders); null = none.",
    }),
  })
  .openapi("NewFeeder");

export const FeederChangesSchema = NewFeederSchema.pick({
  name: true,
  maxPortions: true,
  dailyMaxPortions: true,
  minFeedIntervalSeconds: true,
  petId: true,
})
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
    override: z.boolean().optional().openapi({
      description:
        "Feed even if this goes beyond the feeder's safety limits (dailyMaxPortions, minFeedIntervalSeconds). Owners only; logged.",
    }),
  })
  .openapi("NewFeed");

export const ApiTokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES).nullable().openapi({ description: "What it may do; null: whatever its user may" }),
    createdAt: isoTime,
    expiresAt: isoTime.nullable(),
    lastUsedAt: isoTime.nullable(),
  })
  .openapi("ApiToken");

export const NewApiTokenSchema = z
  .object({
    name: z.string().trim().min(1, "name is required").max(64),
    expiresInDays: z.number().int().min(1).max(3650).optional(),
    role: z.enum(ROLES).optional().openapi({
      description: "Limit the token to a lower role than yours, e.g. sitter for a button that only feeds",
    }),
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
export const PetIdParam = z.object({ id: pathId("id") });

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

const localDate = z.iso.date("dates are YYYY-MM-DD").openapi({ example: "2026-12-24" });

export const PauseSchema = z
  .object({ from: localDate, until: localDate })
  .refine((p) => p.from <= p.until, { message: "from must not be after until", path: ["until"] })
  .openapi("Pause", { description: "No meals from `from` through `until`, local dates, both included." });

export const OneOffMealSchema = z
  .object({
    id: z.string().openapi({ example: "oncek3x9q2m4" }),
    date: localDate,
    time: MealSchema.shape.time,
    portions: z.number().int(),
    label: z.string(),
  })
  .openapi("OneOffMeal");

export const NewOneOffMealSchema = z
  .object({
    date: localDate,
    time: MealSchema.shape.time,
    portions: MealSchema.shape.portions,
    label: MealSchema.shape.label.optional(),
  })
  .openapi("NewOneOffMeal");

export const AlertSchema = z
  .object({
    id: z.string(),
    feederId: z.string().nullable(),
    kind: z.enum(ALERT_KINDS),
    message: z.string(),
    occurrenceId: z.string().nullable(),
    createdAt: isoTime,
    acknowledgedAt: isoTime.nullable(),
  })
  .openapi("Alert");

export const ScheduleSchema = z
  .object({
    timezone: z
      .string()
      .nullable()
      .openapi({ description: "IANA zone; null = the server's", example: "Europe/Berlin" }),
    effectiveTimezone: z.string().openapi({ example: "Europe/Berlin" }),
    graceMinutes: z.number().int(),
    meals: z.array(MealSchema),
    oneOffs: z.array(OneOffMealSchema),
    pause: PauseSchema.nullable(),
    version: z
      .number()
      .int()
      .openapi({ description: "Bumped by every change to the plan, skips and pause." }),
    deviceVersion: z.number().int().nullable().openapi({
      description: "The version the device says it runs, for feeders that store their own schedule.",
    }),
    deviceDriven: z.boolean().openapi({
      description:
        "True when the feeder stores the schedule and feeds on its own (it announced the `schedule` capability); the server then only reconciles its reports.",
    }),
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
    occurrenceId: z
      .string()
      .nullable()
      .openapi({ example: "k3x9q2m4p7ab/2026-11-26/breakfast", description: "Null for an extra meal." }),
    kind: z.enum(MEAL_KINDS).openapi({
      description:
        "meal: from the plan; one-off: planned once; extra: fed outside the plan (feed now, button).",
    }),
    mealId: z.string(),
    label: z.string(),
    localDate: z.string().openapi({ example: "2026-11-26" }),
    dueAt: isoTime,
    portions: z.number().int(),
    state: z.enum(MEAL_STATES),
    feedId: z.string().nullable(),
    grams: z.number().nullable(),
    source: z.enum(FEED_SOURCES).nullable(),
    error: z.string().nullable(),
  })
  .openapi("MealOccurrence");

export const PetSchema = z
  .object({
    id: z.string().openapi({ example: "p4k2x9m3q7ab" }),
    name: z.string().openapi({ example: "Miso" }),
    dailyGramsTarget: z
      .number()
      .nullable()
      .openapi({ description: "Grams the pet should get per day; null = no target" }),
    createdAt: isoTime,
  })
  .openapi("Pet");

const targetRange = `dailyGramsTarget must be 1-${MAX_DAILY_GRAMS_TARGET} grams`;

export const NewPetSchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(1, "name is required")
      .max(MAX_PET_NAME_LENGTH, `name must be at most ${MAX_PET_NAME_LENGTH} characters`)
      .openapi({ example: "Miso" }),
    dailyGramsTarget: z
      .number()
      .min(1, targetRange)
      .max(MAX_DAILY_GRAMS_TARGET, targetRange)
      .nullable()
      .optional()
      .openapi({
        description: "Grams per day to compare intake against; null or omitted = none",
        example: 80,
      }),
  })
  .openapi("NewPet");

export const PetChangesSchema = NewPetSchema.partial().openapi("PetChanges");

export const IntakeDaySchema = z
  .object({
    date: z.string().openapi({ description: "Local calendar date", example: "2026-11-26" }),
    grams: z.number().openapi({
      description:
        "Grams dispensed that day by the pet's feeders (feeds with status `dispensed` only): the device's measurement, else portions × the feeder's portionGrams; to 0.1 g",
      example: 72.5,
    }),
    unknownPortions: z.number().int().openapi({
      description:
        "Portions dispensed whose weight is unknown (no measurement, no portionGrams); not included in grams",
    }),
    targetGrams: z.number().nullable(),
    percentOfTarget: z.number().int().nullable().openapi({
      description: "grams as a whole percent of targetGrams; null without a target",
      example: 91,
    }),
  })
  .openapi("IntakeDay");

export const PetIntakeSchema = z
  .object({
    pet: PetSchema,
    timezone: z.string().openapi({
      description:
        "The zone days are read in: the one every feeder of the pet has set, if they all share one; else the server's",
      example: "Europe/Berlin",
    }),
    days: z.array(IntakeDaySchema).openapi({ description: "Oldest first, ending with today" }),
  })
  .openapi("PetIntake");
