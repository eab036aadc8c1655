import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../context.js";
import type { getFeederHistory } from "./history.routes.js";

export const feederHistory: RouteHandler<typeof getFeederHistory, AppEnv> = (c) => {
  const { timeZone, days, foodLevel } = c
    .get("services")
    .history.history(c.req.valid("param").id, c.req.valid("query").days);
  return c.json(
    {
      timeZone,
      days,
      foodLevel: foodLevel.map((p) => ({ at: p.at.toISOString(), foodLevel: p.foodLevel })),
    },
    200,
  );
};
