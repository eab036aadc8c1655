import type { RouteHandler } from "@hono/zod-openapi";
import { AppError } from "../../../errors.js";
import { type AppEnv, currentUser } from "../../context.js";
import type { getConnectionLog } from "./connection-log.routes.js";

export const list: RouteHandler<typeof getConnectionLog, AppEnv> = (c) => {
  const { limit, feederId, unknown } = c.req.valid("query");
  const services = c.get("services");
  const feeders = new Set(services.feeders.list(currentUser(c).householdId).map((f) => f.id));
  // Another household's feeder is as unknown as one that does not exist.
  if (feederId !== undefined && !feeders.has(feederId)) throw new AppError("feeder_not_found");
  const entries = services.connections
    .list({ limit, feederId, unknownOnly: unknown === "true", feeders })
    .map((e) => ({ ...e, firstAt: e.firstAt.toISOString(), lastAt: e.lastAt.toISOString() }));
  return c.json({ entries }, 200);
};
