/**
 * Before an upgrade migrates a database that already holds data, a copy of it as it was goes to
 * `<data dir>/backups/pre-migration-<time>.db`, so a migration that fails or loses something can be undone
 * with `feedkeeper restore <that file>` on the old version.
 *
 * A plain SQLite file made with VACUUM INTO, not a .fkbackup archive: this runs inside the synchronous
 * openStore() before anything else may touch the database, and VACUUM INTO is SQLite's own consistent,
 * synchronous copy. `feedkeeper restore` takes such a file as it takes an archive.
 */
import fs from "node:fs";
import path from "node:path";
import type { SqliteConnection } from "../store/db.js";
import { backupsDir, ensurePrivateDir, timestampForFile } from "./backup-files.js";
import { migrationJournal, pendingMigrations, schemaLevelOf } from "./schema-level.js";

/** Returns the file written, or undefined when nothing needed saving (a new database, or nothing to migrate). */
export function backupBeforeMigrating(
  sqlite: SqliteConnection,
  dataDir: string,
  migrationsFolder: string,
  now = new Date(),
): string | undefined {
  const level = schemaLevelOf(sqlite);
  if (level.migrations === 0) return undefined;
  if (pendingMigrations(level, migrationJournal(migrationsFolder)) === 0) return undefined;
  const dir = backupsDir(dataDir);
  ensurePrivateDir(dir);
  const file = path.join(dir, `pre-migration-${timestampForFile(now)}-level${level.migrations}.db`);
  const partial = `${file}.partial`;
  fs.rmSync(partial, { force: true });
  sqlite.prepare("vacuum into ?").run(partial);
  fs.chmodSync(partial, 0o600);
  fs.renameSync(partial, file);
  return file;
}
