import type { RouteHandler } from "@hono/zod-openapi";
import { Temporal } from "temporal-polyfill";
import type { AppEnv } from "../../context.js";
import type { getMealCalendar, getSchedule, putSchedule } from "./schedule.routes.js";

export const readSchedule: RouteHandler<typeof getSchedule, AppEnv> = (c) => {
  const { feederId: _, ...schedule } = c.get("services").plans.get(c.req.valid("param").id);
  return c.json({ schedule }, 200);
};

export const writeSchedule: RouteHandler<typeof putSchedule, AppEnv> = (c) => {
  const { feederId: _, ...schedule } = c
    .get("services")
    .plans.replace(c.req.valid("param").id, c.req.valid("json"));
  return c.json({ schedule }, 200);
};

export const mealCalendar: RouteHandler<typeof getMealCalendar, AppEnv> = (c) => {
  const { plans, calendar, clock } = c.get("services");
  const { id } = c.req.valid("param");
  const { days } = c.req.valid("query");
  const zone = plans.get(id).effectiveTimezone;
  const today = Temporal.Instant.fromEpochMilliseconds(clock.now()).toZonedDateTimeISO(zone).startOfDay();
  const from = new Date(today.epochMilliseconds);
  const to = new Date(today.add({ days }).epochMilliseconds);
  const meals = calendar.between(id, from, to).map((m) => ({ ...m, dueAt: m.dueAt.toISOString() }));
  return c.json({ meals }, 200);
};
