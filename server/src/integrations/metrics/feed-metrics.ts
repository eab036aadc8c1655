import { sql } from "drizzle-orm";
import { Gauge, type Registry } from "prom-client";
import type { Db } from "../../store/db.js";
import { FEED_STATUSES, feeds } from "../../store/schema.js";

/**
 * Feeds by status, counted in the ledger when scraped. A counter fed by outcome events would start again at 0
 * on every restart and miss what the ledger settled while resuming; the count is exact and survives restarts.
 * A gauge because a feed moves between statuses (pending, then sent, then dispensed) and a feeder's feeds
 * leave with it: for a rate, take `delta()` of a final status.
 */
export function registerFeedMetrics(registry: Registry, db: Db): void {
  const byStatus = db
    .select({ status: feeds.status, count: sql<number>`count(*)` })
    .from(feeds)
    .groupBy(feeds.status)
    .prepare();
  new Gauge({
    name: "feedkeeper_feeds",
    help: "Feeds in the ledger by status (pending, sent, accepted, dispensed, failed, expired, timed_out).",
    labelNames: ["status"],
    registers: [registry],
    collect() {
      const counts = new Map(byStatus.all().map((r) => [r.status, r.count]));
      // Every status, also at 0: a series that appears only with its first feed breaks rate queries and alerts.
      for (const status of FEED_STATUSES) this.set({ status }, counts.get(status) ?? 0);
    },
  });
}
