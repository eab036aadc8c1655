/**
 * S8 (load starving the scheduler, OWASP API4, ETSI 5.9-1): 100 concurrent clients hammer the API from
 * another process while meals fall due. Every planned meal must still reach its feeder within 2 s of its
 * time, the API must keep answering, and the server's memory must stay bounded. The server runs in this
 * process on an injected clock, so "the meal falls due" is a moment the test chooses while the load runs;
 * the load is real time and bounded (a fixed duration, then the load process exits by itself).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Running } from "../../server/src/main.js";
import { SimulatedFeeder } from "../../server/src/sim/native-feeder.js";
import { FakeClock } from "../../server/src/testing/fake-clock.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";

const FEEDERS = 3;
const CONCURRENCY = 100;
const LOAD_MS = 6_000;

/** Runs in the load process: CONCURRENCY loops of authenticated reads for LOAD_MS, then a JSON summary. */
const LOAD_SCRIPT = `
const [url, token, concurrency, durationMs] = process.argv.slice(1);
const end = Date.now() + Number(durationMs);
const latencies = [];
const statuses = {};
async function loop() {
  while (Date.now() < end) {
    const started = performance.now();
    try {
      const res = await fetch(url, { headers: { authorization: "Bearer " + token } });
      await res.arrayBuffer();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    } catch (err) {
      statuses.error = (statuses.error ?? 0) + 1;
    }
    latencies.push(performance.now() - started);
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, loop));
latencies.sort((a, b) => a - b);
const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
process.stdout.write(JSON.stringify({ requests: latencies.length, statuses, p99 }));
`;

interface LoadResult {
  requests: number;
  statuses: Record<string, number>;
  p99: number;
}

function startLoad(url: string, token: string): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--input-type=module", "-e", LOAD_SCRIPT, url, token, String(CONCURRENCY), String(LOAD_MS)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    // A safety net only: the script stops itself after LOAD_MS.
    const kill = setTimeout(() => child.kill("SIGKILL"), LOAD_MS + 20_000);
    child.on("close", (code) => {
      clearTimeout(kill);
      if (code === 0) resolve(JSON.parse(out) as LoadResult);
      else reject(new Error(`load process exited with ${code}: ${out}`));
    });
  });
}

let clock: FakeClock;
let dataDir: string;
let server: Running;
let api: TestApi;
let token: string;
const devices: SimulatedFeeder[] = [];

beforeAll(async () => {
  // 07:29 in Berlin; every feeder has breakfast at 07:30.
  clock = new FakeClock(Date.parse("2026-11-26T06:29:00Z"));
  dataDir = makeDataDir();
  const booted = await bootInProcess({ dataDir, clock });
  server = booted.server;
  api = booted.api;
  await api.setupOwner();
  token = (await api.request<{ token: string }>("POST", "/api/tokens", { name: "load" })).body.token;
  for (let i = 0; i < FEEDERS; i++) {
    const { feeder, credentials } = await api.createFeeder(`Feeder ${i}`);
    const put = await api.request("PUT", `/api/feeders/${feeder.id}/schedule`, {
      timezone: "Europe/Berlin",
      meals: [
        {
          id: "breakfast",
          time: "07:30",
          days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
          portions: 1,
        },
      ],
    });
    expect(put.status).toBe(200);
    const device = new SimulatedFeeder({
      url: `mqtt://127.0.0.1:${server.mqttPort}`,
      id: credentials.username,
      password: credentials.password,
      dispenseMsPerPortion: 10,
      now: () => new Date(clock.now()),
      scheduleCheckMs: 3_600_000,
    });
    await device.start();
    devices.push(device);
    await api.waitForFeeder(feeder.id, (f) => f.online);
  }
});

afterAll(async () => {
  await Promise.all(devices.map((d) => d.stop()));
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("S8: load does not starve the scheduler", () => {
  it("delivers every meal within 2 s of its time while 100 clients hammer the API", async () => {
    const rssBefore = process.memoryUsage().rss;
    const received = devices.map(
      (device) => new Promise<number>((resolve) => device.once("command", () => resolve(performance.now()))),
    );
    const load = startLoad(`${api.baseUrl}/api/feeders`, token);
    // Let the load reach its full rate before the meals fall due.
    await new Promise((r) => setTimeout(r, 1_500));
    const due = performance.now();
    clock.advance(60_000);
    const delays = (await Promise.all(received)).map((at) => Math.round(at - due));
    const result = await load;
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    console.log(
      `S8: meals delivered after ${delays.join(", ")} ms; ${result.requests} requests in ${LOAD_MS} ms, p99 ${Math.round(result.p99)} ms, statuses ${JSON.stringify(result.statuses)}; RSS +${rssGrowthMb.toFixed(1)} MiB`,
    );

    for (const delay of delays) expect(delay).toBeLessThan(2_000);
    // The load was real, and the API kept answering it.
    expect(result.requests).toBeGreaterThan(1_000);
    expect(result.statuses["200"]).toBe(result.requests);
    expect(result.p99).toBeLessThan(2_000);
    expect(rssGrowthMb).toBeLessThan(150);
    for (const device of devices) {
      await expect.poll(() => device.dispensed.length, { timeout: 5_000 }).toBe(1);
    }
  }, 40_000);
});
