/**
 * M6: floods, flapping, QoS 2 and slow readers (aedes `connectTimeout`, `maxInflightInbound`
 * GHSA-5jvp-3p2v-5qgf, `drainTimeout`; CVE-2023-28366; EMQX flapping detection). Each abuse must be bounded
 * and its author cut off, while a real feeder connected at the same time still gets a command in under 1 s:
 *
 * - 500 sockets that never CONNECT: at most 100 per address (500 in all) are kept, each for at most the
 *   connect timeout; the rest are closed at once (server/src/broker/half-open.ts).
 * - 200 reconnects on one client id in under 2 s: the first 15 are served, then the id is refused with
 *   CONNACK 3, logged and reported once (server/src/broker/flapping.ts); two devices sharing one id the same.
 * - QoS 2 without PUBREL: a connection is cut at 100 unreleased messages, and none of them outlives it (aedes
 *   would keep them for a persistent session's next connection, whose own cap starts again from zero).
 * - A subscriber that stops reading: cut once 512 KiB wait for it, or after its writes sat unread for the
 *   stall bound (server/src/broker/frame-guard.ts), without ever making the broker wait for it.
 *
 * First against the broker alone, with hooks of the test's own (a feeder is any client id = username with
 * the password "pw", kept to feedkeeper/<id>/), which lets a subscriber receive as much as the test wants;
 * then against the whole server in this process, where the latency is from the API's feed request to the
 * simulated feeder's receipt of the command. Slow readers are checked on the broker alone: the server sends
 * a device a few hundred bytes per command, one at a time (device-bridge.ts), so no device can be made to
 * receive megabytes through the API. Latencies are a safety bound, not a benchmark. Attackers bind to
 * 127.0.0.x (x ≥ 2), so the per-address limits never touch the real feeder on 127.0.0.1.
 */
import fs from "node:fs";
import { performance } from "node:perf_hooks";
import { Aedes } from "aedes";
import mqtt, { type MqttClient } from "mqtt";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type BrokerHooks,
  type BrokerLimits,
  type EmbeddedBroker,
  type Session,
  startEmbeddedBroker,
} from "../../server/src/broker/embedded-broker.js";
import { loadTlsIdentity } from "../../server/src/broker/tls-identity.js";
import type { Running } from "../../server/src/main.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import {
  connectPacket,
  openRaw,
  publishPacket,
  type RawConnection,
  startVictim,
  subscribePacket,
} from "../helpers/mqtt-raw.js";
import { makeDataDir } from "../helpers/server.js";

const ATTACKER = "127.0.0.2";
const PASSWORD = "pw";
const LATENCY_BOUND_MS = 1000;
/** How long a latency probe waits before it calls the command lost. */
const PROBE_GIVE_UP_MS = 5000;
const PUBREC = 5;
const SUBACK = 9;

const createBroker = vi.spyOn(Aedes, "createBroker");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every raw socket and client a test opens, closed after it whatever happened. */
const raws: RawConnection[] = [];
const clients: MqttClient[] = [];
const brokers: EmbeddedBroker[] = [];

afterEach(async () => {
  for (const r of raws.splice(0)) r.destroy();
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});

async function raw(port: number, localAddress = ATTACKER): Promise<RawConnection> {
  const conn = await openRaw({ port, localAddress });
  raws.push(conn);
  return conn;
}

/** A CONNECT on a fresh socket; the CONNACK code (undefined: none) and the socket. */
async function login(port: number, id: string, password: string, clean = true) {
  const conn = await raw(port);
  await conn.write(connectPacket({ clientId: id, username: id, password, clean }));
  return { conn, code: await conn.connack(2000) };
}

/** Polls (bounded) until `check` holds; false when it never did. */
async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

/** Latency probes until `stop` resolves (at least one); every probe's latency. */
async function probeUntil(probe: () => Promise<number>, stop: Promise<unknown>): Promise<number[]> {
  let done = false;
  void stop.finally(() => {
    done = true;
  });
  const latencies: number[] = [];
  do {
    latencies.push(await probe());
    await sleep(50);
  } while (!done);
  return latencies;
}

// ---------------------------------------------------------------------------------------------------------
// The broker alone
// ---------------------------------------------------------------------------------------------------------

/** The persistence of the newest aedes broker (the server's, once it runs), to look into what it holds. */
interface Persistence {
  incomingGetPacket(client: { id: string }, packet: { messageId: number }): Promise<unknown>;
}

async function newestPersistence(): Promise<Persistence> {
  const aedes = (await createBroker.mock.results.at(-1)?.value) as unknown as { persistence: Persistence };
  return aedes.persistence;
}

/** How many of the message ids 1…maxId the broker still holds as received QoS 2 messages of `clientId`. */
async function heldQos2(persistence: Persistence, clientId: string, maxId: number): Promise<number> {
  let held = 0;
  for (let messageId = 1; messageId <= maxId; messageId++) {
    held += await persistence.incomingGetPacket({ id: clientId }, { messageId }).then(
      () => 1,
      () => 0,
    );
  }
  return held;
}

interface TestBroker {
  broker: EmbeddedBroker;
  port: number;
  logs: Array<Record<string, unknown> & { msg: string }>;
  connected: string[];
  disconnected: Map<string, number>;
  flapping: Array<{ session: Session; clientId: string; address: string | undefined; bannedForMs: number }>;
  persistence: Persistence;
}

async function startTestBroker(
  limits: Partial<BrokerLimits> = {},
  tls?: { cert: string; key: string },
): Promise<TestBroker> {
  const logs: TestBroker["logs"] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const connected: string[] = [];
  const disconnected = new Map<string, number>();
  const flapping: TestBroker["flapping"] = [];
  const id = (session: Session) => session.feederId ?? "";
  const hooks: BrokerHooks = {
    admit: (clientId, username, password) =>
      username === clientId && password?.toString() === PASSWORD
        ? { feederId: clientId }
        : { refused: 4, reason: "bad credentials" },
    onConnected: (session) => {
      connected.push(id(session));
      return true;
    },
    onDisconnected: (session) => disconnected.set(id(session), performance.now()),
    authorizePublish: (session, topic) =>
      topic.startsWith(`feedkeeper/${id(session)}/`)
        ? { allow: true }
        : { allow: false, reason: "not its own topic" },
    authorizeSubscribe: (session, filter) => filter.startsWith(`feedkeeper/${id(session)}/`),
    mayDeliver: () => true,
    onPublishRefused: () => undefined,
    onSubscribeRefused: () => undefined,
    onCommandsSubscribed: () => undefined,
    onMessage: () => undefined,
    onFlapping: (session, clientId, address, bannedForMs) =>
      flapping.push({ session, clientId, address, bannedForMs }),
  };
  const broker = await startEmbeddedBroker({
    bind: "127.0.0.1",
    port: 0,
    maxPacketBytes: 64 * 1024,
    logger,
    hooks,
    limits,
    tls: tls && { port: 0, ...tls },
  });
  brokers.push(broker);
  return {
    broker,
    port: broker.port,
    logs,
    connected,
    disconnected,
    flapping,
    persistence: await newestPersistence(),
  };
}

/** The real feeder of the broker tests: subscribed to its commands, reading them as they come. */
async function brokerFeeder(
  t: TestBroker,
  id = "feeder",
  url = `mqtt://127.0.0.1:${t.port}`,
): Promise<() => Promise<number>> {
  const client = await mqtt.connectAsync(url, {
    rejectUnauthorized: false,
    clientId: id,
    username: id,
    password: PASSWORD,
    clean: false,
    reconnectPeriod: 0,
    protocolVersion: 4,
  });
  clients.push(client);
  await client.subscribeAsync(`feedkeeper/${id}/cmd/#`, { qos: 1 });
  let n = 0;
  // From the server's publish to the feeder's receipt of the command.
  return async () => {
    const commandId = `c${++n}`;
    const started = performance.now();
    const received = new Promise<number>((resolve) => {
      const onMessage = (_topic: string, payload: Buffer) => {
        if (!payload.toString().includes(commandId)) return;
        client.off("message", onMessage);
        resolve(performance.now());
      };
      client.on("message", onMessage);
    });
    t.broker
      .publish(`feedkeeper/${id}/cmd/feed`, JSON.stringify({ id: commandId, portions: 1 }), {
        qos: 1,
        retain: false,
      })
      .catch(() => undefined);
    const at = await Promise.race([received, sleep(PROBE_GIVE_UP_MS).then(() => Number.POSITIVE_INFINITY)]);
    return at - started;
  };
}

describe("M6 against the broker", () => {
  it("500 sockets that never CONNECT: 100 kept per address and 500 in all, each for at most the connect timeout", async () => {
    // Long enough that the counts below are read before the timeout cuts anything, even on a loaded CI box.
    const t = await startTestBroker({ connectTimeoutMs: 5000 });
    const latency = await brokerFeeder(t);
    const open = (sockets: RawConnection[]) => sockets.filter((s) => !s.isClosed).length;

    const flood = await Promise.all(Array.from({ length: 500 }, () => raw(t.port)));
    // The refused ones are closed as they come; the count settles once the broker has seen them all.
    await expect.poll(() => open(flood), { timeout: 3000 }).toBe(100);
    // A newcomer on another address still gets in, and the feeder already connected still gets commands.
    const newcomer = await openRaw({ port: t.port, localAddress: "127.0.0.1" });
    raws.push(newcomer);
    await newcomer.write(connectPacket({ clientId: "newcomer", username: "newcomer", password: PASSWORD }));
    expect(await newcomer.connack()).toBe(0);
    expect(await latency()).toBeLessThan(LATENCY_BOUND_MS);

    // 100 more from each of five other addresses: the total stops at 500.
    const wider = await Promise.all(
      ["127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7"].flatMap((address) =>
        Array.from({ length: 100 }, () => raw(t.port, address)),
      ),
    );
    await expect.poll(() => open([...flood, ...wider]), { timeout: 3000 }).toBe(500);
    expect(await latency()).toBeLessThan(LATENCY_BOUND_MS);
    // 700 refusals, one log line.
    expect(t.logs.filter((l) => l.msg.startsWith("refused MQTT sockets"))).toHaveLength(1);

    // The connect timeout cuts every one that was kept.
    const cut = await Promise.all([...flood, ...wider].map((s) => s.waitClosed(8000)));
    expect(cut.every(Boolean)).toBe(true);
    expect(await latency()).toBeLessThan(LATENCY_BOUND_MS);
  });

  it("on the TLS port too, sockets that never finish their handshake are counted, and cut at the connect timeout", async () => {
    const dataDir = makeDataDir();
    try {
      const identity = await loadTlsIdentity(
        { certFile: undefined, keyFile: undefined, hostnames: ["localhost"] },
        dataDir,
      );
      const t = await startTestBroker({ connectTimeoutMs: 1000 }, identity);
      const tlsPort = t.broker.tlsPort ?? 0;
      const latency = await brokerFeeder(t, "feeder", `mqtts://127.0.0.1:${tlsPort}`);

      const flood = await Promise.all(Array.from({ length: 150 }, () => raw(tlsPort)));
      await sleep(300);
      expect(flood.filter((s) => !s.isClosed)).toHaveLength(100);
      expect(await latency()).toBeLessThan(LATENCY_BOUND_MS);
      const cut = await Promise.all(flood.map((s) => s.waitClosed(2500)));
      expect(cut.every(Boolean)).toBe(true);
      expect(await latency()).toBeLessThan(LATENCY_BOUND_MS);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("200 reconnects on one client id: 15 served, then CONNACK 3, logged and reported once", async () => {
    const t = await startTestBroker();
    const latency = await brokerFeeder(t);
    const codes: Array<number | undefined> = [];
    const started = performance.now();
    const flood = (async () => {
      for (let i = 0; i < 200; i++) {
        const { conn, code } = await login(t.port, "flappy", PASSWORD);
        codes.push(code);
        conn.destroy();
      }
    })();
    const latencies = await probeUntil(latency, flood);
    await flood;
    const elapsed = performance.now() - started;

    expect(elapsed).toBeLessThan(4000);
    expect(codes.slice(0, 15)).toEqual(Array(15).fill(0));
    expect(codes.slice(15)).toEqual(Array(185).fill(3));
    expect(t.connected.filter((id) => id === "flappy")).toHaveLength(15);
    expect(t.flapping).toEqual([
      { session: { feederId: "flappy" }, clientId: "flappy", address: ATTACKER, bannedForMs: 60_000 },
    ]);
    expect(t.logs.filter((l) => l.msg.includes("flapping"))).toHaveLength(1);
    expect(Math.max(...latencies)).toBeLessThan(LATENCY_BOUND_MS);
    // The ban is on that id only.
    expect((await login(t.port, "other", PASSWORD)).code).toBe(0);
  });

  it("two devices sharing one client id, kicking each other off, are stopped within seconds", async () => {
    const t = await startTestBroker();
    const latency = await brokerFeeder(t);
    for (let i = 0; i < 2; i++) {
      const twin = mqtt.connect(`mqtt://127.0.0.1:${t.port}`, {
        clientId: "twin",
        username: "twin",
        password: PASSWORD,
        reconnectPeriod: 50,
        protocolVersion: 4,
      });
      twin.on("error", () => undefined);
      clients.push(twin);
    }
    expect(await eventually(() => t.flapping.length > 0, 5000)).toBe(true);
    await sleep(500);
    expect(t.flapping.map((f) => f.clientId)).toEqual(["twin"]);
    expect(t.logs.filter((l) => l.msg.includes("flapping"))).toHaveLength(1);
    expect(t.connected.filter((id) => id === "twin")).toHaveLength(15);
    expect(await latency()).toBeLessThan(LATENCY_BOUND_MS);
  });

  it("QoS 2 without PUBREL: cut at 100 unreleased messages, and none of them outlives the connection", async () => {
    const t = await startTestBroker();
    const latency = await brokerFeeder(t);
    const topic = "feedkeeper/q2/telemetry";
    const payload = Buffer.alloc(1024, 0x61);

    const { conn, code } = await login(t.port, "q2", PASSWORD, false);
    expect(code).toBe(0);
    await conn.write(
      Buffer.concat(
        Array.from({ length: 150 }, (_, i) => publishPacket(topic, payload, { qos: 2, messageId: i + 1 })),
      ),
    );
    expect(await conn.waitClosed(2000)).toBe(true);
    expect(conn.received.filter((p) => p.type === PUBREC).length).toBeLessThanOrEqual(100);
    expect(
      t.logs.some((l) => l.msg === "MQTT client error" && String(l.err).includes("maxInflightInbound")),
    ).toBe(true);
    expect(await latency()).toBeLessThan(LATENCY_BOUND_MS);

    // A persistent session coming back with fresh message ids, 100 at a time (at the cap, never over it):
    // what the broker holds for it must not grow from one connection to the next.
    const heldAfter: number[] = [];
    for (let round = 0; round < 5; round++) {
      t.disconnected.delete("q2");
      const session = await login(t.port, "q2", PASSWORD, false);
      expect(session.code).toBe(0);
      await session.conn.write(
        Buffer.concat(
          Array.from({ length: 100 }, (_, i) =>
            publishPacket(topic, payload, { qos: 2, messageId: 1000 + round * 100 + i + 1 }),
          ),
        ),
      );
      expect(
        await eventually(() => session.conn.received.filter((p) => p.type === PUBREC).length === 100, 2000),
      ).toBe(true);
      expect(session.conn.isClosed).toBe(false);
      session.conn.destroy();
      expect(await eventually(() => t.disconnected.has("q2"), 2000)).toBe(true);
      heldAfter.push(await heldQos2(t.persistence, "q2", 1500));
    }
    expect(heldAfter).toEqual([0, 0, 0, 0, 0]);
    expect(await latency()).toBeLessThan(LATENCY_BOUND_MS);
  });

  it("a subscriber that stops reading is cut once 512 KiB wait for it, and never holds up the feeder", async () => {
    const t = await startTestBroker();
    const latency = await brokerFeeder(t);
    const { conn: slow, code } = await login(t.port, "slow", PASSWORD);
    expect(code).toBe(0);
    await slow.write(subscribePacket(1, [["feedkeeper/slow/cmd/#", 1]]));
    expect(await slow.waitFor(SUBACK)).toBeDefined();
    slow.socket.pause();

    // 25 MB for it, far past what the kernel buffers on both ends of a loopback connection.
    const started = performance.now();
    const chunk = "x".repeat(64 * 1024);
    const publishes = Array.from({ length: 400 }, () =>
      t.broker.publish("feedkeeper/slow/cmd/bulk", chunk, { qos: 1, retain: false }).catch(() => undefined),
    );
    expect(await latency()).toBeLessThan(LATENCY_BOUND_MS);
    expect(await eventually(() => t.disconnected.has("slow"), 5000)).toBe(true);
    const cutAfter = (t.disconnected.get("slow") ?? Number.POSITIVE_INFINITY) - started;
    expect(cutAfter).toBeLessThan(3000);
    expect(t.logs.some((l) => l.msg === "cut MQTT connection" && l.verdict === "backlog")).toBe(true);
    // Every publish completes: nothing waits on the reader that was cut.
    const settled = await Promise.race([
      Promise.all(publishes).then(() => true),
      sleep(5000).then(() => false),
    ]);
    expect(settled).toBe(true);
    expect(await latency()).toBeLessThan(LATENCY_BOUND_MS);
  });

  it("a subscriber that stops reading with less than the byte bound waiting is cut after the stall bound", async () => {
    const t = await startTestBroker({ outboundQueueBytes: 256 * 1024 * 1024, outboundStallMs: 1000 });
    const latency = await brokerFeeder(t);
    const { conn: slow, code } = await login(t.port, "slow", PASSWORD);
    expect(code).toBe(0);
    await slow.write(subscribePacket(1, [["feedkeeper/slow/cmd/#", 1]]));
    expect(await slow.waitFor(SUBACK)).toBeDefined();
    slow.socket.pause();

    const started = performance.now();
    const chunk = "x".repeat(64 * 1024);
    const publishes = Array.from({ length: 400 }, () =>
      t.broker.publish("feedkeeper/slow/cmd/bulk", chunk, { qos: 1, retain: false }).catch(() => undefined),
    );
    const latencies = await probeUntil(
      latency,
      eventually(() => t.disconnected.has("slow"), 5000),
    );
    const cutAfter = (t.disconnected.get("slow") ?? Number.POSITIVE_INFINITY) - started;
    expect(cutAfter).toBeGreaterThanOrEqual(900);
    expect(cutAfter).toBeLessThan(3000);
    expect(t.logs.some((l) => l.msg === "cut MQTT connection" && l.verdict === "stalled")).toBe(true);
    expect(Math.max(...latencies)).toBeLessThan(LATENCY_BOUND_MS);
    await Promise.race([Promise.all(publishes), sleep(5000)]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The whole server
// ---------------------------------------------------------------------------------------------------------

describe("M6 against the whole server", () => {
  let dataDir: string;
  let server: Running;
  let api: TestApi;
  let victim: Awaited<ReturnType<typeof startVictim>>;

  beforeAll(async () => {
    dataDir = makeDataDir();
    ({ server, api } = await bootInProcess({ dataDir }));
    await api.setupOwner();
    victim = await startVictim(api, `mqtt://127.0.0.1:${server.mqttPort}`);
  });

  afterAll(async () => {
    await victim?.sim.stop().catch(() => undefined);
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** From the API's feed request to the simulated feeder's receipt of the command. */
  async function feedLatency(): Promise<number> {
    const started = performance.now();
    const received = new Promise<number>((resolve) =>
      victim.sim.once("command", (_command, receivedAt) => resolve(receivedAt)),
    );
    const res = await api.feed(victim.id, { portions: 1 });
    expect(res.status).toBe(202);
    const at = await Promise.race([received, sleep(PROBE_GIVE_UP_MS).then(() => Number.POSITIVE_INFINITY)]);
    return at - started;
  }

  it("500 sockets that never CONNECT: 100 kept, and the feeder is fed in under 1 s", async () => {
    const flood = await Promise.all(Array.from({ length: 500 }, () => raw(server.mqttPort)));
    await expect.poll(() => flood.filter((s) => !s.isClosed).length, { timeout: 3000 }).toBe(100);
    expect(await feedLatency()).toBeLessThan(LATENCY_BOUND_MS);
    expect(victim.disconnects()).toBe(0);
  });

  it("200 reconnects with a feeder's own credentials: refused after 15, the other feeder fed in under 1 s", async () => {
    const attacker = (await api.createFeeder("Flapper")).credentials;
    const codes: Array<number | undefined> = [];
    const flood = (async () => {
      for (let i = 0; i < 200; i++) {
        const { conn, code } = await login(server.mqttPort, attacker.username, attacker.password);
        codes.push(code);
        conn.destroy();
      }
    })();
    const latencies = await probeUntil(feedLatency, flood);
    await flood;
    expect(codes.filter((c) => c === 0)).toHaveLength(15);
    expect(codes.slice(15).every((c) => c === 3)).toBe(true);
    expect(Math.max(...latencies)).toBeLessThan(LATENCY_BOUND_MS);
    expect(victim.disconnects()).toBe(0);

    // The owner's fix for a loop (new credentials on the device) lifts the ban at once.
    const rotated = await api.request<{ credentials: typeof attacker }>(
      "POST",
      `/api/feeders/${attacker.username}/credentials`,
    );
    expect(rotated.status).toBe(201);
    const after = await login(server.mqttPort, attacker.username, rotated.body.credentials.password);
    after.conn.destroy();
    expect(after.code).toBe(0);
  });

  it("QoS 2 without PUBREL from a feeder's own credentials: cut, and the other feeder fed in under 1 s", async () => {
    const attacker = (await api.createFeeder("Hoarder")).credentials;
    const { conn, code } = await login(server.mqttPort, attacker.username, attacker.password, false);
    expect(code).toBe(0);
    const topic = `feedkeeper/${attacker.username}/telemetry`;
    await conn.write(
      Buffer.concat(
        Array.from({ length: 150 }, (_, i) =>
          publishPacket(topic, JSON.stringify({ foodLevel: 0.5 }), { qos: 2, messageId: i + 1 }),
        ),
      ),
    );
    expect(await conn.waitClosed(2000)).toBe(true);
    expect(conn.received.filter((p) => p.type === PUBREC).length).toBeLessThanOrEqual(100);
    // Its persistent session keeps none of them for a next connection to add to (once the server has
    // handled the disconnect).
    const persistence = await newestPersistence();
    let held = await heldQos2(persistence, attacker.username, 150);
    for (let i = 0; i < 20 && held > 0; i++) {
      await sleep(100);
      held = await heldQos2(persistence, attacker.username, 150);
    }
    expect(held).toBe(0);
    expect(await feedLatency()).toBeLessThan(LATENCY_BOUND_MS);
    expect(victim.disconnects()).toBe(0);
  });
});
