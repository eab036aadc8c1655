import type { Context } from "hono";
import { matchedRoutes } from "hono/route";

/**
 * The API route a request matched, as the OpenAPI document names it (`GET /api/feeders/{id}`), or
 * undefined when no API route matched (it will be a 404). Only `/api/` routes count: the web UI's
 * catch-all `GET *` matches every GET too and must never decide who may read the API.
 */
export function apiRouteKey(c: Context): string | undefined {
  const route = matchedRoutes(c).find((r) => r.method !== "ALL" && r.path.startsWith("/api/"));
  return route && `${c.req.method} ${route.path.replace(/:(\w+)/g, "{$1}")}`;
}
