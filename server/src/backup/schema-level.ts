/**
 * How far a database's schema has come: which of drizzle's migrations it has applied. drizzle records each
 * applied migration in `__drizzle_migrations` with the `when` of its journal entry and applies those whose
 * `when` is later than the newest recorded, so that number is the level, and the journal says which levels
 * this build knows.
 */
import fs from "node:fs";
import path from "node:path";
import type { SqliteConnection } from "../store/db.js";

export interface SchemaLevel {
  /** Migrations applied. */
  migrations: number;
  /** The journal `when` of the newest applied migration; 0 for an empty database. */
  lastMigrationAt: number;
}

/** The `when` of every migration this build ships, oldest first. */
export function migrationJournal(migrationsFolder: string): number[] {
  const journal = JSON.parse(
    fs.readFileSync(path.join(migrationsFolder, "meta", "_journal.json"), "utf8"),
  ) as { entries: Array<{ when: number }> };
  return journal.entries.map((e) => e.when).sort((a, b) => a - b);
}

export function schemaLevelOf(sqlite: SqliteConnection): SchemaLevel {
  const table = sqlite
    .prepare("select 1 from sqlite_master where type = 'table' and name = '__drizzle_migrations'")
    .get();
  if (!table) return { migrations: 0, lastMigrationAt: 0 };
  const row = sqlite
    .prepare("select count(*) as n, coalesce(max(created_at), 0) as last from __drizzle_migrations")
    .get() as { n: number; last: number };
  return { migrations: row.n, lastMigrationAt: Number(row.last) };
}

/** How many of this build's migrations the database still lacks. */
export function pendingMigrations(level: SchemaLevel, journal: number[]): number {
  return journal.filter((when) => when > level.lastMigrationAt).length;
}

/** True when the database has a migration this build does not know: a newer Feedkeeper made it. */
export function isNewerThan(level: SchemaLevel, journal: number[]): boolean {
  const newest = journal.at(-1) ?? 0;
  return level.lastMigrationAt > newest || level.migrations > journal.length;
}
