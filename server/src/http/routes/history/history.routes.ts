import { createRoute, z } from "@hono/zod-openapi";
import {
  DEFAULT_HISTORY_DAYS,
  MAX_FOOD_LEVEL_POINTS,
  MAX_HISTORY_DAYS,
} from "../../../feeding/feeder-history.js";
import { errorResponses, FeederIdParam } from "../../schemas.js";

const daysMessage = `days must be a whole number from 1 to ${MAX_HISTORY_DAYS}`;

export const HistoryDaySchema = z
  .object({
    date: z
      .string()
      .openapi({ description: "Local calendar date in the feeder's time zone", example: "2026-11-26" }),
    grams: z.number().nullable().openapi({
      description:
        "Grams dispensed that day (feeds with status `dispensed`): the device's measurement, else portions × the feeder's portionGrams; to 0.1 g. null when some of the day's portions have neither, rather than a sum that looks low",
      example: 72.5,
    }),
    portions: z.number().int().openapi({ description: "Portions dispensed" }),
    feeds: z.number().int().openapi({ description: "Feeds dispensed" }),
    failed: z.number().int().openapi({ description: "Feeds that failed (jam, empty…)" }),
  })
  .openapi("HistoryDay");

export const FoodLevelPointSchema = z
  .object({
    at: z.iso.datetime().openapi({ example: "2026-11-26T07:30:00.000Z" }),
    foodLevel: z.number().min(0).max(1).openapi({ description: "Food left, 0–1, as the feeder reported it" }),
  })
  .openapi("FoodLevelPoint");

export const FeederHistorySchema = z
  .object({
    timeZone: z.string().openapi({
      description: "The zone the days are counted in: the feeder's own, or the server's",
      example: "Asia/Tokyo",
    }),
    days: z.array(HistoryDaySchema).openapi({ description: "Oldest first, ending with today" }),
    foodLevel: z.array(FoodLevelPointSchema).openapi({
      description: `Readings since the start of the first day, oldest first: the period cut into ${MAX_FOOD_LEVEL_POINTS} equal slices, the last reading of each slice that has one`,
    }),
  })
  .openapi("FeederHistory");

export const getFeederHistory = createRoute({
  method: "get",
  path: "/api/feeders/{id}/history",
  tags: ["Feeds"],
  summary: "A feeder's grams per day and food level over the last days, for charts",
  description:
    "For each of the last `days` local days (feeder's time zone) up to and including today: grams, portions and feeds dispensed, and feeds that failed. A `timed_out` feed's outcome is unknown, so it counts nowhere. A feed belongs to the day it ended (`completedAt`, else `requestedAt`). Grams are counted as in `GET /api/pets/{id}/intake`. The food level is thinned to at most " +
    `${MAX_FOOD_LEVEL_POINTS} real readings. For each feed, see \`GET /api/feeders/{id}/feeds\`.`,
  request: {
    params: FeederIdParam,
    query: z.object({
      days: z.coerce
        .number(daysMessage)
        .int(daysMessage)
        .min(1, daysMessage)
        .max(MAX_HISTORY_DAYS, daysMessage)
        .default(DEFAULT_HISTORY_DAYS)
        .openapi({ description: "How many local days, ending with today" }),
    }),
  },
  responses: {
    200: {
      description: "The feeder's history",
      content: { "application/json": { schema: FeederHistorySchema } },
    },
    ...errorResponses(400, 401, 404),
  },
});
