/**
 * Starts the real, built server (dist/server/feedkeeper.js) as a child process
 * on free loopback ports with a fresh data directory, the way a user runs it.
 * Ports are chosen by the server itself (port 0) and read from its "ready" log
 * line, so parallel tests never race for a port.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SERVER_ENTRY = path.join(ROOT, "dist/server/feedkeeper.js");
/** The runtime flags `npm start` and the container use, so tests and the benchmark measure the same process. */
export const SERVER_NODE_FLAGS = ["--max-semi-space-size=2"];

export interface TestServer {
  httpUrl: string;
  mqttUrl: string;
  wsUrl: string;
  httpPort: number;
  mqttPort: number;
  dataDir: string;
  process: ChildProcess;
  /** Every log line the server printed, parsed. */
  logs: Array<Record<string, unknown>>;
  /** Resolves once `count` log lines match (they arrive through a pipe, a little after the fact). */
  waitForLogs(match: (line: Record<string, unknown>) => boolean, count?: number): Promise<void>;
  /** SIGTERM and wait for exit; removes the data dir unless keepData. */
  stop(options?: { keepData?: boolean }): Promise<number | null>;
  /** SIGKILL: no cleanup at all, as in a power cut of the process. */
  kill(): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  env?: Record<string, string>;
}

export function makeDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "feedkeeper-test-"));
}

export function startServer(options: StartOptions = {}): Promise<TestServer> {
  if (!fs.existsSync(SERVER_ENTRY))
    throw new Error(`${SERVER_ENTRY} is missing: run \`npm run build\` first`);
  const dataDir = options.dataDir ?? makeDataDir();
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, SERVER_ENTRY], {
    env: {
      PATH: process.env.PATH ?? "",
      FEEDKEEPER_HTTP_PORT: "0",
      FEEDKEEPER_MQTT_PORT: "0",
      FEEDKEEPER_BIND: "127.0.0.1",
      FEEDKEEPER_DATA_DIR: dataDir,
      FEEDKEEPER_LOG_LEVEL: "debug",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  return new Promise<TestServer>((resolve, reject) => {
    let buffer = "";
    let ready = false;
    const fail = (error: Error) => {
      if (ready) return;
      clearTimeout(timer);
      if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
      reject(error);
    };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(new Error(`server did not become ready in 15 s\n${stderr}`));
    }, 15_000);
    child.once("exit", (code) =>
      fail(new Error(`server exited with ${code} before it was ready\n${stderr}`)),
    );
    child.stdout?.on("data", (d: Buffer) => {
      buffer += d.toString();
      let nl = buffer.indexOf("\n");
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf("\n");
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line);
        } catch {
          continue;
        }
        logs.push(entry);
        if (entry.msg === "feedkeeper ready") {
          ready = true;
          clearTimeout(timer);
          const httpPort = entry.httpPort as number;
          const mqttPort = entry.mqttPort as number;
          resolve({
            httpUrl: `http://127.0.0.1:${httpPort}`,
            mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
            wsUrl: `ws://127.0.0.1:${httpPort}/mqtt`,
            httpPort,
            mqttPort,
            dataDir,
            process: child,
            logs,
            async waitForLogs(match, count = 1) {
              const deadline = Date.now() + 5000;
              while (logs.filter(match).length < count) {
                if (Date.now() > deadline)
                  throw new Error(`fewer than ${count} matching log lines after 5 s`);
                await new Promise((r) => setTimeout(r, 20));
              }
            },
            async stop({ keepData = false } = {}) {
              if (child.exitCode === null) child.kill("SIGTERM");
              const code = await exited;
              if (!keepData) fs.rmSync(dataDir, { recursive: true, force: true });
              return code;
            },
            async kill() {
              if (child.exitCode === null) child.kill("SIGKILL");
              await exited;
            },
          });
        }
      }
    });
  });
}

/** Runs the server expecting it to refuse to start; returns its exit code and stderr. */
export function runServerExpectingFailure(
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const dataDir = makeDataDir();
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    env: { PATH: process.env.PATH ?? "", FEEDKEEPER_DATA_DIR: dataDir, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  return new Promise((resolve) =>
    child.once("exit", (code) => {
      clearTimeout(timer);
      fs.rmSync(dataDir, { recursive: true, force: true });
      resolve({ code, stderr });
    }),
  );
}
