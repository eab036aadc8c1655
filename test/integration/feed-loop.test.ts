/**
 * Feed now, end to end: HTTP API → feeding core → real embedded broker →
 * simulated feeder → device reports → ledger, on the built server.
 */
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SimulatedFeeder } from "../../server/src/sim/native-feeder.js";
import { TestApi } from "../helpers/api.js";
import { startServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
let api: TestApi;
const running: Array<{ stop(): Promise<void> }> = [];

type DeviceOptions = Partial<ConstructorParameters<typeof SimulatedFeeder>[0]>;

async function startDevice(credentials: { username: string; password: string }, options: DeviceOptions = {}) {
  const device = new SimulatedFeeder({
    url: srv.mqttUrl,
    id: credentials.username,
    password: credentials.password,
    dispenseMsPerPortion: 20,
    ...options,
  });
  await device.start();
  running.push(device);
  return device;
}

/** A bare MQTT client holding a feeder's credentials, for device behaviour the simulator refuses to show. */
function rawFeeder(credentials: { username: string; password: string }, options: IClientOptions = {}) {
  return mqtt.connect(srv.mqttUrl, {
    clientId: credentials.username,
    username: credentials.username,
    password: credentials.password,
    reconnectPeriod: 0,
    protocolVersion: 4,
    ...options,
  });
}

const connected = (client: MqttClient) =>
  new Promise<MqttClient>((resolve, reject) => {
    client.once("connect", () => resolve(client));
    client.once("error", reject);
  });

async function feederWithDevice(name: string, options: DeviceOptions = {}) {
  const { feeder, credentials } = await api.createFeeder(name);
  const device = await startDevice(credentials, options);
  await api.waitForFeeder(feeder.id, (f) => f.online);
  return { feeder, credentials, device };
}

beforeAll(async () => {
  srv = await startServer({ env: { FEEDKEEPER_FEED_RESULT_TIMEOUT_SECONDS: "5" } });
  api = new TestApi(srv.httpUrl);
  await api.setupOwner();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
});
afterAll(() => srv?.stop());

describe("feed now", () => {
  it("moves a feed from pending to dispensed through the real broker", async () => {
    const { feeder, device } = await feederWithDevice("Kitchen", { portionGrams: 12 });
    const res = await api.feed(feeder.id, { portions: 2 });
    expect(res.status).toBe(202);
    expect(["pending", "sent"]).toContain(res.body.feed.status);
    const done = await api.waitForFeed(res.body.feed.id, ["dispensed", "failed", "expired", "timed_out"]);
    expect(done).toMatchObject({
      status: "dispensed",
      portions: 2,
      grams: 24,
      source: "remote",
      error: null,
    });
    expect(done.sentAt).not.toBeNull();
    expect(done.acceptedAt).not.toBeNull();
    expect(done.completedAt).not.toBeNull();
    expect(device.dispensed).toHaveLength(1);
    expect(device.dispensed[0]).toMatchObject({ id: res.body.feed.id, portions: 2 });

    const history = await api.request("GET", `/api/feeders/${feeder.id}/feeds`);
    expect(history.body.feeds.map((f: { id: string }) => f.id)).toEqual([res.body.feed.id]);
    const live = await api.request("GET", `/api/feeders/${feeder.id}`);
    expect(live.body.feeder).toMatchObject({
      online: true,
      model: expect.any(String),
      firmware: expect.any(String),
    });
    expect(live.body.feeder.lastFeed.id).toBe(res.body.feed.id);
  });

  it("records a jam as failed with the device's error", async () => {
    const { feeder } = await feederWithDevice("Jammed", { jammed: true });
    const res = await api.feed(feeder.id, { portions: 1 });
    const done = await api.waitForFeed(res.body.feed.id, ["dispensed", "failed"]);
    expect(done).toMatchObject({ status: "failed", error: "jam" });
  });

  it("feeds once for retries with the same Idempotency-Key", async () => {
    const { feeder, device } = await feederWithDevice("Retry");
    const headers = { "idempotency-key": "breakfast-2026-11-26" };
    const first = await api.feed(feeder.id, { portions: 1 }, headers);
    const second = await api.feed(feeder.id, { portions: 1 }, headers);
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body.feed.id).toBe(first.body.feed.id);
    await api.waitForFeed(first.body.feed.id, ["dispensed"]);
    const third = await api.feed(feeder.id, { portions: 1 }, headers);
    expect(third.body.feed.id).toBe(first.body.feed.id);
    const conflict = await api.feed(feeder.id, { portions: 3 }, headers);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error?.code).toBe("idempotency_conflict");
    expect(device.dispensed).toHaveLength(1);
    const history = await api.request("GET", `/api/feeders/${feeder.id}/feeds`);
    expect(history.body.feeds).toHaveLength(1);
  });

  it("validates portions against the feeder's limit", async () => {
    const { feeder } = await api.createFeeder("Small", { maxPortions: 3 });
    for (const portions of [0, 4, 1.5, "2", -1]) {
      const res = await api.feed(feeder.id, { portions });
      expect(res.status, `portions ${portions}`).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.body.error?.message).toMatch(/portions/i);
    }
    expect((await api.feed("nosuchfeeder", { portions: 1 })).status).toBe(404);
    const history = await api.request("GET", `/api/feeders/${feeder.id}/feeds`);
    expect(history.body.feeds).toHaveLength(0);
  });

  it("renames a feeder and changes its limit, ignoring fields that may not change", async () => {
    const { feeder } = await api.createFeeder("Old name");
    const res = await api.request("PATCH", `/api/feeders/${feeder.id}`, {
      name: "Hallway",
      maxPortions: 2,
      id: "hijacked",
      secretHash: "x",
      profile: "other",
    });
    expect(res.status).toBe(200);
    expect(res.body.feeder).toMatchObject({
      id: feeder.id,
      name: "Hallway",
      maxPortions: 2,
      profile: "feedkeeper",
    });
    expect(JSON.stringify(res.body)).not.toMatch(/secret|hash|password/i);
    expect((await api.feed(feeder.id, { portions: 3 })).status).toBe(422);
    expect((await api.request("PATCH", `/api/feeders/${feeder.id}`, { maxPortions: 0 })).status).toBe(400);
  });

  it("records meals the device started itself exactly once", async () => {
    const { feeder, device } = await feederWithDevice("Button");
    const id = await device.pressButton(1);
    // A device that repeats its report (lost PUBACK, reboot) must not create a second meal.
    await device.publishRaw(
      `feedkeeper/${feeder.id}/feed`,
      JSON.stringify({
        id,
        status: "dispensed",
        portions: 1,
        source: "button",
        at: new Date().toISOString(),
      }),
      { qos: 1 },
    );
    const deadline = Date.now() + 5000;
    let feeds: Array<{ source: string; status: string }> = [];
    while (Date.now() < deadline && feeds.length === 0) {
      feeds = (await api.request("GET", `/api/feeders/${feeder.id}/feeds`)).body.feeds;
    }
    await new Promise((r) => setTimeout(r, 200));
    feeds = (await api.request("GET", `/api/feeders/${feeder.id}/feeds`)).body.feeds;
    expect(feeds).toHaveLength(1);
    expect(feeds[0]).toMatchObject({ source: "button", status: "dispensed" });
  });

  it("shows the latest telemetry on the feeder", async () => {
    const { feeder, device } = await feederWithDevice("Telemetry");
    await device.sendTelemetry({ foodLevel: 0.42, battery: 0.9, rssi: -60 }, 1);
    const seen = await api.waitForFeeder(feeder.id, (f) => f.telemetry?.foodLevel === 0.42);
    expect(seen.telemetry).toMatchObject({ foodLevel: 0.42, battery: 0.9, rssi: -60 });
    expect(seen.lastSeenAt).not.toBeNull();
  });
});

describe("expiry and duplicates", () => {
  it("expires a feed for an offline feeder, and the feeder does not feed when it returns", async () => {
    const { feeder, credentials } = await api.createFeeder("Offline");
    const res = await api.feed(feeder.id, { portions: 1, expiresInSeconds: 5 });
    expect(res.body.feed.status).toBe("pending");
    const expired = await api.waitForFeed(res.body.feed.id, ["expired", "dispensed"], 10_000);
    expect(expired.status).toBe("expired");
    expect(expired.sentAt).toBeNull();

    const device = await startDevice(credentials);
    await api.waitForFeeder(feeder.id, (f) => f.online);
    await new Promise((r) => setTimeout(r, 500));
    expect(device.commandsReceived).toHaveLength(0);
    expect(device.dispensed).toHaveLength(0);
    expect((await api.getFeed(res.body.feed.id)).status).toBe("expired");
  });

  it("sends a pending feed when the feeder comes online before it expires", async () => {
    const { feeder, credentials } = await api.createFeeder("Late");
    const res = await api.feed(feeder.id, { portions: 1, expiresInSeconds: 30 });
    const device = await startDevice(credentials);
    expect((await api.waitForFeed(res.body.feed.id, ["dispensed"])).status).toBe("dispensed");
    expect(device.dispensed).toHaveLength(1);
  });

  it("records one dispense when the broker delivers a command twice", async () => {
    const { feeder, credentials } = await api.createFeeder("Redelivery");
    // Listeners go on before CONNACK: a redelivery can arrive in the same packet burst.
    const connect = (onMessage?: (payload: string) => void) => {
      const client = rawFeeder(credentials, { clean: false });
      if (onMessage) client.on("message", (_t, p) => onMessage(String(p)));
      return connected(client);
    };
    const topic = `feedkeeper/${feeder.id}`;

    // First connection: receive the command but lose the link before acknowledging it.
    const first = await connect();
    await first.subscribeAsync(`${topic}/cmd/#`, { qos: 1 });
    const firstDelivery = new Promise<string>((resolve) => {
      first.handleMessage = (packet, _callback) => {
        resolve(String(packet.payload));
        first.stream.destroy();
      };
    });
    await first.publishAsync(`${topic}/status`, "online", { qos: 1, retain: true });
    const res = await api.feed(feeder.id, { portions: 2 });
    const command1 = JSON.parse(await firstDelivery);
    await first.endAsync(true);

    // Second connection, same session: the broker redelivers the unacknowledged command.
    let deliver: (payload: string) => void = () => undefined;
    const secondDelivery = new Promise<string>((resolve) => {
      deliver = resolve;
    });
    const second = await connect((payload) => deliver(payload));
    await second.publishAsync(`${topic}/status`, "online", { qos: 1, retain: true });
    const command2 = JSON.parse(await secondDelivery);
    expect(command2.id).toBe(command1.id);

    // A naive device that runs both deliveries reports twice; the ledger keeps one dispense.
    for (const _ of [command1, command2]) {
      await second.publishAsync(
        `${topic}/feed`,
        JSON.stringify({
          id: command1.id,
          status: "dispensed",
          portions: 2,
          source: "remote",
          at: new Date().toISOString(),
        }),
        { qos: 1 },
      );
    }
    const done = await api.waitForFeed(res.body.feed.id, ["dispensed"]);
    expect(done.status).toBe("dispensed");
    const history = await api.request("GET", `/api/feeders/${feeder.id}/feeds`);
    expect(history.body.feeds.filter((f: { status: string }) => f.status === "dispensed")).toHaveLength(1);
    await second.endAsync();
  });

  it("keeps a feeder online when its new connection replaces a stale one whose will then fires", async () => {
    const { feeder, credentials } = await api.createFeeder("Rebooted");
    const stale = await connected(
      rawFeeder(credentials, {
        will: {
          topic: `feedkeeper/${feeder.id}/status`,
          payload: Buffer.from("offline"),
          qos: 1,
          retain: true,
        },
      }),
    );
    const staleClosed = new Promise<void>((resolve) => stale.once("close", () => resolve()));
    await startDevice(credentials);
    await staleClosed;
    await new Promise((r) => setTimeout(r, 200));
    expect((await api.request("GET", `/api/feeders/${feeder.id}`)).body.feeder.online).toBe(true);
    const res = await api.feed(feeder.id, { portions: 1 });
    expect((await api.waitForFeed(res.body.feed.id, ["dispensed"])).status).toBe("dispensed");
  });

  it("sends commands to a plain MQTT client once it subscribes, without a hello", async () => {
    const { feeder, credentials } = await api.createFeeder("Plain client");
    const client = await connected(rawFeeder(credentials));
    const received = new Promise<string>((resolve) => client.once("message", (_t, p) => resolve(String(p))));
    await client.subscribeAsync(`feedkeeper/${feeder.id}/cmd/#`, { qos: 1 });
    await api.waitForFeeder(feeder.id, (f) => f.online);
    const res = await api.feed(feeder.id, { portions: 2 });
    expect(JSON.parse(await received)).toMatchObject({ id: res.body.feed.id, portions: 2 });
    expect((await api.waitForFeed(res.body.feed.id, ["sent"])).status).toBe("sent");
    await client.endAsync();
  });

  it("times out a feed the device accepted but never finished", async () => {
    const { feeder, credentials } = await api.createFeeder("Silent");
    const client = await connected(rawFeeder(credentials));
    const topic = `feedkeeper/${feeder.id}`;
    await client.subscribeAsync(`${topic}/cmd/#`, { qos: 1 });
    client.on("message", (_t, payload) => {
      const cmd = JSON.parse(String(payload));
      client.publish(
        `${topic}/feed`,
        JSON.stringify({
          id: cmd.id,
          status: "accepted",
          portions: cmd.portions,
          source: "remote",
          at: new Date().toISOString(),
        }),
        { qos: 1 },
      );
    });
    await client.publishAsync(`${topic}/status`, "online", { qos: 1 });
    const res = await api.feed(feeder.id, { portions: 1 });
    await api.waitForFeed(res.body.feed.id, ["accepted"]);
    const done = await api.waitForFeed(res.body.feed.id, ["timed_out"], 10_000);
    expect(done.status).toBe("timed_out");
    await client.endAsync();
  });
});
