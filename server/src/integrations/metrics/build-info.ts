import { Gauge, type Registry } from "prom-client";

/** Always 1; its labels say which version runs, so a dashboard can mark upgrades. */
export function registerBuildInfo(registry: Registry, version: string): void {
  new Gauge({
    name: "feedkeeper_build_info",
    help: "The running Feedkeeper version and Node.js release (always 1).",
    labelNames: ["version", "node"],
    registers: [registry],
  }).set({ version, node: process.version }, 1);
}
