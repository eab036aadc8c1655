/**
 * GET /api/metrics on the whole server in this process, with a simulated feeder on the embedded broker: what
 * Prometheus would scrape after one feed, and who may scrape it.
 */
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Running } from "../../server/src/main.js";
import { SimulatedFeeder } from "../../server/src/sim/native-feeder.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";

let dataDir: string;
let server: Running;
let api: TestApi;
let device: SimulatedFeeder;

/** One sample of the exposition format: `name{label="value",…} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition, and the HELP text of each metric. */
function parseExposition(text: string): { samples: Sample[]; help: Map<string, string> } {
  const samples: Sample[] = [];
  const help = new Map<string, string>();
  for (const line of text.split("\n")) {
    const described = /^# HELP (\S+) (.*)$/.exec(line);
    if (described) help.set(described[1] as string, described[2] as string);
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key as string] = (value as string).replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    }
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return { samples, help };
}

async function scrape(client: TestApi = api) {
  const res = await client.request<string>("GET", "/api/metrics");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(res.body);
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

beforeAll(async () => {
  dataDir = makeDataDir();
  ({ server, api } = await bootInProcess({ dataDir }));
  await api.setupOwner();
  const { feeder, credentials } = await api.createFeeder("Kitchen");
  device = new SimulatedFeeder({
    url: `mqtt://127.0.0.1:${server.mqttPort}`,
    id: credentials.username,
    password: credentials.password,
    dispenseMsPerPortion: 5,
  });
  await device.start();
  await api.waitForFeeder(feeder.id, (f) => f.online);
  const fed = await api.feed(feeder.id, { portions: 2 });
  expect(fed.status).toBeLessThan(300);
  await api.waitForFeed(fed.body.feed.id, ["dispensed"]);
  // One read with an id in its path, for the route pattern below.
  expect((await api.request("GET", `/api/feeders/${feeder.id}`)).status).toBe(200);
});

afterAll(async () => {
  await device?.stop();
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("GET /api/metrics", () => {
  it("reports the feeder online, the feed dispensed, MQTT traffic, HTTP timings, the database and the process", async () => {
    const { samples, help } = await scrape();
    expect(value(samples, "feedkeeper_feeders")).toBe(1);
    expect(value(samples, "feedkeeper_feeders_online")).toBe(1);
    expect(value(samples, "feedkeeper_feeds", { status: "dispensed" })).toBe(1);
    expect(value(samples, "feedkeeper_feeds", { status: "failed" })).toBe(0);
    expect(value(samples, "feedkeeper_meals_missed")).toBe(0);
    expect(value(samples, "feedkeeper_mqtt_connections")).toBe(1);
    // The feeder said hello and reported its feed; the server sent the command (and its status).
    expect(value(samples, "feedkeeper_mqtt_messages_received_total")).toBeGreaterThanOrEqual(2);
    expect(value(samples, "feedkeeper_mqtt_messages_sent_total")).toBeGreaterThanOrEqual(1);

    const feedRequests = value(samples, "feedkeeper_http_request_duration_seconds_count", {
      method: "POST",
      route: "/api/feeders/{id}/feeds",
      status: "2xx",
    });
    expect(feedRequests).toBe(1);
    expect(
      value(samples, "feedkeeper_http_request_duration_seconds_count", {
        method: "GET",
        route: "/api/feeders/{id}",
        status: "2xx",
      }),
    ).toBeGreaterThanOrEqual(2);
    // No series names a feeder id: routes are patterns.
    const routes = new Set(samples.flatMap((s) => (s.labels.route ? [s.labels.route] : [])));
    for (const route of routes)
      expect(route === "web" || route === "unmatched" || route.startsWith("/api/")).toBe(true);
    expect([...routes].some((r) => /[0-9a-f]{8}-/.test(r))).toBe(false);

    const database = value(samples, "feedkeeper_database_bytes", { file: "database" }) ?? 0;
    expect(database).toBeGreaterThan(0);
    expect(value(samples, "feedkeeper_build_info")).toBe(1);
    expect(value(samples, "process_resident_memory_bytes")).toBeGreaterThan(0);
    for (const name of new Set(samples.map((s) => s.name.replace(/_(bucket|sum|count)$/, "")))) {
      if (name.startsWith("feedkeeper_")) expect(help.get(name), name).toBeTruthy();
    }
  });

  it("counts the scrapes themselves under their own route", async () => {
    await scrape();
    const { samples } = await scrape();
    expect(
      value(samples, "feedkeeper_http_request_duration_seconds_count", {
        method: "GET",
        route: "/api/metrics",
        status: "2xx",
      }),
    ).toBeGreaterThanOrEqual(2);
  });

  it("refuses anyone not signed in (401) and everyone but owners (403)", async () => {
    const anonymous = await fetch(`${api.baseUrl}/api/metrics`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: "unauthorized" } });
    const badToken = await fetch(`${api.baseUrl}/api/metrics`, {
      headers: { authorization: "Bearer fkt_not-a-token" },
    });
    expect(badToken.status).toBe(401);

    for (const role of ["member", "sitter"] as const) {
      const created = await api.request("POST", "/api/users", {
        username: `${role}.m`,
        password: "a long enough password",
        role,
      });
      expect(created.status).toBe(201);
      const other = await api.signInAs(`${role}.m`, "a long enough password");
      const res = await other.request("GET", "/api/metrics");
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: { code: "forbidden" } });
    }
  });

  it("answers on Prometheus' usual /metrics too, with the same sign-in and role check", async () => {
    const res = await api.request<string>("GET", "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(value(parseExposition(res.body).samples, "feedkeeper_feeders_online")).toBe(1);
    const anonymous = await fetch(`${api.baseUrl}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: "unauthorized" } });
    const sitter = await api.signInAs("sitter.m", "a long enough password");
    expect((await sitter.request("GET", "/metrics")).status).toBe(403);
  });

  it("is in the OpenAPI document as Prometheus text", async () => {
    const doc = await api.request<{ paths: Record<string, any> }>("GET", "/api/openapi.json");
    const get = doc.body.paths["/api/metrics"]?.get;
    expect(Object.keys(get.responses[200].content)).toEqual(["text/plain; version=0.0.4"]);
    expect(Object.keys(get.responses)).toEqual(expect.arrayContaining(["401", "403"]));
  });
});
