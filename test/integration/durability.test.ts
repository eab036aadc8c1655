/** Start-up configuration errors and crash safety of the feed ledger. */

import path from "node:path";
import Database from "better-sqlite3";
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
    const { feeder, credentials } = await api.createFeeder("Crashy");
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
