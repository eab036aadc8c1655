import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses } from "../../schemas.js";

export const getMetrics = createRoute({
  method: "get",
  path: "/api/metrics",
  tags: ["System"],
  summary: "Prometheus metrics (owners only)",
  description: [
    "The server's metrics in Prometheus' text format: feeders and how many are online, feeds by status, missed meals and open alerts,",
    "MQTT connections and messages, HTTP request durations by route pattern, the database's size, the process (CPU, memory, event loop) and the version.",
    "They count across the whole server, so only owners may read them. Prometheus sends an owner's API token:",
    "`authorization: { credentials_file: … }` (or `bearer_token_file`) in its scrape config, with `metrics_path: /api/metrics`.",
  ].join(" "),
  responses: {
    200: {
      description: "The metrics",
      content: { "text/plain; version=0.0.4": { schema: z.string() } },
    },
    ...errorResponses(401, 403),
  },
});
