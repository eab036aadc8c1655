/**
 * A restore's first half and nothing else, for "what would this backup do" before anyone agrees to it:
 * the backup goes through stageRestore() (every check a restore makes, and the migration), but in a
 * throwaway folder, so a staged restore is never replaced; then it is compared with the current data the
 * way the restore compares them (restore-safety.ts), read only.
 */

import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { openSqlite } from "../store/db.js";
import { stagedPath } from "./archive.js";
import { DATABASE_ENTRY } from "./manifest.js";
import { type FeederDifferences, feederDifferences } from "./restore-safety.js";
import { stagedRestoreSchema, stageRestore } from "./stage-restore.js";

export const backupCheckSchema = z.object({
  backup: stagedRestoreSchema.describe("What the backup holds and where it came from"),
  feedersNotInBackup: z
    .array(z.string())
    .describe(
      "Feeders this server has now that the backup lacks (names): a restore removes them and their history, and they must be added again",
    ),
  credentialsDiffer: z
    .array(z.string())
    .describe(
      "Feeders whose MQTT credentials in the backup differ from the current ones (names): after a restore their devices need the backup's credentials, or new ones",
    ),
});
export type BackupCheck = z.infer<typeof backupCheckSchema>;

/** What restoring the staged database `restoredDb` would undo of the current data (read only). */
export function differencesFromCurrent(dataDir: string, restoredDb: string): FeederDifferences {
  const current = path.join(dataDir, DATABASE_ENTRY);
  if (!(fs.statSync(current, { throwIfNoEntry: false })?.size ?? 0)) {
    return { feedersNotInBackup: [], credentialsDiffer: [] };
  }
  const sqlite = openSqlite(current, { readonly: true, fileMustExist: true });
  try {
    if (!sqlite.prepare("select 1 from sqlite_master where type = 'table' and name = 'feeders'").get()) {
      return { feedersNotInBackup: [], credentialsDiffer: [] };
    }
    sqlite.prepare("attach database ? as restored").run(restoredDb);
    return feederDifferences(sqlite);
  } finally {
    sqlite.close();
  }
}

/**
 * Checks `file` as a restore would (refused the same way) and says what it holds and what restoring it
 * would undo. Works in `workDir`, which the caller owns and removes; nothing else is touched.
 */
export async function checkBackup(options: {
  file: string;
  dataDir: string;
  migrationsFolder: string;
  workDir: string;
}): Promise<BackupCheck> {
  const dir = path.join(options.workDir, "staging");
  try {
    const { file, dataDir, migrationsFolder } = options;
    const backup = await stageRestore({ file, dataDir, migrationsFolder, dir });
    return { backup, ...differencesFromCurrent(options.dataDir, stagedPath(dir, DATABASE_ENTRY)) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
