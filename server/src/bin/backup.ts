/**
 * `feedkeeper backup [--output <file>]`: a backup of the data directory while the server keeps running
 * (SQLite's online backup API through a connection of its own), by default into <data dir>/backups.
 * Prints the file's path alone on stdout, so `f=$(feedkeeper backup)` captures it.
 */
import fs from "node:fs";
import path from "node:path";
import { backupFileName, backupsDir, ensurePrivateDir } from "../backup/backup-files.js";
import { createBackup } from "../backup/create-backup.js";
import type { Config } from "../config.js";
import { openSqlite } from "../store/db.js";
import { VERSION } from "../version.js";
import type { CliIo, Command } from "./commands.js";

export const BACKUP_USAGE = `Usage: feedkeeper backup [--output <file>]

Writes a backup of the data under FEEDKEEPER_DATA_DIR (default ./data): the database, the settings in
effect without secrets, and the generated TLS certificate, as one .fkbackup file. The server may keep
running. Without --output the file goes to <data dir>/backups/feedkeeper-<time>.fkbackup.
The file holds password and credential hashes: keep it as safe as the server.
`;

/** Pages copied per step: the whole database at once, so a busy server's writes cannot restart the copy. */
const ALL_PAGES = 1 << 30;

export async function backupCli(args: string[], config: Config, io: CliIo = process): Promise<number> {
  if (args.includes("-h") || args.includes("--help")) {
    io.stdout.write(BACKUP_USAGE);
    return 0;
  }
  let output: string | undefined;
  if (args.length === 2 && (args[0] === "--output" || args[0] === "-o") && args[1]) output = args[1];
  else if (args.length !== 0) {
    io.stderr.write(BACKUP_USAGE);
    return 2;
  }
  const dbFile = path.join(config.dataDir, "feedkeeper.db");
  if (!fs.existsSync(dbFile)) {
    io.stderr.write(
      `feedkeeper: no database at ${dbFile}; set FEEDKEEPER_DATA_DIR to the server's data directory\n`,
    );
    return 1;
  }
  const now = new Date();
  if (!output) {
    ensurePrivateDir(backupsDir(config.dataDir));
    output = path.join(backupsDir(config.dataDir), backupFileName("manual", now));
  }
  output = path.resolve(output);
  if (fs.existsSync(output)) {
    io.stderr.write(`feedkeeper: ${output} exists already; name another file\n`);
    return 1;
  }
  const sqlite = openSqlite(dbFile, { readonly: true, fileMustExist: true });
  try {
    const { file, manifest } = await createBackup({
      source: { backup: (destination) => sqlite.backup(destination, { progress: () => ALL_PAGES }) },
      dataDir: config.dataDir,
      config,
      outFile: output,
      version: VERSION,
      now,
    });
    const counts = Object.entries(manifest.counts)
      .map(([table, n]) => `${n} ${table}`)
      .join(", ");
    io.stdout.write(`${file}\n`);
    io.stderr.write(
      `feedkeeper: backup written (${fs.statSync(file).size} bytes: ${counts}). It holds password and credential hashes: keep it safe.\n`,
    );
    return 0;
  } catch (err) {
    io.stderr.write(`feedkeeper: the backup failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    sqlite.close();
  }
}

export const backupCommand: Command = {
  summary: "write a backup of the data (database, settings, TLS certificate) while the server runs",
  run: (args, config, io) => backupCli(args, config, io),
};
