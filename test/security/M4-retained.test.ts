/**
 * M4: retained-message abuse (CVE-2018-12546, mosquitto `check_retain_source`). A retained command would be
 * replayed to the feeder on every reconnect, long after anyone wanted that meal. So: a device's retained
 * publish to a command topic (its own or another's) or to the server status is denied; to its other topics
 * it is not kept (only `status` and `telemetry` are state worth retaining); the server never publishes a
 * command with the retain flag; a feeder that reconnects, reboots or outlives a server restart never gets a
 * feed it already had; and a retained payload left by any client never makes a feed.
 *
 * M1-M3-isolation-takeover.test.ts already checks that a feeder publishing retained to its own
 * cmd/feed is cut and that a new subscriber to that feeder's commands finds no retained message. Delivery
 * alone cannot show more than that: aedes clears the retain flag on live delivery, and the ACL's last check
 * (mayDeliverToFeeder) drops retained replays on command topics, so a retained copy could sit in the broker
 * unseen. This file therefore also looks inside the broker: the server runs in this process, and spies on
 * aedes' `createBroker` and `publish` give the test the broker's retained store and every publish the server
 * makes, with its flags.
 */
import fs from "node:fs";
import net from "node:net";
import type { Readable } from "node:stream";
import { Aedes } from "aedes";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Running } from "../../server/src/main.js";
import { SimulatedFeeder } from "../../server/src/sim/native-feeder.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import {
  connectPacket,
  openRaw,
  publishPacket,
  type RawConnection,
  type ServerPacket,
  subscribePacket,
} from "../helpers/mqtt-raw.js";
import { makeDataDir } from "../helpers/server.js";

const ATTACKER = "127.0.0.2";
const SERVER_STATUS = "feedkeeper/server/status";
const COMMAND_TOPIC = /^feedkeeper\/[^/]+\/cmd\//;

const createBroker = vi.spyOn(Aedes, "createBroker");
const brokerPublish = vi.spyOn(Aedes.prototype, "publish");

type Creds = { username: string; password: string };

let dataDir: string;
let server: Running;
let api: TestApi;
let mqttPort: number;
const open: RawConnection[] = [];
const sims: SimulatedFeeder[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  dataDir = makeDataDir();
  ({ server, api } = await bootInProcess({ dataDir }));
  mqttPort = server.mqttPort;
  await api.setupOwner();
});

afterAll(async () => {
  for (const c of open) c.destroy();
  for (const s of sims) await s.stop().catch(() => undefined);
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  createBroker.mockRestore();
  brokerPublish.mockRestore();
});

/** The broker of the server running now (the newest one, after a restart). */
async function broker(): Promise<Aedes> {
  const result = createBroker.mock.results.at(-1);
  if (!result) throw new Error("no broker created");
  return (await result.value) as Aedes;
}

/** Every retained message the broker holds, `$` topics included. */
async function retainedStore(): Promise<Array<{ topic: string; payload: string }>> {
  const { persistence } = (await broker()) as unknown as {
    persistence: { createRetainedStream(pattern: string): Readable };
  };
  const out: Array<{ topic: string; payload: string }> = [];
  for await (const p of persistence.createRetainedStream("#") as AsyncIterable<{
    topic: string;
    payload: Buffer;
  }>) {
    out.push({ topic: p.topic, payload: Buffer.from(p.payload).toString("utf8") });
  }
  return out;
}

/** Publishes the server itself made (aedes.publish(packet, callback): no client), to feeder topics. */
function serverPublishes(): Array<{ topic: string; retain: boolean }> {
  return brokerPublish.mock.calls
    .filter((args) => typeof args[1] === "function")
    .map(([packet]) => ({ topic: packet.topic, retain: packet.retain === true }))
    .filter((p) => p.topic.startsWith("feedkeeper/"));
}

async function raw(): Promise<RawConnection> {
  const conn = await openRaw({ port: mqttPort, localAddress: ATTACKER });
  open.push(conn);
  return conn;
}

async function session(creds: Creds): Promise<RawConnection> {
  const conn = await raw();
  await conn.write(
    connectPacket({ clientId: creds.username, username: creds.username, password: creds.password }),
  );
  expect(await conn.connack()).toBe(0);
  return conn;
}

function publishesOf(conn: RawConnection): Array<{ topic: string; retain: boolean; payload: string }> {
  return conn.received
    .filter((p: ServerPacket) => p.type === 3)
    .map((p) => {
      const length = p.body.readUInt16BE(0);
      const qos = (p.flags >> 1) & 3;
      return {
        topic: p.body.subarray(2, 2 + length).toString("utf8"),
        retain: (p.flags & 1) === 1,
        payload: p.body.subarray(2 + length + (qos > 0 ? 2 : 0)).toString("utf8"),
      };
    });
}

function feedCommand(id: string, portions = 3): string {
  return JSON.stringify({ id, portions, expiresAt: new Date(Date.now() + 60_000).toISOString() });
}

/**
 * A TCP relay in front of the broker whose connections the test can cut, so a feeder loses its connection
 * the way it does when Wi-Fi drops: no DISCONNECT, and the feeder reconnects on its own.
 */
class Relay {
  readonly server: net.Server;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  port = 0;

  constructor() {
    this.server = net.createServer((inbound) => {
      const outbound = net.connect(mqttPort, "127.0.0.1");
      const pair: [net.Socket, net.Socket] = [inbound, outbound];
      this.pairs.add(pair);
      for (const s of pair) {
        s.on("error", () => undefined);
        s.on("close", () => {
          this.pairs.delete(pair);
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Cuts every relayed connection at once. */
  cut(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function startSim(
  creds: Creds,
  options: { clean?: boolean; port?: number } = {},
): Promise<SimulatedFeeder> {
  const sim = new SimulatedFeeder({
    url: `mqtt://127.0.0.1:${options.port ?? mqttPort}`,
    id: creds.username,
    password: creds.password,
    dispenseMsPerPortion: 5,
    ...(options.clean !== undefined && { clean: options.clean }),
  });
  sims.push(sim);
  await sim.start();
  return sim;
}

async function feeds(feederId: string): Promise<Array<{ id: string; status: string; portions: number }>> {
  const res = await api.request("GET", `/api/feeders/${feederId}/feeds`);
  expect(res.status).toBe(200);
  return res.body.feeds;
}

async function feedAndWait(feederId: string): Promise<string> {
  const res = await api.feed(feederId, { portions: 1 });
  expect(res.status).toBe(202);
  expect((await api.waitForFeed(res.body.feed.id, ["dispensed"], 5000)).status).toBe("dispensed");
  return res.body.feed.id;
}

/** Waits for the sim's next `ready` (bounded). */
function nextReady(sim: SimulatedFeeder, ms = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("feeder did not reconnect")), ms);
    sim.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe("retained publishes by devices", () => {
  it("cuts a feeder that publishes retained to any command topic or the server status, and keeps no copy", async () => {
    const a = (await api.createFeeder("A")).credentials;
    const b = (await api.createFeeder("B")).credentials;
    const targets = [
      `feedkeeper/${a.username}/cmd/feed`,
      `feedkeeper/${a.username}/cmd/schedule`,
      `feedkeeper/${a.username}/cmd/anything`,
      `feedkeeper/${b.username}/cmd/feed`,
      SERVER_STATUS,
      "$SYS/feedkeeper",
      "elsewhere/cmd/feed",
    ];
    for (const topic of targets) {
      const conn = await session(a);
      await conn.write(
        publishPacket(topic, feedCommand("retained-1"), { qos: 1, retain: true, messageId: 5 }),
      );
      expect(await conn.waitClosed(2000), topic).toBe(true);
      // No PUBACK: the broker never took the message.
      expect(conn.received.some((p) => p.type === 4)).toBe(false);
      conn.destroy();
    }
    const kept = await retainedStore();
    for (const topic of targets.filter((t) => t !== SERVER_STATUS))
      expect(kept.map((r) => r.topic)).not.toContain(topic);
    expect(kept.filter((r) => COMMAND_TOPIC.test(r.topic))).toEqual([]);
    // The retained server status is still the server's own.
    expect(kept.filter((r) => r.topic === SERVER_STATUS)).toEqual([
      { topic: SERVER_STATUS, payload: "online" },
    ]);
  });

  it("keeps nothing a feeder publishes retained: its events, replies, even its status", async () => {
    const c = (await api.createFeeder("C")).credentials;
    const base = `feedkeeper/${c.username}`;
    const conn = await session(c);
    const report = JSON.stringify({
      id: "retained-report-1",
      status: "dispensed",
      portions: 9,
      source: "button",
      at: new Date().toISOString(),
    });
    const sent: Array<[string, string]> = [
      [`${base}/status`, "online"],
      [`${base}/telemetry`, JSON.stringify({ foodLevel: 0.8 })],
      [`${base}/feed`, report],
      [`${base}/hello`, JSON.stringify({ protocol: 1, model: "m", firmware: "f", capabilities: ["feed"] })],
      [`${base}/schedule`, JSON.stringify({ version: 1, status: "applied" })],
      [`${base}/status/extra`, "online"],
      [`${base}/unknown`, "{}"],
      [`${base}/__proto__`, "{}"],
    ];
    for (const [i, [topic, payload]] of sent.entries()) {
      await conn.write(publishPacket(topic, payload, { qos: 1, retain: true, messageId: i + 1 }));
    }
    // Every one acknowledged: the device is not cut for setting the flag, the flag is just not honoured.
    const deadline = Date.now() + 2000;
    while (conn.received.filter((p) => p.type === 4).length < sent.length && Date.now() < deadline)
      await sleep(20);
    expect(conn.received.filter((p) => p.type === 4)).toHaveLength(sent.length);
    expect(conn.isClosed).toBe(false);

    // The server takes what a device says through its hook; the broker routes and keeps none of it.
    const kept = (await retainedStore()).filter(
      (r) => r.topic.startsWith(`${base}/`) || r.topic.startsWith("$"),
    );
    expect(kept).toEqual([]);
    // The retained "dispensed" report is a replay by definition: no feed recorded.
    expect(await feeds(c.username)).toEqual([]);
    conn.destroy();
  });

  it("keeps nothing a pending device publishes retained, and a feeder connecting later gets no feed from it", async () => {
    // D has never connected, so no session of it exists to queue anything for.
    const d = (await api.createFeeder("D")).credentials;
    const pending = await raw();
    await pending.write(connectPacket({ clientId: "AF00000000000M4", username: "any", password: "thing" }));
    expect(await pending.connack()).toBe(0);
    const targets = [
      `feedkeeper/${d.username}/cmd/feed`,
      `feedkeeper/${d.username}/cmd/schedule`,
      SERVER_STATUS,
      "$SYS/x",
      "dl/PLAF203/AF00000000000M4/device/service/sub",
    ];
    for (const [i, topic] of targets.entries()) {
      const payload = topic === SERVER_STATUS ? "offline" : feedCommand(`pending-retained-${i}`);
      await pending.write(publishPacket(topic, payload, { qos: 1, retain: true, messageId: i + 1 }));
    }
    await pending.waitFor(4);
    await sleep(100);
    const kept = await retainedStore();
    for (const topic of targets.filter((t) => t !== SERVER_STATUS))
      expect(kept.map((r) => r.topic)).not.toContain(topic);
    expect(kept.filter((r) => r.topic === SERVER_STATUS)).toEqual([
      { topic: SERVER_STATUS, payload: "online" },
    ]);
    pending.destroy();

    const sim = await startSim(d);
    await sleep(500);
    expect(sim.commandsReceived).toEqual([]);
    expect(sim.dispensed).toEqual([]);
    expect(await feeds(d.username)).toEqual([]);
  });
});

describe("commands the server sends", () => {
  it("never publishes a feed or schedule command retained", async () => {
    const e = (await api.createFeeder("E")).credentials;
    const base = `feedkeeper/${e.username}`;
    const device = await session(e);
    await device.write(subscribePacket(1, [[`${base}/cmd/#`, 1]]));
    expect((await device.waitFor(9))?.body[2]).toBe(1);
    await device.write(publishPacket(`${base}/status`, "online", { qos: 1, retain: true, messageId: 2 }));
    await device.write(
      publishPacket(
        `${base}/hello`,
        JSON.stringify({
          protocol: 1,
          model: "raw",
          firmware: "1",
          capabilities: ["feed", "schedule"],
          scheduleVersion: 0,
        }),
        { qos: 1, messageId: 3 },
      ),
    );
    await api.waitForFeeder(e.username, (f) => f.online && f.capabilities.includes("schedule"));
    const plan = await api.request("PUT", `/api/feeders/${e.username}/schedule`, {
      timezone: "UTC",
      meals: [{ id: "m1", time: "07:30", days: ["mon"], portions: 1, label: "Breakfast" }],
    });
    expect(plan.status).toBe(200);
    const feed = await api.feed(e.username, { portions: 2 });
    expect(feed.status).toBe(202);

    const deadline = Date.now() + 3000;
    const topics = () => publishesOf(device).map((p) => p.topic);
    while (!(topics().includes(`${base}/cmd/feed`) && topics().includes(`${base}/cmd/schedule`))) {
      if (Date.now() > deadline) throw new Error(`commands not received: ${topics()}`);
      await sleep(20);
    }
    // On the wire …
    for (const p of publishesOf(device)) expect(p.retain, p.topic).toBe(false);
    // … and as published into the broker (aedes would clear the flag on live delivery anyway).
    const commands = serverPublishes().filter((p) => COMMAND_TOPIC.test(p.topic));
    expect(commands.map((c) => c.topic)).toEqual(
      expect.arrayContaining([`${base}/cmd/feed`, `${base}/cmd/schedule`]),
    );
    expect(commands.filter((c) => c.retain)).toEqual([]);
    expect((await retainedStore()).filter((r) => COMMAND_TOPIC.test(r.topic))).toEqual([]);
    device.destroy();
  });
});

describe("reconnects never replay a feed", () => {
  let f: Creds;
  let first: SimulatedFeeder;
  let fedIds: string[] = [];
  const relay = new Relay();

  beforeAll(async () => {
    await relay.listen();
    f = (await api.createFeeder("F", { minFeedIntervalSeconds: 0 })).credentials;
    // A persistent session (clean: false), as the simulator and most firmware use, so the broker queues for it.
    first = await startSim(f, { clean: false, port: relay.port });
    fedIds = [await feedAndWait(f.username)];
  });
  afterAll(() => relay.close());

  it("after a dropped connection", async () => {
    const ready = nextReady(first);
    relay.cut();
    await ready;
    await sleep(500);
    expect(first.commandsReceived.map((c) => c.command.id)).toEqual(fedIds);
    expect(first.dispensed).toHaveLength(1);
  });

  it("after a reboot that forgot which commands it ran", async () => {
    await first.stop();
    // Same credentials and persistent session, but no memory of command ids: a replay would be dispensed.
    const rebooted = await startSim(f, { clean: false });
    await sleep(500);
    expect(rebooted.commandsReceived).toEqual([]);
    expect(rebooted.dispensed).toEqual([]);
    await rebooted.stop();
  });

  it("delivers a feed asked for while the feeder was away once, on its return, and never again", async () => {
    const res = await api.feed(f.username, { portions: 1 });
    expect(res.status).toBe(202);
    expect(res.body.feed.status).toBe("pending");
    const back = await startSim(f, { clean: false, port: relay.port });
    expect((await api.waitForFeed(res.body.feed.id, ["dispensed"], 5000)).status).toBe("dispensed");
    fedIds.push(res.body.feed.id);
    expect(back.commandsReceived.map((c) => c.command.id)).toEqual([res.body.feed.id]);
    const ready = nextReady(back);
    relay.cut();
    await ready;
    await sleep(500);
    expect(back.commandsReceived).toHaveLength(1);
    await back.stop();
    const again = await startSim(f, { clean: false });
    await sleep(500);
    expect(again.commandsReceived).toEqual([]);
    await again.stop();
  });

  it("after a server restart", async () => {
    const device = await startSim(f, { clean: false });
    await server.stop();
    ({ server, api } = await rebootServer());
    await nextReady(device, 8000);
    await sleep(700);
    expect(device.commandsReceived).toEqual([]);
    expect(device.dispensed).toEqual([]);
    const ledger = await feeds(f.username);
    expect(ledger.map((x) => x.id).sort()).toEqual([...fedIds].sort());
    expect(ledger.every((x) => x.status === "dispensed")).toBe(true);
    // The new broker holds no retained command either.
    expect((await retainedStore()).filter((r) => COMMAND_TOPIC.test(r.topic))).toEqual([]);
    expect(serverPublishes().filter((p) => p.retain && COMMAND_TOPIC.test(p.topic))).toEqual([]);
    await device.stop();
  });

  // Found by this test: a device held as pending may publish anywhere (to learn its topics), and the broker
  // used to route it on, so an unauthenticated client could feed any feeder. Device publishes are now handled
  // by the server and routed nowhere (embedded-broker.ts, DEVICE_SINK_TOPIC).
  it("never feeds from a command a pending device left while the feeder was away", async () => {
    const g = (await api.createFeeder("G")).credentials;
    const sim = await startSim(g, { clean: false });
    await sim.stop();
    const pending = await raw();
    await pending.write(connectPacket({ clientId: "AF0000000000M4G", username: "any", password: "thing" }));
    expect(await pending.connack()).toBe(0);
    await pending.write(
      publishPacket(`feedkeeper/${g.username}/cmd/feed`, feedCommand("left-behind", 5), {
        qos: 1,
        retain: true,
        messageId: 9,
      }),
    );
    await pending.waitFor(4);
    pending.destroy();
    const back = await startSim(g, { clean: false });
    await sleep(700);
    expect(back.commandsReceived.map((c) => c.command.id)).not.toContain("left-behind");
    expect(back.dispensed).toEqual([]);
  });
});

async function rebootServer(): Promise<{ server: Running; api: TestApi }> {
  const token = api.token;
  const booted = await bootInProcess({ dataDir, mqttPort });
  booted.api.token = token;
  return booted;
}
