/**
 * Alerts: what an owner must hear about (a meal missed, failed or doubled, a
 * device schedule that drifted, a device clock that is off). Each is stored
 * once per fact (its key) and handed to every notifier; a notifier failing
 * never loses the stored alert.
 */
import { randomUUID } from "node:crypto";
import { and, count, desc, eq, inArray, isNull, or, sql } from "drizzle-orm";
import type { Clock } from "../clock.js";
import { AppError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/db.js";
import { type AlertKind, alerts, feeders } from "../store/schema.js";

export type Alert = typeof alerts.$inferSelect;

/** Where alerts go besides the list: the log here; ntfy, webhooks and e-mail plug in behind this. */
export interface Notifier {
  readonly name: string;
  notify(alert: Alert): Promise<void>;
}

export interface NewAlert {
  kind: AlertKind;
  feederId: string | null;
  /** Identifies the fact: raising the same key twice stores and sends one alert. */
  key: string;
  message: string;
  occurrenceId?: string | undefined;
}

export class LogNotifier implements Notifier {
  readonly name = "log";

  constructor(private readonly logger: Logger) {}

  async notify(alert: Alert): Promise<void> {
    this.logger.warn(
      { alertId: alert.id, kind: alert.kind, feederId: alert.feederId, occurrenceId: alert.occurrenceId },
      alert.message,
    );
  }
}

export class AlertService {
  // Asked on every list of feeders (each card's open alerts): prepared once.
  private readonly openCounts;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly notifiers: readonly Notifier[],
    private readonly logger: Logger,
  ) {
    this.openCounts = store.db
      .select({ feederId: alerts.feederId, n: count() })
      .from(alerts)
      .innerJoin(feeders, eq(feeders.id, alerts.feederId))
      .where(and(eq(feeders.householdId, sql.placeholder("householdId")), isNull(alerts.acknowledgedAt)))
      .groupBy(alerts.feederId)
      .prepare();
  }

  /** Stores the alert unless its key is known, then notifies. Returns it when it is new. */
  raise(input: NewAlert): Alert | undefined {
    const alert = this.store.db
      .insert(alerts)
      .values({
        id: randomUUID(),
        feederId: input.feederId,
        kind: input.kind,
        key: input.key,
        message: input.message,
        occurrenceId: input.occurrenceId ?? null,
        createdAt: new Date(this.clock.now()),
      })
      .onConflictDoNothing()
      .returning()
      .get();
    if (!alert) return undefined;
    if (!this.store.inTransaction()) {
      this.notify(alert);
      return alert;
    }
    // Raised inside a transaction: notify once it has committed, and not at all if it rolled back.
    setImmediate(() => {
      try {
        if (this.store.db.select({ id: alerts.id }).from(alerts).where(eq(alerts.id, alert.id)).get()) {
          this.notify(alert);
        }
      } catch (err) {
        this.logger.error({ err, alertId: alert.id }, "could not notify an alert (server stopping?)");
      }
    });
    return alert;
  }

  private notify(alert: Alert): void {
    for (const notifier of this.notifiers) {
      const failed = (err: unknown) =>
        this.logger.error({ err, alertId: alert.id, notifier: notifier.name }, "notifier failed");
      try {
        notifier.notify(alert).catch(failed);
      } catch (err) {
        failed(err);
      }
    }
  }

  /** Newest first. */
  list(options: {
    householdId: string;
    limit: number;
    unacknowledgedOnly?: boolean | undefined;
    feederId?: string | undefined;
  }): Alert[] {
    const conditions = [
      this.visibleTo(options.householdId),
      options.unacknowledgedOnly ? isNull(alerts.acknowledgedAt) : undefined,
      options.feederId ? eq(alerts.feederId, options.feederId) : undefined,
    ];
    return this.store.db
      .select()
      .from(alerts)
      .where(and(...conditions))
      .orderBy(desc(alerts.createdAt))
      .limit(options.limit)
      .all();
  }

  countUnacknowledged(householdId: string): number {
    const row = this.store.db
      .select({ n: count() })
      .from(alerts)
      .where(and(this.visibleTo(householdId), isNull(alerts.acknowledgedAt)))
      .get();
    return row?.n ?? 0;
  }

  /** Unacknowledged alerts per feeder of the household. */
  openByFeeder(householdId: string): Map<string, number> {
    const rows = this.openCounts.all({ householdId });
    return new Map(rows.flatMap((r) => (r.feederId ? [[r.feederId, r.n] as const] : [])));
  }

  /** A household sees its feeders' alerts and those about the server itself (no feeder). */
  private visibleTo(householdId: string) {
    const own = this.store.db
      .select({ id: feeders.id })
      .from(feeders)
      .where(eq(feeders.householdId, householdId));
    return or(isNull(alerts.feederId), inArray(alerts.feederId, own));
  }

  find(id: string): Alert | undefined {
    return this.store.db.select().from(alerts).where(eq(alerts.id, id)).get();
  }

  acknowledge(id: string): Alert {
    const existing = this.store.db.select().from(alerts).where(eq(alerts.id, id)).get();
    if (!existing) throw new AppError("alert_not_found");
    if (existing.acknowledgedAt) return existing;
    return this.store.db
      .update(alerts)
      .set({ acknowledgedAt: new Date(this.clock.now()) })
      .where(eq(alerts.id, id))
      .returning()
      .get() as Alert;
  }
}
