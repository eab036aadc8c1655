/**
 * `feedkeeper restore <file> [--yes] [--check]`: puts a backup's data in place of the current data, with
 * the server stopped (it refuses while a server has the database open). The backup is checked completely
 * first and an older one is migrated; the current data is kept as a pre-restore backup, so a restore can
 * be undone by restoring that. --check only checks the backup and says what it holds.
 */
import fs from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline/promises";
import { applyStagedRestore } from "../backup/apply-restore.js";
import { stagedPath } from "../backup/archive.js";
import { differencesFromCurrent } from "../backup/check-backup.js";
import { openExclusive, ServerRunningError } from "../backup/exclusive-access.js";
import { DATABASE_ENTRY } from "../backup/manifest.js";
import { type StagedRestore, stageRestore, stagingDir } from "../backup/stage-restore.js";
import type { Config } from "../config.js";
import { AppError } from "../errors.js";
import { DEFAULT_MIGRATIONS } from "../store/db.js";
import { FIRST_HOUSEHOLD } from "../store/schema.js";
import { VERSION } from "../version.js";
import type { CliIo, Command } from "./commands.js";

export const RESTORE_USAGE = `Usage: feedkeeper restore <file> [--yes] [--check]

Replaces the data under FEEDKEEPER_DATA_DIR (default ./data) with a backup (.fkbackup, or a bare SQLite
database such as backups/pre-migration-*.db). Stop the server first. The backup is checked completely
before anything changes; one from an older Feedkeeper is migrated, one from a newer is refused.
The current data is saved as <data dir>/backups/pre-restore-<time>.fkbackup first.

  --yes    do not ask for confirmation (needed when stdin is not a terminal)
  --check  only check the backup and show what it holds; change nothing
`;

function describe(staged: StagedRestore): string {
  const counts = Object.entries(staged.counts)
    .map(([table, n]) => `${n} ${table}`)
    .join(", ");
  return [
    `  made:     ${staged.createdAt}${staged.appVersion ? ` by Feedkeeper ${staged.appVersion}` : ""}`,
    `  kind:     ${staged.kind === "archive" ? ".fkbackup archive (checksums verified)" : "SQLite database"}`,
    `  schema:   ${staged.schemaMigrations} migrations${staged.migrated > 0 ? `, ${staged.migrated} more applied to bring it up to this version` : ", current"}`,
    `  holds:    ${counts}`,
    `  TLS:      ${staged.tlsIdentity ? "the generated MQTTS certificate (restored too)" : "no certificate"}`,
  ].join("\n");
}

async function confirm(io: CliIo, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export async function restoreCli(args: string[], config: Config, io: CliIo = process): Promise<number> {
  if (args.includes("-h") || args.includes("--help")) {
    io.stdout.write(RESTORE_USAGE);
    return 0;
  }
  const yes = args.includes("--yes") || args.includes("-y");
  const checkOnly = args.includes("--check");
  const rest = args.filter((a) => !["--yes", "-y", "--check"].includes(a));
  const file = rest[0];
  if (!file || rest.length !== 1 || file.startsWith("-")) {
    io.stderr.write(RESTORE_USAGE);
    return 2;
  }
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
    io.stderr.write(`feedkeeper: no such file: ${file}\n`);
    return 1;
  }
  const dataDir = config.dataDir;
  const dbFile = path.join(dataDir, "feedkeeper.db");
  try {
    if (!checkOnly && fs.existsSync(dbFile)) openExclusive(dbFile).close();
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const staged = await stageRestore({ file, dataDir, migrationsFolder: DEFAULT_MIGRATIONS });
    io.stderr.write(`feedkeeper: ${file} is a good backup:\n${describe(staged)}\n`);
    // Said before anyone agrees: what the restore would undo of the current data.
    const { feedersNotInBackup, credentialsDiffer } = differencesFromCurrent(
      dataDir,
      stagedPath(stagingDir(dataDir), DATABASE_ENTRY),
    );
    for (const name of feedersNotInBackup) {
      io.stderr.write(
        `  warning:  ${name} is not in this backup: a restore removes it, and it must be added again\n`,
      );
    }
    for (const name of credentialsDiffer) {
      io.stderr.write(
        `  warning:  ${name} has other credentials in this backup: after a restore its device needs those, or new ones\n`,
      );
    }
    if (checkOnly) {
      fs.rmSync(stagingDir(dataDir), { recursive: true, force: true });
      io.stderr.write("feedkeeper: nothing was changed (--check)\n");
      return 0;
    }
    if (!yes) {
      const interactive = (io.stdin as { isTTY?: boolean }).isTTY === true;
      const agreed =
        interactive && (await confirm(io, `Replace ALL the data in ${dataDir} with this backup? [y/N] `));
      if (!agreed) {
        fs.rmSync(stagingDir(dataDir), { recursive: true, force: true });
        io.stderr.write(
          `feedkeeper: not restored${interactive ? "" : " (stdin is not a terminal: pass --yes to restore)"}; nothing was changed\n`,
        );
        return 1;
      }
    }
    const result = await applyStagedRestore({
      dataDir,
      config,
      version: VERSION,
      now: new Date(),
      by: {
        actor: "feedkeeper restore (command line)",
        userId: null,
        householdId: FIRST_HOUSEHOLD,
        address: null,
      },
    });
    const lines = [
      `feedkeeper: restored the backup made ${staged.createdAt}.`,
      result.previousSavedAs
        ? `  The data it replaced is saved as ${result.previousSavedAs} (restore that to undo).`
        : "  There was no data before it.",
      `  Open feed commands ended, never to be sent again: ${result.feedsEnded}.`,
      `  Recent feeds kept from the replaced data: ${result.feedsCarriedOver}.`,
      `  Every feeder gets its meal plan again when it connects (schedule versions now up to ${result.highestScheduleVersion}).`,
      `  Sessions ended: ${result.sessionsEnded} (everyone signs in again).`,
    ];
    if (result.feedersNotInBackup.length > 0) {
      lines.push(
        `  NOT in the backup, so no longer on this server: ${result.feedersNotInBackup.join(", ")} (add them again, or restore ${result.previousSavedAs ?? "the old data"}).`,
      );
    }
    if (result.credentialsDiffer.length > 0) {
      lines.push(
        `  Feeder credentials went back to the backup's for: ${result.credentialsDiffer.join(", ")} (those devices need the credentials they had then, or new ones).`,
      );
    }
    io.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  } catch (err) {
    if (err instanceof AppError || err instanceof ServerRunningError) {
      io.stderr.write(`feedkeeper: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

export const restoreCommand: Command = {
  summary: "replace the data with a backup (server stopped); --check only checks a backup",
  run: (args, config, io) => restoreCli(args, config, io),
};
