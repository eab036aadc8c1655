import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../context.js";
import type { getMetrics } from "./metrics.routes.js";

export const metrics: RouteHandler<typeof getMetrics, AppEnv> = async (c) => {
  const registry = c.get("services").metrics;
  return c.text(await registry.metrics(), 200, {
    "content-type": registry.contentType,
    // Counts of a whole server: never for a shared cache.
    "cache-control": "no-store",
  });
};
