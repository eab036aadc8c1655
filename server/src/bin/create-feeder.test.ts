/**
 * The built binary's `create-feeder` against a running server's database: the feeder it adds appears in the
 * API, and the login it prints once lets a device connect to the running broker and feed.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestApi } from "../../../test/helpers/api.js";
import { runFeedkeeper } from "../../../test/helpers/cli.js";
import { bootInProcess } from "../../../test/helpers/in-process.js";
import type { Running } from "../main.js";
import { SimulatedFeeder } from "../sim/native-feeder.js";

let dataDir: string;
let server: Running;
let api: TestApi;

const createFeeder = (args: string[]) =>
  runFeedkeeper(["create-feeder", ...args], {
    env: { FEEDKEEPER_DATA_DIR: dataDir, FEEDKEEPER_MQTT_PORT: String(server.mqttPort) },
  });

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "feedkeeper-create-feeder-"));
  ({ server, api } = await bootInProcess({ dataDir }));
  await api.setupOwner("owner", "a long owner password");
});
afterAll(async () => {
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("feedkeeper create-feeder", () => {
  it("adds a feeder whose printed login connects to the running broker and feeds", async () => {
    const run = await createFeeder(["Garden", "shed", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as {
      feeder: { id: string; name: string; profile: string };
      credentials: { username: string; clientId: string; password: string; topicRoot: string };
    };
    expect(out.feeder).toMatchObject({ name: "Garden shed", profile: "feedkeeper" });
    expect(out.credentials.username).toBe(out.feeder.id);
    expect(run.stderr).toContain("shown only this once");
    expect(run.stderr).not.toContain(out.credentials.password);

    const listed = await api.request<{ feeders: Array<{ id: string; name: string }> }>("GET", "/api/feeders");
    expect(listed.body.feeders.map((f) => f.name)).toContain("Garden shed");

    const device = new SimulatedFeeder({
      url: `mqtt://127.0.0.1:${server.mqttPort}`,
      id: out.credentials.clientId,
      password: out.credentials.password,
      dispenseMsPerPortion: 10,
    });
    await device.start();
    try {
      await api.waitForFeeder(out.feeder.id, (f) => f.online);
      const requested = await api.feed(out.feeder.id, { portions: 1 });
      expect(requested.status, JSON.stringify(requested.body)).toBe(202);
      const feed = await api.waitForFeed(requested.body.feed.id, ["dispensed", "failed"]);
      expect(feed.status).toBe("dispensed");
    } finally {
      await device.stop();
    }
  });

  it("prints the login readably and names the broker port", async () => {
    const run = await createFeeder(["Hall"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^feeder +\S+ +"Hall" \(feedkeeper\)$/m);
    expect(run.stdout).toContain(`port ${server.mqttPort}`);
    expect(run.stdout).toMatch(/^password +\S{16,}$/m);
  });

  it("lists the profiles and refuses an unknown one with its reason", async () => {
    const list = await createFeeder(["--profile", "list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^feedkeeper\t/m);

    const unknown = await createFeeder(["Porch", "--profile", "no-such-profile"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no-such-profile/);
  });

  it("explains its usage, and never creates a database in a mistyped directory", async () => {
    const noName = await createFeeder([]);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain("Usage: feedkeeper create-feeder");
    const badOption = await createFeeder(["X", "--colour", "red"]);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/--colour/);

    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "feedkeeper-create-feeder-empty-"));
    try {
      const run = await runFeedkeeper(["create-feeder", "Kitchen"], { env: { FEEDKEEPER_DATA_DIR: empty } });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("no database at");
      expect(fs.readdirSync(empty)).toEqual([]);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
