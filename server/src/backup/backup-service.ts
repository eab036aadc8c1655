/**
 * What the HTTP API does with backups: make one for download, list the local ones, and take an uploaded
 * backup for checking (check-backup.ts: what it holds, nothing changed) or restoring. The upload is checked completely (stage-restore.ts) while the server keeps
 * running; only then is the process's supervisor asked to stop the server, apply it and start again
 * (bin/feedkeeper.ts), so the answer goes out before the restart.
 */
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { AppError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { RestoreActor } from "./apply-restore.js";
import {
  type BackupFile,
  backupFileName,
  backupsDir,
  listBackups,
  removeWorkLeftovers,
} from "./backup-files.js";
import { type BackupCheck, checkBackup } from "./check-backup.js";
import { type BackupSource, createBackup, makeWorkDir } from "./create-backup.js";
import type { ScheduledBackups, ScheduleStatus } from "./scheduled-backups.js";
import { type StagedRestore, stageRestore } from "./stage-restore.js";

/** The largest backup the web UI takes; a bigger one is restored with `feedkeeper restore`. */
export const MAX_UPLOAD_BYTES = 2 * 1024 * 1024 * 1024;

export interface BackupServiceOptions {
  source: BackupSource;
  config: Config;
  clock: Clock;
  logger: Logger;
  version: string;
  migrationsFolder: string;
  scheduled: ScheduledBackups;
  /** Stops the server, applies the staged restore and starts again; absent where no supervisor runs it. */
  restart: ((by: RestoreActor) => void) | undefined;
}

export class BackupService {
  private restoring = false;

  constructor(private readonly options: BackupServiceOptions) {
    removeWorkLeftovers(backupsDir(options.config.dataDir));
  }

  /** A new backup in a private work folder; the caller streams it and then calls `done`. */
  async forDownload(): Promise<{ file: string; name: string; bytes: number; done(): void }> {
    const { config, clock } = this.options;
    const now = new Date(clock.now());
    const work = makeWorkDir(config.dataDir, "download");
    const name = backupFileName("manual", now);
    try {
      const { file } = await createBackup({
        source: this.options.source,
        dataDir: config.dataDir,
        config,
        outFile: path.join(work, name),
        version: this.options.version,
        now,
      });
      return {
        file,
        name,
        bytes: fs.statSync(file).size,
        done: () => fs.rmSync(work, { recursive: true, force: true }),
      };
    } catch (err) {
      fs.rmSync(work, { recursive: true, force: true });
      throw err;
    }
  }

  list(): { backups: BackupFile[]; schedule: ScheduleStatus; restoreAvailable: boolean } {
    return {
      backups: listBackups(backupsDir(this.options.config.dataDir)),
      schedule: this.options.scheduled.status(),
      restoreAvailable: this.options.restart !== undefined,
    };
  }

  /**
   * Checks an uploaded backup exactly as a restore would and says what it holds and what restoring it
   * would undo, changing nothing: it is unpacked in a work folder that goes away with the answer.
   */
  async checkUpload(body: WebReadableStream<Uint8Array> | null): Promise<BackupCheck> {
    // The restart is moments away and would cut the check short.
    if (this.restoring) throw new AppError("restore_in_progress");
    const { config } = this.options;
    const work = makeWorkDir(config.dataDir, "check");
    try {
      const upload = path.join(work, "upload");
      await saveLimited(body, upload, MAX_UPLOAD_BYTES);
      return await checkBackup({
        file: upload,
        dataDir: config.dataDir,
        migrationsFolder: this.options.migrationsFolder,
        workDir: work,
      });
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }

  /**
   * Takes an uploaded backup, checks it through, and has the server restart into it. Refused, nothing
   * changes. Resolves once the restart is arranged (it begins after the response has gone out).
   */
  async restoreUpload(body: WebReadableStream<Uint8Array> | null, by: RestoreActor): Promise<StagedRestore> {
    const restart = this.options.restart;
    if (!restart) throw new AppError("restore_unavailable");
    if (this.restoring) throw new AppError("restore_in_progress");
    this.restoring = true;
    const { config } = this.options;
    const work = makeWorkDir(config.dataDir, "upload");
    let handedOver = false;
    try {
      const upload = path.join(work, "upload");
      await saveLimited(body, upload, MAX_UPLOAD_BYTES);
      const staged = await stageRestore({
        file: upload,
        dataDir: config.dataDir,
        migrationsFolder: this.options.migrationsFolder,
      });
      this.options.logger.warn(
        { backupCreatedAt: staged.createdAt, appVersion: staged.appVersion, by: by.actor },
        "restore from an uploaded backup staged; the server restarts to apply it",
      );
      // After this handler's response has been written.
      setTimeout(() => restart(by), 200);
      handedOver = true;
      return staged;
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
      if (!handedOver) this.restoring = false;
    }
  }
}

async function saveLimited(
  body: WebReadableStream<Uint8Array> | null,
  file: string,
  maxBytes: number,
): Promise<void> {
  if (!body) throw new AppError("backup_invalid", "The request has no file in it.");
  let bytes = 0;
  const limit = async function* (source: AsyncIterable<Uint8Array>) {
    for await (const chunk of source) {
      bytes += chunk.byteLength;
      if (bytes > maxBytes) {
        throw new AppError(
          "payload_too_large",
          `The backup is larger than ${maxBytes / 1024 / 1024} MB; restore it with \`feedkeeper restore\` instead.`,
        );
      }
      yield chunk;
    }
  };
  await pipeline(Readable.fromWeb(body), limit, fs.createWriteStream(file, { mode: 0o600 }));
}
