import { Registry, register } from "prom-client";
import { describe, expect, it } from "vitest";
import { tempStore } from "../../testing/temp-store.js";
import { registerFeederMetrics } from "./feeder-metrics.js";
import { registerMqttMetrics } from "./mqtt-metrics.js";
import { registerServerMetrics } from "./server-metrics.js";

describe("feeder metrics", () => {
  it("counts feeders and the online ones when scraped", async () => {
    const registry = new Registry();
    let list = [{ online: true }, { online: false }, { online: true }];
    registerFeederMetrics(registry, { listAll: () => list });
    const text = await registry.metrics();
    expect(text).toMatch(/^feedkeeper_feeders 3$/m);
    expect(text).toMatch(/^feedkeeper_feeders_online 2$/m);
    list = [{ online: false }];
    expect(await registry.metrics()).toMatch(/^feedkeeper_feeders_online 0$/m);
  });
});

describe("MQTT metrics", () => {
  it("reads connections when scraped and counts messages across scrapes", async () => {
    const registry = new Registry();
    let connections = 2;
    const traffic = registerMqttMetrics(registry, () => connections);
    for (let i = 0; i < 5; i++) traffic.received();
    traffic.sent();
    let text = await registry.metrics();
    expect(text).toMatch(/^feedkeeper_mqtt_connections 2$/m);
    expect(text).toMatch(/^feedkeeper_mqtt_messages_received_total 5$/m);
    expect(text).toMatch(/^feedkeeper_mqtt_messages_sent_total 1$/m);
    connections = 0;
    traffic.received();
    text = await registry.metrics();
    // A counter never goes back: the second scrape adds what came since the first.
    expect(text).toMatch(/^feedkeeper_mqtt_messages_received_total 6$/m);
    expect(text).toMatch(/^feedkeeper_mqtt_messages_sent_total 1$/m);
    expect(text).toMatch(/^feedkeeper_mqtt_connections 0$/m);
  });
});

describe("server metrics", () => {
  it("registers the process metrics and the version in the given registry only", async () => {
    const registry = new Registry();
    const store = tempStore();
    registerServerMetrics(registry, {
      version: "9.9.9",
      feeders: { listAll: () => [] },
      db: store.db,
      databaseFile: store.file,
      mqttConnections: () => 0,
    });
    const text = await registry.metrics();
    store.dispose();
    const names = registry.getMetricsAsArray().map((m) => m.name);
    expect(names).toContain("process_cpu_seconds_total");
    expect(names).toContain("nodejs_eventloop_lag_seconds");
    const info = await registry.getSingleMetricAsString("feedkeeper_build_info");
    expect(info).toContain(`feedkeeper_build_info{version="9.9.9",node="${process.version}"} 1`);
    expect(text).toMatch(/^feedkeeper_feeds\{status="dispensed"\} 0$/m);
    // Nothing in prom-client's global registry: each server has its own.
    expect(register.getMetricsAsArray()).toHaveLength(0);
  });
});
