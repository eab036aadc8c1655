/**
 * The whole cycle on real files: a backup made while the database is open, checked and staged, applied
 * over changed data; and every kind of bad file refused with nothing changed.
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_MIGRATIONS, openStore } from "../store/db.js";
import { applyStagedRestore } from "./apply-restore.js";
import { backupFileName, backupsDir, listBackups, pruneScheduledBackups } from "./backup-files.js";
import { createBackup } from "./create-backup.js";
import { openExclusive, ServerRunningError } from "./exclusive-access.js";
import { FORMAT_VERSION, parseManifest } from "./manifest.js";
import { SCHEDULE_VERSION_MARGIN } from "./restore-safety.js";
import { stageRestore, stagingDir } from "./stage-restore.js";
import { openSeeded, removeTempDirs, tempDataDir, testConfig } from "./test-data.js";

const NOW = Date.parse("2026-11-26T07:30:00Z");
const BY = { actor: "test", userId: null, householdId: "home", address: null };
afterEach(removeTempDirs);

async function backupOf(dataDir: string, outDir = tempDataDir()) {
  const store = openStore(dataDir);
  try {
    return await createBackup({
      source: store,
      dataDir,
      config: testConfig(dataDir),
      outFile: path.join(outDir, "b.fkbackup"),
      version: "0.1.0",
      now: new Date(NOW),
    });
  } finally {
    store.close();
  }
}

function stage(dataDir: string, file: string) {
  return stageRestore({ file, dataDir, migrationsFolder: DEFAULT_MIGRATIONS });
}

function feederVersion(dataDir: string): number {
  const db = new Database(path.join(dataDir, "feedkeeper.db"), { readonly: true });
  try {
    return (db.prepare("select schedule_version as v from feeders").get() as { v: number }).v;
  } finally {
    db.close();
  }
}

describe("backup and restore", () => {
  it("round-trips: backup, change, restore; the replaced data is kept as a backup", async () => {
    const dataDir = tempDataDir();
    openSeeded(dataDir, { version: 3, now: NOW - 3_600_000 }).close();
    const { file, manifest } = await backupOf(dataDir);
    expect(manifest.formatVersion).toBe(FORMAT_VERSION);
    expect(manifest.counts).toMatchObject({ users: 1, feeders: 1, feeds: 4 });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    openSeeded(dataDir, { version: 8, now: NOW - 60_000 }).close();
    const staged = await stage(dataDir, file);
    expect(staged).toMatchObject({ kind: "archive", appVersion: "0.1.0", migrated: 0 });
    const result = await applyStagedRestore({
      dataDir,
      config: testConfig(dataDir),
      version: "0.1.0",
      now: new Date(NOW),
      by: BY,
    });
    expect(feederVersion(dataDir)).toBe(8 + SCHEDULE_VERSION_MARGIN);
    expect(result.previousSavedAs).toMatch(/pre-restore-2026-11-26T07-30-00Z\.fkbackup$/);
    expect(fs.existsSync(result.previousSavedAs as string)).toBe(true);
    expect(fs.existsSync(stagingDir(dataDir))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, "feedkeeper.db-wal"))).toBe(false);
    // The restored database opens as the server opens it, and records who restored it.
    openStore(dataDir).close();
    const restored = new Database(path.join(dataDir, "feedkeeper.db"), { readonly: true });
    const audit = restored.prepare("select actor, action from audit_log").all();
    restored.close();
    expect(audit).toContainEqual({ actor: "test", action: "restore from backup" });
  });

  it("refuses a truncated, a tampered, a newer and a foreign file, changing nothing", async () => {
    const dataDir = tempDataDir();
    openSeeded(dataDir, { version: 3, now: NOW }).close();
    const { file } = await backupOf(dataDir);
    const before = fs.readFileSync(path.join(dataDir, "feedkeeper.db"));
    const work = tempDataDir();

    const truncated = path.join(work, "truncated.fkbackup");
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(stage(dataDir, truncated)).rejects.toMatchObject({ code: "backup_invalid" });

    // Unpacked, one byte of the database changed, packed again: the checksum catches it.
    const tar = zlib.gunzipSync(bytes);
    const at = tar.indexOf(Buffer.from("SQLite format 3"));
    tar[at + 200] = (tar[at + 200] ?? 0) ^ 0xff;
    const tampered = path.join(work, "tampered.fkbackup");
    fs.writeFileSync(tampered, zlib.gzipSync(tar));
    await expect(stage(dataDir, tampered)).rejects.toMatchObject({
      code: "backup_invalid",
      message: expect.stringContaining("checksum"),
    });

    const foreign = path.join(work, "notes.txt");
    fs.writeFileSync(foreign, "hello");
    await expect(stage(dataDir, foreign)).rejects.toMatchObject({ code: "backup_invalid" });

    // A database with a migration this build does not know.
    const newer = path.join(work, "newer.db");
    fs.copyFileSync(path.join(dataDir, "feedkeeper.db"), newer);
    const db = new Database(newer);
    db.prepare("insert into __drizzle_migrations (hash, created_at) values ('future', ?)").run(
      4_000_000_000_000,
    );
    db.close();
    await expect(stage(dataDir, newer)).rejects.toMatchObject({
      code: "backup_too_new",
      message: expect.stringContaining("Upgrade Feedkeeper"),
    });

    expect(fs.readFileSync(path.join(dataDir, "feedkeeper.db")).equals(before)).toBe(true);
    expect(fs.existsSync(stagingDir(dataDir))).toBe(false);
  });

  it("refuses a manifest of a newer format with words that say so", () => {
    const manifest = {
      format: "feedkeeper-backup",
      formatVersion: FORMAT_VERSION + 1,
    };
    expect(() => parseManifest(JSON.stringify(manifest))).toThrow(/newer Feedkeeper/);
    expect(() => parseManifest("{")).toThrow(/not JSON/);
    expect(() => parseManifest(JSON.stringify({ format: "feedkeeper-backup", formatVersion: 1 }))).toThrow(
      /malformed/,
    );
  });

  it("migrates an older database and saves it before an upgrade migrates it", async () => {
    const dataDir = tempDataDir();
    // A database made by an older build: the migrations up to the last but one.
    const older = tempDataDir();
    fs.cpSync(DEFAULT_MIGRATIONS, older, { recursive: true });
    const journalFile = path.join(older, "meta", "_journal.json");
    const journal = JSON.parse(fs.readFileSync(journalFile, "utf8")) as { entries: unknown[] };
    journal.entries = journal.entries.slice(0, -1);
    fs.writeFileSync(journalFile, JSON.stringify(journal));
    const oldDir = tempDataDir();
    openStore(oldDir, older).close();
    const old = new Database(path.join(oldDir, "feedkeeper.db"));
    old
      .prepare("insert into users (id, username, password_hash, role) values ('u1', 'owner', 'h', 'owner')")
      .run();
    old.close();
    expect(listBackups(backupsDir(oldDir))).toEqual([]);

    const staged = await stage(dataDir, path.join(oldDir, "feedkeeper.db"));
    expect(staged).toMatchObject({ kind: "database", migrated: 1 });
    fs.rmSync(stagingDir(dataDir), { recursive: true });

    // The upgrade itself: opening with this build's migrations saves the old data first.
    openStore(oldDir).close();
    const saved = listBackups(backupsDir(oldDir));
    expect(saved.map((b) => b.kind)).toEqual(["pre-migration"]);
    const copy = new Database(saved[0]?.path as string, { readonly: true });
    expect(copy.prepare("select username from users").pluck().get()).toBe("owner");
    copy.close();
    // Nothing left to migrate: no second copy.
    openStore(oldDir).close();
    expect(listBackups(backupsDir(oldDir))).toHaveLength(1);
  });

  it("keeps only the newest scheduled backups, never the others", () => {
    const dir = tempDataDir();
    for (let i = 0; i < 5; i++) {
      const at = new Date(NOW + i * 3_600_000);
      const file = path.join(dir, backupFileName("scheduled", at));
      fs.writeFileSync(file, "x");
      fs.utimesSync(file, at, at);
    }
    fs.writeFileSync(path.join(dir, backupFileName("pre-restore", new Date(NOW - 1))), "x");
    fs.writeFileSync(path.join(dir, "pre-migration-old.db"), "x");
    const pruned = pruneScheduledBackups(dir, 2);
    expect(pruned).toHaveLength(3);
    const left = listBackups(dir);
    expect(left.filter((b) => b.kind === "scheduled").map((b) => b.name)).toEqual([
      backupFileName("scheduled", new Date(NOW + 4 * 3_600_000)),
      backupFileName("scheduled", new Date(NOW + 3 * 3_600_000)),
    ]);
    expect(left.map((b) => b.kind)).toContain("pre-restore");
    expect(left.map((b) => b.kind)).toContain("pre-migration");
  });

  it("tells a database a server holds open from one nobody does", () => {
    const dataDir = tempDataDir();
    const store = openStore(dataDir);
    const file = path.join(dataDir, "feedkeeper.db");
    // SQLite keeps this lock per connection, so a second connection in this process stands for a second process.
    expect(() => openExclusive(file)).toThrow(ServerRunningError);
    store.close();
    openExclusive(file).close();
  });
});
