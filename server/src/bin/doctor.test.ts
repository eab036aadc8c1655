/**
 * `feedkeeper doctor` against real situations: a running server (its ports are Feedkeeper's, its broker
 * refuses anonymous logins), a port held by another program, a clock behind the database, a data directory
 * others can read, an unknown time zone and an unreachable external broker. Each problem names its fix.
 */
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestApi } from "../../../test/helpers/api.js";
import { runFeedkeeper } from "../../../test/helpers/cli.js";
import { bootInProcess } from "../../../test/helpers/in-process.js";
import { loadConfig } from "../config.js";
import type { Running } from "../main.js";
import { type CheckResult, runChecks } from "./doctor.js";

let dataDir: string;
let server: Running;
let api: TestApi;

const env = (extra: Record<string, string> = {}) => ({
  FEEDKEEPER_DATA_DIR: dataDir,
  FEEDKEEPER_BIND: "127.0.0.1",
  FEEDKEEPER_HTTP_PORT: String(server.httpPort),
  FEEDKEEPER_MQTT_PORT: String(server.mqttPort),
  ...extra,
});

const failures = (results: CheckResult[]) => results.filter((r) => r.status === "fail");

/** A port some other program listens on. */
async function foreignListener(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const other = net.createServer((socket) => {
    sockets.add(socket);
    socket.end("HTTP/1.1 200 OK\r\n\r\nnot feedkeeper");
  });
  await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
  return {
    port: (other.address() as net.AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        other.close(() => resolve());
      }),
  };
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "feedkeeper-doctor-"));
  ({ server, api } = await bootInProcess({ dataDir }));
  await api.setupOwner("owner", "a long owner password");
});
afterAll(async () => {
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("feedkeeper doctor", () => {
  it("finds a running, set-up server healthy", async () => {
    const run = await runFeedkeeper(["doctor"], { env: env() });
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toContain("0 problem(s)");
    expect(run.stdout).toMatch(/ok +FEEDKEEPER_HTTP_PORT=\d+ is in use by the running Feedkeeper/);
    expect(run.stdout).toMatch(
      /ok +Embedded MQTT broker answers on mqtt:\/\/127\.0\.0\.1:\d+ \(and refuses anonymous/,
    );
    expect(run.stdout).toMatch(/ok +Database integrity/);
    expect(run.stdout).toMatch(/ok +Setup done/);
    expect(run.stdout).toMatch(/ok +Clock: /);
  });

  it("names a port another program holds, and the variable to change", async () => {
    const other = await foreignListener();
    try {
      const run = await runFeedkeeper(["doctor"], {
        env: env({ FEEDKEEPER_HTTP_PORT: String(other.port), FEEDKEEPER_MQTT_PORT: "0" }),
      });
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(`FAIL  FEEDKEEPER_HTTP_PORT=${other.port} is in use by another program`);
      expect(run.stdout).toMatch(/fix: stop that program .* or set FEEDKEEPER_HTTP_PORT to a free port/);
      // Without a Feedkeeper answering, the embedded broker cannot be checked: said, not failed.
      expect(run.stdout).toMatch(/-- +Embedded MQTT broker \(the server is not running/);
    } finally {
      await other.close();
    }
  });

  it("sees a clock that is behind what the database recorded", async () => {
    const config = loadConfig(env());
    const yesterday = Date.now() - 86_400_000;
    const results = await runChecks(config, () => yesterday);
    const [clock] = failures(results);
    expect(clock?.title).toMatch(/^The clock is behind: it says .* but the database has records from /);
    expect(clock?.fix).toContain("NTP");
    expect(failures(await runChecks(config))).toEqual([]);
  });

  it("warns about a data directory others can read, with the chmod that fixes it", async () => {
    fs.chmodSync(dataDir, 0o755);
    try {
      const results = await runChecks(loadConfig(env()));
      const warning = results.find(
        (r) => r.status === "warn" && r.title.startsWith("Readable by other users"),
      );
      expect(warning?.title).toContain(dataDir);
      expect(warning?.fix).toBe(`chmod 700 ${dataDir} && chmod 600 ${path.join(dataDir, "feedkeeper.db")}*`);
    } finally {
      fs.chmodSync(dataDir, 0o700);
    }
  });

  it("warns about a time zone the system does not know", async () => {
    const run = await runFeedkeeper(["doctor"], { env: { ...env(), TZ: "Mars/Olympus_Mons" } });
    expect(run.stdout).toContain(
      "WARN  TZ=Mars/Olympus_Mons is not a time zone this system knows; using UTC",
    );
    expect(run.code).toBe(0);
  });

  it("reports an external broker it cannot reach, with the settings to check", async () => {
    const closed = await foreignListener();
    await closed.close();
    const results = await runChecks(
      loadConfig(
        env({
          FEEDKEEPER_MQTT_URL: `mqtt://127.0.0.1:${closed.port}`,
          FEEDKEEPER_MQTT_USERNAME: "fk",
          FEEDKEEPER_MQTT_PASSWORD: "pw",
        }),
      ),
    );
    const broker = failures(results).find((r) => r.title.startsWith("External broker"));
    expect(broker?.title, JSON.stringify(broker)).toMatch(/ECONNREFUSED/);
    expect(broker?.title).not.toContain("pw");
    expect(broker?.fix).toContain("FEEDKEEPER_MQTT_URL");
  });

  it("prints JSON for scripts and refuses unknown options", async () => {
    const run = await runFeedkeeper(["doctor", "--json"], { env: env() });
    const report = JSON.parse(run.stdout) as { checks: CheckResult[] };
    expect(report.checks.length).toBeGreaterThan(5);
    expect(report.checks.every((c) => ["ok", "warn", "fail", "skip"].includes(c.status))).toBe(true);
    const bad = await runFeedkeeper(["doctor", "--fix"], { env: env() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--fix");
  });
});
