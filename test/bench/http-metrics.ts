/**
 * `npx tsx test/bench/http-metrics.ts`: what the HTTP metrics middleware costs a request, and what a scrape
 * costs. A report, not a test.
 *
 * - Requests: the same app (a JSON route with an id in its path, as GET /api/feeders/{id}) with and without
 *   httpMetrics in front, through Hono's fetch handler in this process, so the socket and the client do not
 *   drown the difference. Rounds alternate between the two so a busy machine slows both alike.
 * - Scrape: a registry with every series a busy server could have (each documented route × method × status
 *   class) rendered as GET /api/metrics renders it.
 *
 * Knobs: BENCH_HTTP_REQUESTS (per round, default 20,000), BENCH_HTTP_ROUNDS (default 6).
 */
import { Hono } from "hono";
import { Registry } from "prom-client";
import { httpMetrics } from "../../server/src/integrations/metrics/http-metrics.js";
import { round, summarize } from "./stats.js";

const REQUESTS = Number(process.env.BENCH_HTTP_REQUESTS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? 6);

function app(withMetrics: boolean): Hono {
  const a = new Hono();
  if (withMetrics) a.use("*", httpMetrics(new Registry()));
  a.get("/api/feeders/:id", (c) =>
    c.json({ feeder: { id: c.req.param("id"), name: "Kitchen", online: true, maxPortions: 10 } }),
  );
  return a;
}

/** Requests per second over one round. */
async function round1(a: Hono): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < REQUESTS; i++) {
    const res = await a.request(`/api/feeders/f${i % 100}`);
    await res.arrayBuffer();
  }
  return REQUESTS / ((performance.now() - started) / 1000);
}

const plain = app(false);
const measured = app(true);
await round1(plain);
await round1(measured);
const without: number[] = [];
const withMetrics: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  without.push(await round1(plain));
  withMetrics.push(await round1(measured));
}
const a = summarize(without);
const b = summarize(withMetrics);
const perRequestUs = (1e6 / b.p50 - 1e6 / a.p50).toFixed(2);
console.log(`requests/s without metrics: median ${round(a.p50)} (min ${round(a.min)}, max ${round(a.max)})`);
console.log(`requests/s with metrics:    median ${round(b.p50)} (min ${round(b.min)}, max ${round(b.max)})`);
console.log(
  `cost: ${perRequestUs} µs per request (${((1 - b.p50 / a.p50) * 100).toFixed(1)} % of this bare route)`,
);

// Scrape: 60 routes × 4 methods × 4 status classes, each a histogram of 12 buckets.
const registry = new Registry();
const busy = new Hono();
busy.use("*", httpMetrics(registry));
const METHODS = ["GET", "POST", "PUT", "DELETE"];
for (let r = 0; r < 60; r++) {
  busy.on(METHODS, `/api/r${r}/:id`, (c) => c.body(null, Number(c.req.query("s") ?? 200) as 200));
}
for (let r = 0; r < 60; r++) {
  for (const method of METHODS) {
    for (const s of [200, 304, 404, 500]) await busy.request(`/api/r${r}/x?s=${s}`, { method });
  }
}
const scrapes: number[] = [];
let bytes = 0;
for (let i = 0; i < 50; i++) {
  const started = performance.now();
  bytes = (await registry.metrics()).length;
  scrapes.push(performance.now() - started);
}
const s = summarize(scrapes);
const metric = await registry.getSingleMetric("feedkeeper_http_request_duration_seconds")?.get();
const series = new Set(metric?.values.map((v) => `${v.labels.method} ${v.labels.route} ${v.labels.status}`))
  .size;
console.log(
  `scrape of ${series} HTTP series (${Math.round(bytes / 1024)} KiB): median ${round(s.p50)} ms, p99 ${round(s.p99)} ms`,
);
