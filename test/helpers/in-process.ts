/**
 * Boots the whole server in this process (HTTP, broker, scheduler, ledger), on loopback and free ports, so
 * a test can inject a clock and move time instead of waiting.
 */
import type { Clock } from "../../server/src/clock.js";
import { loadConfig } from "../../server/src/config.js";
import { createLogger } from "../../server/src/logger.js";
import { type Running, start } from "../../server/src/main.js";
import { TestApi } from "./api.js";

export interface InProcessOptions {
  dataDir: string;
  clock?: Clock;
  /** More settings, as the environment would give them (e.g. FEEDKEEPER_PROFILES_DIR). */
  env?: Record<string, string>;
  /** The broker's port; 0, the default, takes a free one. A restart passes the last one. */
  mqttPort?: number;
}

/** The running server, and an API client for it, without a token: `api.setupOwner()` gives it one. */
export async function bootInProcess(options: InProcessOptions): Promise<{ server: Running; api: TestApi }> {
  const config = loadConfig({
    FEEDKEEPER_HTTP_PORT: "0",
    FEEDKEEPER_MQTT_PORT: String(options.mqttPort ?? 0),
    FEEDKEEPER_BIND: "127.0.0.1",
    FEEDKEEPER_DATA_DIR: options.dataDir,
    ...options.env,
  });
  const server = await start(config, createLogger("silent"), options.clock);
  return { server, api: new TestApi(`http://127.0.0.1:${server.httpPort}`) };
}
