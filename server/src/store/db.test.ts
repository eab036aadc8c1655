import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "./db.js";

const MIGRATIONS = path.join(path.dirname(new URL(import.meta.url).pathname), "migrations");
const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fk-store-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A copy of the migrations folder that stops before the migration with this tag. */
function migrationsBefore(tag: string): string {
  const folder = tempDir();
  fs.cpSync(MIGRATIONS, folder, { recursive: true });
  const journalFile = path.join(folder, "meta", "_journal.json");
  const journal = JSON.parse(fs.readFileSync(journalFile, "utf8")) as { entries: Array<{ tag: string }> };
  const at = journal.entries.findIndex((e) => e.tag === tag);
  expect(at, tag).toBeGreaterThan(0);
  journal.entries = journal.entries.slice(0, at);
  fs.writeFileSync(journalFile, JSON.stringify(journal));
  return folder;
}

describe("openStore", () => {
  it("creates a private database file with foreign keys enforced", () => {
    const dir = tempDir();
    const store = openStore(dir);
    expect(fs.statSync(store.file).mode & 0o777).toBe(0o600);
    expect(store.db.all(sql`pragma foreign_keys`)).toEqual([{ foreign_keys: 1 }]);
    store.close();
  });

  it("moves an existing household's users, pets and feeders into the first household", () => {
    const dir = tempDir();
    const old = openStore(dir, migrationsBefore("0008_households"));
    old.db.run(
      sql`insert into users (id, username, password_hash, role) values ('u1', 'hana', 'x', 'owner')`,
    );
    old.db.run(sql`insert into pets (id, name) values ('p1', 'Tama')`);
    old.db.run(
      sql`insert into feeders (id, name, profile, secret_hash, pet_id) values ('f1', 'Kitchen', 'feedkeeper', 'x', 'p1')`,
    );
    old.close();

    const store = openStore(dir);
    expect(store.db.all(sql`select id, name from households`)).toEqual([{ id: "home", name: "Home" }]);
    for (const table of ["users", "pets", "feeders"]) {
      expect(store.db.all(sql.raw(`select household_id from ${table}`)), table).toEqual([
        { household_id: "home" },
      ]);
    }
    expect(store.db.all(sql`pragma foreign_keys`)).toEqual([{ foreign_keys: 1 }]);
    store.close();
  });
});
