import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { tempStore } from "../../testing/temp-store.js";
import { httpMetrics } from "./http-metrics.js";
import { registerServerMetrics } from "./server-metrics.js";

const DOC = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../../docs/metrics-and-logs.md",
);

describe("docs/metrics-and-logs.md", () => {
  it("names every metric the server registers, and none it does not", () => {
    const registry = new Registry();
    const store = tempStore();
    registerServerMetrics(registry, {
      version: "0.0.0",
      feeders: { listAll: () => [] },
      db: store.db,
      databaseFile: store.file,
      mqttConnections: () => 0,
    });
    httpMetrics(registry);
    store.dispose();
    const registered = registry
      .getMetricsAsArray()
      .map((m) => m.name)
      .filter((name) => name.startsWith("feedkeeper_"))
      .sort();
    const doc = fs.readFileSync(DOC, "utf8");
    const documented = [...new Set([...doc.matchAll(/^\| `(feedkeeper_\w+)`/gm)].map((m) => m[1]))].sort();
    expect(documented).toEqual(registered);
  });
});
