/**
 * M7: known crashers and fuzzing (CVE-2021-28166, CVE-2021-34432, CVE-2018-12543, GHSA-52qw-whmv-87c5). Known
 * crash inputs of other brokers and of aedes/mqtt-packet are replayed as raw bytes over a net.Socket, then
 * zero-length topics, more than 100 topic levels, `$` topics, prototype keys (`__proto__`) as client ids,
 * usernames and topic levels, malformed Remaining Length encodings and other malformed packets, and finally a
 * bounded black-box fuzz run (fixed seed, 200 connections of random and mutated packets, each given at most
 * 150 ms). After each case: the server process is alive, GET /api/health answers 200, it logged no error, and
 * a real simulated feeder is still connected, never lost its session and is fed.
 *
 * Sources of the replayed bytes:
 * - mosquitto #2163 (CVE-2021-28166): the reporter's exact hex, an MQTT 5 CONNECT followed by a CONNACK sent
 *   by the client and a DISCONNECT: 101000044d5154540502003c03210014000029020001e000.
 * - aedes #612 / the FUME fuzzer's "aedes malformed DISCONNECT" (fixed in mqtt-packet, mqttjs/mqtt-packet#107):
 *   the original hex could not be found, so equivalent packets are built here: an MQTT 5 CONNECT (which puts
 *   mqtt-packet's parser in v5 mode before aedes refuses the version) followed in the same segment by
 *   DISCONNECTs whose reason code and property length run past the packet; and v3.1.1 DISCONNECTs with a
 *   body or reserved flag bits after a real login.
 * - CVE-2021-34432: a PUBLISH with a zero-length topic (mosquitto ≤ 2.0.7 crashed).
 * - NSWG-ECO-500: a SUBSCRIBE whose topic length runs past the packet (mqtt-packet over-read).
 *
 * M1-M3-isolation-takeover.test.ts covers hostile payloads of valid packets (bad JSON, prototype keys
 * inside JSON); this file is about the packets themselves. Runs against the spawned, built server, so "alive"
 * means its own process; attackers bind to 127.0.0.x (x ≥ 2) so the per-address login throttle never touches
 * the real feeder on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestApi } from "../helpers/api.js";
import {
  assertFeedable,
  connectPacket,
  DISCONNECT,
  frame,
  openRaw,
  PINGREQ,
  prng,
  publishPacket,
  type RawConnection,
  startVictim,
  str,
  subscribePacket,
  u16,
} from "../helpers/mqtt-raw.js";
import { startServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
let api: TestApi;
let victim: Awaited<ReturnType<typeof startVictim>>;
let attacker: { username: string; password: string };
const attackers: Array<typeof attacker> = [];
const ATTACKERS = 40;
const LOGINS_PER_ATTACKER = 10;
let connections = 0;
const open: RawConnection[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ""), "hex");
let nextAddress = 0;
/** A fresh attacker source address for each connection (127.0.0.10 … 127.0.0.249). */
const address = () => `127.0.0.${10 + (nextAddress++ % 240)}`;

beforeAll(async () => {
  srv = await startServer();
  api = new TestApi(srv.httpUrl);
  await api.setupOwner();
  victim = await startVictim(api, srv.mqttUrl);
  for (let i = 0; i < ATTACKERS; i++) attackers.push((await api.createFeeder(`Attacker ${i}`)).credentials);
  attacker = attackers[0] as typeof attacker;
});

afterAll(async () => {
  for (const c of open) c.destroy();
  await victim?.sim.stop().catch(() => undefined);
  await srv?.stop();
});

async function raw(): Promise<RawConnection> {
  // A feeder that connects over 15 times a minute is banned as flapping (M6): spread the logins over many.
  attacker = attackers[Math.floor(connections++ / LOGINS_PER_ATTACKER) % ATTACKERS] as typeof attacker;
  const conn = await openRaw({ port: srv.mqttPort, localAddress: address() });
  open.push(conn);
  return conn;
}

const login = () =>
  connectPacket({ clientId: attacker.username, username: attacker.username, password: attacker.password });
const own = (rest: string) => `feedkeeper/${attacker.username}/${rest}`;

/** Log lines at error level or above (pino: 50 error, 60 fatal) printed since `mark`. */
const errorsSince = (mark: number) => srv.logs.slice(mark).filter((l) => (l.level as number) >= 50);

/** The checks after every case. */
async function stillServing(mark: number, feed = true): Promise<void> {
  expect(srv.process.exitCode, "server process exited").toBeNull();
  expect((await api.request("GET", "/api/health")).status).toBe(200);
  expect(victim.sim.connected).toBe(true);
  expect(victim.disconnects()).toBe(0);
  if (feed) await assertFeedable(api, victim.id);
  expect(errorsSince(mark)).toEqual([]);
}

interface Case {
  name: string;
  /** Log in as the attacker's own feeder first, so the bytes reach the handlers behind authentication. */
  auth?: boolean;
  /** Built when the case runs (it may need the attacker's feeder id). */
  bytes: () => Buffer | Buffer[];
  /** After writing, half-close (end of stream in the middle of a packet). */
  end?: boolean;
  /** Must the server close the connection within 1 s (true), keep it (false), or either (undefined)? */
  closes?: boolean;
}

/** An MQTT 5 CONNECT, client id empty, Receive Maximum 20: the first packet of mosquitto #2163. */
const V5_CONNECT = hex("101000044d5154540502003c032100140000");
const deepTopic = (levels: number) => own(Array.from({ length: levels }, (_, i) => `l${i}`).join("/"));

const CASES: Case[] = [
  // Known crashers.
  {
    name: "mosquitto #2163 (CVE-2021-28166), exact hex",
    bytes: () => hex("101000044d5154540502003c03210014000029020001e000"),
    closes: true,
  },
  {
    name: "aedes #612 equivalent: v5 CONNECT + DISCONNECT with an invalid reason code and no properties",
    bytes: () => [V5_CONNECT, hex("e001ff")],
    closes: true,
  },
  {
    name: "aedes #612 equivalent: v5 CONNECT + DISCONNECT whose property length runs past the packet",
    bytes: () => [V5_CONNECT, hex("e00200ff")],
    closes: true,
  },
  {
    name: "aedes #612 equivalent: v5 CONNECT + DISCONNECT with a truncated property",
    bytes: () => [V5_CONNECT, hex("e003000511")],
    closes: true,
  },
  {
    name: "aedes #612 equivalent: v5 CONNECT + DISCONNECT, all in one segment with a CONNACK",
    bytes: () => Buffer.concat([V5_CONNECT, hex("20020000e001ffe000")]),
    closes: true,
  },
  { name: "DISCONNECT with a body after login", auth: true, bytes: () => hex("e0020000"), closes: true },
  {
    name: "DISCONNECT with reserved flag bits after login",
    auth: true,
    bytes: () => hex("e100"),
    closes: true,
  },
  {
    name: "CONNACK sent by the client after login (CVE-2021-28166 class)",
    auth: true,
    bytes: () => hex("20020000"),
    closes: true,
  },
  {
    name: "CVE-2021-34432: PUBLISH with a zero-length topic, QoS 0",
    auth: true,
    bytes: () => hex("30020000"),
    closes: true,
  },
  {
    name: "CVE-2021-34432: PUBLISH with a zero-length topic, QoS 1, retained",
    auth: true,
    bytes: () => hex("330400000001"),
    closes: true,
  },
  {
    name: "CVE-2021-34432: PUBLISH with a zero-length topic and a payload, before CONNECT",
    bytes: () => hex("3005000041424344"),
    closes: true,
  },
  {
    name: "NSWG-ECO-500: SUBSCRIBE whose topic length runs past the packet",
    auth: true,
    bytes: () => hex("82050001 00ff61"),
    closes: true,
  },
  { name: "SUBSCRIBE with no topic at all", auth: true, bytes: () => hex("82020001"), closes: true },
  {
    name: "SUBSCRIBE asking QoS 3",
    auth: true,
    bytes: () => frame(0x82, u16(1), str(own("cmd/#")), Buffer.from([3])),
    closes: true,
  },
  {
    name: "SUBSCRIBE with wrong fixed-header flags",
    auth: true,
    bytes: () => frame(0x80, u16(1), str(own("cmd/#")), Buffer.from([1])),
    closes: true,
  },
  // MQTT-3.10.3-2 makes this a protocol violation; aedes 1.2 acknowledges it and keeps the session. Harmless.
  { name: "UNSUBSCRIBE with no topic", auth: true, bytes: () => hex("a2020002") },
  // Topic levels and `$` topics.
  {
    name: "PUBLISH to 150 topic levels",
    auth: true,
    bytes: () => publishPacket(deepTopic(150), "{}", { qos: 1 }),
    closes: true,
  },
  {
    name: "PUBLISH to 10 000 empty topic levels",
    auth: true,
    bytes: () => publishPacket(own("/".repeat(10_000)), "{}"),
    closes: true,
  },
  {
    name: "SUBSCRIBE to 150 topic levels",
    auth: true,
    bytes: () => subscribePacket(1, [[own(`cmd/${"+/".repeat(149)}x`), 1]]),
  },
  {
    name: "PUBLISH to $foo/bar",
    auth: true,
    bytes: () => publishPacket("$foo/bar", "x", { qos: 1 }),
    closes: true,
  },
  {
    name: "PUBLISH to $SYS/broker/clients",
    auth: true,
    bytes: () => publishPacket("$SYS/broker/clients", "0", { retain: true }),
    closes: true,
  },
  { name: "PUBLISH to $", auth: true, bytes: () => publishPacket("$", "x"), closes: true },
  {
    name: "SUBSCRIBE to $foo/#, $SYS/# and $",
    auth: true,
    bytes: () =>
      subscribePacket(2, [
        ["$foo/#", 1],
        ["$SYS/#", 0],
        ["$", 0],
      ]),
    closes: false,
  },
  // Prototype keys.
  {
    name: "client id and username __proto__",
    bytes: () => connectPacket({ clientId: "__proto__", username: "__proto__", password: "x", clean: false }),
    closes: true,
  },
  {
    name: "client id constructor, username hasOwnProperty",
    bytes: () => connectPacket({ clientId: "constructor", username: "hasOwnProperty", password: "x" }),
    closes: true,
  },
  {
    name: "client id __proto__ with a will on __proto__",
    bytes: () =>
      connectPacket({
        clientId: "__proto__",
        username: "__proto__",
        password: "x",
        will: { topic: "__proto__", payload: "{}", qos: 1, retain: true },
      }),
    closes: true,
  },
  {
    name: "a feeder's client id with username __proto__",
    bytes: () => connectPacket({ clientId: attacker.username, username: "__proto__", password: "x" }),
    closes: true,
  },
  {
    name: "PUBLISH to the topic levels __proto__ and constructor",
    auth: true,
    bytes: () => [
      publishPacket(own("__proto__"), '{"polluted":1}', { qos: 1, messageId: 1 }),
      publishPacket(own("constructor/prototype"), "{}", { qos: 1, messageId: 2 }),
    ],
    // Its own topics: accepted, then dropped as unknown channels; the session stays.
    closes: false,
  },
  {
    name: "SUBSCRIBE to cmd/__proto__ and cmd/constructor",
    auth: true,
    bytes: () =>
      subscribePacket(3, [
        [own("cmd/__proto__"), 1],
        [own("cmd/constructor"), 1],
      ]),
    closes: false,
  },
  // Remaining Length encodings.
  {
    name: "Remaining Length in 5 bytes (continuation past the 4th)",
    bytes: () => hex("10 80 80 80 80 01"),
    closes: true,
  },
  { name: "Remaining Length in 5 bytes, all 0xff", bytes: () => hex("10 ff ff ff ff 7f"), closes: true },
  {
    name: "Remaining Length cut off, then end of stream",
    bytes: () => hex("10 80"),
    end: true,
    closes: true,
  },
  { name: "a lone first byte, then end of stream", bytes: () => hex("10"), end: true, closes: true },
  { name: "CONNECT with Remaining Length 0", bytes: () => hex("10 00"), closes: true },
  {
    name: "CONNECT with a non-minimal Remaining Length (13 in 3 bytes)",
    bytes: () => Buffer.concat([hex("10 8d 80 00"), str("MQTT"), hex("04 02 00 1e"), str("x")]),
    closes: true,
  },
  {
    name: "CONNECT whose Remaining Length is 5 short of its fields",
    bytes: () =>
      (() => {
        const c = login();
        c[1] = (c[1] as number) - 5;
        return c;
      })(),
    closes: true,
  },
  {
    name: "CONNECT longer than it says it is, then end of stream",
    bytes: () =>
      (() => {
        const c = login();
        return c.subarray(0, c.length - 3);
      })(),
    end: true,
    closes: true,
  },
  {
    name: "malformed Remaining Length after login",
    auth: true,
    bytes: () => hex("30 80 80 80 80 01"),
    closes: true,
  },
  {
    name: "PUBLISH whose topic length runs past the packet, after login",
    auth: true,
    bytes: () => hex("30 04 00 10 61 62"),
    closes: true,
  },
  // Other malformed packets.
  {
    name: "PUBLISH QoS 3",
    auth: true,
    bytes: () => frame(0x36, str(own("telemetry")), u16(1), Buffer.from("{}")),
    closes: true,
  },
  {
    name: "PUBLISH QoS 1 with packet id 0",
    auth: true,
    bytes: () => frame(0x32, str(own("telemetry")), u16(0), Buffer.from("{}")),
    closes: false,
  },
  {
    name: "PUBACK, PUBREC, PUBREL, PUBCOMP for ids never used",
    auth: true,
    bytes: () => hex("40021234 50021235 62021236 70021237"),
    closes: false,
  },
  { name: "a second CONNECT on a logged-in session", auth: true, bytes: () => login(), closes: true },
  { name: "packet type 0", auth: true, bytes: () => hex("0000"), closes: true },
  { name: "packet type 15 (AUTH) in 3.1.1", auth: true, bytes: () => hex("f000"), closes: true },
  // mqtt-packet ignores the stray body byte and aedes answers the ping: tolerated, harmless.
  { name: "PINGREQ with a body", auth: true, bytes: () => hex("c00100") },
  {
    name: "PINGREQ, SUBSCRIBE and PUBLISH before CONNECT",
    bytes: () => [PINGREQ, subscribePacket(1, [["#", 1]]), publishPacket("a", "b")],
    closes: true,
  },
  {
    name: "protocol name MQTX",
    bytes: () => connectPacket({ clientId: "x", protocolName: "MQTX" }),
    closes: true,
  },
  {
    name: "protocol level 255",
    bytes: () => connectPacket({ clientId: "x", protocolLevel: 255 }),
    closes: true,
  },
  {
    name: "MQIsdp 3.1 with a 200-character client id",
    bytes: () => connectPacket({ clientId: "c".repeat(200), protocolName: "MQIsdp", protocolLevel: 3 }),
    closes: true,
  },
  {
    name: "reserved connect flag set",
    bytes: () =>
      connectPacket({ clientId: attacker.username, username: "u", password: "p", extraFlags: 0x01 }),
    closes: true,
  },
  {
    name: "password without username",
    bytes: () => frame(0x10, str("MQTT"), hex("04 42 00 1e"), str("x"), str("p")),
    closes: true,
  },
  {
    name: "will QoS 3",
    bytes: () => frame(0x10, str("MQTT"), hex("04 1e 00 1e"), str("x"), str("t"), str("p")),
    closes: true,
  },
  {
    name: "will retain without a will",
    bytes: () => frame(0x10, str("MQTT"), hex("04 22 00 1e"), str("x")),
    closes: true,
  },
  {
    name: "client id longer than the packet",
    bytes: () => frame(0x10, str("MQTT"), hex("04 02 00 1e"), hex("ffff 6161")),
    closes: true,
  },
  {
    name: "client id and username of invalid UTF-8 and NUL",
    bytes: () => connectPacket({ clientId: hex("fffe00c0"), username: hex("ed a0 80"), password: "p" }),
    closes: true,
  },
  {
    name: "a 60 000-character client id",
    bytes: () => connectPacket({ clientId: "i".repeat(60_000), username: "u", password: "p" }),
    closes: true,
  },
];

describe("known crashers and malformed packets", () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const mark = srv.logs.length;
      const conn = await raw();
      if (c.auth) {
        await conn.write(login());
        expect(await conn.connack()).toBe(0);
      }
      const bytes = c.bytes();
      for (const b of Array.isArray(bytes) ? bytes : [bytes]) await conn.write(b);
      if (c.end) conn.end();
      const closed = await conn.waitClosed(c.closes === false ? 300 : c.closes ? 1000 : 500);
      if (c.closes !== undefined) expect(closed, "closed by the server").toBe(c.closes);
      // A refused login never got CONNACK 0.
      if (!c.auth) expect(conn.received.filter((p) => p.type === 2).map((p) => p.body[1])).not.toContain(0);
      conn.destroy();
      await stillServing(mark);
    });
  }

  it("survives wills that are deep, `$`, `__proto__` or aimed at another feeder's commands", async () => {
    const mark = srv.logs.length;
    const wills = [
      { topic: deepTopic(150), payload: "{}" },
      { topic: "$SYS/will", payload: "x" },
      { topic: "__proto__", payload: "{}" },
      { topic: "", payload: "x" },
      {
        topic: `feedkeeper/${victim.id}/cmd/feed`,
        payload: JSON.stringify({
          id: "will-feed",
          portions: 5,
          expiresAt: new Date(Date.now() + 60_000).toISOString(),
        }),
      },
    ];
    for (const will of wills) {
      const conn = await raw();
      await conn.write(
        connectPacket({
          clientId: attacker.username,
          username: attacker.username,
          password: attacker.password,
          will: { ...will, qos: 1, retain: true },
        }),
      );
      // Accepted (the will is only checked when it is published) or refused: either is fine …
      await conn.connack();
      // … and a dropped connection, without DISCONNECT, makes the broker publish the will.
      conn.destroy();
      await sleep(50);
    }
    await sleep(300);
    expect(victim.sim.commandsReceived.map((c) => c.command.id)).not.toContain("will-feed");
    await stillServing(mark);
  });
});

/** One fuzz input: bytes written in a few chunks. */
function fuzzInput(rand: () => number): { chunks: Buffer[]; auth: boolean } {
  const int = (n: number) => Math.floor(rand() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const pick = <T>(xs: T[]): T => xs[int(xs.length)] as T;
  const mutate = (b: Buffer): Buffer => {
    const out = Buffer.from(b);
    const edits = 1 + int(4);
    let result = out;
    for (let e = 0; e < edits && result.length > 0; e++) {
      const at = int(result.length);
      switch (int(5)) {
        case 0:
          result[at] = (result[at] as number) ^ (1 << int(8));
          break;
        case 1:
          result[at] = pick([0x00, 0xff, 0x7f, 0x80, 0x01, 0x2f, 0x23, 0x2b, 0x24]);
          break;
        case 2:
          result = result.subarray(0, at);
          break;
        case 3:
          result = Buffer.concat([result.subarray(0, at), bytes(1 + int(8)), result.subarray(at)]);
          break;
        default:
          result = Buffer.concat([
            result.subarray(0, at),
            result.subarray(at, at + 1 + int(16)),
            result.subarray(at),
          ]);
      }
    }
    return result;
  };
  const topics = [
    own("telemetry"),
    own("feed"),
    own("hello"),
    own("status"),
    own("schedule"),
    own("cmd/feed"),
    `feedkeeper/${victim.id}/cmd/feed`,
    "#",
    "+/+",
    "$SYS/x",
    "",
    own("__proto__"),
  ];
  const payloads = [
    "{}",
    "online",
    '{"foodLevel":0.5}',
    '{"id":"f","status":"dispensed","portions":1,"source":"button","at":"2026-01-01T00:00:00Z"}',
    '{"protocol":1,"model":"m","firmware":"f","capabilities":["feed","schedule"],"scheduleVersion":999999}',
    '{"__proto__":{"x":1},"constructor":{"prototype":{"y":1}}}',
    "",
  ];
  const validPacket = (): Buffer => {
    switch (int(8)) {
      case 0:
      case 1:
      case 2: {
        const qos = int(3) as 0 | 1 | 2;
        return publishPacket(pick(topics), pick(payloads), {
          qos,
          retain: rand() < 0.3,
          messageId: 1 + int(65535),
        });
      }
      case 3:
        return subscribePacket(1 + int(65535), [[pick(topics), int(3)]]);
      case 4:
        return frame(0xa2, u16(1 + int(65535)), str(pick(topics)));
      case 5:
        return frame(pick([0x40, 0x50, 0x62, 0x70]), u16(1 + int(65535)));
      case 6:
        return PINGREQ;
      default:
        return DISCONNECT;
    }
  };
  switch (int(4)) {
    case 0:
      // Pure noise.
      return { chunks: [bytes(1 + int(512))], auth: false };
    case 1: {
      // A stranger's CONNECT, mutated, and more packets.
      const connect = connectPacket({
        clientId: bytes(int(24)).toString("latin1"),
        ...(rand() < 0.7 && { username: pick(["u", "#", "__proto__", attacker.username, ""]) }),
        ...(rand() < 0.7 && { password: bytes(int(16)) }),
        clean: rand() < 0.5,
        keepalive: int(65536),
        ...(rand() < 0.3 && {
          will: {
            topic: pick(topics),
            payload: pick(payloads),
            qos: int(3) as 0 | 1 | 2,
            retain: rand() < 0.5,
          },
        }),
      });
      return { chunks: [mutate(Buffer.concat([connect, validPacket(), validPacket()]))], auth: false };
    }
    case 2: {
      // A real login, intact, then valid-looking packets, mutated.
      const tail = Buffer.concat(Array.from({ length: 1 + int(4) }, validPacket));
      return { chunks: [login(), rand() < 0.2 ? tail : mutate(tail)], auth: true };
    }
    default: {
      // Packet structure: any type and flags, a Remaining Length that may or may not match the body.
      const body = bytes(int(64));
      const first = Buffer.from([int(256)]);
      const declared = rand() < 0.5 ? body.length : int(1 << (7 * (1 + int(3))));
      const length: number[] = [];
      let v = declared;
      do {
        let byte = v % 128;
        v = Math.floor(v / 128);
        if (v > 0) byte |= 0x80;
        length.push(byte);
      } while (v > 0);
      return { chunks: [Buffer.concat([first, Buffer.from(length), body])], auth: false };
    }
  }
}

describe("bounded black-box fuzz", () => {
  it("stays up through 200 connections of random and mutated packets (seed 0x5eed)", async () => {
    const mark = srv.logs.length;
    const rand = prng(0x5eed);
    const inputs = Array.from({ length: 200 }, () => fuzzInput(rand));
    let loggedIn = 0;
    let closedByServer = 0;
    const started = performance.now();
    for (let batch = 0; batch < inputs.length; batch += 10) {
      await Promise.all(
        inputs.slice(batch, batch + 10).map(async (input) => {
          const conn = await raw();
          try {
            for (const chunk of input.chunks) {
              await conn.write(chunk);
              if (input.auth && (await conn.connack(500)) === 0) loggedIn++;
            }
            if (await conn.waitClosed(150)) closedByServer++;
          } finally {
            conn.destroy();
          }
        }),
      );
      // After every batch: still alive and answering; every 50 connections: the real feeder is still fed.
      expect(srv.process.exitCode, `server died in batch ${batch / 10}`).toBeNull();
      expect((await api.request("GET", "/api/health")).status).toBe(200);
      if ((batch + 10) % 50 === 0) await assertFeedable(api, victim.id);
    }
    console.info(
      `M7 fuzz: 200 connections in ${Math.round(performance.now() - started)} ms, ${loggedIn} logged in, ` +
        `${closedByServer} closed by the server within 150 ms`,
    );
    // The fuzz reached past authentication, and most inputs were refused by the server, not just abandoned.
    expect(loggedIn).toBeGreaterThan(20);
    expect(closedByServer).toBeGreaterThan(100);
    await stillServing(mark);
  });
});
