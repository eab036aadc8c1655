import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FIRST_HOUSEHOLD } from "../store/schema.js";
import { FakeClock } from "../testing/fake-clock.js";
import { shippedProfiles } from "../testing/profiles.js";
import { silentLogger, tempStore } from "../testing/temp-store.js";
import { FeederService } from "./feeders.js";
import { type FeedCommand, FeedService } from "./feeds.js";

const SETTINGS = { defaultExpirySeconds: 60, maxExpirySeconds: 900, resultTimeoutSeconds: 120 };

let store: ReturnType<typeof tempStore>;
let clock: FakeClock;
let feeders: FeederService;
let feeds: FeedService;
let sent: Array<{ feederId: string; command: FeedCommand }>;
let feederId: string;

const flush = () => new Promise((r) => setImmediate(r));

beforeEach(() => {
  store = tempStore();
  clock = new FakeClock();
  feeders = new FeederService(store, clock, silentLogger, shippedProfiles());
  feeds = new FeedService(store, feeders, clock, SETTINGS, silentLogger, "UTC");
  sent = [];
  feeds.start({
    sendFeed: async (id, command) => {
      sent.push({ feederId: id, command });
      return "sent";
    },
  });
  feederId = feeders.create({ householdId: FIRST_HOUSEHOLD, name: "Kitchen", profile: "feedkeeper" }).feeder
    .id;
});
afterEach(() => {
  feeds.stop();
  store.dispose();
});

const report = (id: string, status: "accepted" | "dispensed" | "failed" | "rejected", extra = {}) =>
  feeds.deviceReported(feederId, {
    id,
    status,
    portions: 1,
    source: "remote",
    at: new Date(clock.now()),
    ...extra,
  });

describe("FeedService", () => {
  it("holds a feed while the feeder is offline and sends it when the feeder becomes ready", async () => {
    const { feed } = feeds.request({ feederId, portions: 2 });
    expect(feed.status).toBe("pending");
    expect(sent).toHaveLength(0);
    feeders.statusReported(feederId, "online");
    await flush();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.command).toMatchObject({ id: feed.commandId, portions: 2 });
    expect(sent[0]?.command.expiresAt.getTime()).toBe(clock.now() + 60_000);
    expect(feeds.require(feed.id).status).toBe("sent");
  });

  it("expires an unsent feed at its expiry and never sends it afterwards", async () => {
    const { feed } = feeds.request({ feederId, portions: 1, expiresInSeconds: 30 });
    clock.advance(30_000);
    expect(feeds.require(feed.id)).toMatchObject({ status: "expired" });
    feeders.statusReported(feederId, "online");
    await flush();
    expect(sent).toHaveLength(0);
  });

  it("times out an accepted feed without a result, and accepts the device's late truth", async () => {
    feeders.statusReported(feederId, "online");
    const { feed } = feeds.request({ feederId, portions: 1 });
    await flush();
    report(feed.commandId, "accepted");
    clock.advance(120_000);
    expect(feeds.require(feed.id).status).toBe("timed_out");
    report(feed.commandId, "dispensed", { grams: 10 });
    expect(feeds.require(feed.id)).toMatchObject({ status: "dispensed", grams: 10 });
  });

  it("does not let an expiry timer override a result that already arrived", async () => {
    feeders.statusReported(feederId, "online");
    const { feed } = feeds.request({ feederId, portions: 1 });
    await flush();
    report(feed.commandId, "dispensed");
    clock.advance(10 * 60_000);
    expect(feeds.require(feed.id).status).toBe("dispensed");
  });

  it("replays an Idempotency-Key for 24 hours, then treats it as new", () => {
    const first = feeds.request({ feederId, portions: 1, idempotencyKey: "k" });
    expect(feeds.request({ feederId, portions: 1, idempotencyKey: "k" })).toMatchObject({
      replayed: true,
      feed: { id: first.feed.id },
    });
    expect(() => feeds.request({ feederId, portions: 2, idempotencyKey: "k" })).toThrow(/different request/);
    clock.advance(24 * 60 * 60 * 1000 + 1);
    const later = feeds.request({ feederId, portions: 1, idempotencyKey: "k" });
    expect(later.replayed).toBe(false);
    expect(later.feed.id).not.toBe(first.feed.id);
  });

  it("enforces the feeder's portion limit and the expiry bound", () => {
    expect(() => feeds.request({ feederId, portions: 11 })).toThrow(/1 to 10/);
    expect(() => feeds.request({ feederId, portions: 0 })).toThrow(/1 to 10/);
    expect(() => feeds.request({ feederId, portions: 1, expiresInSeconds: 901 })).toThrow(/at most 900/);
    expect(() => feeds.request({ feederId: "nope", portions: 1 })).toThrow(/No feeder/);
  });

  it("records a device-started meal once, however often it is reported", () => {
    for (let i = 0; i < 3; i++) report("btn-1", "dispensed", { source: "button", portions: 2 });
    const history = feeds.listForFeeder(feederId, { limit: 10 });
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      source: "button",
      status: "dispensed",
      portions: 2,
      commandId: "btn-1",
    });
  });

  it("resolves open feeds after a restart: expired ones expire, live ones keep their timers", async () => {
    // Two feeds back to back; the interval limit has its own tests.
    feeders.update(feederId, { minFeedIntervalSeconds: 0 });
    feeders.statusReported(feederId, "online");
    const early = feeds.request({ feederId, portions: 1, expiresInSeconds: 10 }).feed;
    const late = feeds.request({ feederId, portions: 1, expiresInSeconds: 300 }).feed;
    await flush();
    feeds.stop();
    clock.advance(60_000);

    const restarted = new FeedService(
      store,
      new FeederService(store, clock, silentLogger, shippedProfiles()),
      clock,
      SETTINGS,
      silentLogger,
      "UTC",
    );
    restarted.start({ sendFeed: async () => undefined });
    expect(restarted.require(early.id).status).toBe("expired");
    expect(restarted.require(late.id).status).toBe("sent");
    clock.advance(240_000);
    expect(restarted.require(late.id).status).toBe("expired");
    restarted.stop();
  });
});

describe("FeedService with devices that have no command ids", () => {
  it("takes a meal reported while its command is still being handed over as that feed's result", async () => {
    let handOver: (delivery: "started") => void = () => undefined;
    const restarted = new FeedService(store, feeders, clock, SETTINGS, silentLogger, "UTC");
    restarted.start({ sendFeed: () => new Promise((resolve) => (handOver = resolve)) });
    feeders.statusReported(feederId, "online");
    const { feed } = restarted.request({ feederId, portions: 3 });
    await flush();
    // The device was quicker than the broker's acknowledgement of the command.
    restarted.deviceResultWithoutId(feederId, { status: "dispensed", portions: 3 });
    expect(restarted.require(feed.id).status).toBe("dispensed");
    handOver("started");
    await flush();
    expect(restarted.require(feed.id).status).toBe("dispensed");
    expect(restarted.listForFeeder(feederId, { limit: 10 })).toHaveLength(1);
    restarted.stop();
  });

  it("never takes a meal the device says came from its own plan or button as a remote feed's result", async () => {
    const { feed } = feeds.request({ feederId, portions: 2 });
    feeders.statusReported(feederId, "online");
    await flush();
    report(feed.commandId, "accepted");
    feeds.deviceResultWithoutId(feederId, { status: "dispensed", portions: 2 }, "schedule");
    expect(feeds.require(feed.id).status).toBe("accepted");
    expect(feeds.listForFeeder(feederId, { limit: 10 }).map((f) => f.source)).toEqual(["schedule", "remote"]);
  });
});
