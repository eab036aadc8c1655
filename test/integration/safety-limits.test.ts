/**
 * Per-feeder safety limits through the HTTP API: the whole server in this
 * process on an injected clock, so "12 s later" needs no real waiting.
 */
import fs from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Running } from "../../server/src/main.js";
import { FakeClock } from "../../server/src/testing/fake-clock.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";

let clock: FakeClock;
let dataDir: string;
let server: Running;
let api: TestApi;

beforeEach(async () => {
  clock = new FakeClock(Date.parse("2026-11-26T07:00:00Z"));
  dataDir = makeDataDir();
  ({ server, api } = await bootInProcess({ dataDir, clock }));
  await api.setupOwner();
});

afterEach(async () => {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("safety limits", () => {
  it("refuses a remote feed sooner than the interval with 409 and a clear message; override feeds anyway", async () => {
    const { feeder } = await api.createFeeder("Kitchen");
    expect(feeder).toMatchObject({ dailyMaxPortions: 40, minFeedIntervalSeconds: 60 });
    expect((await api.feed(feeder.id, { portions: 1 })).status).toBe(202);
    clock.advance(12_000);

    const refused = await api.feed(feeder.id, { portions: 1 });
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({
      error: {
        code: "safety_limit",
        message:
          "The last remote feed was 12 s ago; this feeder allows one every 60 s. Send override: true to feed anyway.",
      },
    });

    const overridden = await api.feed(feeder.id, { portions: 1, override: true });
    expect(overridden.status).toBe(202);
    const history = await api.request("GET", `/api/feeders/${feeder.id}/feeds`);
    expect(history.body.feeds).toHaveLength(2);
  });

  it("refuses a feed beyond the daily limit, but replays an earlier request's Idempotency-Key", async () => {
    const { feeder } = await api.createFeeder("Kitchen", { dailyMaxPortions: 5, minFeedIntervalSeconds: 0 });
    const key = { "idempotency-key": "breakfast" };
    const first = await api.feed(feeder.id, { portions: 3 }, key);
    expect(first.status).toBe(202);

    const refused = await api.feed(feeder.id, { portions: 3 });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toEqual({
      code: "safety_limit",
      message:
        "This feed would bring today's total to 6 portions; the daily limit for this feeder is 5. Send override: true to feed anyway.",
    });

    const replayed = await api.feed(feeder.id, { portions: 3 }, key);
    expect(replayed.status).toBe(202);
    expect(replayed.body.feed.id).toBe(first.body.feed.id);
    expect((await api.feed(feeder.id, { portions: 2 })).status).toBe(202);
  });

  it("changes both limits with PATCH and shows them on the feeder", async () => {
    const { feeder } = await api.createFeeder("Kitchen");
    const patched = await api.request("PATCH", `/api/feeders/${feeder.id}`, {
      dailyMaxPortions: 12,
      minFeedIntervalSeconds: 0,
    });
    expect(patched.status).toBe(200);
    expect(patched.body.feeder).toMatchObject({
      name: "Kitchen",
      dailyMaxPortions: 12,
      minFeedIntervalSeconds: 0,
    });
    const read = await api.request("GET", `/api/feeders/${feeder.id}`);
    expect(read.body.feeder).toMatchObject({ dailyMaxPortions: 12, minFeedIntervalSeconds: 0 });
    // No interval any more: two feeds back to back are fine.
    expect((await api.feed(feeder.id, { portions: 1 })).status).toBe(202);
    expect((await api.feed(feeder.id, { portions: 1 })).status).toBe(202);
  });

  it.each([
    { dailyMaxPortions: 0 },
    { dailyMaxPortions: 1001 },
    { dailyMaxPortions: 2.5 },
    { dailyMaxPortions: "40" },
    { minFeedIntervalSeconds: -1 },
    { minFeedIntervalSeconds: 86_401 },
  ])("answers 400 for %o, on PATCH and on create", async (bad) => {
    const { feeder } = await api.createFeeder("Kitchen");
    const field = Object.keys(bad)[0] as string;
    const patched = await api.request("PATCH", `/api/feeders/${feeder.id}`, bad);
    expect(patched.status).toBe(400);
    expect(patched.body.error).toMatchObject({
      code: "validation_failed",
      message: expect.stringContaining(field),
    });
    const created = await api.request("POST", "/api/feeders", {
      name: "Other",
      profile: "feedkeeper",
      ...bad,
    });
    expect(created.status).toBe(400);
    const unchanged = await api.request("GET", `/api/feeders/${feeder.id}`);
    expect(unchanged.body.feeder).toMatchObject({ dailyMaxPortions: 40, minFeedIntervalSeconds: 60 });
  });

  it("refuses a meal plan whose meals on one day add up to more than the daily limit", async () => {
    const { feeder } = await api.createFeeder("Kitchen", { dailyMaxPortions: 6 });
    const res = await api.request("PUT", `/api/feeders/${feeder.id}/schedule`, {
      meals: [
        { time: "07:30", days: ["mon", "tue"], portions: 3 },
        { time: "18:00", days: ["mon", "sat"], portions: 4 },
      ],
    });
    expect(res.status).toBe(409);
    expect(res.body.error).toEqual({
      code: "safety_limit",
      message: "The meals on Monday add up to 7 portions; the daily limit for this feeder is 6.",
    });
  });

  it("documents override and the 409 in the OpenAPI document", async () => {
    const doc = (await api.request("GET", "/api/openapi.json")).body;
    expect(doc.components.schemas.NewFeed.properties.override).toMatchObject({ type: "boolean" });
    expect(doc.paths["/api/feeders/{id}/feeds"].post.responses["409"].description).toContain("safety_limit");
    expect(doc.components.schemas.FeederChanges.properties).toHaveProperty("dailyMaxPortions");
    expect(doc.components.schemas.FeederChanges.properties).toHaveProperty("minFeedIntervalSeconds");
  });
});
