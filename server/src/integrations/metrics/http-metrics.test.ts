import { Hono } from "hono";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { httpMetrics } from "./http-metrics.js";

describe("HTTP metrics", () => {
  it("times requests by route pattern, never by path, with the status class", async () => {
    const registry = new Registry();
    const app = new Hono();
    app.use("*", httpMetrics(registry));
    app.get("/api/feeders/:id", (c) => c.json({ id: c.req.param("id") }));
    app.post("/api/feeders/:id", (c) => c.json({ error: "no" }, 403));
    app.get("*", (c) => c.text("page"));
    for (const id of ["a", "b", "c"]) await app.request(`/api/feeders/${id}`);
    await app.request("/api/feeders/a", { method: "POST" });
    await app.request("/feeders/a/settings");
    await app.request("/api/nothing/here");
    await app.request("/api/feeders/a", { method: "BREW" });

    const metric = await registry.getSingleMetric("feedkeeper_http_request_duration_seconds")?.get();
    const counts = Object.fromEntries(
      (metric?.values ?? [])
        .filter(
          (v) =>
            (v as { metricName?: string }).metricName === "feedkeeper_http_request_duration_seconds_count",
        )
        .map((v) => [`${v.labels.method} ${v.labels.route} ${v.labels.status}`, v.value]),
    );
    expect(counts).toEqual({
      "GET /api/feeders/{id} 2xx": 3,
      "POST /api/feeders/{id} 4xx": 1,
      "GET web 2xx": 1,
      "GET unmatched 2xx": 1,
      "other unmatched 4xx": 1,
    });
  });
});
