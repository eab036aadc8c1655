/**
 * Backup and restore against the real, built server with a simulated feeder that stores its meal plan:
 * a backup downloaded through the API, the data changed, bad uploads refused with nothing lost, then the
 * backup checked without restoring it (what it holds, what a restore would undo, nothing changed), then
 * restored through the API. The server restarts itself on the same ports; the data is back, no
 * old command is sent again, the feeder gets its plan again under a version above any it has seen, and
 * feeding works.
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCHEDULE_VERSION_MARGIN } from "../../server/src/backup/restore-safety.js";
import { SimulatedFeeder } from "../../server/src/sim/native-feeder.js";
import { TestApi } from "../helpers/api.js";
import { startServer, type TestServer } from "../helpers/server.js";

const ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

let srv: TestServer;
let api: TestApi;
let device: SimulatedFeeder;
let feederId: string;

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch {
      // the server is restarting
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function schedule() {
  return (await api.request("GET", `/api/feeders/${feederId}/schedule`)).body.schedule as {
    version: number;
    deviceVersion: number | null;
    meals: Array<{ time: string }>;
  };
}

async function setPlan(time: string) {
  const res = await api.request("PUT", `/api/feeders/${feederId}/schedule`, {
    meals: [{ time, days: ALL_DAYS, portions: 1 }],
  });
  expect(res.status).toBe(200);
  await until("the device to confirm the plan", async () => {
    const s = await schedule();
    return s.deviceVersion === s.version ? s.version : undefined;
  });
}

function upload(bytes: Uint8Array, to: "restore" | "check" = "restore", token = api.token) {
  return fetch(`${srv.httpUrl}/api/backup/${to}`, {
    method: "POST",
    headers: {
      ...(token && { authorization: `Bearer ${token}` }),
      "content-type": "application/octet-stream",
    },
    body: Buffer.from(bytes),
  });
}

async function downloadBackup(): Promise<Uint8Array> {
  const res = await fetch(`${srv.httpUrl}/api/backup`, { headers: { authorization: `Bearer ${api.token}` } });
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

/** Every file under the data directory; sizes too, but not the database's, which the audit log writes to. */
function dataDirListing(dir = srv.dataDir, prefix = ""): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const name = `${prefix}${entry.name}`;
    if (entry.isDirectory()) return [`${name}/`, ...dataDirListing(path.join(dir, entry.name), `${name}/`)];
    const size = entry.name.startsWith("feedkeeper.db")
      ? ""
      : ` ${fs.statSync(path.join(dir, entry.name)).size}`;
    return [`${name}${size}`];
  });
}

/**
 * Every row of every table, read beside the running server, leaving out what changes by itself: the audit
 * log and its id counter (the check itself is recorded), device readings, the scheduler's checkpoint and
 * last-seen times.
 */
function dataRows(): Record<string, unknown[]> {
  const db = new Database(path.join(srv.dataDir, "feedkeeper.db"), { readonly: true });
  try {
    const tables = db
      .prepare("select name from sqlite_master where type = 'table' order by name")
      .all() as Array<{ name: string }>;
    const rows: Record<string, unknown[]> = {};
    for (const { name } of tables) {
      if (["audit_log", "sqlite_sequence", "telemetry", "server_state"].includes(name)) continue;
      rows[name] = (db.prepare(`select * from "${name}"`).all() as Array<Record<string, unknown>>).map(
        ({ last_seen_at: _seen, last_used_at: _used, ...row }) => row,
      );
    }
    return rows;
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  srv = await startServer();
  api = new TestApi(srv.httpUrl);
  await api.setupOwner();
  const { feeder, credentials } = await api.createFeeder("Kitchen", { minFeedIntervalSeconds: 0 });
  feederId = feeder.id;
  device = new SimulatedFeeder({
    url: srv.mqttUrl,
    id: credentials.username,
    password: credentials.password,
    capabilities: ["feed", "schedule"],
    dispenseMsPerPortion: 20,
  });
  await device.start();
  await api.waitForFeeder(feederId, (f) => f.online);
});
afterAll(async () => {
  await device?.stop().catch(() => undefined);
  await srv?.stop();
});

describe("backup and restore through the API", () => {
  let backup: Uint8Array;
  let oldFeedId: string;

  it("downloads a backup as a file, recorded in the audit log", async () => {
    await setPlan("07:30");
    const fed = await api.feed(feederId, { portions: 1 });
    oldFeedId = fed.body.feed.id;
    await api.waitForFeed(oldFeedId, ["dispensed"]);

    const res = await fetch(`${srv.httpUrl}/api/backup`, {
      headers: { authorization: `Bearer ${api.token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toMatch(
      /^attachment; filename="feedkeeper-.+\.fkbackup"$/,
    );
    backup = new Uint8Array(await res.arrayBuffer());
    expect(backup.length).toBe(Number(res.headers.get("content-length")));
    // No work file is left behind in the data directory.
    await until("the work file to go", () =>
      fs.readdirSync(path.join(srv.dataDir, "backups")).length === 0 ? true : undefined,
    );
    const audit = (await api.request("GET", "/api/audit")).body.entries as Array<{ action: string }>;
    expect(audit.map((e) => e.action)).toContain("GET /api/backup");
  });

  it("refuses a truncated, a tampered and a newer-version backup, and nothing changes", async () => {
    // Changes after the backup, which the restore will take back.
    expect((await api.request("PATCH", `/api/feeders/${feederId}`, { name: "Renamed" })).status).toBe(200);
    await setPlan("08:00");
    await setPlan("09:00");
    await api.createFeeder("Later");
    const before = await schedule();

    const truncated = await upload(backup.subarray(0, backup.length - 100));
    expect(truncated.status).toBe(422);
    expect(((await truncated.json()) as { error: { code: string } }).error.code).toBe("backup_invalid");

    const tar = zlib.gunzipSync(backup);
    const at = tar.indexOf(Buffer.from("SQLite format 3"));
    tar[at + 300] = (tar[at + 300] ?? 0) ^ 0xff;
    const tampered = await upload(zlib.gzipSync(tar));
    expect(tampered.status).toBe(422);
    expect(((await tampered.json()) as { error: { message: string } }).error.message).toContain("checksum");

    // A database from a Feedkeeper with one more migration.
    const newerFile = path.join(srv.dataDir, "..", `newer-${path.basename(srv.dataDir)}.db`);
    const live = new Database(path.join(srv.dataDir, "feedkeeper.db"), { readonly: true });
    await live.backup(newerFile);
    live.close();
    const newer = new Database(newerFile);
    newer
      .prepare("insert into __drizzle_migrations (hash, created_at) values ('x', ?)")
      .run(4_000_000_000_000);
    newer.close();
    const tooNew = await upload(fs.readFileSync(newerFile));
    fs.rmSync(newerFile);
    expect(tooNew.status).toBe(422);
    expect(((await tooNew.json()) as { error: { code: string } }).error.code).toBe("backup_too_new");

    const feeders = (await api.request("GET", "/api/feeders")).body.feeders as Array<{ name: string }>;
    expect(feeders.map((f) => f.name).sort()).toEqual(["Later", "Renamed"]);
    expect(await schedule()).toEqual(before);
  });

  it("checks a backup without restoring it: what it holds, what a restore would undo, nothing changed", async () => {
    // One more feeder, in a second backup, then given new credentials: that backup has its old ones.
    const { feeder: hall } = await api.createFeeder("Hall");
    const withHall = await downloadBackup();
    expect((await api.request("POST", `/api/feeders/${hall.id}/credentials`)).status).toBe(201);
    await until("the download's work folder to go", () =>
      fs.readdirSync(path.join(srv.dataDir, "backups")).length === 0 ? true : undefined,
    );
    const listing = dataDirListing();
    const rows = dataRows();

    const res = await upload(backup, "check");
    expect(res.status).toBe(200);
    const checked = (await res.json()) as Record<string, unknown>;
    expect(checked).toMatchObject({
      backup: {
        kind: "archive",
        appVersion: expect.any(String),
        migrated: 0,
        schemaMigrations: expect.any(Number),
        counts: { users: 1, feeders: 1 },
        tlsIdentity: expect.any(Boolean),
      },
      // Feeders made after the backup; the renamed one is in it (by its id).
      feedersNotInBackup: ["Hall", "Later"],
      credentialsDiffer: [],
    });
    expect(Date.parse((checked.backup as { createdAt: string }).createdAt)).toBeLessThanOrEqual(Date.now());

    const second = await upload(withHall, "check");
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({
      backup: { counts: { feeders: 3 } },
      feedersNotInBackup: [],
      credentialsDiffer: ["Hall"],
    });

    // Refused exactly as a restore refuses it.
    const tar = zlib.gunzipSync(backup);
    const at = tar.indexOf(Buffer.from("SQLite format 3"));
    tar[at + 300] = (tar[at + 300] ?? 0) ^ 0xff;
    const tampered = zlib.gzipSync(tar);
    const refusedCheck = await upload(tampered, "check");
    const refusedRestore = await upload(tampered);
    expect(refusedCheck.status).toBe(422);
    expect(refusedRestore.status).toBe(422);
    expect(await refusedCheck.json()).toEqual(await refusedRestore.json());
    const cutShort = await upload(backup.subarray(0, backup.length - 100), "check");
    expect(cutShort.status).toBe(422);
    expect(((await cutShort.json()) as { error: { code: string } }).error.code).toBe("backup_invalid");

    // Nothing changed: the same files (no staging, no work folder left) and the same data.
    expect(dataDirListing()).toEqual(listing);
    expect(dataRows()).toEqual(rows);
    const audit = (await api.request("GET", "/api/audit")).body.entries as Array<{ action: string }>;
    expect(audit.map((e) => e.action)).toContain("POST /api/backup/check");

    // Owners only.
    expect((await upload(backup, "check", "")).status).toBe(401);
    expect(
      (
        await api.request("POST", "/api/users", {
          username: "member.m",
          password: "a long enough password",
          role: "member",
        })
      ).status,
    ).toBe(201);
    const member = await api.signInAs("member.m", "a long enough password");
    const forbidden = await upload(backup, "check", member.token);
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { error: { code: string } }).error.code).toBe("forbidden");
  });

  it("restores an uploaded backup: data back, no old command re-sent, plans pushed past every version seen", async () => {
    const versionSeen = device.scheduleVersion;
    const commandsBefore = device.commandsReceived.length;
    const res = await upload(backup);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { restored: { counts: Record<string, number> }; restarting: boolean };
    expect(body).toMatchObject({ restarting: true, restored: { counts: { feeders: 1, users: 1 } } });

    await srv.waitForLogs((l) => l.msg === "restored from a backup");
    const feeders = await until("the restored data", async () => {
      const list = (await api.request("GET", "/api/feeders")).body.feeders as Array<{ name: string }>;
      return list.length === 1 ? list : undefined;
    });
    expect(feeders.map((f) => f.name)).toEqual(["Kitchen"]);
    // The restart kept the ports: the device reconnects on its own and gets its plan again.
    const applied = await until("the device to run the restored plan", async () => {
      const s = await schedule();
      return s.deviceVersion === s.version && device.scheduleVersion === s.version ? s : undefined;
    });
    expect(applied.meals.map((m) => m.time)).toEqual(["07:30"]);
    expect(applied.version).toBeGreaterThan(versionSeen);
    expect(applied.version).toBeGreaterThanOrEqual(versionSeen + SCHEDULE_VERSION_MARGIN);

    // Feeding works, and the device was never sent an old command again.
    const fed = await api.feed(feederId, { portions: 2 });
    await api.waitForFeed(fed.body.feed.id, ["dispensed"]);
    const sentSince = device.commandsReceived.slice(commandsBefore).map((c) => c.command.id);
    expect(sentSince).toEqual([fed.body.feed.id]);
    expect((await api.getFeed(oldFeedId)).status).toBe("dispensed");

    const listed = (await api.request("GET", "/api/backups")).body as { backups: Array<{ kind: string }> };
    expect(listed.backups.map((b) => b.kind)).toContain("pre-restore");
    const audit = (await api.request("GET", "/api/audit")).body.entries as Array<{ action: string }>;
    expect(audit.map((e) => e.action)).toContain("restore from backup");
  });
});
