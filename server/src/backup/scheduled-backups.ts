/**
 * A backup every FEEDKEEPER_BACKUP_INTERVAL_HOURS into <data dir>/backups, keeping the
 * FEEDKEEPER_BACKUP_KEEP newest scheduled ones. The next one is due an interval after the newest that
 * exists, so a server restarted daily still makes them; one overdue at start waits a minute, to keep the
 * start quick. A failure is logged and shown on the Backup settings until a later one succeeds.
 */
import path from "node:path";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { backupFileName, backupsDir, listBackups, pruneScheduledBackups } from "./backup-files.js";
import { type BackupSource, createBackup } from "./create-backup.js";

const HOUR_MS = 60 * 60 * 1000;
const OVERDUE_DELAY_MS = 60 * 1000;

export interface ScheduleStatus {
  intervalHours: number;
  keep: number;
  nextAt: Date | undefined;
  lastError: { at: Date; message: string } | undefined;
}

export class ScheduledBackups {
  private timer: { cancel(): void } | undefined;
  private nextAt: number | undefined;
  private lastError: ScheduleStatus["lastError"];
  private running: Promise<void> | undefined;

  constructor(
    private readonly source: BackupSource,
    private readonly config: Config,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly version: string,
  ) {}

  start(): void {
    if (this.config.backup.intervalHours === 0) return;
    const newest = listBackups(backupsDir(this.config.dataDir)).find((b) => b.kind === "scheduled");
    const now = this.clock.now();
    const due = newest ? newest.modifiedAt.getTime() + this.intervalMs() : now;
    this.arm(Math.max(due, now + OVERDUE_DELAY_MS));
  }

  /** Waits for a backup being written, so the database is not closed under it. */
  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    this.nextAt = undefined;
    await this.running;
  }

  status(): ScheduleStatus {
    return {
      intervalHours: this.config.backup.intervalHours,
      keep: this.config.backup.keep,
      nextAt: this.nextAt !== undefined ? new Date(this.nextAt) : undefined,
      lastError: this.lastError,
    };
  }

  /** Makes one scheduled backup now and prunes the old ones; never throws. */
  async runOnce(): Promise<void> {
    const now = new Date(this.clock.now());
    const dir = backupsDir(this.config.dataDir);
    try {
      const { file } = await createBackup({
        source: this.source,
        dataDir: this.config.dataDir,
        config: this.config,
        outFile: path.join(dir, backupFileName("scheduled", now)),
        version: this.version,
        now,
      });
      const pruned = pruneScheduledBackups(dir, this.config.backup.keep);
      this.lastError = undefined;
      this.logger.info({ file, pruned }, "scheduled backup written");
    } catch (err) {
      this.lastError = { at: now, message: (err as Error).message };
      this.logger.error({ err }, "scheduled backup failed");
    }
  }

  private intervalMs(): number {
    return this.config.backup.intervalHours * HOUR_MS;
  }

  private arm(at: number): void {
    this.nextAt = at;
    this.timer = this.clock.setTimeout(
      () => {
        this.running = this.runOnce().finally(() => {
          this.running = undefined;
        });
        void this.running.then(() => {
          if (this.nextAt !== undefined) this.arm(this.clock.now() + this.intervalMs());
        });
      },
      Math.max(0, at - this.clock.now()),
    );
  }
}
