/**
 * The second half of a restore, with no server running on the data directory: the current data is kept
 * as a backup of its own (so the restore can be undone), the staged database is made safe for the devices
 * (restore-safety.ts), and it replaces the current one atomically: written and synced beside it, then
 * renamed over it. A failure before the rename leaves the current data as it was.
 */

import fs from "node:fs";
import path from "node:path";
import type { Config } from "../config.js";
import { openSqlite } from "../store/db.js";
import { stagedPath } from "./archive.js";
import { backupFileName, backupsDir, ensurePrivateDir } from "./backup-files.js";
import { createBackup } from "./create-backup.js";
import { openExclusive } from "./exclusive-access.js";
import { DATABASE_ENTRY, TLS_ENTRIES } from "./manifest.js";
import { makeRestoredDataSafe, type RestoreSafety } from "./restore-safety.js";
import { readStaged, type StagedRestore, stagingDir } from "./stage-restore.js";

export interface RestoreResult extends RestoreSafety {
  backup: StagedRestore;
  /** The data that was replaced, saved as a backup; absent when there was none. */
  previousSavedAs: string | undefined;
}

/** Who asked for the restore, for the audit log of the restored data. */
export interface RestoreActor {
  actor: string;
  userId: string | null;
  householdId: string | null;
  address: string | null;
}

function fsyncPath(target: string): void {
  const fd = fs.openSync(target, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes a file by way of a temporary one and a rename, so a crash leaves the old file or the new. */
function replaceFile(source: string, target: string, mode: number): void {
  const temp = `${target}.restoring`;
  fs.copyFileSync(source, temp);
  fs.chmodSync(temp, mode);
  fsyncPath(temp);
  fs.renameSync(temp, target);
}

export async function applyStagedRestore(options: {
  dataDir: string;
  config: Config;
  version: string;
  now: Date;
  by: RestoreActor;
}): Promise<RestoreResult> {
  const { dataDir, now } = options;
  const staged = readStaged(dataDir);
  if (!staged) throw new Error(`no staged restore in ${stagingDir(dataDir)}`);
  const stagedDb = stagedPath(stagingDir(dataDir), DATABASE_ENTRY);
  const target = path.join(dataDir, DATABASE_ENTRY);
  const hasCurrent = fs.existsSync(target) && fs.statSync(target).size > 0;

  // The staged copy leaves WAL mode, so it is one self-contained file when renamed into place.
  const stagedConnection = openSqlite(stagedDb, { fileMustExist: true });
  stagedConnection.pragma("journal_mode = DELETE");
  stagedConnection.close();

  const current = hasCurrent ? openExclusive(target) : openSqlite(":memory:");
  try {
    current.prepare("attach database ? as restored").run(stagedDb);
    const safety = makeRestoredDataSafe(current, { hasCurrent, now: now.getTime() });
    current
      .prepare(
        "insert into restored.audit_log (at, household_id, actor, user_id, action, target, outcome, address) values (?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        now.getTime(),
        options.by.householdId,
        options.by.actor,
        options.by.userId,
        "restore from backup",
        JSON.stringify({ backupCreatedAt: staged.createdAt, appVersion: staged.appVersion }),
        "restored",
        options.by.address,
      );
    current.exec("detach database restored");
    fsyncPath(stagedDb);

    let previousSavedAs: string | undefined;
    if (hasCurrent) {
      ensurePrivateDir(backupsDir(dataDir));
      previousSavedAs = path.join(backupsDir(dataDir), backupFileName("pre-restore", now));
      await createBackup({
        source: current,
        dataDir,
        config: options.config,
        outFile: previousSavedAs,
        version: options.version,
        now,
      });
      // Everything in the write-ahead log goes into the file and the log goes away: a log left beside the
      // new database would be applied to it.
      current.pragma("wal_checkpoint(TRUNCATE)");
      current.pragma("journal_mode = DELETE");
    }
    for (const suffix of ["-wal", "-shm", "-journal"]) fs.rmSync(`${target}${suffix}`, { force: true });
    fs.chmodSync(stagedDb, 0o600);
    fs.renameSync(stagedDb, target);
    fsyncPath(dataDir);

    if (staged.tlsIdentity) {
      const tlsDir = path.join(dataDir, "tls");
      ensurePrivateDir(tlsDir);
      for (const name of TLS_ENTRIES) {
        replaceFile(
          stagedPath(stagingDir(dataDir), name),
          path.join(dataDir, name),
          name.endsWith("key.pem") ? 0o600 : 0o644,
        );
      }
    }
    return { ...safety, backup: staged, previousSavedAs };
  } finally {
    current.close();
    fs.rmSync(stagingDir(dataDir), { recursive: true, force: true });
  }
}
