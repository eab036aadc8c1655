import type { RouteHandler } from "@hono/zod-openapi";
import { Temporal } from "temporal-polyfill";
import type { CalendarEntry } from "../../../feeding/meal-calendar.js";
import type { MealPlan } from "../../../feeding/meal-plans.js";
import type { AppEnv } from "../../context.js";
import type {
  deleteOneOff,
  deletePause,
  deleteSkip,
  getMealCalendar,
  getSchedule,
  postOneOff,
  postSkipNext,
  putPause,
  putSchedule,
  putSkip,
} from "./schedule.routes.js";
import { requirePlanFits, requireScheduleFeature } from "./schedule-support.js";

const presentPlan = ({ feederId: _, ...schedule }: MealPlan) => schedule;
const presentEntry = (entry: CalendarEntry) => ({ ...entry, dueAt: entry.dueAt.toISOString() });

export const readSchedule: RouteHandler<typeof getSchedule, AppEnv> = (c) => {
  const schedule = presentPlan(c.get("services").plans.get(c.req.valid("param").id));
  return c.json({ schedule }, 200);
};

export const writeSchedule: RouteHandler<typeof putSchedule, AppEnv> = (c) => {
  const services = c.get("services");
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  requirePlanFits(services, id, body.meals);
  const plan = services.plans.replace(id, body);
  return c.json({ schedule: presentPlan(plan) }, 200);
};

export const mealCalendar: RouteHandler<typeof getMealCalendar, AppEnv> = (c) => {
  const { plans, calendar, clock } = c.get("services");
  const { id } = c.req.valid("param");
  const { days } = c.req.valid("query");
  const zone = plans.get(id).effectiveTimezone;
  const today = Temporal.Instant.fromEpochMilliseconds(clock.now()).toZonedDateTimeISO(zone).startOfDay();
  const from = new Date(today.epochMilliseconds);
  const to = new Date(today.add({ days }).epochMilliseconds);
  return c.json({ meals: calendar.between(id, from, to).map(presentEntry) }, 200);
};

export const skipNext: RouteHandler<typeof postSkipNext, AppEnv> = (c) => {
  const services = c.get("services");
  const { id } = c.req.valid("param");
  requireScheduleFeature(services, id, "skips");
  return c.json({ meal: presentEntry(services.calendar.occurrence(id, services.plans.skipNext(id))) }, 200);
};

export const skipOne: RouteHandler<typeof putSkip, AppEnv> = (c) => {
  const { plans, calendar } = c.get("services");
  const { id, date, mealId } = c.req.valid("param");
  requireScheduleFeature(c.get("services"), id, "skips");
  return c.json({ meal: presentEntry(calendar.occurrence(id, plans.skip(id, date, mealId))) }, 200);
};

export const unskipOne: RouteHandler<typeof deleteSkip, AppEnv> = (c) => {
  const { plans, calendar } = c.get("services");
  const { id, date, mealId } = c.req.valid("param");
  return c.json({ meal: presentEntry(calendar.occurrence(id, plans.unskip(id, date, mealId))) }, 200);
};

export const pause: RouteHandler<typeof putPause, AppEnv> = (c) => {
  const { id } = c.req.valid("param");
  requireScheduleFeature(c.get("services"), id, "pause");
  const plan = c.get("services").plans.setPause(id, c.req.valid("json"));
  return c.json({ schedule: presentPlan(plan) }, 200);
};

export const resume: RouteHandler<typeof deletePause, AppEnv> = (c) => {
  const plan = c.get("services").plans.setPause(c.req.valid("param").id, null);
  return c.json({ schedule: presentPlan(plan) }, 200);
};

export const addOneOff: RouteHandler<typeof postOneOff, AppEnv> = (c) => {
  const { id } = c.req.valid("param");
  requireScheduleFeature(c.get("services"), id, "oneOffs");
  const oneOff = c.get("services").plans.addOneOff(id, c.req.valid("json"));
  return c.json({ oneOff }, 201);
};

export const removeOneOff: RouteHandler<typeof deleteOneOff, AppEnv> = (c) => {
  const { id, mealId } = c.req.valid("param");
  c.get("services").plans.removeOneOff(id, mealId);
  return c.body(null, 204);
};
