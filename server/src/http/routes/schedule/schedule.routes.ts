import { createRoute, z } from "@hono/zod-openapi";
import {
  errorResponses,
  FeederIdParam,
  MealOccurrenceSchema,
  NewOneOffMealSchema,
  OneOffMealSchema,
  PauseSchema,
  ScheduleInputSchema,
  ScheduleSchema,
} from "../../schemas.js";

const DST_RULE =
  "Meals are evaluated in the feeder's time zone. A meal in the hour skipped when clocks spring forward runs once, at the first valid minute after the gap; a meal in the hour repeated when clocks fall back runs once, at the first of the two.";

export const getSchedule = createRoute({
  method: "get",
  path: "/api/feeders/{id}/schedule",
  tags: ["Meal plans"],
  summary: "A feeder's meal plan",
  description: DST_RULE,
  request: { params: FeederIdParam },
  responses: {
    200: {
      description: "The plan",
      content: { "application/json": { schema: z.object({ schedule: ScheduleSchema }) } },
    },
    ...errorResponses(401, 404),
  },
});

export const putSchedule = createRoute({
  method: "put",
  path: "/api/feeders/{id}/schedule",
  tags: ["Meal plans"],
  summary: "Replace a feeder's meal plan",
  description: `The whole plan is replaced. Send meal ids back to keep a meal's identity (today's decided meal is not fed again). ${DST_RULE}`,
  request: {
    params: FeederIdParam,
    body: { required: true, content: { "application/json": { schema: ScheduleInputSchema } } },
  },
  responses: {
    200: {
      description: "The saved plan",
      content: { "application/json": { schema: z.object({ schedule: ScheduleSchema }) } },
    },
    ...errorResponses(400, 401, 403, 404, 422),
  },
});

export const getMealCalendar = createRoute({
  method: "get",
  path: "/api/feeders/{id}/meals",
  tags: ["Meal plans"],
  summary:
    "Every planned meal from the start of today (feeder's time) for the next days, with what became of it",
  request: {
    params: FeederIdParam,
    query: z.object({ days: z.coerce.number().int().min(1).max(31).default(8) }),
  },
  responses: {
    200: {
      description: "Meals in time order",
      content: { "application/json": { schema: z.object({ meals: z.array(MealOccurrenceSchema) }) } },
    },
    ...errorResponses(400, 401, 404),
  },
});

const MealEntry = z.object({ meal: MealOccurrenceSchema });
const OccurrenceParams = FeederIdParam.extend({
  date: z.iso
    .date("date must be YYYY-MM-DD")
    .openapi({ param: { name: "date", in: "path" }, example: "2026-11-27" }),
  mealId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "mealId", in: "path" }, example: "breakfast" }),
});
const OneOffParams = FeederIdParam.extend({
  mealId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "mealId", in: "path" }, example: "oncek3x9q2m4" }),
});
const SKIP_NOTE =
  "A skipped meal is not fed; for a feeder that stores its own schedule, the skip is sent to the device with the plan.";

export const postSkipNext = createRoute({
  method: "post",
  path: "/api/feeders/{id}/schedule/skip-next",
  tags: ["Meal plans"],
  summary: "Skip the next planned meal",
  description: `Skips the next meal that is still planned (not fed, skipped or paused yet). ${SKIP_NOTE}`,
  request: { params: FeederIdParam },
  responses: {
    200: { description: "The skipped meal", content: { "application/json": { schema: MealEntry } } },
    ...errorResponses(401, 403, 404, 409, 422),
  },
});

export const putSkip = createRoute({
  method: "put",
  path: "/api/feeders/{id}/schedule/skips/{date}/{mealId}",
  tags: ["Meal plans"],
  summary: "Skip one future meal",
  description: `Idempotent. ${SKIP_NOTE}`,
  request: { params: OccurrenceParams },
  responses: {
    200: { description: "The skipped meal", content: { "application/json": { schema: MealEntry } } },
    ...errorResponses(400, 401, 403, 404, 409, 422),
  },
});

export const deleteSkip = createRoute({
  method: "delete",
  path: "/api/feeders/{id}/schedule/skips/{date}/{mealId}",
  tags: ["Meal plans"],
  summary: "Un-skip a future meal",
  request: { params: OccurrenceParams },
  responses: {
    200: { description: "The meal, planned again", content: { "application/json": { schema: MealEntry } } },
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

export const putPause = createRoute({
  method: "put",
  path: "/api/feeders/{id}/schedule/pause",
  tags: ["Meal plans"],
  summary: "Pause planned meals between two dates (vacation, vet)",
  description:
    "No planned meal or one-off is fed from `from` through `until` (the feeder's local dates, both included); their occurrences show as `paused`. Replaces an earlier pause. Feed now still works.",
  request: {
    params: FeederIdParam,
    body: { required: true, content: { "application/json": { schema: PauseSchema } } },
  },
  responses: {
    200: {
      description: "The plan with its pause",
      content: { "application/json": { schema: z.object({ schedule: ScheduleSchema }) } },
    },
    ...errorResponses(400, 401, 403, 404, 422),
  },
});

export const deletePause = createRoute({
  method: "delete",
  path: "/api/feeders/{id}/schedule/pause",
  tags: ["Meal plans"],
  summary: "End a pause: planned meals resume",
  request: { params: FeederIdParam },
  responses: {
    200: {
      description: "The plan without a pause",
      content: { "application/json": { schema: z.object({ schedule: ScheduleSchema }) } },
    },
    ...errorResponses(401, 403, 404),
  },
});

export const postOneOff = createRoute({
  method: "post",
  path: "/api/feeders/{id}/schedule/one-offs",
  tags: ["Meal plans"],
  summary: "Add a meal that happens once",
  description: `Fed once at a local date and time, like a planned meal (same catch-up and alert rules). ${DST_RULE}`,
  request: {
    params: FeederIdParam,
    body: { required: true, content: { "application/json": { schema: NewOneOffMealSchema } } },
  },
  responses: {
    201: {
      description: "The one-off meal",
      content: { "application/json": { schema: z.object({ oneOff: OneOffMealSchema }) } },
    },
    ...errorResponses(400, 401, 403, 404, 422),
  },
});

export const deleteOneOff = createRoute({
  method: "delete",
  path: "/api/feeders/{id}/schedule/one-offs/{mealId}",
  tags: ["Meal plans"],
  summary: "Remove a one-off meal",
  request: { params: OneOffParams },
  responses: {
    204: { description: "Removed" },
    ...errorResponses(401, 403, 404),
  },
});
