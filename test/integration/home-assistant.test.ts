/**
 * Home Assistant discovery on an external broker (a real Mosquitto with a password, as a Home Assistant
 * install has it), with a simulated native feeder on the embedded broker. A plain MQTT client stands in for
 * Home Assistant: it reads what Home Assistant would (retained discovery, availability, state) and sends
 * what Home Assistant sends (a button press, its birth message).
 */
import fs from "node:fs";
import mqtt, { type MqttClient } from "mqtt";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Running } from "../../server/src/main.js";
import { SimulatedFeeder } from "../../server/src/sim/native-feeder.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { type Mosquitto, startMosquitto } from "../helpers/mosquitto.js";
import { makeDataDir } from "../helpers/server.js";

interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

let dataDir: string;
let broker: Mosquitto;
let server: Running | undefined;
let api: TestApi;
let ha: MqttClient;
let device: SimulatedFeeder | undefined;
let received: Received[];

async function boot() {
  ({ server, api } = await bootInProcess({
    dataDir,
    env: {
      FEEDKEEPER_MQTT_URL: broker.url,
      FEEDKEEPER_MQTT_USERNAME: broker.username,
      FEEDKEEPER_MQTT_PASSWORD: broker.password,
    },
  }));
}

/** A client of the broker that records what it hears on Home Assistant's topics. */
async function listener(into: Received[]): Promise<MqttClient> {
  const client = mqtt.connect(broker.url, {
    username: broker.username,
    password: broker.password,
    reconnectPeriod: 0,
  });
  client.on("message", (topic, payload, packet) =>
    into.push({ topic, payload: payload.toString(), retain: packet.retain }),
  );
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  await client.subscribeAsync(["homeassistant/device/+/config", "feedkeeper/ha/#"], { qos: 1 });
  return client;
}

const configTopic = (id: string) => `homeassistant/device/feedkeeper_${id}/config`;

function last(from: Received[], topic: string): Received | undefined {
  return from.filter((m) => m.topic === topic).at(-1);
}

async function feederWithDevice() {
  const { feeder, credentials } = await api.createFeeder("Kitchen", { minFeedIntervalSeconds: 0 });
  if (!server) throw new Error("no server");
  device = new SimulatedFeeder({
    url: `mqtt://127.0.0.1:${server.mqttPort}`,
    id: credentials.username,
    password: credentials.password,
    dispenseMsPerPortion: 20,
  });
  await device.start();
  await api.waitForFeeder(feeder.id, (f) => f.online);
  await device.sendTelemetry({ foodLevel: 0.42, battery: 0.9 }, 1);
  return feeder.id;
}

async function feedsOf(feederId: string) {
  const res = await api.request<{ feeds: Array<{ source: string; status: string; portions: number }> }>(
    "GET",
    `/api/feeders/${feederId}/feeds`,
  );
  return res.body.feeds;
}

beforeEach(async () => {
  dataDir = makeDataDir();
  broker = await startMosquitto();
  await boot();
  await api.setupOwner();
  received = [];
  ha = await listener(received);
});

afterEach(async () => {
  ha.end(true);
  await device?.stop();
  device = undefined;
  await server?.stop();
  await broker.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("Home Assistant discovery on an external broker (real Mosquitto)", () => {
  it("publishes a retained device config, availability and state, and keeps unique_ids through a rename", async () => {
    const id = await feederWithDevice();
    await vi.waitFor(() =>
      expect(last(received, `feedkeeper/ha/${id}/availability`)?.payload).toBe("online"),
    );

    // A client that subscribes later (Home Assistant after a restart) gets them retained.
    const late: Received[] = [];
    const lateClient = await listener(late);
    await vi.waitFor(() => {
      expect(last(late, configTopic(id))?.retain).toBe(true);
      expect(last(late, "feedkeeper/ha/status")).toMatchObject({ payload: "online", retain: true });
      expect(last(late, `feedkeeper/ha/${id}/state`)?.retain).toBe(true);
    });
    lateClient.end(true);
    const config = JSON.parse(last(late, configTopic(id))?.payload ?? "{}");
    expect(config.o.name).toBe("Feedkeeper");
    expect(config.dev).toMatchObject({ ids: [`feedkeeper_${id}`], name: "Kitchen", mf: "Feedkeeper" });
    expect(Object.keys(config.cmps)).toEqual(
      expect.arrayContaining([
        "feed",
        "portions",
        "food_level",
        "battery",
        "last_meal",
        "next_meal",
        "online",
        "problem",
      ]),
    );
    await vi.waitFor(() =>
      expect(JSON.parse(last(received, `feedkeeper/ha/${id}/state`)?.payload ?? "{}")).toMatchObject({
        online: true,
        portions: 1,
        problem: false,
      }),
    );

    const renamed = await api.request("PATCH", `/api/feeders/${id}`, { name: "Living room" });
    expect(renamed.status).toBe(200);
    await vi.waitFor(() =>
      expect(JSON.parse(last(received, configTopic(id))?.payload ?? "{}").dev.name).toBe("Living room"),
    );
    const after = JSON.parse(last(received, configTopic(id))?.payload ?? "{}");
    const uniqueIds = (c: { cmps: Record<string, { unique_id: string }> }) =>
      Object.values(c.cmps).map((cmp) => cmp.unique_id);
    expect(uniqueIds(after)).toEqual(uniqueIds(config));
  });

  it("feeds on a press through the ledger, and never on a retained press", async () => {
    const id = await feederWithDevice();
    await vi.waitFor(() => expect(last(received, configTopic(id))).toBeDefined());

    await ha.publishAsync(`feedkeeper/ha/${id}/portions/set`, "2", { qos: 1 });
    await vi.waitFor(() =>
      expect(JSON.parse(last(received, `feedkeeper/ha/${id}/state`)?.payload ?? "{}").portions).toBe(2),
    );
    await ha.publishAsync(`feedkeeper/ha/${id}/feed/set`, "PRESS", { qos: 1 });
    await vi.waitFor(async () =>
      expect(await feedsOf(id)).toMatchObject([
        { source: "home_assistant", status: "dispensed", portions: 2 },
      ]),
    );
    // The history and the audit log say Home Assistant asked.
    const audit = await api.request<{ entries: Array<{ actor: string; action: string; outcome: string }> }>(
      "GET",
      "/api/audit",
    );
    expect(audit.body.entries).toContainEqual(
      expect.objectContaining({ actor: "Home Assistant", action: "feed (home_assistant)", outcome: "202" }),
    );
    await vi.waitFor(() => {
      const state = JSON.parse(last(received, `feedkeeper/ha/${id}/state`)?.payload ?? "{}");
      expect(state.last_meal_portions).toBe(2);
      expect(state.last_meal_source).toBe("home_assistant");
      expect(state.last_press_result).toBe("requested 2");
    });

    // A press left retained on the broker replays to every client that subscribes: it must never feed.
    const token = api.token;
    await server?.stop();
    server = undefined;
    await ha.publishAsync(`feedkeeper/ha/${id}/feed/set`, "PRESS", { qos: 1, retain: true });
    await boot();
    api.token = token;
    await vi.waitFor(() => expect(last(received, "feedkeeper/ha/status")?.payload).toBe("online"), {
      timeout: 10_000,
    });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await feedsOf(id)).toHaveLength(1);
    await ha.publishAsync(`feedkeeper/ha/${id}/feed/set`, "", { qos: 1, retain: true });
  }, 30_000);

  it("publishes the configs again after Home Assistant's birth message", async () => {
    const id = await feederWithDevice();
    await vi.waitFor(() => expect(last(received, configTopic(id))).toBeDefined());
    const before = received.filter((m) => m.topic === configTopic(id)).length;
    await ha.publishAsync("homeassistant/status", "online", { qos: 1 });
    // After a random 1–5 s, so a fleet of publishers does not answer at once.
    await vi.waitFor(
      () => expect(received.filter((m) => m.topic === configTopic(id)).length).toBeGreaterThan(before),
      { timeout: 8_000, interval: 100 },
    );
    const again = received.filter((m) => m.topic === `feedkeeper/ha/${id}/state`).length;
    expect(again).toBeGreaterThan(0);
  }, 15_000);

  it("removes a deleted feeder and says offline when the server stops", async () => {
    const id = await feederWithDevice();
    await vi.waitFor(() => expect(last(received, configTopic(id))).toBeDefined());
    await device?.stop();
    device = undefined;
    expect((await api.request("DELETE", `/api/feeders/${id}`)).status).toBe(204);
    await vi.waitFor(() => expect(last(received, configTopic(id))?.payload).toBe(""));
    await vi.waitFor(() => expect(last(received, `feedkeeper/ha/${id}/state`)?.payload).toBe(""));
    // Nothing of it stays retained on the broker.
    const late: Received[] = [];
    const lateClient = await listener(late);
    await vi.waitFor(() => expect(last(late, "feedkeeper/ha/status")).toBeDefined());
    await new Promise((r) => setTimeout(r, 300));
    expect(late.filter((m) => m.topic.includes(id))).toEqual([]);
    lateClient.end(true);

    await server?.stop();
    server = undefined;
    await vi.waitFor(() => expect(last(received, "feedkeeper/ha/status")?.payload).toBe("offline"));
  });
});
