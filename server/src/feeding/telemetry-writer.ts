/**
 * Telemetry arrives in floods (every feeder, every few seconds) and is the only
 * data that may be lost on a crash without consequence, so it is buffered and
 * written in one transaction per batch (one fsync) with prepared statements.
 * Telemetry is therefore acknowledged to the device before it is on disk;
 * feed reports are not (see NativeBridge).
 *
 * "Last seen" is kept live in memory by FeederService; on disk it only needs
 * to be roughly right after a restart, so it is written at most once a minute
 * per feeder, and always when a feeder disconnects.
 */
import { desc, eq, sql } from "drizzle-orm";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/db.js";
import { feeders, telemetry } from "../store/schema.js";

export type TelemetryRow = Omit<typeof telemetry.$inferInsert, "id">;

const FLUSH_AFTER_MS = 100;
const MAX_BATCH = 1000;
const LAST_SEEN_RESOLUTION_MS = 60_000;

function prepareStatements(store: Store) {
  const p = <K extends string>(name: K) => sql.placeholder(name);
  return {
    insert: store.db
      .insert(telemetry)
      .values({
        feederId: p("feederId"),
        at: p("at"),
        foodLevel: p("foodLevel"),
        weightGrams: p("weightGrams"),
        battery: p("battery"),
        rssi: p("rssi"),
        linkQuality: p("linkQuality"),
        charging: p("charging"),
        error: p("error"),
      })
      .prepare(),
    lastSeen: store.db
      .update(feeders)
      // Bound as-is (epoch milliseconds): a raw placeholder skips the column's Date mapping.
      .set({ lastSeenAt: sql`${p("at")}` })
      .where(eq(feeders.id, p("id")))
      .prepare(),
    latest: store.db
      .select()
      .from(telemetry)
      .where(eq(telemetry.feederId, p("feederId")))
      .orderBy(desc(telemetry.at))
      .limit(1)
      .prepare(),
  };
}

export class TelemetryWriter {
  private rows: TelemetryRow[] = [];
  private seen = new Map<string, number>();
  private readonly persistedSeen = new Map<string, number>();
  private timer: { cancel(): void } | undefined;
  private closed = false;
  private readonly statements: ReturnType<typeof prepareStatements>;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.statements = prepareStatements(store);
  }

  add(row: TelemetryRow): void {
    if (this.closed) return;
    this.rows.push(row);
    this.schedule();
    if (this.rows.length >= MAX_BATCH) this.flush();
  }

  /** Notes that a feeder was heard from at `at`; `force` writes it even if the stored value is recent. */
  touch(feederId: string, at: number, force = false): void {
    const persisted = this.persistedSeen.get(feederId);
    if (this.closed || (!force && persisted !== undefined && at - persisted < LAST_SEEN_RESOLUTION_MS))
      return;
    this.seen.set(feederId, at);
    this.schedule();
  }

  forget(feederId: string): void {
    this.persistedSeen.delete(feederId);
    this.seen.delete(feederId);
    this.rows = this.rows.filter((r) => r.feederId !== feederId);
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
        for (const row of rows) this.statements.insert.run(row);
        for (const [id, at] of seen) this.statements.lastSeen.run({ id, at });
      });
      for (const [id, at] of seen) this.persistedSeen.set(id, at);
    } catch (err) {
      // Most likely a feeder deleted after its message arrived (foreign key): keep everyone else's rows.
      this.logger.warn({ err, rows: rows.length }, "telemetry batch failed; writing row by row");
      this.store.transaction(() => {
        for (const row of rows) {
          try {
            this.statements.insert.run(row);
          } catch {
            // That feeder is gone; its telemetry goes with it.
          }
        }
      });
    }
  }

  /** Writes what is buffered; anything arriving later (sessions closing during shutdown) is ignored. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  latest(feederId: string) {
    return this.statements.latest.get({ feederId });
  }

  private schedule(): void {
    this.timer ??= this.clock.setTimeout(() => this.flush(), FLUSH_AFTER_MS);
  }
}
