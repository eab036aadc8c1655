import { Gauge, type Registry } from "prom-client";

/** What the feeder gauges read at scrape time (FeederService's view of every household's feeders). */
export interface FeederSource {
  listAll(): ReadonlyArray<{ online: boolean }>;
}

/** Counted when scraped: a gauge kept up to date by events could drift from what the API shows. */
export function registerFeederMetrics(registry: Registry, feeders: FeederSource): void {
  new Gauge({
    name: "feedkeeper_feeders",
    help: "Feeders added to this server.",
    registers: [registry],
    collect() {
      this.set(feeders.listAll().length);
    },
  });
  new Gauge({
    name: "feedkeeper_feeders_online",
    help: "Feeders connected and ready for commands.",
    registers: [registry],
    collect() {
      this.set(feeders.listAll().filter((f) => f.online).length);
    },
  });
}
