/** Test data for the backup tests: a data directory with a migrated database and a few rows. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../config.js";
import { openStore, type Store } from "../store/db.js";
import { feeders, feeds, serverState, sessions, users } from "../store/schema.js";

const made: string[] = [];

export function tempDataDir(prefix = "fk-backup-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes every directory tempDataDir() made (call in afterEach). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export function testConfig(dataDir: string) {
  return loadConfig({ FEEDKEEPER_DATA_DIR: dataDir, FEEDKEEPER_MQTT_PASSWORD: undefined });
}

/** A store with an owner, one session, one feeder (schedule version `version`) and feeds in every open state. */
export function seed(store: Store, options: { version: number; now: number; secretHash?: string }): void {
  const { now } = options;
  store.db
    .insert(users)
    .values({ id: "u1", username: "owner", passwordHash: "hash", role: "owner" })
    .onConflictDoNothing()
    .run();
  store.db
    .insert(sessions)
    .values({ tokenHash: `t${now}`, userId: "u1", expiresAt: new Date(now + 86_400_000) })
    .run();
  store.db
    .insert(feeders)
    .values({
      id: "f1",
      name: "Kitchen",
      profile: "feedkeeper-native-v1",
      secretHash: options.secretHash ?? "secret-a",
      scheduleVersion: options.version,
      deviceScheduleVersion: options.version,
    })
    .onConflictDoUpdate({ target: feeders.id, set: { scheduleVersion: options.version } })
    .run();
  for (const status of ["pending", "sent", "accepted", "dispensed"] as const) {
    const id = `${status}-${now}`;
    store.db
      .insert(feeds)
      .values({
        id,
        feederId: "f1",
        commandId: id,
        source: "remote",
        portions: 1,
        status,
        requestedAt: new Date(now - 1000),
        expiresAt: new Date(now + 60_000),
      })
      .run();
  }
  store.db
    .insert(serverState)
    .values({ key: "meals_evaluated_until", value: String(now) })
    .onConflictDoUpdate({ target: serverState.key, set: { value: String(now) } })
    .run();
}

export function openSeeded(dataDir: string, options: Parameters<typeof seed>[1]): Store {
  const store = openStore(dataDir);
  seed(store, options);
  return store;
}
