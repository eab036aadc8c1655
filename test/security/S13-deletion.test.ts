/**
 * S13 (deletion, ETSI 5.11-1..4 and 6-3) against the real server: a feeder with a history (a pet, meals
 * fed, telemetry, a meal plan with a one-off, an alert) is deleted, and then a member with a token and a
 * session. A deleted feeder's MQTT session is cut at once and its credentials are refused from then on; a
 * deleted user's token and session stop working at once; and no row of any table (every column of every table
 * in sqlite_master, read with a read-only connection while the server runs and again after it stopped)
 * still names either id.
 *
 * The audit log is the one exception, on purpose: it records who did what to which object (by id, never a
 * request body), deletions included, and is pruned after FEEDKEEPER_AUDIT_DAYS (server/src/auth/audit-log.ts).
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Running } from "../../server/src/main.js";
import { topics } from "../../server/src/protocol/native-v1.js";
import { SimulatedFeeder } from "../../server/src/sim/native-feeder.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";

const PASSWORD = "a long enough password";
/** Kept on purpose, bounded in time: see the header. */
const EXEMPT_TABLES = new Set(["audit_log"]);

let dataDir: string;
let server: Running | undefined;
let owner: TestApi;
let mqttUrl: string;
let feederId: string;
let userId: string;
const sims: SimulatedFeeder[] = [];

beforeAll(async () => {
  dataDir = makeDataDir();
  let api: TestApi;
  ({ server, api } = await bootInProcess({ dataDir }));
  owner = api;
  await owner.setupOwner("owner", PASSWORD);
  mqttUrl = `mqtt://127.0.0.1:${server.mqttPort}`;
});

afterAll(async () => {
  for (const sim of sims) await sim.stop().catch(() => {});
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Every row, in every table but the exempt ones, with a column whose text contains `needle`. */
function rowsNaming(needle: string): string[] {
  const db = new Database(path.join(dataDir, "feedkeeper.db"), { readonly: true, fileMustExist: true });
  try {
    const found: string[] = [];
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as Array<{ name: string }>;
    expect(tables.length).toBeGreaterThan(5);
    for (const { name } of tables) {
      if (EXEMPT_TABLES.has(name)) continue;
      const columns = db.prepare(`PRAGMA table_info("${name}")`).all() as Array<{ name: string }>;
      for (const column of columns) {
        const rows = db
          .prepare(`SELECT * FROM "${name}" WHERE instr(CAST("${column.name}" AS TEXT), ?) > 0`)
          .all(needle);
        for (const row of rows) found.push(`${name}.${column.name}: ${JSON.stringify(row)}`);
      }
    }
    return found;
  } finally {
    db.close();
  }
}

/** The CONNACK return code for a fresh connection with these credentials (0: accepted). */
function connackCode(id: string, password: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(mqttUrl, {
      protocolVersion: 4,
      clientId: id,
      username: id,
      password,
      reconnectPeriod: 0,
      connectTimeout: 3_000,
    });
    client.once("connect", () => {
      client.end(true);
      resolve(0);
    });
    client.once("error", (err) => {
      client.end(true);
      if ("code" in err && typeof err.code === "number") resolve(err.code);
      else reject(err);
    });
  });
}

describe("S13: deleting a feeder", () => {
  it("cuts its MQTT session at once, refuses its credentials and leaves no row behind", async () => {
    const pet = await owner.request<{ pet: { id: string } }>("POST", "/api/pets", { name: "Miso" });
    expect(pet.status).toBe(201);
    const { feeder, credentials } = await owner.createFeeder("Doomed", { minFeedIntervalSeconds: 0 });
    feederId = feeder.id;
    expect(
      (await owner.request("PATCH", `/api/feeders/${feederId}`, { petId: pet.body.pet.id })).status,
    ).toBe(200);

    const sim = new SimulatedFeeder({
      url: mqttUrl,
      id: credentials.username,
      password: credentials.password,
      capabilities: ["feed", "schedule"],
      dispenseMsPerPortion: 10,
    });
    sims.push(sim);
    await sim.start();
    await owner.waitForFeeder(feederId, (f) => f.online);

    const fed = await owner.feed(feederId, { portions: 1 });
    expect(fed.status).toBe(202);
    await owner.waitForFeed(fed.body.feed.id, ["dispensed"]);
    await sim.sendTelemetry({ foodLevel: 0.5, battery: 0.9, error: "lid open" }, 1);
    const planned = await owner.request("PUT", `/api/feeders/${feederId}/schedule`, {
      meals: [{ id: "breakfast", time: "07:30", days: ["mon", "wed"], portions: 1 }],
    });
    expect(planned.status).toBe(200);
    const oneOff = await owner.request("POST", `/api/feeders/${feederId}/schedule/one-offs`, {
      date: "2099-01-01",
      time: "12:00",
      portions: 1,
    });
    expect(oneOff.status).toBe(201);
    // A refused schedule raises an alert about this feeder.
    await sim.publishRaw(
      topics.schedule(sim.id),
      JSON.stringify({ version: 42, status: "rejected", error: "full" }),
      { qos: 1 },
    );
    await owner.waitForFeeder(feederId, (f) => f.telemetry?.error === "lid open");
    const deadline = Date.now() + 5_000;
    for (;;) {
      const tables = new Set(rowsNaming(feederId).map((row) => row.split(".")[0]));
      // The search finds what it must find before the deletion, or finding nothing after it proves nothing.
      if (["feeders", "feeds", "telemetry", "meals", "one_off_meals", "alerts"].every((t) => tables.has(t)))
        break;
      if (Date.now() > deadline) throw new Error(`the history is not all stored: ${[...tables]}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    const cut = new Promise<number>((resolve) => sim.once("disconnected", () => resolve(Date.now())));
    const refused = new Promise<void>((resolve) => sim.once("refused", () => resolve()));
    const deletedAt = Date.now();
    expect((await owner.request("DELETE", `/api/feeders/${feederId}`)).status).toBe(204);
    expect((await cut) - deletedAt).toBeLessThan(1_000);
    // The simulator reconnects by itself, as firmware does, and is turned away.
    await refused;
    // So is a fresh connection: 4 = bad user name or password, 5 = not authorised.
    expect([4, 5]).toContain(await connackCode(credentials.username, credentials.password));

    expect((await owner.request("GET", `/api/feeders/${feederId}`)).status).toBe(404);
    expect(rowsNaming(feederId)).toEqual([]);
  });
});

describe("S13: deleting a user", () => {
  it("ends its token and session at once and leaves no row behind", async () => {
    const created = await owner.request<{ user: { id: string } }>("POST", "/api/users", {
      username: "leaver",
      password: PASSWORD,
      role: "member",
    });
    expect(created.status).toBe(201);
    userId = created.body.user.id;
    const withToken = await owner.signInAs("leaver", PASSWORD);
    const login = await fetch(`${owner.baseUrl}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: owner.baseUrl },
      body: JSON.stringify({ username: "leaver", password: PASSWORD }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    expect(cookie).toMatch(/=./);
    const withCookie = (p: string) => fetch(`${owner.baseUrl}${p}`, { headers: { cookie } });

    expect((await withToken.request("GET", "/api/feeders")).status).toBe(200);
    expect((await withCookie("/api/feeders")).status).toBe(200);
    const before = new Set(rowsNaming(userId).map((row) => row.split(".")[0]));
    expect([...before]).toEqual(expect.arrayContaining(["users", "sessions", "api_tokens"]));

    expect((await owner.request("DELETE", `/api/users/${userId}`)).status).toBe(204);
    expect((await withToken.request("GET", "/api/feeders")).status).toBe(401);
    expect((await withCookie("/api/feeders")).status).toBe(401);
    await expect(owner.signInAs("leaver", PASSWORD)).rejects.toThrow(/401/);
    expect(rowsNaming(userId)).toEqual([]);
  });
});

describe("S13: after the server stops", () => {
  it("still has no row naming the deleted feeder or user (nothing was written back late)", async () => {
    expect(feederId).toBeDefined();
    expect(userId).toBeDefined();
    for (const sim of sims.splice(0)) await sim.stop().catch(() => {});
    await server?.stop();
    server = undefined;
    expect(rowsNaming(feederId)).toEqual([]);
    expect(rowsNaming(userId)).toEqual([]);
  });
});
