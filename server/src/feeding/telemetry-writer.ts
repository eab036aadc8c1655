/**
 * Telemetry arrives in floods (every feeder, every few seconds) and is the only
 * data that may be lost on a crash without consequence, so it is buffered and
 * written in one transaction per batch instead of one fsync per message.
 */
import { desc, eq } from "drizzle-orm";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/db.js";
import { feeders, telemetry } from "../store/schema.js";

export type TelemetryRow = typeof telemetry.$inferInsert;

const FLUSH_AFTER_MS = 100;
const MAX_BATCH = 500;

export class TelemetryWriter {
  private rows: TelemetryRow[] = [];
  private seen = new Map<string, number>();
  private timer: { cancel(): void } | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  add(row: TelemetryRow): void {
    this.rows.push(row);
    this.timer ??= this.clock.setTimeout(() => this.flush(), FLUSH_AFTER_MS);
    if (this.rows.length >= MAX_BATCH) this.flush();
  }

  /** Records that a feeder was heard from, without a telemetry row. */
  touch(feederId: string, at: number): void {
    this.seen.set(feederId, at);
    this.timer ??= this.clock.setTimeout(() => this.flush(), FLUSH_AFTER_MS);
  }

  flush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    const rows = this.rows;
    const seen = this.seen;
    if (rows.length === 0 && seen.size === 0) return;
    this.rows = [];
    this.seen = new Map();
    try {
      this.store.transaction(() => {
        for (let i = 0; i < rows.length; i += MAX_BATCH) {
          this.store.db
            .insert(telemetry)
            .values(rows.slice(i, i + MAX_BATCH))
            .run();
        }
        for (const [feederId, at] of seen) {
          this.store.db
            .update(feeders)
            .set({ lastSeenAt: new Date(at) })
            .where(eq(feeders.id, feederId))
            .run();
        }
      });
    } catch (err) {
      // A feeder deleted between its message and the flush fails the foreign key; retry without strangers.
      this.logger.warn({ err, rows: rows.length }, "telemetry batch failed; retrying row by row");
      for (const row of rows) {
        try {
          this.store.db.insert(telemetry).values(row).run();
        } catch {
          // The feeder is gone; its telemetry goes with it.
        }
      }
    }
  }

  pendingRows(): number {
    return this.rows.length;
  }

  static latest(store: Store, feederId: string): typeof telemetry.$inferSelect | undefined {
    return store.db
      .select()
      .from(telemetry)
      .where(eq(telemetry.feederId, feederId))
      .orderBy(desc(telemetry.at))
      .limit(1)
      .get();
  }
}
