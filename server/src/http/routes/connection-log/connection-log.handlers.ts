import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../context.js";
import type { getConnectionLog } from "./connection-log.routes.js";

export const list: RouteHandler<typeof getConnectionLog, AppEnv> = (c) => {
  const { limit, feederId, unknown } = c.req.valid("query");
  const entries = c
    .get("services")
    .connections.list({ limit, feederId, unknownOnly: unknown === "true" })
    .map((e) => ({ ...e, firstAt: e.firstAt.toISOString(), lastAt: e.lastAt.toISOString() }));
  return c.json({ entries }, 200);
};
