/** Start-up configuration errors and crash safety of the feed ledger. */

import path from "node:path";
import Database from "better-sqlite3";
import mqtt from "mqtt";
import { describe, expect, it } from "vitest";
import { SimulatedFeeder } from "../../server/src/sim/native-feeder.js";
import { TestApi } from "../helpers/api.js";
import { runServerExpectingFailure, startServer } from "../helpers/server.js";

describe("configuration", () => {
  it.each([
    ["FEEDKEEPER_HTTP_PORT", "eighty", "must be a number"],
    ["FEEDKEEPER_MQTT_PORT", "70000", "0-65535"],
    ["FEEDKEEPER_LOG_LEVEL", "loud", "fatal"],
    ["FEEDKEEPER_BIND", "my-host", "IP address"],
    ["FEEDKEEPER_FEED_EXPIRY_SECONDS", "1", "at least 5"],
  ])("stops with a clear message for %s=%s", async (name, value, hint) => {
    const { code, stderr } = await runServerExpectingFailure({ [name]: value });
    expect(code).toBe(2);
    expect(stderr).toContain(name);
    expect(stderr).toContain(hint);
  });
});

describe("crash safety", () => {
  it("keeps every recorded feed through SIGKILL at any point, and resolves open feeds on restart", async () => {
    const srv = await startServer({ env: { FEEDKEEPER_FEED_RESULT_TIMEOUT_SECONDS: "5" } });
    const api = new TestApi(srv.httpUrl);
    await api.setupOwner();
    // Two feeds back to back: the point is the crash, not the interval between remote feeds.
    const { feeder, credentials } = await api.createFeeder("Crashy", { minFeedIntervalSeconds: 0 });
    const device = new SimulatedFeeder({
      url: srv.mqttUrl,
      id: credentials.username,
      password: credentials.password,
      dispenseMsPerPortion: 400,
    });
    await device.start();
    await api.waitForFeeder(feeder.id, (f) => f.online);

    const done = await api.feed(feeder.id, { portions: 1 });
    await api.waitForFeed(done.body.feed.id, ["dispensed"]);
    // This one is mid-dispense (accepted) when the server dies.
    const inFlight = await api.feed(feeder.id, { portions: 3, expiresInSeconds: 5 });
    await api.waitForFeed(inFlight.body.feed.id, ["accepted"]);
    const acknowledged = [done.body.feed.id, inFlight.body.feed.id];
    await srv.kill();
    device.kill();

    const db = new Database(path.join(srv.dataDir, "feedkeeper.db"), { readonly: true });
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    const ids = db
      .prepare("select id from feeds")
      .all()
      .map((r) => (r as { id: string }).id);
    expect(ids).toEqual(expect.arrayContaining(acknowledged));
    db.close();

    const again = await startServer({
      dataDir: srv.dataDir,
      env: { FEEDKEEPER_FEED_RESULT_TIMEOUT_SECONDS: "5" },
    });
    try {
      const api2 = new TestApi(again.httpUrl, api.token);
      expect((await api2.getFeed(done.body.feed.id)).status).toBe("dispensed");
      // Nobody reported the in-flight feed's result: it must end as timed_out, never stay open or vanish.
      const resolved = await api2.waitForFeed(inFlight.body.feed.id, ["timed_out", "dispensed"], 10_000);
      expect(resolved.status).toBe("timed_out");
    } finally {
      await again.stop();
    }
  });
});

describe("repeated crashes", () => {
  it("loses no acknowledged feed across five SIGKILLs under a stream of requests", async () => {
    let srv = await startServer();
    const dataDir = srv.dataDir;
    const api = new TestApi(srv.httpUrl);
    await api.setupOwner();
    const { feeder } = await api.createFeeder("Crash loop", { maxPortions: 100 });
    const acknowledged: string[] = [];
    try {
      for (let round = 0; round < 5; round++) {
        api.baseUrl = srv.httpUrl;
        // Requests keep coming until the process dies under them, at a different moment each round.
        const killAfterMs = 150 + round * 70;
        const stream = (async () => {
          for (let i = 0; i < 2000; i++) {
            try {
              // Hundreds of feeds a second, far beyond any safety limit: this stream is about durability.
              const res = await api.feed(feeder.id, { portions: 1 + (i % 100), override: true });
              if (res.status === 202 && res.body.feed) acknowledged.push(res.body.feed.id);
            } catch {
              return; // the server is gone
            }
          }
        })();
        await new Promise((r) => setTimeout(r, killAfterMs));
        await srv.kill();
        await stream;
        srv = await startServer({ dataDir });
      }
      const db = new Database(path.join(dataDir, "feedkeeper.db"), { readonly: true });
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
      const stored = new Set(
        db
          .prepare("select id from feeds")
          .all()
          .map((r) => (r as { id: string }).id),
      );
      db.close();
      expect(acknowledged.length).toBeGreaterThan(20);
      expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
    } finally {
      await srv.stop();
    }
  });
});

describe("graceful shutdown", () => {
  it("stops on SIGTERM with exit code 0 and tells feeders the server went offline", async () => {
    const srv = await startServer();
    const api = new TestApi(srv.httpUrl);
    await api.setupOwner();
    const { credentials } = await api.createFeeder("Listener");
    const overWebSocket = await mqtt.connectAsync(srv.wsUrl, {
      clientId: credentials.username,
      username: credentials.username,
      password: credentials.password,
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    const statuses: string[] = [];
    overWebSocket.on("message", (_t, payload) => statuses.push(String(payload)));
    await overWebSocket.subscribeAsync("feedkeeper/server/status", { qos: 1 });
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    expect(await srv.stop({ keepData: true })).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(statuses).toEqual(["online", "offline"]);
    expect(srv.logs.some((l) => l.msg === "stopped")).toBe(true);
    overWebSocket.end(true);
  });
});
