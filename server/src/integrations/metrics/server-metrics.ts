import { collectDefaultMetrics, type Registry } from "prom-client";
import type { Db } from "../../store/db.js";
import { registerAlertMetrics } from "./alert-metrics.js";
import { registerBuildInfo } from "./build-info.js";
import { registerDbMetrics } from "./db-metrics.js";
import { registerFeedMetrics } from "./feed-metrics.js";
import { type FeederSource, registerFeederMetrics } from "./feeder-metrics.js";
import { type BrokerTraffic, registerMqttMetrics } from "./mqtt-metrics.js";

export interface MetricSources {
  version: string;
  feeders: FeederSource;
  db: Db;
  /** The SQLite database file; its WAL is beside it. */
  databaseFile: string;
  /** Read when scraped, so the broker may start after this is called. */
  mqttConnections: () => number;
}

/**
 * Everything GET /api/metrics reports except HTTP timings (http-metrics.ts, a middleware the app installs):
 * the process (Prometheus' standard `process_*` and `nodejs_*` names, so stock dashboards work) and
 * Feedkeeper's own `feedkeeper_*` metrics. Returns what the embedded broker counts messages with.
 */
export function registerServerMetrics(registry: Registry, sources: MetricSources): BrokerTraffic {
  collectDefaultMetrics({ register: registry });
  registerBuildInfo(registry, sources.version);
  registerFeederMetrics(registry, sources.feeders);
  registerFeedMetrics(registry, sources.db);
  registerAlertMetrics(registry, sources.db);
  registerDbMetrics(registry, sources.databaseFile);
  return registerMqttMetrics(registry, sources.mqttConnections);
}
