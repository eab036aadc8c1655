/**
 * The audit log: sign-ins and failed sign-ins, every change made through the API (who, which route, which
 * object, the outcome, from where; a feed someone asked for is one), and every meal a device started itself
 * (its button, its own plan). Planned meals are not repeated here: the plan change that set them is, and
 * each one's outcome is in the feed history. Owners read it; it is kept for FEEDKEEPER_AUDIT_DAYS and pruned
 * daily. Request bodies are never stored: they may hold passwords.
 */
import { and, desc, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/db.js";
import { auditLog } from "../store/schema.js";

export type AuditEntry = typeof auditLog.$inferSelect;
export type NewAuditEntry = Omit<typeof auditLog.$inferInsert, "id" | "at">;

const DAY_MS = 86_400_000;

export class AuditLog {
  private readonly insert;
  private pruneTimer: { cancel(): void } | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly keepDays: number,
  ) {
    const p = sql.placeholder;
    this.insert = store.db
      .insert(auditLog)
      .values({
        at: p("at"),
        householdId: p("householdId"),
        actor: p("actor"),
        userId: p("userId"),
        action: p("action"),
        target: p("target"),
        outcome: p("outcome"),
        address: p("address"),
      })
      .prepare();
  }

  record(entry: NewAuditEntry): void {
    try {
      this.insert.run({
        at: new Date(this.clock.now()),
        householdId: entry.householdId ?? null,
        actor: entry.actor,
        userId: entry.userId ?? null,
        action: entry.action,
        target: entry.target ?? null,
        outcome: entry.outcome,
        address: entry.address ?? null,
      });
    } catch (err) {
      // The audit trail must never take the action it records down with it.
      this.logger.error({ err, action: entry.action }, "could not write the audit log");
    }
  }

  /** Newest first: the household's entries and those of no household (sign-ins under unknown names). */
  list(options: {
    householdId: string;
    limit: number;
    before?: Date | undefined;
    userId?: string | undefined;
  }): AuditEntry[] {
    return this.store.db
      .select()
      .from(auditLog)
      .where(
        and(
          or(eq(auditLog.householdId, options.householdId), isNull(auditLog.householdId)),
          options.before ? lt(auditLog.at, options.before) : undefined,
          options.userId ? eq(auditLog.userId, options.userId) : undefined,
        ),
      )
      .orderBy(desc(auditLog.at), desc(auditLog.id))
      .limit(options.limit)
      .all();
  }

  /** Prunes now and then once a day. */
  start(): void {
    this.prune();
    const again = () => {
      this.pruneTimer = this.clock.setTimeout(() => {
        this.prune();
        again();
      }, DAY_MS);
    };
    again();
  }

  stop(): void {
    this.pruneTimer?.cancel();
  }

  prune(): void {
    const cutoff = new Date(this.clock.now() - this.keepDays * DAY_MS);
    const { changes } = this.store.db.delete(auditLog).where(lt(auditLog.at, cutoff)).run();
    if (changes > 0) this.logger.info({ removed: changes, keepDays: this.keepDays }, "audit log pruned");
  }
}
