/**
 * M5: oversized packets (mosquitto `max_packet_size`, CVE-2017-7651). aedes buffers a whole packet before
 * parsing it, so the server puts a frame-size guard in front of it (server/src/broker/frame-guard.ts,
 * FEEDKEEPER_MQTT_MAX_PACKET_BYTES, 64 KiB by default) that cuts a connection as soon as a fixed header
 * announces more than that. Checked here: a 2 MB PUBLISH before and after CONNECT, a CONNECT declaring the
 * largest Remaining Length (268 435 455) whose header and body trickle in byte by byte, the limit's exact
 * boundary, and a concurrent mix of all of that; through it all the server's memory stays bounded (RSS grows
 * by less than 20 MB) and a real feeder keeps its session and is fed.
 *
 * M1-M3-isolation-takeover.test.ts already sends one 2 MB PUBLISH from a connected feeder and one raw
 * CONNECT declaring 268 435 455 in a single write, and checks the server stays up; this file adds the trickle,
 * the unauthenticated path, the boundary, the memory bound and the other feeders' sessions.
 *
 * Memory is that of the spawned server process (the built dist/server/feedkeeper.js, run with the flags
 * `npm start` uses), read from /proc/<pid>/status: VmRSS sampled every 20 ms during the attack, and VmHWM
 * (the kernel's peak RSS) afterwards, against VmRSS before it. Attackers bind to 127.0.0.x (x ≥ 2) so the
 * server's per-address login throttle never touches the real feeder on 127.0.0.1.
 */
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestApi } from "../helpers/api.js";
import {
  assertFeedable,
  connectPacket,
  frame,
  openRaw,
  publishPacket,
  type RawConnection,
  readProcMemory,
  sendRaw,
  startVictim,
  str,
  u16,
} from "../helpers/mqtt-raw.js";
import { startServer, type TestServer } from "../helpers/server.js";

const MAX_PACKET_BYTES = 65_536;
const TWO_MB = 2 * 1024 * 1024;
const MB = 1024 * 1024;

let srv: TestServer;
let api: TestApi;
let victim: Awaited<ReturnType<typeof startVictim>>;
let attacker: { username: string; password: string };
const open: RawConnection[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let nextAddress = 10;
/** A fresh attacker source address for each connection (127.0.0.10 … 127.0.0.250). */
const address = () => `127.0.0.${10 + (nextAddress++ % 240)}`;

beforeAll(async () => {
  srv = await startServer({ env: { FEEDKEEPER_LOG_LEVEL: "info" } });
  api = new TestApi(srv.httpUrl);
  await api.setupOwner();
  victim = await startVictim(api, srv.mqttUrl);
  attacker = (await api.createFeeder("Attacker")).credentials;
});

afterAll(async () => {
  for (const c of open) c.destroy();
  await victim?.sim.stop().catch(() => undefined);
  await srv?.stop();
});

async function raw(localAddress = address()): Promise<RawConnection> {
  const conn = await openRaw({ port: srv.mqttPort, localAddress });
  open.push(conn);
  return conn;
}

/** A connected session of the attacker's own feeder. */
async function attackerSession(): Promise<RawConnection> {
  const conn = await raw();
  await conn.write(
    connectPacket({ clientId: attacker.username, username: attacker.username, password: attacker.password }),
  );
  expect(await conn.connack()).toBe(0);
  return conn;
}

const cuts = () =>
  srv.logs.filter((l) => l.msg === "cut MQTT connection" && l.verdict === "too_large").length;

async function stillServing(): Promise<void> {
  expect(srv.process.exitCode).toBeNull();
  expect((await api.request("GET", "/api/health")).status).toBe(200);
  expect(victim.sim.connected).toBe(true);
  expect(victim.disconnects()).toBe(0);
  await assertFeedable(api, victim.id);
}

/** Sends the largest CONNECT header byte by byte, then trickles body bytes, for at most `budgetMs`. */
async function trickleHugeConnect(conn: RawConnection, gapMs: number, budgetMs: number): Promise<number> {
  let sent = 0;
  const deadline = performance.now() + budgetMs;
  // 0x10 CONNECT, Remaining Length 268 435 455 (ff ff ff 7f), then a body that never ends.
  const bytes = [0x10, 0xff, 0xff, 0xff, 0x7f];
  while (!conn.isClosed && performance.now() < deadline) {
    await conn.write(Buffer.from([bytes[sent] ?? 0x00]));
    sent++;
    await sleep(gapMs);
  }
  return sent;
}

describe("a single oversized packet", () => {
  it("cuts a 2 MB PUBLISH sent before any CONNECT, from its header", async () => {
    const before = cuts();
    const started = performance.now();
    const { closedByServer, received } = await sendRaw(
      { port: srv.mqttPort, localAddress: address() },
      publishPacket("feedkeeper/x/telemetry", Buffer.alloc(TWO_MB, 0x41)),
      2000,
    );
    expect(closedByServer).toBe(true);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(received).toEqual([]);
    await srv.waitForLogs((l) => l.msg === "cut MQTT connection" && l.verdict === "too_large", before + 1);
    await stillServing();
  });

  it("cuts a CONNECT declaring Remaining Length 268 435 455 whose header arrives one byte every 100 ms", async () => {
    const conn = await raw();
    const sent = await trickleHugeConnect(conn, 100, 3000);
    expect(conn.isClosed).toBe(true);
    // Cut while the length itself was still arriving: its third byte already says more than 64 KiB.
    expect(sent).toBeLessThanOrEqual(5);
    expect((conn.closedAt as number) - conn.openedAt).toBeLessThan(1500);
    conn.destroy();
    await stillServing();
  });

  it("holds the limit exactly: a 65 536-byte PUBLISH passes, a 65 537-byte one cuts the session", async () => {
    const topic = `feedkeeper/${attacker.username}/telemetry`;
    // Body = topic string (2 + length) + packet id (2) + payload.
    const payloadFor = (remaining: number) =>
      Buffer.alloc(remaining - (2 + Buffer.byteLength(topic)) - 2, 0x20);

    const atLimit = await attackerSession();
    const ok = frame(0x32, str(topic), u16(1), payloadFor(MAX_PACKET_BYTES));
    expect(ok.length).toBe(1 + 3 + MAX_PACKET_BYTES);
    await atLimit.write(ok);
    expect(await atLimit.waitFor(4, 2000), "PUBACK").toBeDefined();
    expect(atLimit.isClosed).toBe(false);
    atLimit.destroy();

    const over = await attackerSession();
    await over.write(frame(0x32, str(topic), u16(2), payloadFor(MAX_PACKET_BYTES + 1)));
    expect(await over.waitClosed(2000)).toBe(true);
    expect(over.received.some((p) => p.type === 4)).toBe(false);
    over.destroy();
    await stillServing();
  });
});

describe("many at once", () => {
  it("keeps RSS growth under 20 MB and the real feeder served", async () => {
    const pid = srv.process.pid as number;
    const read = (p: string) => fs.readFileSync(p, "utf8");
    await assertFeedable(api, victim.id);
    await sleep(200);
    const before = readProcMemory(pid, read);
    const cutsBefore = cuts();

    let peakSample = before.rss;
    const sampler = setInterval(() => {
      try {
        peakSample = Math.max(peakSample, readProcMemory(pid, read).rss);
      } catch {
        // the process is gone: the checks below say so
      }
    }, 20);

    const attacks: Array<Promise<unknown>> = [];
    // 30 unauthenticated 2 MB PUBLISHes (60 MB offered).
    for (let i = 0; i < 30; i++) {
      attacks.push(
        sendRaw(
          { port: srv.mqttPort, localAddress: address() },
          publishPacket("feedkeeper/x/feed", Buffer.alloc(TWO_MB, 0x7b)),
          2000,
        ),
      );
    }
    // 10 connected sessions of a real feeder's credentials each sending a 2 MB PUBLISH (they take each other
    // over, as a compromised device reconnecting would).
    for (let i = 0; i < 10; i++) {
      attacks.push(
        (async () => {
          const conn = await raw();
          await conn.write(
            Buffer.concat([
              connectPacket({
                clientId: attacker.username,
                username: attacker.username,
                password: attacker.password,
              }),
              publishPacket(`feedkeeper/${attacker.username}/telemetry`, Buffer.alloc(TWO_MB, 0x7b), {
                qos: 1,
              }),
            ]),
          );
          await conn.waitClosed(2000);
          conn.destroy();
        })(),
      );
    }
    // 40 CONNECTs declaring 268 435 455 bytes and trickling, 3 s at most each.
    for (let i = 0; i < 40; i++) {
      attacks.push(
        (async () => {
          const conn = await raw();
          await trickleHugeConnect(conn, 50, 3000);
          conn.destroy();
        })(),
      );
    }
    // 50 CONNECTs within the limit (64 000 bytes declared, 63 000 sent) that never finish: the guard lets
    // them through, so aedes buffers them until they are closed (after 2 s here; connectTimeout is 10 s).
    const partial = Buffer.concat([
      Buffer.from([0x10]),
      Buffer.from([0x80, 0xf4, 0x03]),
      Buffer.alloc(63_000, 0x41),
    ]);
    for (let i = 0; i < 50; i++) {
      attacks.push(
        (async () => {
          const conn = await raw();
          await conn.write(partial);
          await conn.waitClosed(2000);
          conn.destroy();
        })(),
      );
    }
    // The real feeder is fed while all of that is going on.
    attacks.push(assertFeedable(api, victim.id));
    await Promise.all(attacks);
    clearInterval(sampler);

    const after = readProcMemory(pid, read);
    const peak = Math.max(peakSample, after.hwm > before.hwm ? after.hwm : 0);
    const growth = peak - before.rss;
    console.info(
      `M5 server RSS (/proc/${pid}/status): before ${(before.rss / MB).toFixed(1)} MB, peak ${(peak / MB).toFixed(1)} MB, ` +
        `after ${(after.rss / MB).toFixed(1)} MB, growth ${(growth / MB).toFixed(1)} MB`,
    );
    expect(growth).toBeLessThan(20 * MB);
    // Every oversized packet (30 + 10 + 40) was cut from its header.
    await srv.waitForLogs(
      (l) => l.msg === "cut MQTT connection" && l.verdict === "too_large",
      cutsBefore + 80,
    );
    await stillServing();
  });
});
