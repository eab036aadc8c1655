/**
 * M2: wildcard identities (CVE-2017-7650). A username or client id such as `#`, `+`, `a/b`, `$SYS`, the empty
 * string or `__proto__` must be refused at CONNECT, or, where a session is admitted anyway, denied by the ACL:
 * nothing it subscribes to may deliver another feeder's traffic, and nothing it publishes may reach a feeder.
 *
 * M1-M3-isolation-takeover.test.ts already refuses `#`, `+`, `a/b`, `$SYS` and `__proto__` used as
 * username = client id together with another feeder's password, and four wildcard filters of a feeder. This file
 * covers what that leaves: each identity in the client id alone and in the username alone next to a real
 * feeder's right credentials, empty identities, more look-alikes of a real feeder id, a whole matrix of filters
 * (checked by SUBACK code and then by delivery), and sessions the server holds as "pending" (vendor devices,
 * admitted with any password and, for Petnet, any client id at all).
 *
 * In-process server; every attacker socket is bound to 127.0.0.x (x ≥ 2) so the login throttle for its
 * address never touches the real feeder on 127.0.0.1.
 */
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Running } from "../../server/src/main.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import {
  connectPacket,
  openRaw,
  publishPacket,
  type RawConnection,
  type ServerPacket,
  startVictim,
  subscribePacket,
} from "../helpers/mqtt-raw.js";
import { makeDataDir } from "../helpers/server.js";

const ATTACKER = "127.0.0.2";
const SERVER_STATUS = "feedkeeper/server/status";

let dataDir: string;
let server: Running;
let api: TestApi;
let victim: Awaited<ReturnType<typeof startVictim>>;
/** A second feeder whose own, valid credentials the attacker holds. */
let spy: { username: string; password: string };
const open: RawConnection[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  dataDir = makeDataDir();
  ({ server, api } = await bootInProcess({ dataDir }));
  await api.setupOwner();
  victim = await startVictim(api, `mqtt://127.0.0.1:${server.mqttPort}`);
  spy = (await api.createFeeder("Spy")).credentials;
});

afterAll(async () => {
  for (const c of open) c.destroy();
  await victim?.sim.stop().catch(() => undefined);
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function raw(localAddress = ATTACKER): Promise<RawConnection> {
  const conn = await openRaw({ port: server.mqttPort, localAddress });
  open.push(conn);
  return conn;
}

/** One CONNECT; the CONNACK code (undefined: none), and whether the server then closed the socket. */
async function attempt(fields: Parameters<typeof connectPacket>[0]) {
  const conn = await raw();
  try {
    await conn.write(connectPacket(fields));
    const code = await conn.connack(2000);
    const closed = code === 0 ? conn.isClosed : await conn.waitClosed(1000);
    return { code, closed };
  } finally {
    conn.destroy();
  }
}

/** Topic of a raw PUBLISH packet the server sent. */
function topicOf(p: ServerPacket): string {
  return p.body.subarray(2, 2 + p.body.readUInt16BE(0)).toString("utf8");
}

/** A session admitted and subscribed, as a raw connection; the SUBACK codes in filter order. */
async function subscribed(
  fields: Parameters<typeof connectPacket>[0],
  filters: string[],
): Promise<{ conn: RawConnection; granted: number[] }> {
  const conn = await raw();
  await conn.write(connectPacket(fields));
  expect(await conn.connack()).toBe(0);
  await conn.write(
    subscribePacket(
      7,
      filters.map((f) => [f, 1]),
    ),
  );
  const suback = await conn.waitFor(9);
  expect(suback, "SUBACK").toBeDefined();
  return { conn, granted: [...(suback as ServerPacket).body.subarray(2)] };
}

/** The identities of CVE-2017-7650 and the checklist, and look-alikes of a real feeder id. */
const WILDCARDS = ["#", "+", "a/b", "$SYS", "", "__proto__"];
const lookAlikes = (id: string) => [
  `${id}/#`,
  `${id}/+`,
  `${id}#`,
  `${id} `,
  `${id}\u0000`,
  id.toUpperCase(),
  `feedkeeper/${id}`,
  "constructor",
  "$SYS/#",
  "+/+/cmd/#",
];

describe("CONNECT", () => {
  it.each(WILDCARDS)(
    "refuses client id %j next to a feeder's own username and password",
    async (identity) => {
      for (const clean of [true, false]) {
        const { code, closed } = await attempt({
          clientId: identity,
          username: spy.username,
          password: spy.password,
          clean,
        });
        // 2: identifier rejected (client id must equal the feeder id).
        expect(code, `clean=${clean}`).toBe(2);
        expect(closed).toBe(true);
      }
    },
  );

  it.each(WILDCARDS)(
    "refuses username %j next to a feeder's own client id and password",
    async (identity) => {
      const { code, closed } = await attempt({
        clientId: spy.username,
        username: identity,
        password: spy.password,
      });
      expect(code).toBeDefined();
      expect(code).not.toBe(0);
      expect(closed).toBe(true);
    },
  );

  it("refuses an empty client id and username together, with and without the feeder's password", async () => {
    for (const password of [spy.password, "", undefined]) {
      const { code } = await attempt({
        clientId: "",
        username: "",
        ...(password !== undefined && { password }),
      });
      expect(code).toBeDefined();
      expect(code).not.toBe(0);
    }
    // No username at all: "not authorized" (5).
    expect((await attempt({ clientId: "" })).code).toBe(5);
  });

  it("refuses look-alikes of a real feeder id, or holds them as a pending device but never as the feeder", async () => {
    const accepted: Array<{ clientId: string; username: string }> = [];
    for (const identity of lookAlikes(spy.username)) {
      for (const fields of [
        { clientId: identity, username: spy.username, password: spy.password },
        { clientId: spy.username, username: identity, password: spy.password },
        { clientId: identity, username: identity, password: spy.password },
      ]) {
        const { code } = await attempt(fields);
        expect(code, JSON.stringify(fields)).toBeDefined();
        if (code === 0) accepted.push(fields);
      }
    }
    // The upper-cased feeder id looks like a Petlibro serial (^[0-9A-Z]{12,32}$), so it is held as a pending
    // Petlibro device: its own session, not the feeder's. Nothing else got in.
    expect(accepted.map((f) => f.clientId)).toEqual([spy.username.toUpperCase()]);
    const pending = await api.request<{ devices: Array<{ profile: string; clientId: string }> }>(
      "GET",
      "/api/devices/pending",
    );
    expect(pending.body.devices).toContainEqual(
      expect.objectContaining({ profile: "petlibro-dl", clientId: spy.username.toUpperCase() }),
    );
    // The feeder itself never came online through any of these.
    expect((await api.request("GET", `/api/feeders/${spy.username}`)).body.feeder.online).toBe(false);
  });

  it("never lets a refused identity disturb the real feeder it imitates", async () => {
    // The victim has been connected through every attempt above and below; a refused CONNECT naming it
    // must not take its session over.
    for (const identity of [...WILDCARDS, victim.id.toUpperCase()]) {
      const { code } = await attempt({ clientId: victim.id, username: identity, password: "guess" });
      expect(code).not.toBe(0);
    }
    await sleep(100);
    expect(victim.sim.connected).toBe(true);
    expect(victim.disconnects()).toBe(0);
  });
});

describe("ACL and delivery", () => {
  it("grants a feeder only its own command topics and the server status, whatever wildcard it asks for", async () => {
    const own = `feedkeeper/${spy.username}`;
    const filters: Array<[string, number]> = [
      [`${own}/cmd/#`, 1],
      [`${own}/cmd/+`, 1],
      [SERVER_STATUS, 1],
      ["#", 0x80],
      ["+", 0x80],
      ["+/#", 0x80],
      ["+/+", 0x80],
      ["+/+/+/+", 0x80],
      ["$SYS", 0x80],
      ["$SYS/#", 0x80],
      ["$SYS/+", 0x80],
      ["feedkeeper", 0x80],
      ["feedkeeper/+", 0x80],
      ["feedkeeper/+/+", 0x80],
      ["feedkeeper/+/cmd/feed", 0x80],
      ["feedkeeper/+/status", 0x80],
      ["feedkeeper/server/#", 0x80],
      [`feedkeeper/${victim.id}/cmd/#`, 0x80],
      [`feedkeeper/${victim.id}/cmd/feed`, 0x80],
      [`feedkeeper/${victim.id}/#`, 0x80],
      [`${own}/#`, 0x80],
      [`${own}/+`, 0x80],
      [`${own}/feed`, 0x80],
      [`${own}/cmd/+/+`, 0x80],
      [`${own}/cmd/+/#`, 0x80],
      [`${own}/cmd`, 0x80],
      [`${own}/cmd/../../${victim.id}/cmd/feed`, 0x80],
      ["__proto__", 0x80],
      ["feedkeeper/__proto__/cmd/#", 0x80],
      [`feedkeeper/${spy.username.toUpperCase()}/cmd/#`, 0x80],
    ];
    const { conn, granted } = await subscribed(
      { clientId: spy.username, username: spy.username, password: spy.password },
      filters.map(([f]) => f),
    );
    const wrong = filters.filter(([, want], i) => granted[i] !== want).map(([f], i) => `${f}: ${granted[i]}`);
    expect(wrong).toEqual([]);
    // Refusals keep the session (3.1.1 SUBACK 0x80), so the delivery test below can use it.
    expect(conn.isClosed).toBe(false);
    conn.destroy();
  });

  it("refuses filters that are not even valid MQTT, without keeping a subscription", async () => {
    for (const filter of [
      `feedkeeper/${spy.username}/cmd/#/x`,
      `feedkeeper/${spy.username}+/cmd/#`,
      `feedkeeper/${spy.username}/cmd/fe#`,
      // More levels than the broker's maxTopicLevels (8).
      `feedkeeper/${spy.username}/cmd/feed/../../../${victim.id}/cmd/feed`,
      "",
    ]) {
      const conn = await raw();
      await conn.write(
        connectPacket({ clientId: spy.username, username: spy.username, password: spy.password }),
      );
      expect(await conn.connack()).toBe(0);
      await conn.write(subscribePacket(3, [[filter, 1]]));
      const suback = await conn.waitFor(9, 1000);
      // Either refused in the SUBACK or the connection is cut; never granted.
      if (suback) expect(suback.body[2], JSON.stringify(filter)).toBe(0x80);
      else expect(await conn.waitClosed(1000), JSON.stringify(filter)).toBe(true);
      conn.destroy();
    }
  });

  it("admits a Petnet-style login with any client id as pending, but delivers nothing to it", async () => {
    // The Petnet profile recognises devices by username (/pegasus:<40 hex>) and takes any client id: these
    // sessions ARE admitted (CONNACK 0) with the wildcard ids, so the ACL must hold them.
    const sessions: RawConnection[] = [];
    const ids = ["#", "+", "a/b", "$SYS", "__proto__"];
    for (const [i, clientId] of ids.entries()) {
      const { conn, granted } = await subscribed(
        {
          clientId,
          username: `/pegasus:${String(i).repeat(40)}`,
          password: "anything",
        },
        ["#", "$SYS/#", "feedkeeper/+/cmd/#", `feedkeeper/${victim.id}/cmd/feed`, SERVER_STATUS],
      );
      // Granted so vendor firmware carries on: the last check before a socket is what must hold.
      expect(granted.every((g) => g !== 0x80)).toBe(true);
      sessions.push(conn);
    }
    // And a Petlibro-style one (recognised by client id), username `#`.
    const petlibro = await subscribed({ clientId: "AF00000000000M2", username: "#", password: "+" }, ["#"]);
    sessions.push(petlibro.conn);

    // The feeder whose own credentials the attacker holds, with every filter it was granted.
    const spySession = await subscribed(
      { clientId: spy.username, username: spy.username, password: spy.password },
      [`feedkeeper/${spy.username}/cmd/#`, `feedkeeper/${spy.username}/cmd/+`, SERVER_STATUS],
    );

    // Traffic of the victim in both directions: a command and its reports, telemetry, status.
    const feed = await api.feed(victim.id, { portions: 1 });
    expect(feed.status).toBe(202);
    expect((await api.waitForFeed(feed.body.feed.id, ["dispensed"])).status).toBe("dispensed");
    await victim.sim.sendTelemetry({ foodLevel: 0.4 }, 1);
    await sleep(300);

    for (const conn of sessions) {
      expect(conn.received.filter((p) => p.type === 3).map(topicOf)).toEqual([]);
      expect(conn.isClosed).toBe(false);
    }
    // The spy got the retained server status and nothing else.
    expect(spySession.conn.received.filter((p) => p.type === 3).map(topicOf)).toEqual([SERVER_STATUS]);
    for (const conn of [...sessions, spySession.conn]) conn.destroy();
    expect(victim.disconnects()).toBe(0);
  });

  // Found by this test: a device held as pending may publish anywhere (to learn its topics), and the broker
  // used to route it on, so an unauthenticated client could feed any feeder. Device publishes are now handled
  // by the server and routed nowhere (embedded-broker.ts, DEVICE_SINK_TOPIC).
  it("forwards nothing a pending device publishes to any feeder", async () => {
    const spySession = await subscribed(
      { clientId: spy.username, username: spy.username, password: spy.password },
      [`feedkeeper/${spy.username}/cmd/#`, SERVER_STATUS],
    );
    spySession.conn.received = [];
    const forger = await raw();
    await forger.write(
      connectPacket({ clientId: "#", username: `/pegasus:${"f".repeat(40)}`, password: "anything" }),
    );
    expect(await forger.connack()).toBe(0);
    const command = (id: string) =>
      JSON.stringify({ id, portions: 7, expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await forger.write(publishPacket(`feedkeeper/${victim.id}/cmd/feed`, command("forged-m2"), { qos: 1 }));
    await forger.write(publishPacket(`feedkeeper/${spy.username}/cmd/feed`, command("forged-m2-spy")));
    await forger.write(publishPacket(SERVER_STATUS, "offline"));
    await sleep(500);
    forger.destroy();

    expect(victim.sim.commandsReceived.map((c) => c.command.id)).not.toContain("forged-m2");
    expect(victim.sim.dispensed.map((d) => d.id)).not.toContain("forged-m2");
    // The server's own retained "online" may still arrive for the subscription; nothing the forger sent may.
    const forged = spySession.conn.received
      .filter((p) => p.type === 3)
      .filter((p) => topicOf(p) !== SERVER_STATUS || !p.body.toString("utf8").endsWith("online"));
    expect(forged.map(topicOf)).toEqual([]);
    const feeds = await api.request<{ feeds: Array<{ portions: number }> }>(
      "GET",
      `/api/feeders/${victim.id}/feeds`,
    );
    expect(feeds.body.feeds.some((f) => f.portions === 7)).toBe(false);
    spySession.conn.destroy();
  });
});
