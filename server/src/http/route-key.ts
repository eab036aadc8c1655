import type { Context } from "hono";
import { matchedRoutes } from "hono/route";

/** The API route a request matched, keyed as the OpenAPI document names it, with its path parameters. */
export interface ApiRoute {
  /** `GET /api/feeders/{id}` */
  key: string;
  /** The documented path: `/api/feeders/{id}` */
  path: string;
  params: Record<string, string>;
}

/**
 * The API route of a request, for middleware, or undefined when no API route matched (it will be a 404).
 * Only `/api/` routes count: the web UI's catch-all `GET *` matches every GET too and must never decide
 * who may read the API. Parameters are read here because `c.req.param()` in a middleware answers for the
 * middleware's own path (`/api/*`), not the route's.
 */
export function apiRoute(c: Context): ApiRoute | undefined {
  const route = matchedRoutes(c).find((r) => r.method !== "ALL" && r.path.startsWith("/api/"));
  if (!route) return undefined;
  const params: Record<string, string> = {};
  const actual = c.req.path.split("/");
  route.path.split("/").forEach((segment, i) => {
    if (segment.startsWith(":")) params[segment.slice(1)] = safeDecode(actual[i] ?? "");
  });
  const path = route.path.replace(/:(\w+)/g, "{$1}");
  return { key: `${c.req.method} ${path}`, path, params };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
