/**
 * The one module that knows which SQLite driver runs underneath (better-sqlite3
 * on Node; a bun:sqlite variant can live beside it). Everything else sees a
 * drizzle database.
 *
 * Durability: WAL with synchronous=FULL. In WAL mode every commit already
 * survives a crash of this process (kill -9) with any setting; FULL also makes
 * the last commits survive a power cut or kernel panic, which NORMAL may roll
 * back. A feed recorded as requested or dispensed must not silently vanish, and
 * high-volume telemetry is written in batched transactions, so the fsync per
 * commit costs little.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { type BetterSQLite3Database, drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { backupBeforeMigrating } from "../backup/pre-migration.js";
import * as schema from "./schema.js";

export type Db = BetterSQLite3Database<typeof schema>;

export interface Store {
  db: Db;
  /** Runs fn in one immediate transaction (better-sqlite3 transactions are synchronous). */
  transaction<T>(fn: () => T): T;
  /** True while a transaction is open, e.g. to hold side effects until it commits. */
  inTransaction(): boolean;
  /**
   * A plain prepared statement, for the few hot paths where the query builder's per-call cost shows (a
   * fleet's meals written in one tick). Parameters are driver values: numbers for times and booleans.
   */
  statement(text: string): { run(...params: unknown[]): { changes: number } };
  /** Path of the database file. */
  file: string;
  /**
   * A consistent copy of the database at `destination` (SQLite's online backup), taken through this
   * connection so the server's own writes meanwhile land in the copy instead of restarting it.
   */
  backup(destination: string): Promise<unknown>;
  close(): void;
}

export const DEFAULT_MIGRATIONS = path.join(path.dirname(fileURLToPath(import.meta.url)), "migrations");

export function openStore(
  dataDir: string,
  migrationsFolder = DEFAULT_MIGRATIONS,
  options: { backupBeforeMigrating?: boolean } = {},
): Store {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, "feedkeeper.db");
  // The database holds password and secret hashes: keep it private to the service user.
  const fd = fs.openSync(file, "a", 0o600);
  fs.closeSync(fd);
  const sqlite = new Database(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = FULL");
  sqlite.pragma("busy_timeout = 5000");
  const db = drizzle(sqlite, { schema });
  // Migrations run with foreign keys off, as SQLite's own procedure for schema changes says: adding a
  // referencing column with a default, or rebuilding a table, is refused otherwise. The check after makes
  // sure no migration left a dangling reference behind.
  sqlite.pragma("foreign_keys = OFF");
  // An upgrade that goes wrong halfway must leave a way back: the data as it was, before any migration.
  if (options.backupBeforeMigrating !== false) backupBeforeMigrating(sqlite, dataDir, migrationsFolder);
  migrate(db, { migrationsFolder });
  const dangling = sqlite.pragma("foreign_key_check") as unknown[];
  if (dangling.length > 0) {
    sqlite.close();
    throw new Error(
      `The database has ${dangling.length} broken references after migrating: ${JSON.stringify(dangling.slice(0, 5))}`,
    );
  }
  sqlite.pragma("foreign_keys = ON");
  return {
    db,
    file,
    backup: (destination) => sqlite.backup(destination),
    transaction: (fn) => sqlite.transaction(fn).immediate(),
    inTransaction: () => sqlite.inTransaction,
    statement: (text) => {
      const prepared = sqlite.prepare(text);
      return { run: (...params) => ({ changes: prepared.run(...params).changes }) };
    },
    close: () => {
      if (sqlite.open) sqlite.close();
    },
  };
}

/** A look into a database file without changing it: no migration, no creation, no write lock. */
export interface StorePeek {
  /** The first column of the first row, or undefined. */
  value<T>(query: string): T | undefined;
  close(): void;
}

export function peekStore(file: string): StorePeek {
  const sqlite = new Database(file, { readonly: true, fileMustExist: true });
  return {
    value: <T>(query: string) => sqlite.prepare(query).pluck().get() as T | undefined,
    close: () => sqlite.close(),
  };
}

/**
 * A plain SQLite connection, for the few jobs below drizzle (backups, restores and their checks). Opened here
 * so that this module stays the only one that knows the driver; the type is the driver's, narrowed to what
 * those jobs use, so a bun:sqlite variant knows what to provide.
 */
export type SqliteConnection = Pick<
  Database.Database,
  "prepare" | "pragma" | "exec" | "backup" | "transaction" | "close" | "open" | "inTransaction"
>;

export function openSqlite(
  file: string,
  options: { readonly?: boolean; fileMustExist?: boolean; timeout?: number } = {},
): SqliteConnection {
  return new Database(file, options);
}
