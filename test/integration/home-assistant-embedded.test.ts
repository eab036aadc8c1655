/**
 * Home Assistant on Feedkeeper's embedded broker: it logs in as `homeassistant` with an API token, receives
 * the discovery of its own household's feeders only, feeds with a press, and can neither see another
 * household's feeders nor any device topic. A wrong token is refused.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { hashPassword } from "../../server/src/auth/passwords.js";
import type { Running } from "../../server/src/main.js";
import { SimulatedFeeder } from "../../server/src/sim/native-feeder.js";
import type { TestApi } from "../helpers/api.js";
import { runFeedkeeper } from "../helpers/cli.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";

const PASSWORD = "a long enough password";

interface Received {
  topic: string;
  payload: string;
}

let dataDir: string;
let server: Running;
let anna: TestApi;
let bob: TestApi;
let ours: string;
let theirs: string;
const devices: SimulatedFeeder[] = [];
const clients: MqttClient[] = [];

function connect(options: IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${server.mqttPort}`, {
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    ...options,
  });
  clients.push(client);
  return new Promise((resolve, reject) => {
    client.once("connect", () => resolve(client));
    client.once("error", reject);
  });
}

async function newToken(api: TestApi, role?: string): Promise<{ id: string; token: string }> {
  const res = await api.request<{ token: string; apiToken: { id: string } }>("POST", "/api/tokens", {
    name: "Home Assistant",
    ...(role && { role }),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.apiToken.id, token: res.body.token };
}

const tokenOf = async (api: TestApi, role?: string) => (await newToken(api, role)).token;

/** The SUBACK's return codes, refusals (128) included (mqtt.js rejects a SUBACK holding one). */
async function subscribeCodes(client: MqttClient, filters: string[]): Promise<number[]> {
  try {
    return (await client.subscribeAsync(filters, { qos: 1 })).map((g) => g.qos);
  } catch (err) {
    return ((err as { packet?: { granted?: number[] } }).packet?.granted ?? []).map(Number);
  }
}

async function homeAssistant(token: string): Promise<{ client: MqttClient; received: Received[] }> {
  const received: Received[] = [];
  const client = await connect({ username: "homeassistant", password: token });
  client.on("message", (topic, payload) => received.push({ topic, payload: payload.toString() }));
  const granted = await client.subscribeAsync(["homeassistant/#", "feedkeeper/ha/#"], { qos: 1 });
  expect(granted.map((g) => g.qos)).toEqual([1, 1]);
  return { client, received };
}

async function startDevice(credentials: { username: string; password: string }): Promise<SimulatedFeeder> {
  const device = new SimulatedFeeder({
    url: `mqtt://127.0.0.1:${server.mqttPort}`,
    id: credentials.username,
    password: credentials.password,
    dispenseMsPerPortion: 20,
  });
  await device.start();
  devices.push(device);
  return device;
}

async function feederWithDevice(api: TestApi, name: string): Promise<string> {
  const { feeder, credentials } = await api.createFeeder(name, { minFeedIntervalSeconds: 0 });
  await startDevice(credentials);
  await api.waitForFeeder(feeder.id, (f) => f.online);
  return feeder.id;
}

beforeAll(async () => {
  dataDir = makeDataDir();
  ({ server, api: anna } = await bootInProcess({ dataDir, env: { FEEDKEEPER_HA_DISCOVERY: "on" } }));
  await anna.setupOwner("anna", PASSWORD);
  // A second household, written the way S3-households makes one.
  const hash = await hashPassword(PASSWORD);
  const db = new Database(path.join(dataDir, "feedkeeper.db"));
  try {
    db.prepare("insert into households (id, name) values ('other', 'Next door')").run();
    db.prepare(
      "insert into users (id, household_id, username, password_hash, role) values ('bobid', 'other', 'bob', ?, 'owner')",
    ).run(hash);
  } finally {
    db.close();
  }
  bob = await anna.signInAs("bob", PASSWORD);
  ours = await feederWithDevice(anna, "Kitchen");
  theirs = await feederWithDevice(bob, "Bob's feeder");
});

afterAll(async () => {
  for (const client of clients) client.end(true);
  await Promise.all(devices.map((d) => d.stop()));
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("Home Assistant on the embedded broker", () => {
  it("logs in with an API token, sees its own household's feeders only, and feeds with a press", async () => {
    const { client, received } = await homeAssistant(await tokenOf(anna, "sitter"));
    await vi.waitFor(() => {
      expect(received.map((m) => m.topic)).toContain(`homeassistant/device/feedkeeper_${ours}/config`);
      expect(received).toContainEqual({ topic: "feedkeeper/ha/status", payload: "online" });
      expect(received).toContainEqual({ topic: `feedkeeper/ha/${ours}/availability`, payload: "online" });
    });
    // Bob's feeder exists and is announced, but not to Anna's Home Assistant.
    expect(received.filter((m) => m.topic.includes(theirs))).toEqual([]);

    await client.publishAsync(`feedkeeper/ha/${ours}/feed/set`, "PRESS", { qos: 1 });
    await vi.waitFor(async () => {
      const feeds = await anna.request<{ feeds: Array<{ source: string; status: string }> }>(
        "GET",
        `/api/feeders/${ours}/feeds`,
      );
      expect(feeds.body.feeds).toMatchObject([{ source: "home_assistant", status: "dispensed" }]);
    });
    const audit = await anna.request<{ entries: Array<{ actor: string; action: string }> }>(
      "GET",
      "/api/audit",
    );
    expect(audit.body.entries).toContainEqual(
      expect.objectContaining({
        actor: 'Home Assistant (anna, token "Home Assistant")',
        action: "feed (home_assistant)",
      }),
    );
    // The sitter token feeds within the limits: a press beyond the daily maximum is refused, not overridden.
    expect((await anna.request("PATCH", `/api/feeders/${ours}`, { dailyMaxPortions: 1 })).status).toBe(200);
    await client.publishAsync(`feedkeeper/ha/${ours}/feed/set`, "PRESS", { qos: 1 });
    await vi.waitFor(() => {
      const state = received.filter((m) => m.topic === `feedkeeper/ha/${ours}/state`).at(-1);
      expect(JSON.parse(state?.payload ?? "{}").last_press_result).toMatch(/^refused: .*daily limit/);
    });
    const after = await anna.request<{ feeds: unknown[] }>("GET", `/api/feeders/${ours}/feeds`);
    expect(after.body.feeds).toHaveLength(1);
  });

  it("cannot read device topics, nor command or see another household's feeders", async () => {
    const { client, received } = await homeAssistant(await tokenOf(anna));
    // Device topics are refused outright.
    expect(await subscribeCodes(client, [`feedkeeper/${ours}/#`, "#", `feedkeeper/${theirs}/cmd/#`])).toEqual(
      [128, 128, 128],
    );
    await vi.waitFor(() => expect(received.length).toBeGreaterThan(0));
    expect(received.filter((m) => m.topic.includes(theirs))).toEqual([]);
    expect(
      received.every((m) => m.topic.startsWith("homeassistant/") || m.topic.startsWith("feedkeeper/ha/")),
    ).toBe(true);
    // A command for Bob's feeder closes the connection and feeds nothing.
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    client.publish(`feedkeeper/ha/${theirs}/feed/set`, "PRESS", { qos: 1 });
    await closed;
    const bobs = await bob.request<{ feeds: unknown[] }>("GET", `/api/feeders/${theirs}/feeds`);
    expect(bobs.body.feeds).toEqual([]);
  });

  it("refuses a wrong, revoked or device-like login", async () => {
    await expect(connect({ username: "homeassistant", password: "fkt_not-a-token" })).rejects.toThrow(
      /Bad username or password|Not authorized/i,
    );
    const { id, token } = await newToken(anna);
    expect((await anna.request("DELETE", `/api/tokens/${id}`)).status).toBe(204);
    await expect(connect({ username: "homeassistant", password: token })).rejects.toThrow();
    // A client id shaped like a feeder's would take over that feeder's session.
    await expect(
      connect({ username: "homeassistant", password: await tokenOf(anna), clientId: ours }),
    ).rejects.toThrow();
    expect(
      (await anna.request<{ feeder: { online: boolean } }>("GET", `/api/feeders/${ours}`)).body.feeder.online,
    ).toBe(true);
  });

  it("announces a feeder that `feedkeeper create-feeder` added while the server runs, once it connects", async () => {
    const run = await runFeedkeeper(["create-feeder", "Porch", "--json"], {
      env: { FEEDKEEPER_DATA_DIR: dataDir },
    });
    expect(run.code, run.stderr).toBe(0);
    const { feeder, credentials } = JSON.parse(run.stdout) as {
      feeder: { id: string };
      credentials: { username: string; password: string };
    };
    const { client, received } = await homeAssistant(await tokenOf(anna));
    const device = await startDevice(credentials);
    await vi.waitFor(() => {
      expect(received.map((m) => m.topic)).toContain(`homeassistant/device/feedkeeper_${feeder.id}/config`);
      expect(received).toContainEqual({
        topic: `feedkeeper/ha/${feeder.id}/availability`,
        payload: "online",
      });
    });
    await client.publishAsync(`feedkeeper/ha/${feeder.id}/feed/set`, "PRESS", { qos: 1 });
    await vi.waitFor(() => expect(device.dispensed).toHaveLength(1));
  });

  it("tells its Home Assistant that a deleted feeder is gone", async () => {
    const { received } = await homeAssistant(await tokenOf(anna));
    const config = `homeassistant/device/feedkeeper_${ours}/config`;
    await vi.waitFor(() => expect(received.map((m) => m.topic)).toContain(config));
    expect((await anna.request("DELETE", `/api/feeders/${ours}`)).status).toBe(204);
    await vi.waitFor(() => expect(received.filter((m) => m.topic === config).at(-1)?.payload).toBe(""));
  });

  // Last: it restarts the server, and the clients above speak to the first one.
  it("keeps the portions per press Home Assistant set across a restart", async () => {
    const { feeder } = await anna.createFeeder("Landing", { maxPortions: 4 });
    const token = await tokenOf(anna);
    const state = `feedkeeper/ha/${feeder.id}/state`;
    const portionsIn = (received: Received[]) =>
      JSON.parse(received.filter((m) => m.topic === state).at(-1)?.payload ?? "{}").portions;
    const before = await homeAssistant(token);
    await before.client.publishAsync(`feedkeeper/ha/${feeder.id}/portions/set`, "3", { qos: 1 });
    await vi.waitFor(() => expect(portionsIn(before.received)).toBe(3));
    before.client.end(true);

    const mqttPort = server.mqttPort;
    await server.stop();
    ({ server } = await bootInProcess({ dataDir, mqttPort, env: { FEEDKEEPER_HA_DISCOVERY: "on" } }));
    const after = await homeAssistant(token);
    await vi.waitFor(() => expect(portionsIn(after.received)).toBe(3));
  });
});
