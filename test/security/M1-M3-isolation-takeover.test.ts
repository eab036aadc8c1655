/**
 * M1 and M3: the embedded broker's walls: authentication, identity binding (client-id takeover), per-feeder
 * topic isolation, packet size limit and hostile payloads. Checked by delivery,
 * not by SUBACK codes alone (MQTT 3.1.1 clients may ignore those).
 */
import net from "node:net";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { TestApi } from "../helpers/api.js";
import { startServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
let api: TestApi;
type Creds = { username: string; password: string };
let a: Creds;
let b: Creds;
const clients: MqttClient[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connect(creds: Partial<Creds> & { clientId?: string }, url = srv.mqttUrl) {
  const client = await mqtt.connectAsync(url, {
    clientId: creds.clientId ?? creds.username,
    username: creds.username,
    password: creds.password,
    reconnectPeriod: 0,
    protocolVersion: 4,
    connectTimeout: 5000,
  });
  clients.push(client);
  return client;
}

async function refusal(creds: Partial<Creds> & { clientId?: string }): Promise<number | undefined> {
  try {
    await connect(creds);
  } catch (err) {
    return (err as { code?: number }).code;
  }
  return undefined;
}

beforeAll(async () => {
  srv = await startServer();
  api = new TestApi(srv.httpUrl);
  await api.setupOwner();
  a = (await api.createFeeder("A")).credentials;
  b = (await api.createFeeder("B")).credentials;
});
afterAll(async () => {
  for (const c of clients) c.end(true);
  await srv?.stop();
});

describe("authentication", () => {
  it("refuses anonymous, wrong-password and unknown-feeder connections", async () => {
    expect(await refusal({ clientId: "anon" })).toBe(5);
    expect(await refusal({ username: a.username, password: "wrong" })).toBe(4);
    expect(await refusal({ username: "zzzzzzzzzzzz", password: a.password })).toBe(4);
  });

  it.each(["#", "+", "a/b", "$SYS", "__proto__"])("refuses the wildcard identity %j", async (identity) => {
    expect(await refusal({ username: identity, clientId: identity, password: a.password })).toBeDefined();
  });

  it("refuses A's credentials with B's client id, and B stays connected", async () => {
    const victim = await connect(b);
    expect(await refusal({ username: a.username, password: a.password, clientId: b.username })).toBe(2);
    await sleep(200);
    expect(victim.connected).toBe(true);
    victim.end(true);
  });

  it("accepts MQTT over WebSocket at /mqtt with the same rules", async () => {
    const ws = await connect(a, srv.wsUrl);
    expect(ws.connected).toBe(true);
    ws.end(true);
    await expect(connect({ username: a.username, password: "wrong" }, srv.wsUrl)).rejects.toBeDefined();
  });
});

describe("isolation", () => {
  it("never delivers B's commands to A, whatever A subscribes to", async () => {
    const spy = await connect(a);
    const received: string[] = [];
    spy.on("message", (topic) => received.push(topic));
    const refused: string[] = [];
    for (const filter of ["#", "feedkeeper/#", `feedkeeper/${b.username}/cmd/#`, "feedkeeper/+/cmd/#"]) {
      // mqtt.js rejects on a 0x80 grant; the session stays up.
      await spy.subscribeAsync(filter, { qos: 1 }).catch(() => refused.push(filter));
    }
    expect(refused).toHaveLength(4);
    await spy.subscribeAsync(`feedkeeper/${a.username}/cmd/#`, { qos: 1 });
    expect(spy.connected).toBe(true);
    const bDevice = await connect(b);
    await bDevice.subscribeAsync(`feedkeeper/${b.username}/cmd/#`, { qos: 1 });
    await bDevice.publishAsync(`feedkeeper/${b.username}/status`, "online", { qos: 1, retain: true });
    const bReceived = new Promise<void>((resolve) => bDevice.once("message", () => resolve()));
    await api.feed(b.username, { portions: 1 });
    await bReceived;
    await sleep(200);
    expect(received.filter((t) => t.includes(b.username))).toEqual([]);
    spy.end(true);
    bDevice.end(true);
  });

  it("cuts a feeder that publishes as another feeder or to a command topic, and records nothing", async () => {
    for (const topic of [`feedkeeper/${b.username}/feed`, `feedkeeper/${a.username}/cmd/feed`]) {
      const attacker = await connect(a);
      const closed = new Promise<void>((resolve) => attacker.once("close", () => resolve()));
      attacker.publish(
        topic,
        JSON.stringify({
          id: "forged-1",
          status: "dispensed",
          portions: 9,
          source: "button",
          at: new Date().toISOString(),
        }),
        { qos: 1, retain: true },
      );
      await closed;
    }
    const bFeeds = await api.request("GET", `/api/feeders/${b.username}/feeds`);
    expect(bFeeds.body.feeds.some((f: { portions: number }) => f.portions === 9)).toBe(false);
    // A retained command could replay forever; a new subscriber must find none.
    const bDevice = await connect(b);
    const got: string[] = [];
    bDevice.on("message", (t, _p, packet) => packet.retain && got.push(t));
    await bDevice.subscribeAsync(`feedkeeper/${b.username}/cmd/#`, { qos: 1 });
    await sleep(200);
    expect(got).toEqual([]);
    bDevice.end(true);
  });
});

describe("hostile input", () => {
  it("cuts a connection announcing a packet above 64 KiB before buffering it, and stays up", async () => {
    const client = await connect(a);
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    client.publish(`feedkeeper/${a.username}/telemetry`, Buffer.alloc(2 * 1024 * 1024, 0x7b), { qos: 0 });
    await closed;

    // A raw CONNECT that declares the maximum Remaining Length, then trickles.
    const socket = net.connect(srv.mqttPort, "127.0.0.1");
    const socketClosed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => undefined);
    socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f, 0x00]));
    await socketClosed;

    expect((await api.request("GET", "/api/health")).status).toBe(200);
    await srv.waitForLogs((l) => l.msg === "cut MQTT connection" && l.verdict === "too_large");
  });

  it("drops malformed payloads with a log line naming the feeder, and keeps working", async () => {
    const client = await connect(a);
    const base = `feedkeeper/${a.username}`;
    const junk: Array<[string, string]> = [
      ["feed", "not json"],
      ["feed", "{}"],
      [
        "feed",
        JSON.stringify({ id: "x", status: "dispensed", portions: -3, source: "remote", at: "yesterday" }),
      ],
      [
        "feed",
        JSON.stringify({
          id: "<img src=x onerror=alert(1)>",
          status: "dispensed",
          portions: 1,
          source: "remote",
          at: new Date().toISOString(),
        }),
      ],
      ["hello", JSON.stringify({ protocol: 99 })],
      ["telemetry", JSON.stringify({ foodLevel: 7, rssi: "strong" })],
      ["telemetry", '{"__proto__":{"polluted":true}}'],
      ["status", "maybe"],
      ["unknown", "{}"],
    ];
    for (const [channel, payload] of junk)
      await client.publishAsync(`${base}/${channel}`, payload, { qos: 1 });
    // Every payload but the prototype-pollution attempt (valid, empty telemetry) is refused by name.
    await srv.waitForLogs(
      (l) => l.msg === "dropped device message" && l.feederId === a.username,
      junk.length - 1,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const feeds = await api.request("GET", `/api/feeders/${a.username}/feeds`);
    expect(feeds.body.feeds).toEqual([]);
    // Still serving, and the same feeder can still talk.
    await client.publishAsync(`${base}/telemetry`, JSON.stringify({ foodLevel: 0.5 }), { qos: 1 });
    await api.waitForFeeder(a.username, (f) => f.telemetry?.foodLevel === 0.5);
  });

  it("closes WebSocket upgrades to any other path", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${srv.httpPort}/not-mqtt`);
    const outcome = await new Promise<string>((resolve) => {
      ws.on("open", () => resolve("open"));
      ws.on("error", () => resolve("error"));
    });
    expect(outcome).toBe("error");
  });
});

describe("deletion", () => {
  it("cuts a deleted feeder's session at once and refuses its credentials", async () => {
    const { feeder, credentials } = await api.createFeeder("Doomed");
    const device = await connect(credentials);
    const closed = new Promise<void>((resolve) => device.once("close", () => resolve()));
    expect((await api.request("DELETE", `/api/feeders/${feeder.id}`)).status).toBe(204);
    await closed;
    expect(await refusal(credentials)).toBe(4);
    expect((await api.request("GET", `/api/feeders/${feeder.id}`)).status).toBe(404);
  });
});
