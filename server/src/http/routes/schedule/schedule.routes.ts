import { createRoute, z } from "@hono/zod-openapi";
import {
  errorResponses,
  FeederIdParam,
  MealOccurrenceSchema,
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
