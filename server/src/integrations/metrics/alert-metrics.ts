import { eq, isNull, sql } from "drizzle-orm";
import { Gauge, type Registry } from "prom-client";
import type { Db } from "../../store/db.js";
import { ALERT_KINDS, alerts } from "../../store/schema.js";

/** Missed meals and open alerts, counted in the database when scraped (exact across restarts). */
export function registerAlertMetrics(registry: Registry, db: Db): void {
  const missed = db
    .select({ count: sql<number>`count(*)` })
    .from(alerts)
    .where(eq(alerts.kind, "meal_missed"))
    .prepare();
  const openByKind = db
    .select({ kind: alerts.kind, count: sql<number>`count(*)` })
    .from(alerts)
    .where(isNull(alerts.acknowledgedAt))
    .groupBy(alerts.kind)
    .prepare();
  new Gauge({
    name: "feedkeeper_meals_missed",
    help: "Planned meals that never happened (alerts of kind meal_missed, acknowledged or not).",
    registers: [registry],
    collect() {
      this.set(missed.get()?.count ?? 0);
    },
  });
  new Gauge({
    name: "feedkeeper_alerts_open",
    help: "Alerts nobody has acknowledged yet, by kind.",
    labelNames: ["kind"],
    registers: [registry],
    collect() {
      const counts = new Map(openByKind.all().map((r) => [r.kind, r.count]));
      for (const kind of ALERT_KINDS) this.set({ kind }, counts.get(kind) ?? 0);
    },
  });
}
