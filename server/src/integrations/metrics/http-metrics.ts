import { createMiddleware } from "hono/factory";
import { Histogram, type Registry } from "prom-client";
import { apiRoute } from "../../http/route-key.js";

/** Seconds; the API answers in milliseconds, a slow disk or a big history in tenths. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * How long each request took until its answer started, by method, route and status class. The route is the
 * documented pattern (`/api/feeders/{id}`), never the path: ids would make a series per feeder and request.
 * Everything outside the API is the web UI; an API path no route matched is `unmatched`.
 */
export function httpMetrics(registry: Registry) {
  const duration = new Histogram({
    name: "feedkeeper_http_request_duration_seconds",
    help: "HTTP requests by method, route pattern and status class, until the response started.",
    labelNames: ["method", "route", "status"],
    buckets: BUCKETS,
    registers: [registry],
  });
  return createMiddleware(async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const route = apiRoute(c)?.path ?? (c.req.path.startsWith("/api/") ? "unmatched" : "web");
      duration.observe(
        { method: methodLabel(c.req.method), route, status: `${Math.floor(c.res.status / 100)}xx` },
        (performance.now() - started) / 1000,
      );
    }
  });
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** Any method a client makes up would be a new series: those are counted together. */
function methodLabel(method: string): string {
  return METHODS.has(method) ? method : "other";
}
