import type { RouteHandler } from "@hono/zod-openapi";
import { type AppEnv, currentUser } from "../../context.js";
import type { listAudit } from "./audit.routes.js";

export const list: RouteHandler<typeof listAudit, AppEnv> = (c) => {
  const { limit, before, userId } = c.req.valid("query");
  const entries = c
    .get("services")
    .audit.list({
      householdId: currentUser(c).householdId,
      limit,
      before: before ? new Date(before) : undefined,
      userId,
    })
    .map(({ householdId: _, ...e }) => ({ ...e, at: e.at.toISOString() }));
  return c.json({ entries }, 200);
};
