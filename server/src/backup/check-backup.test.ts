/**
 * Checking a backup on real files, beside an open database as the running server has it: what it holds,
 * what a restore would undo, refused like a restore, and nothing in the data directory changed (not even a
 * restore staged there).
 */
import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { AppError } from "../errors.js";
import { DEFAULT_MIGRATIONS } from "../store/db.js";
import { feeders } from "../store/schema.js";
import { checkBackup } from "./check-backup.js";
import { createBackup } from "./create-backup.js";
import { readStaged, stageRestore } from "./stage-restore.js";
import { openSeeded, removeTempDirs, tempDataDir, testConfig } from "./test-data.js";

const NOW = Date.parse("2026-11-26T07:30:00Z");
afterEach(removeTempDirs);

/** Every file and folder under `dir` with its size and modification time. */
function snapshot(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .sort()
    .map((name) => {
      const stat = fs.statSync(path.join(dir, name));
      return `${name} ${stat.isDirectory() ? "dir" : stat.size} ${stat.mtimeMs}`;
    });
}

function check(file: string, dataDir: string, workDir: string) {
  return checkBackup({ file, dataDir, migrationsFolder: DEFAULT_MIGRATIONS, workDir });
}

describe("checking a backup", () => {
  it("says what it holds and what a restore would undo, and changes nothing", async () => {
    const dataDir = tempDataDir();
    const store = openSeeded(dataDir, { version: 3, now: NOW - 3_600_000 });
    try {
      const { file } = await createBackup({
        source: store,
        dataDir,
        config: testConfig(dataDir),
        outFile: path.join(tempDataDir(), "b.fkbackup"),
        version: "0.1.0",
        now: new Date(NOW),
      });
      // After the backup: Kitchen gets new credentials and Hall is added.
      store.db.update(feeders).set({ secretHash: "secret-b" }).where(eq(feeders.id, "f1")).run();
      store.db
        .insert(feeders)
        .values({ id: "f2", name: "Hall", profile: "feedkeeper-native-v1", secretHash: "secret-c" })
        .run();
      // A restore someone has staged must survive a check.
      await stageRestore({ file, dataDir, migrationsFolder: DEFAULT_MIGRATIONS });
      const staged = readStaged(dataDir);
      const before = snapshot(dataDir);
      const workDir = tempDataDir();

      const result = await check(file, dataDir, workDir);

      expect(result).toEqual({
        backup: {
          createdAt: new Date(NOW).toISOString(),
          appVersion: "0.1.0",
          kind: "archive",
          schemaMigrations: expect.any(Number),
          migrated: 0,
          counts: expect.objectContaining({ users: 1, feeders: 1, feeds: 4 }),
          tlsIdentity: false,
        },
        feedersNotInBackup: ["Hall"],
        credentialsDiffer: ["Kitchen"],
      });
      expect(snapshot(dataDir)).toEqual(before);
      expect(readStaged(dataDir)).toEqual(staged);
      expect(fs.readdirSync(workDir)).toEqual([]);
      expect(
        store.db
          .select()
          .from(feeders)
          .all()
          .map((f) => f.name),
      ).toEqual(["Kitchen", "Hall"]);
    } finally {
      store.close();
    }
  });

  it("refuses a damaged backup as a restore would, leaving nothing behind", async () => {
    const dataDir = tempDataDir();
    openSeeded(dataDir, { version: 3, now: NOW }).close();
    const bad = path.join(tempDataDir(), "bad.fkbackup");
    fs.writeFileSync(bad, "not a backup at all");
    const before = snapshot(dataDir);
    const workDir = tempDataDir();
    const refused = await check(bad, dataDir, workDir).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: "backup_invalid" });
    expect(snapshot(dataDir)).toEqual(before);
    expect(fs.readdirSync(workDir)).toEqual([]);
  });

  it("has nothing to compare with where there is no data yet", async () => {
    const source = tempDataDir();
    const store = openSeeded(source, { version: 3, now: NOW });
    const { file } = await createBackup({
      source: store,
      dataDir: source,
      config: testConfig(source),
      outFile: path.join(tempDataDir(), "b.fkbackup"),
      version: "0.1.0",
      now: new Date(NOW),
    }).finally(() => store.close());
    const empty = tempDataDir();
    const result = await check(file, empty, tempDataDir());
    expect(result).toMatchObject({ feedersNotInBackup: [], credentialsDiffer: [] });
    expect(fs.readdirSync(empty)).toEqual([]);
  });
});
