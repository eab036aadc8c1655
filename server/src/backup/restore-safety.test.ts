import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import {
  CARRY_OVER_MS,
  makeRestoredDataSafe,
  RESTORE_REASON,
  SCHEDULE_VERSION_MARGIN,
} from "./restore-safety.js";
import { openSeeded, removeTempDirs, tempDataDir } from "./test-data.js";

const NOW = Date.parse("2026-11-26T07:30:00Z");
const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
  removeTempDirs();
});

/** The backup's data (older: version 3) and the current data (version 9, later feeds), on one connection. */
function restoredAndCurrent() {
  const backupDir = tempDataDir();
  const currentDir = tempDataDir();
  openSeeded(backupDir, { version: 3, now: NOW - 3_600_000 }).close();
  openSeeded(currentDir, { version: 9, now: NOW - 60_000, secretHash: "secret-b" }).close();
  const sqlite = new Database(path.join(currentDir, "feedkeeper.db"));
  sqlite.prepare("attach database ? as restored").run(path.join(backupDir, "feedkeeper.db"));
  cleanup.push(() => sqlite.close());
  return sqlite;
}

describe("makeRestoredDataSafe", () => {
  it("moves schedule versions past anything the devices have seen and forgets what they confirmed", () => {
    const sqlite = restoredAndCurrent();
    const safety = makeRestoredDataSafe(sqlite, { hasCurrent: true, now: NOW });
    const feeder = sqlite
      .prepare("select schedule_version as v, device_schedule_version as d from restored.feeders")
      .get() as { v: number; d: number | null };
    // max(restored 3, current 9) + margin: above the 9 the device may run, and above the backup's 3.
    expect(feeder).toEqual({ v: 9 + SCHEDULE_VERSION_MARGIN, d: null });
    expect(safety.highestScheduleVersion).toBe(9 + SCHEDULE_VERSION_MARGIN);
    expect(safety.credentialsDiffer).toEqual(["Kitchen"]);
  });

  it("ends the backup's open feeds with a recorded reason and never re-opens any", () => {
    const sqlite = restoredAndCurrent();
    const safety = makeRestoredDataSafe(sqlite, { hasCurrent: true, now: NOW });
    const open = sqlite
      .prepare("select count(*) as n from restored.feeds where status in ('pending', 'sent', 'accepted')")
      .get() as { n: number };
    expect(open.n).toBe(0);
    const ended = sqlite
      .prepare("select status, error, completed_at as at from restored.feeds where id like 'accepted-%'")
      .all() as Array<{ status: string; error: string; at: number }>;
    expect(ended).toEqual([
      { status: "timed_out", error: RESTORE_REASON, at: NOW },
      { status: "timed_out", error: RESTORE_REASON, at: NOW },
    ]);
    // 3 open feeds in the backup, 3 carried over from the current data.
    expect(safety.feedsEnded).toBe(6);
  });

  it("carries over recent feeds the backup lacks, so the safety limits count them", () => {
    const sqlite = restoredAndCurrent();
    const safety = makeRestoredDataSafe(sqlite, { hasCurrent: true, now: NOW });
    expect(safety.feedsCarriedOver).toBe(4);
    const dispensed = sqlite
      .prepare("select count(*) as n from restored.feeds where status = 'dispensed'")
      .get() as { n: number };
    expect(dispensed.n).toBe(2);
    expect(CARRY_OVER_MS).toBeGreaterThanOrEqual(24 * 3_600_000);
  });

  it("never moves the meal checkpoint back, and ends the backup's sessions", () => {
    const sqlite = restoredAndCurrent();
    const safety = makeRestoredDataSafe(sqlite, { hasCurrent: true, now: NOW });
    const checkpoint = sqlite
      .prepare("select value from restored.server_state where key = 'meals_evaluated_until'")
      .get() as { value: string };
    expect(Number(checkpoint.value)).toBe(NOW - 60_000);
    expect(safety.sessionsEnded).toBe(1);
  });

  it("without current data, starts the meal checkpoint at the restore", () => {
    const backupDir = tempDataDir();
    openSeeded(backupDir, { version: 3, now: NOW - 3_600_000 }).close();
    const sqlite = new Database(":memory:");
    cleanup.push(() => sqlite.close());
    sqlite.prepare("attach database ? as restored").run(path.join(backupDir, "feedkeeper.db"));
    const safety = makeRestoredDataSafe(sqlite, { hasCurrent: false, now: NOW });
    expect(safety.highestScheduleVersion).toBe(3 + SCHEDULE_VERSION_MARGIN);
    const checkpoint = sqlite
      .prepare("select value from restored.server_state where key = 'meals_evaluated_until'")
      .get() as { value: string };
    expect(Number(checkpoint.value)).toBe(NOW);
  });
});
