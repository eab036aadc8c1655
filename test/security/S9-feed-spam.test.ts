/**
 * S9 ("feed now" spam, OWASP API6): bursts of POST /api/feeders/{id}/feeds against the whole server in this
 * process, with a simulated feeder on the embedded broker counting what it is actually told to dispense.
 * The single-request cases (one refusal, its message, override, one replay) are in
 * test/integration/safety-limits.test.ts; this file is about many requests at once: sequential bursts,
 * 20 concurrent requests racing the interval and the daily limit, and concurrent Idempotency-Key replays.
 * In every case the feeds recorded, the commands the feeder received and the meals it dispensed are the
 * same, and no more than the limits allow.
 *
 * The clock is injected (and shared with the simulator, which checks command expiry by it), so the interval
 * is crossed by moving time, not by waiting.
 */
import fs from "node:fs";
import mqtt from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Running } from "../../server/src/main.js";
import { PROTOCOL_VERSION, topics } from "../../server/src/protocol/native-v1.js";
import { SimulatedFeeder } from "../../server/src/sim/native-feeder.js";
import { FakeClock } from "../../server/src/testing/fake-clock.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";

const BURST = 20;
const INTERVAL_REFUSAL =
  /^The last remote feed was \d+ s ago; this feeder allows one every 60 s\. Send override: true to feed anyway\.$/;
const dailyRefusal = (limit: number) =>
  new RegExp(
    `^This feed would bring today's total to \\d+ portions; the daily limit for this feeder is ${limit}\\. Send override: true to feed anyway\\.$`,
  );

const clock = new FakeClock(Date.parse("2026-11-26T07:00:00Z"));
let dataDir: string;
let server: Running;
let api: TestApi;
let devices: SimulatedFeeder[] = [];

beforeAll(async () => {
  dataDir = makeDataDir();
  // The daily limit counts the server's local day: 07:00Z plus the few minutes this file moves the clock is
  // one day in every zone.
  ({ server, api } = await bootInProcess({ dataDir, clock }));
  await api.setupOwner();
});
afterEach(async () => {
  await Promise.all(devices.map((d) => d.stop().catch(() => {})));
  devices = [];
});
afterAll(async () => {
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** A feeder with these limits and a simulated device on it, online and ready for commands. */
async function feederWithDevice(limits: Record<string, number>) {
  const { feeder, credentials } = await api.createFeeder("Spammed", limits);
  const device = new SimulatedFeeder({
    url: `mqtt://127.0.0.1:${server.mqttPort}`,
    id: credentials.username,
    password: credentials.password,
    dispenseMsPerPortion: 5,
    now: () => new Date(clock.now()),
  });
  devices.push(device);
  await device.start();
  await api.waitForFeeder(feeder.id, (f) => f.online && f.capabilities.includes("feed"), 5000);
  return { feederId: feeder.id, device };
}

type FeedAnswer = Awaited<ReturnType<TestApi["feed"]>>;

function tally(answers: FeedAnswer[]) {
  return {
    accepted: answers.filter((a) => a.status === 202),
    refused: answers.filter((a) => a.status !== 202),
  };
}

function expectSafetyRefusal(answer: FeedAnswer, message: RegExp) {
  expect(answer.status).toBe(409);
  expect(Object.keys(answer.body)).toEqual(["error"]);
  expect(answer.body.error?.code).toBe("safety_limit");
  expect(answer.body.error?.message).toMatch(message);
}

/**
 * Waits until the device has dispensed `portions` in `meals` meals, then a little longer, so a late extra
 * command would still be seen; returns what the feeder recorded.
 */
async function settled(feederId: string, device: SimulatedFeeder, meals: number) {
  await vi.waitFor(() => expect(device.dispensed).toHaveLength(meals), { timeout: 5000, interval: 20 });
  await vi.waitFor(
    async () => {
      const feeds = (await api.request("GET", `/api/feeders/${feederId}/feeds`)).body.feeds;
      expect(feeds.every((f: { status: string }) => f.status === "dispensed")).toBe(true);
    },
    { timeout: 5000, interval: 20 },
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(device.dispensed).toHaveLength(meals);
  return (await api.request("GET", `/api/feeders/${feederId}/feeds`)).body.feeds as Array<{
    id: string;
    portions: number;
    status: string;
  }>;
}

/** The feeder was told exactly these feeds, each once. */
function expectCommandsFor(device: SimulatedFeeder, feedIds: string[]) {
  expect(device.commandsReceived.map((c) => c.command.id).sort()).toEqual([...feedIds].sort());
  expect(device.dispensed.map((m) => m.id).sort()).toEqual([...feedIds].sort());
}

describe("S9: feed-now spam", () => {
  it("lets one of 20 back-to-back requests through inside the interval, and dispenses it once", async () => {
    const { feederId, device } = await feederWithDevice({});
    const answers: FeedAnswer[] = [];
    for (let i = 0; i < BURST; i++) answers.push(await api.feed(feederId, { portions: 1 }));
    const { accepted, refused } = tally(answers);
    expect(answers[0]?.status).toBe(202);
    expect(accepted).toHaveLength(1);
    for (const answer of refused) expectSafetyRefusal(answer, INTERVAL_REFUSAL);

    const feeds = await settled(feederId, device, 1);
    expect(feeds.map((f) => f.id)).toEqual([accepted[0]?.body.feed.id]);
    expectCommandsFor(device, [accepted[0]?.body.feed.id as string]);
  });

  it("lets exactly one of 20 concurrent requests through inside the interval", async () => {
    const { feederId, device } = await feederWithDevice({});
    const answers = await Promise.all(
      Array.from({ length: BURST }, () => api.feed(feederId, { portions: 1 })),
    );
    const { accepted, refused } = tally(answers);
    expect(accepted).toHaveLength(1);
    expect(refused).toHaveLength(BURST - 1);
    for (const answer of refused) expectSafetyRefusal(answer, INTERVAL_REFUSAL);

    const feeds = await settled(feederId, device, 1);
    expect(feeds).toHaveLength(1);
    expectCommandsFor(device, [accepted[0]?.body.feed.id as string]);
  });

  it("holds the daily limit exactly under 20 concurrent requests with the interval off", async () => {
    const { feederId, device } = await feederWithDevice({ minFeedIntervalSeconds: 0, dailyMaxPortions: 5 });
    const answers = await Promise.all(
      Array.from({ length: BURST }, () => api.feed(feederId, { portions: 1 })),
    );
    const { accepted, refused } = tally(answers);
    expect(accepted).toHaveLength(5);
    for (const answer of refused) expectSafetyRefusal(answer, dailyRefusal(5));

    const feeds = await settled(feederId, device, 5);
    expect(feeds.reduce((sum, f) => sum + f.portions, 0)).toBe(5);
    expect(device.dispensed.reduce((sum, m) => sum + m.portions, 0)).toBe(5);
    expectCommandsFor(
      device,
      accepted.map((a) => a.body.feed.id),
    );
  });

  it("does not let a multi-portion burst overshoot the daily limit", async () => {
    const { feederId, device } = await feederWithDevice({ minFeedIntervalSeconds: 0, dailyMaxPortions: 7 });
    // 3 + 3 fits, a third 3 would make 9: two feeds, 6 portions, whatever order the requests land in.
    const answers = await Promise.all(
      Array.from({ length: BURST }, () => api.feed(feederId, { portions: 3 })),
    );
    const { accepted, refused } = tally(answers);
    expect(accepted).toHaveLength(2);
    for (const answer of refused) expectSafetyRefusal(answer, dailyRefusal(7));
    await settled(feederId, device, 2);
    expect(device.dispensed.reduce((sum, m) => sum + m.portions, 0)).toBe(6);
    // The one portion left still fits.
    expect((await api.feed(feederId, { portions: 1 })).status).toBe(202);
  });

  it("applies both limits to a slower stream: one feed per interval until the day is full", async () => {
    const { feederId, device } = await feederWithDevice({ dailyMaxPortions: 3 });
    const answers: Array<{ at: number; answer: FeedAnswer }> = [];
    for (let i = 0; i < BURST; i++) {
      const answer = await api.feed(feederId, { portions: 1 });
      answers.push({ at: i * 20, answer });
      // At this pace each meal is reported dispensed long before the next request. The server must have
      // heard so before the clock jumps past the feed's expiry: see the late-report case below.
      if (answer.status === 202) await api.waitForFeed(answer.body.feed.id, ["dispensed"], 5000);
      clock.advance(20_000);
    }
    const acceptedAt = answers.filter((a) => a.answer.status === 202).map((a) => a.at);
    expect(acceptedAt).toEqual([0, 60, 120]);
    for (const { at, answer } of answers.filter((a) => a.answer.status !== 202)) {
      // Once the third feed is in, the day is full: the daily limit is what refuses from then on.
      expectSafetyRefusal(answer, at < 120 ? INTERVAL_REFUSAL : dailyRefusal(3));
    }
    const feeds = await settled(feederId, device, 3);
    expect(feeds).toHaveLength(3);
  });
});

describe("S9: Idempotency-Key replays", () => {
  it("answers 20 concurrent requests with one key with one feed, dispensed once", async () => {
    const { feederId, device } = await feederWithDevice({});
    const key = { "idempotency-key": "breakfast-button" };
    const answers = await Promise.all(
      Array.from({ length: BURST }, () => api.feed(feederId, { portions: 2 }, key)),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(BURST).fill(202));
    const ids = new Set(answers.map((a) => a.body.feed.id));
    expect(ids.size).toBe(1);

    const feeds = await settled(feederId, device, 1);
    expect(feeds).toHaveLength(1);
    expectCommandsFor(device, [...ids]);
    // A replay after it dispensed still answers with that feed, now finished, and sends nothing.
    const late = await api.feed(feederId, { portions: 2 }, key);
    expect(late.status).toBe(202);
    expect(late.body.feed).toMatchObject({ id: [...ids][0], status: "dispensed" });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(device.commandsReceived).toHaveLength(1);
  });

  it("refuses the same key with other portions, and never lets that through as a second feed", async () => {
    const { feederId, device } = await feederWithDevice({ minFeedIntervalSeconds: 0 });
    const key = { "idempotency-key": "dinner" };
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) => api.feed(feederId, { portions: (i % 2) + 1 }, key)),
    );
    const { accepted, refused } = tally(answers);
    // Whichever portions landed first own the key; the other half conflict.
    expect(accepted).toHaveLength(BURST / 2);
    expect(new Set(accepted.map((a) => a.body.feed.id)).size).toBe(1);
    expect(refused).toHaveLength(BURST / 2);
    for (const answer of refused) {
      expect(answer.status).toBe(409);
      expect(answer.body.error?.code).toBe("idempotency_conflict");
    }
    await settled(feederId, device, 1);
    expectCommandsFor(device, [accepted[0]?.body.feed.id as string]);
  });

  it("does not let fresh keys get around the interval, and does not hold a refused request's key", async () => {
    const { feederId, device } = await feederWithDevice({});
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        api.feed(feederId, { portions: 1 }, { "idempotency-key": `k${i}` }),
      ),
    );
    const { accepted, refused } = tally(answers);
    expect(accepted).toHaveLength(1);
    for (const answer of refused) expectSafetyRefusal(answer, INTERVAL_REFUSAL);
    await settled(feederId, device, 1);

    // A refused request recorded nothing under its key: retried once the interval has passed, it feeds.
    const refusedKey = `k${answers.findIndex((a) => a.status !== 202)}`;
    clock.advance(61_000);
    const retry = await api.feed(feederId, { portions: 1 }, { "idempotency-key": refusedKey });
    expect(retry.status).toBe(202);
    expect(retry.body.feed.id).not.toBe(accepted[0]?.body.feed.id);
    const feeds = await settled(feederId, device, 2);
    expect(feeds).toHaveLength(2);
    expectCommandsFor(device, [accepted[0]?.body.feed.id as string, retry.body.feed.id]);
  });
});

describe("S9: a report that arrives after the feed expired", () => {
  /**
   * A device that received the command and dispensed in time, but whose reports reach the server only
   * after the feed's 60 s expiry (a Wi-Fi drop right after it started): the server has marked the feed
   * `expired` by then, and the device's late `dispensed` replaces that, as the README says it should.
   */
  async function slowReportingDevice(feederId: string, password: string) {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, {
      clientId: feederId,
      username: feederId,
      password,
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    const commands: Array<{ id: string; portions: number; expiresAt: string }> = [];
    client.on("message", (topic, payload) => {
      if (topic === topics.commandFeed(feederId)) commands.push(JSON.parse(payload.toString()));
    });
    await client.subscribeAsync(topics.commandFilter(feederId), { qos: 1 });
    await client.publishAsync(topics.status(feederId), "online", { qos: 1, retain: true });
    const hello = {
      protocol: PROTOCOL_VERSION,
      model: "slow-reporter",
      firmware: "1.0.0",
      capabilities: ["feed"],
      portionGrams: 10,
      time: new Date(clock.now()).toISOString(),
    };
    await client.publishAsync(topics.hello(feederId), JSON.stringify(hello), { qos: 1 });
    const report = (id: string, status: "accepted" | "dispensed", at: number) =>
      client.publishAsync(
        topics.feed(feederId),
        JSON.stringify({ id, status, portions: 1, source: "remote", at: new Date(at).toISOString() }),
        { qos: 1 },
      );
    return { client, commands, report };
  }

  // Found here: a feed the server expired after sending it was not counted, so a late report could push a
  // day past its limit (and a second feed through the interval). It counts now, as the README's rule says.
  it("keeps counting a sent feed that expired unconfirmed, so a late report cannot push past the limit", async () => {
    const { feeder, credentials } = await api.createFeeder("Flaky Wi-Fi", { dailyMaxPortions: 1 });
    const device = await slowReportingDevice(feeder.id, credentials.password);
    try {
      await api.waitForFeeder(feeder.id, (f) => f.online && f.capabilities.includes("feed"), 5000);
      const first = await api.feed(feeder.id, { portions: 1 });
      expect(first.status).toBe(202);
      await vi.waitFor(() => expect(device.commands).toHaveLength(1), { timeout: 5000, interval: 20 });
      const startedAt = clock.now();

      // The device starts at once; its reports are stuck until after the expiry.
      clock.advance(61_000);
      expect((await api.getFeed(first.body.feed.id)).status).toBe("expired");
      const second = await api.feed(feeder.id, { portions: 1 });
      expect(second.status).toBe(409);
      expect(second.body.error?.code).toBe("safety_limit");

      await device.report(first.body.feed.id, "accepted", startedAt + 1000);
      await device.report(first.body.feed.id, "dispensed", startedAt + 3000);
      await api.waitForFeed(first.body.feed.id, ["dispensed"], 5000);
      const feeds = (await api.request("GET", `/api/feeders/${feeder.id}/feeds`)).body.feeds;
      expect(feeds.filter((f: { status: string }) => f.status !== "failed")).toHaveLength(1);
    } finally {
      device.client.end(true);
    }
  });
});
