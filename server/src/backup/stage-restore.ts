/**
 * The first half of a restore, which touches nothing of the running server: the backup is unpacked into
 * `<data dir>/restore-staging`, checked through and through (manifest, checksums, SQLite's integrity
 * check, the schema level), and migrated to this version there. Only a backup that passes all of it is
 * handed to applyStagedRestore(); anything else is refused with the reason and the staging folder removed.
 *
 * Takes a .fkbackup archive, or a bare SQLite database (a pre-migration copy, or one made by hand with
 * SQLite's backup as older instructions said).
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { AppError } from "../errors.js";
import { openSqlite, openStore, type SqliteConnection } from "../store/db.js";
import { extractArchive, stagedPath } from "./archive.js";
import { countRows } from "./create-backup.js";
import { fileSha256 } from "./file-hash.js";
import {
  assertNotNewer,
  DATABASE_ENTRY,
  invalidBackup,
  MANIFEST_ENTRY,
  type Manifest,
  parseManifest,
  TLS_ENTRIES,
} from "./manifest.js";
import { migrationJournal, pendingMigrations, schemaLevelOf } from "./schema-level.js";

export const STAGING_DIR = "restore-staging";
const STAGED_INFO = "staged.json";
/** Unpacked, a backup may be at most this big: a damaged or hostile archive must not fill the disk. */
export const MAX_UNPACKED_BYTES = 8 * 1024 * 1024 * 1024;

export const stagedRestoreSchema = z.object({
  /** When the backup was made (the manifest's time; a bare database's file time). */
  createdAt: z.string(),
  /** The Feedkeeper version that made it, if the archive says. */
  appVersion: z.string().nullable(),
  kind: z.enum(["archive", "database"]),
  schemaMigrations: z.number().int(),
  /** Migrations run on it to bring it up to this version. */
  migrated: z.number().int(),
  counts: z.record(z.string(), z.number().int()),
  tlsIdentity: z.boolean(),
});
export type StagedRestore = z.infer<typeof stagedRestoreSchema>;

const SQLITE_MAGIC = Buffer.from("SQLite format 3\0", "latin1");
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

export function stagingDir(dataDir: string): string {
  return path.join(dataDir, STAGING_DIR);
}

function head(file: string, bytes: number): Buffer {
  const fd = fs.openSync(file, "r");
  try {
    const buffer = Buffer.alloc(bytes);
    const read = fs.readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, read);
  } finally {
    fs.closeSync(fd);
  }
}

/** Checks every entry against the manifest: present, the size and checksum it lists, nothing extra. */
async function verifyEntries(dir: string, found: string[], manifest: Manifest): Promise<void> {
  for (const name of found) {
    if (name === MANIFEST_ENTRY) continue;
    const listed = manifest.files[name];
    if (!listed) throw invalidBackup(`${name} is not in its manifest`);
    const file = stagedPath(dir, name);
    if (fs.statSync(file).size !== listed.bytes || (await fileSha256(file)) !== listed.sha256) {
      throw invalidBackup(`${name} does not match its checksum (the file is damaged or was altered)`);
    }
  }
  for (const name of Object.keys(manifest.files)) {
    if (!found.includes(name)) throw invalidBackup(`${name} is missing (the file is cut short?)`);
  }
}

function checkDatabase(file: string, manifest: Manifest | undefined, journal: number[]) {
  let sqlite: SqliteConnection;
  try {
    sqlite = openSqlite(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw invalidBackup(`its database cannot be opened (${(err as Error).message})`);
  }
  try {
    let integrity: unknown;
    try {
      integrity = sqlite.pragma("integrity_check", { simple: true });
    } catch (err) {
      throw invalidBackup(`its database cannot be read (${(err as Error).message})`);
    }
    if (integrity !== "ok")
      throw invalidBackup(`its database is damaged (${String(integrity).slice(0, 200)})`);
    const level = schemaLevelOf(sqlite);
    if (
      level.migrations === 0 ||
      !sqlite.prepare("select 1 from sqlite_master where name = 'feeders'").get()
    ) {
      throw invalidBackup("its database holds no Feedkeeper data");
    }
    if (
      manifest &&
      (manifest.schema.migrations !== level.migrations ||
        manifest.schema.lastMigrationAt !== level.lastMigrationAt)
    ) {
      throw invalidBackup("its manifest and its database disagree about the schema");
    }
    assertNotNewer(level, journal, manifest?.appVersion);
    return { level, counts: countRows(sqlite) };
  } finally {
    sqlite.close();
  }
}

export async function stageRestore(options: {
  file: string;
  dataDir: string;
  migrationsFolder: string;
  /**
   * Where to unpack and check it: the data directory's staging folder, which applyStagedRestore() takes
   * from, unless given. A check that is to change nothing uses a throwaway folder of its own instead.
   */
  dir?: string;
}): Promise<StagedRestore> {
  const dir = options.dir ?? stagingDir(options.dataDir);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    const start = head(options.file, SQLITE_MAGIC.length);
    let manifest: Manifest | undefined;
    let tlsIdentity = false;
    const dbFile = stagedPath(dir, DATABASE_ENTRY);
    if (start.equals(SQLITE_MAGIC)) {
      fs.copyFileSync(options.file, dbFile);
      fs.chmodSync(dbFile, 0o600);
    } else if (start.subarray(0, 2).equals(GZIP_MAGIC)) {
      const found = await extractArchive(options.file, dir, MAX_UNPACKED_BYTES);
      if (!found.includes(MANIFEST_ENTRY)) throw invalidBackup("it has no manifest");
      manifest = parseManifest(fs.readFileSync(stagedPath(dir, MANIFEST_ENTRY), "utf8"));
      await verifyEntries(dir, found, manifest);
      tlsIdentity = TLS_ENTRIES.every((name) => found.includes(name));
    } else {
      throw invalidBackup("it is neither a .fkbackup archive nor a SQLite database");
    }
    const journal = migrationJournal(options.migrationsFolder);
    const { level, counts } = checkDatabase(dbFile, manifest, journal);
    const migrated = pendingMigrations(level, journal);
    try {
      openStore(dir, options.migrationsFolder, { backupBeforeMigrating: false }).close();
    } catch (err) {
      throw invalidBackup(`it could not be brought up to this version (${(err as Error).message})`);
    }
    const staged: StagedRestore = {
      createdAt: manifest?.createdAt ?? fs.statSync(options.file).mtime.toISOString(),
      appVersion: manifest?.appVersion ?? null,
      kind: manifest ? "archive" : "database",
      schemaMigrations: level.migrations,
      migrated,
      counts,
      tlsIdentity,
    };
    fs.writeFileSync(path.join(dir, STAGED_INFO), JSON.stringify(staged), { mode: 0o600 });
    return staged;
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    if (err instanceof AppError) throw err;
    throw invalidBackup((err as Error).message);
  }
}

/** The staged restore waiting in the data directory, or undefined. */
export function readStaged(dataDir: string): StagedRestore | undefined {
  const file = path.join(stagingDir(dataDir), STAGED_INFO);
  if (!fs.existsSync(file)) return undefined;
  return stagedRestoreSchema.parse(JSON.parse(fs.readFileSync(file, "utf8")));
}
