/**
 * Makes one .fkbackup: a consistent copy of the database (SQLite's online backup API, so the server keeps
 * running and writing meanwhile), the settings in effect without secrets, the generated TLS identity if
 * the data directory holds one, and a manifest with the checksum of each.
 *
 * The copy is made on disk next to the database, never in memory, and removed afterwards.
 */

import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Config } from "../config.js";
import { openSqlite, type SqliteConnection } from "../store/db.js";
import { type ArchiveEntry, writeArchive } from "./archive.js";
import { backupsDir, ensurePrivateDir } from "./backup-files.js";
import { configSummary } from "./config-summary.js";
import { fileSha256 } from "./file-hash.js";
import {
  CONFIG_ENTRY,
  DATABASE_ENTRY,
  FORMAT,
  FORMAT_VERSION,
  MANIFEST_ENTRY,
  type Manifest,
  TLS_ENTRIES,
} from "./manifest.js";
import { schemaLevelOf } from "./schema-level.js";

/** The server's store, or a connection of one's own (`feedkeeper backup` beside a running server). */
export interface BackupSource {
  backup(destination: string): Promise<unknown>;
}

export interface CreateBackupOptions {
  source: BackupSource;
  dataDir: string;
  config: Config;
  outFile: string;
  version: string;
  now: Date;
}

/** Tables counted in the manifest, for "what does this backup hold" without opening it. */
const COUNTED = ["users", "feeders", "pets", "meals", "feeds", "telemetry", "audit_log"];

export function countRows(sqlite: SqliteConnection): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const table of COUNTED) {
    const exists = sqlite.prepare("select 1 from sqlite_master where type = 'table' and name = ?").get(table);
    if (exists)
      counts[table] = (sqlite.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
  }
  return counts;
}

/** A private folder for the work files, inside the data directory (the same disk as the database). */
export function makeWorkDir(dataDir: string, prefix: string): string {
  const dir = backupsDir(dataDir);
  ensurePrivateDir(dir);
  const work = path.join(dir, `.${prefix}-${randomBytes(6).toString("hex")}`);
  fs.mkdirSync(work, { mode: 0o700 });
  return work;
}

export async function createBackup(
  options: CreateBackupOptions,
): Promise<{ file: string; manifest: Manifest }> {
  const work = makeWorkDir(options.dataDir, "backup");
  const partial = `${options.outFile}.partial`;
  try {
    const dbCopy = path.join(work, DATABASE_ENTRY);
    await options.source.backup(dbCopy);
    const snapshot = openSqlite(dbCopy, { readonly: true, fileMustExist: true });
    let level: Manifest["schema"];
    let counts: Record<string, number>;
    try {
      level = schemaLevelOf(snapshot);
      counts = countRows(snapshot);
    } finally {
      snapshot.close();
    }
    const entries: ArchiveEntry[] = [
      { name: DATABASE_ENTRY, file: dbCopy },
      { name: CONFIG_ENTRY, content: configSummary(options.config) },
    ];
    for (const name of TLS_ENTRIES) {
      const file = path.join(options.dataDir, name);
      if (fs.existsSync(file)) entries.push({ name, file });
    }
    const files: Manifest["files"] = {};
    for (const entry of entries) {
      files[entry.name] =
        entry.file !== undefined
          ? { bytes: fs.statSync(entry.file).size, sha256: await fileSha256(entry.file) }
          : {
              bytes: Buffer.byteLength(entry.content as string),
              sha256: await fileSha256(Buffer.from(entry.content as string)),
            };
    }
    const manifest: Manifest = {
      format: FORMAT,
      formatVersion: FORMAT_VERSION,
      appVersion: options.version,
      createdAt: options.now.toISOString(),
      schema: level,
      files,
      counts,
    };
    await writeArchive(
      partial,
      [{ name: MANIFEST_ENTRY, content: `${JSON.stringify(manifest, null, 2)}\n` }, ...entries],
      options.now,
    );
    fs.renameSync(partial, options.outFile);
    return { file: options.outFile, manifest };
  } finally {
    fs.rmSync(partial, { force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
}
