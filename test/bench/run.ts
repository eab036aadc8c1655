/**
 * `npm run bench`: the numbers the project promises, in two sections.
 *
 * - `server`: the built server as a child process, 1,000 simulated feeders in this process: feed latency,
 *   telemetry ingest against a bare broker, idle memory, cold start, and list throughput.
 * - `meals`: 10,000 feeders × 4 meals due in the same minute, through the real scheduler and feed path in
 *   this process (meal-dispatch.ts): the dispatch spread, and proof that each meal was dispatched once.
 *
 * Both run by default; name sections to run only those, e.g. `npm run bench -- meals` (or, without the build
 * the server section needs, `npx tsx test/bench/run.ts meals`). It is a report, not a test: targets print PASS
 * or FAIL, and the exit code is 0 unless something broke (a meal dispatched twice or not at all counts as
 * broken). Results also go to dist/bench-results.json (dist/bench-results-<sections>.json for some sections).
 *
 * Knobs for quick runs (defaults are the real benchmark): BENCH_FEEDERS, BENCH_FEEDS, BENCH_TELEMETRY,
 * BENCH_INFLIGHT; BENCH_MEAL_FEEDERS and BENCH_MEALS_PER_FEEDER for the meals section. BENCH_SERVER_NODE_OPTIONS
 * becomes the server's NODE_OPTIONS, to try runtime flags under the same load, e.g.
 * `BENCH_SERVER_NODE_OPTIONS=--max-semi-space-size=1 npx tsx test/bench/run.ts server`, or to `--require` a
 * preload that profiles (Node refuses --cpu-prof in NODE_OPTIONS).
 *
 * Memory is MiB throughout (/proc reports KiB); the RSS target is read as 100 MiB.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import type { TelemetryPayload } from "../../server/src/protocol/native-v1.js";
import { SimulatedFeeder } from "../../server/src/sim/native-feeder.js";
import { TestApi } from "../helpers/api.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { mealDispatchBench } from "./meal-dispatch.js";
import { rawBrokerBaseline } from "./raw-broker.js";
import { round, type Summary, summarize } from "./stats.js";
import {
  mapLimit,
  memoryMiB,
  ownCpuMs,
  type ProcessMemory,
  processCpuMs,
  sleep,
  waitUntil,
  withTimeout,
} from "./util.js";

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number`);
  return value;
}

const SECTION_NAMES = ["server", "meals"] as const;
type Section = (typeof SECTION_NAMES)[number];
const SECTIONS = ((): ReadonlySet<Section> => {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((a) => !(SECTION_NAMES as readonly string[]).includes(a));
  if (unknown.length > 0) {
    console.error(`unknown benchmark section ${unknown.join(", ")}; sections: ${SECTION_NAMES.join(", ")}`);
    process.exit(2);
  }
  return new Set(asked.length > 0 ? (asked as Section[]) : SECTION_NAMES);
})();

const FEEDERS = envInt("BENCH_FEEDERS", 1000);
const FEEDS = envInt("BENCH_FEEDS", 300);
const TELEMETRY = envInt("BENCH_TELEMETRY", 20_000);
/** QoS 1 publishes awaiting their PUBACK at any moment, for the feeders and the raw baseline alike. */
const IN_FLIGHT = envInt("BENCH_INFLIGHT", 100);
const MEAL_FEEDERS = envInt("BENCH_MEAL_FEEDERS", 10_000);
const MEALS_PER_FEEDER = envInt("BENCH_MEALS_PER_FEEDER", 4);
const WARMUP_FEEDS = 10;
const CREATE_CONCURRENCY = 20;
const CONNECT_CONCURRENCY = 50;
const STOP_CONCURRENCY = 100;
const LIST_LOOPS = 20;
const LIST_MS = 3000;
/** A household's feeders, for the list measured before the fleet is added. */
const HOME_FEEDERS = 3;
const IDLE_MS = 5000;
const DISPENSE_MS_PER_PORTION = 5;
/**
 * "info", not "warn": the helper recognises readiness by the info-level "feedkeeper ready" line, which a warn
 * level suppresses (startServer then times out). At info the server logs per feeder and per feed, never per
 * telemetry message, so logging stays out of the ingest figure.
 */
const LOG_LEVEL = "info";
/** Everything must be over well before this; past it the run cleans up and fails. */
const WATCHDOG_MS = (SECTIONS.has("server") ? 240_000 : 0) + (SECTIONS.has("meals") ? 120_000 : 0);

/** mealDispatchMaxMs: every meal's command handed to the sender within this long of the tick at its due time. */
const TARGETS = { feedP99Ms: 20, ingestRatio: 0.5, idleRssMiB: 100, mealDispatchMaxMs: 1000 } as const;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** A run of some sections only gets a file of its own, so it never overwrites a whole run's results. */
const RESULTS_FILE = path.join(
  ROOT,
  SECTIONS.size === SECTION_NAMES.length
    ? "dist/bench-results.json"
    : `dist/bench-results-${[...SECTIONS].join("-")}.json`,
);

const runStart = performance.now();
function progress(message: string): void {
  const t = ((performance.now() - runStart) / 1000).toFixed(1).padStart(5);
  console.log(`[${t} s] ${message}`);
}

/** What cleanup must tear down, filled in as the run gets further. */
const state: { server?: TestServer; sims: SimulatedFeeder[]; reader?: Database.Database } = { sims: [] };
let cleaning: Promise<void> | undefined;

function cleanup(graceful: boolean): Promise<void> {
  cleaning ??= (async () => {
    const { server, sims, reader } = state;
    if (graceful) {
      // A polite goodbye per feeder (bounded by the simulator's own 2 s wait for the broker's ack).
      await withTimeout(
        mapLimit(sims, STOP_CONCURRENCY, (s) => s.stop().catch(() => undefined)),
        20_000,
        "feeders to stop",
      ).catch(() => undefined);
    }
    for (const s of sims) s.kill();
    reader?.close();
    if (server) {
      await withTimeout(server.stop(), 15_000, "server to stop").catch(async (err: Error) => {
        console.error(`${err.message}; killing it`);
        await server.kill();
      });
    }
  })();
  return cleaning;
}

// Piped into `head`, a closed stdout must not kill the run before it has cleaned up.
process.stdout.on("error", () => undefined);
process.on("uncaughtException", (err) => {
  console.error("benchmark crashed:", err);
  cleanup(false).finally(() => process.exit(1));
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    cleanup(false).finally(() => process.exit(130));
  });
}
const watchdog = setTimeout(() => {
  console.error(`benchmark still running after ${WATCHDOG_MS / 1000} s: giving up`);
  cleanup(false).finally(() => process.exit(1));
}, WATCHDOG_MS);
watchdog.unref();

/** Message i of the telemetry load: realistic fields, values varying so no two payloads are alike. */
function telemetrySample(i: number): TelemetryPayload {
  return {
    foodLevel: (i % 100) / 100,
    weightGrams: 100 + (i % 997) / 10,
    battery: 0.5 + (i % 50) / 100,
    rssi: -40 - (i % 50),
  };
}

interface CpuUse {
  /** Busy share of one core over the phase's wall time: 100 means one core flat out. */
  serverPct: number;
  benchPct: number;
}

/** Starts measuring the CPU both processes use; call the result when the phase ends. */
function cpuMeter(serverPid: number): () => CpuUse {
  const wall = performance.now();
  const server = processCpuMs(serverPid);
  const bench = ownCpuMs();
  return () => {
    const elapsed = performance.now() - wall;
    return {
      serverPct: round(((processCpuMs(serverPid) - server) / elapsed) * 100, 0),
      benchPct: round(((ownCpuMs() - bench) / elapsed) * 100, 0),
    };
  };
}

function cpuText({ serverPct, benchPct }: CpuUse): string {
  return `CPU server ${serverPct}% / bench ${benchPct}%`;
}

function memText({ rss, anon, file }: ProcessMemory): string {
  return `RSS ${rss.toFixed(1)} MiB (anon ${anon.toFixed(1)}, file ${file.toFixed(1)})`;
}

function pass(ok: boolean): string {
  return ok ? "PASS" : "FAIL";
}

const summaryJson = (s: Summary) =>
  Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === "count" ? v : round(v, 3)]));

/** Cold start, feed latency, telemetry ingest, memory and list throughput of the built server. */
interface ListRun {
  samples: number[];
  errors: number;
  bytes: number;
  elapsedMs: number;
  cpu: CpuUse;
}

/** GET /api/feeders from LIST_LOOPS loops at once for LIST_MS. */
async function listThroughput(httpUrl: string, authorization: string, pid: number): Promise<ListRun> {
  const run: ListRun = { samples: [], errors: 0, bytes: 0, elapsedMs: 0, cpu: { serverPct: 0, benchPct: 0 } };
  const meter = cpuMeter(pid);
  const start = performance.now();
  const deadline = start + LIST_MS;
  await Promise.all(
    Array.from({ length: LIST_LOOPS }, async () => {
      while (performance.now() < deadline) {
        const begun = performance.now();
        try {
          const res = await fetch(`${httpUrl}/api/feeders`, {
            headers: { authorization },
            signal: AbortSignal.timeout(10_000),
          });
          const body = await res.arrayBuffer();
          if (res.status === 200) {
            run.samples.push(performance.now() - begun);
            run.bytes = body.byteLength;
          } else run.errors++;
        } catch {
          run.errors++;
        }
      }
    }),
  );
  run.elapsedMs = performance.now() - start;
  run.cpu = meter();
  return run;
}

function listText(run: ListRun): string {
  if (run.samples.length === 0) return `no successful responses (${run.errors} errors)`;
  const latency = summarize(run.samples);
  const perSec = (run.samples.length / run.elapsedMs) * 1000;
  return `${perSec.toFixed(1)} req/s  p50 ${latency.p50.toFixed(1)} ms  p99 ${latency.p99.toFixed(1)} ms  (${(run.bytes / 1024).toFixed(1)} KiB per response, ${run.errors} errors)`;
}

function listJson(run: ListRun) {
  return {
    ms: round(run.elapsedMs),
    requests: run.samples.length,
    errors: run.errors,
    reqPerSec: round((run.samples.length / run.elapsedMs) * 1000, 1),
    responseBytes: run.bytes,
    latencyMs: run.samples.length > 0 ? summaryJson(summarize(run.samples)) : null,
    cpu: run.cpu,
  };
}

async function serverSection(): Promise<Record<string, unknown>> {
  progress(
    `server section: ${FEEDERS} feeders, ${FEEDS} feeds, ${TELEMETRY} telemetry messages, ${IN_FLIGHT} in flight`,
  );

  // --- Cold start, and the empty server's memory ----------------------------------------------------------
  const spawnAt = performance.now();
  const serverNodeOptions = process.env.BENCH_SERVER_NODE_OPTIONS;
  const server = await startServer({
    env: { FEEDKEEPER_LOG_LEVEL: LOG_LEVEL, ...(serverNodeOptions && { NODE_OPTIONS: serverNodeOptions }) },
  });
  const coldStartMs = performance.now() - spawnAt;
  state.server = server;
  const pid = server.process.pid;
  if (pid === undefined) throw new Error("server has no pid");
  const ready = server.logs.find((l) => l.msg === "feedkeeper ready");
  const startupMs = typeof ready?.startupMs === "number" ? ready.startupMs : null;
  progress(`server ready in ${coldStartMs.toFixed(0)} ms (pid ${pid}, ${server.httpUrl}, ${server.mqttUrl})`);
  await sleep(1000);
  // The server's memory after each phase, to show which one makes it grow.
  const memTrail: Array<{ after: string; mem: ProcessMemory }> = [];
  const memAfter = (after: string) => {
    const mem = memoryMiB(pid);
    memTrail.push({ after, mem });
    return mem;
  };
  const memEmpty = memAfter("start");
  progress(`idle memory, no feeders: ${memText(memEmpty)}`);

  // --- Owner and feeders ------------------------------------------------------------------------------------
  const api = new TestApi(server.httpUrl);
  await api.setupOwner();
  const authorization = `Bearer ${api.token}`;
  // A household's list first (the anchor's "list feeders"), before the fleet makes every answer large.
  for (let i = 0; i < HOME_FEEDERS; i++) await api.createFeeder(`Home ${i + 1}`);
  const homeList = await listThroughput(server.httpUrl, authorization, pid);
  progress(`GET /api/feeders, ${HOME_FEEDERS} feeders: ${listText(homeList)}; ${cpuText(homeList.cpu)}`);
  let t = performance.now();
  const created = await mapLimit(
    Array.from({ length: FEEDERS }, (_, i) => i),
    CREATE_CONCURRENCY,
    // Quick runs (few feeders, many feeds) feed one feeder often; the benchmark measures latency, not the limits.
    (i) => api.createFeeder(`Bench ${i + 1}`, { minFeedIntervalSeconds: 0, dailyMaxPortions: 1000 }),
  );
  const createMs = performance.now() - t;
  memAfter("create");
  progress(`created ${FEEDERS} feeders in ${createMs.toFixed(0)} ms (${CREATE_CONCURRENCY} at a time)`);

  const sims = created.map(
    ({ credentials }) =>
      new SimulatedFeeder({
        url: server.mqttUrl,
        id: credentials.username,
        password: credentials.password,
        dispenseMsPerPortion: DISPENSE_MS_PER_PORTION,
      }),
  );
  state.sims = sims;
  t = performance.now();
  await withTimeout(
    mapLimit(sims, CONNECT_CONCURRENCY, (s) => s.start()),
    60_000,
    `${FEEDERS} feeders to connect`,
  );
  const connectMs = performance.now() - t;
  progress(`connected ${FEEDERS} feeders in ${connectMs.toFixed(0)} ms (${CONNECT_CONCURRENCY} at a time)`);

  let online = 0;
  await waitUntil(
    async () => {
      const res = await api.request<{ feeders: Array<{ online: boolean }> }>("GET", "/api/feeders");
      online = res.status === 200 ? res.body.feeders.filter((f) => f.online).length : 0;
      return online === FEEDERS;
    },
    { timeoutMs: 30_000, intervalMs: 250, what: `all ${FEEDERS} feeders online in the API` },
  );
  const onlineMs = performance.now() - t;
  const memConnected = memAfter("connect");
  progress(
    `API shows ${online} online ${onlineMs.toFixed(0)} ms after connecting began; ${memText(memConnected)}`,
  );

  // --- Feed latency: POST → command at the device, one feed at a time ---------------------------------------
  const feedOnce = async (sim: SimulatedFeeder) => {
    let resolveCommand: (at: number) => void = () => {};
    const command = new Promise<number>((resolve) => {
      resolveCommand = resolve;
    });
    const listener = (_command: unknown, receivedAt: number) => resolveCommand(receivedAt);
    sim.once("command", listener);
    try {
      const start = performance.now();
      const res = await api.feed(sim.id, { portions: 1 });
      const respondedMs = performance.now() - start;
      if (res.status !== 202)
        throw new Error(`feed for ${sim.id}: ${res.status} ${JSON.stringify(res.body)}`);
      const receivedAt = await withTimeout(command, 5000, `feed command to reach ${sim.id}`);
      return { commandMs: receivedAt - start, respondedMs };
    } finally {
      sim.off("command", listener);
    }
  };
  // Different feeders every time: a stride coprime to the fleet size visits each before repeating.
  const feederFor = (i: number) => sims[(i * 3) % sims.length] as SimulatedFeeder;
  for (let i = 0; i < WARMUP_FEEDS; i++) await feedOnce(feederFor(FEEDS + i));
  const commandSamples: number[] = [];
  const responseSamples: number[] = [];
  t = performance.now();
  const feedCpuMeter = cpuMeter(pid);
  for (let i = 0; i < FEEDS; i++) {
    const { commandMs, respondedMs } = await feedOnce(feederFor(i));
    commandSamples.push(commandMs);
    responseSamples.push(respondedMs);
  }
  const feedCpu = feedCpuMeter();
  const feedLatency = summarize(commandSamples);
  const feedResponse = summarize(responseSamples);
  progress(
    `${FEEDS} feeds in ${(performance.now() - t).toFixed(0)} ms: command p50 ${feedLatency.p50.toFixed(2)} ms, p99 ${feedLatency.p99.toFixed(2)} ms; ${cpuText(feedCpu)}`,
  );

  // The ledger, read beside the server (WAL lets a reader in while the server writes).
  const reader = new Database(path.join(server.dataDir, "feedkeeper.db"), {
    readonly: true,
    fileMustExist: true,
  });
  state.reader = reader;
  const feedStatuses = () =>
    Object.fromEntries(
      (
        reader.prepare("select status, count(*) as n from feeds group by status").all() as Array<{
          status: string;
          n: number;
        }>
      ).map((r) => [r.status, r.n]),
    ) as Record<string, number>;
  const totalFeeds = FEEDS + WARMUP_FEEDS;
  await waitUntil(() => (feedStatuses().dispensed ?? 0) >= totalFeeds, {
    timeoutMs: 10_000,
    intervalMs: 50,
    what: `all ${totalFeeds} feeds dispensed`,
  }).catch((err: Error) => progress(`warning: ${err.message}`));
  const feedOutcomes = feedStatuses();
  memAfter("feeds");
  progress(`feed outcomes in the ledger: ${JSON.stringify(feedOutcomes)}`);

  // --- Telemetry ingest: first publish → every row in SQLite ------------------------------------------------
  const countRows = reader.prepare("select count(*) from telemetry").pluck();
  const rowsBefore = countRows.get() as number;
  const rowsTarget = rowsBefore + TELEMETRY;
  const publishEnded = new AbortController();
  const indices = Array.from({ length: TELEMETRY }, (_, i) => i);
  const ingestCpuMeter = cpuMeter(pid);
  const ingestStart = performance.now();
  const rowsLanded = (async () => {
    // Polls until the rows are in, the 60 s bound passes, or publishing has failed.
    while (performance.now() - ingestStart < 60_000 && !publishEnded.signal.aborted) {
      if ((countRows.get() as number) >= rowsTarget) return performance.now();
      await sleep(20);
    }
    throw new Error(`telemetry rows: ${(countRows.get() as number) - rowsBefore} of ${TELEMETRY} landed`);
  })();
  // Awaited below; until then a failure must not surface as an unhandled rejection.
  rowsLanded.catch(() => undefined);
  let ingestAckedMs: number;
  try {
    await withTimeout(
      mapLimit(indices, IN_FLIGHT, (i) =>
        (sims[i % sims.length] as SimulatedFeeder).sendTelemetry(telemetrySample(i), 1),
      ),
      60_000,
      "telemetry PUBACKs",
    );
    ingestAckedMs = performance.now() - ingestStart;
  } catch (err) {
    publishEnded.abort();
    throw err;
  }
  const ingestMs = (await rowsLanded) - ingestStart;
  const ingestCpu = ingestCpuMeter();
  memAfter("telemetry");
  const ingestMsgPerSec = (TELEMETRY / ingestMs) * 1000;
  progress(
    `telemetry: ${TELEMETRY} rows in ${ingestMs.toFixed(0)} ms = ${ingestMsgPerSec.toFixed(0)} msg/s (PUBACKs after ${ingestAckedMs.toFixed(0)} ms); ${cpuText(ingestCpu)}`,
  );

  // --- Raw broker baseline, same messages, same in-flight bound ---------------------------------------------
  const rawMessage = (i: number) => ({
    topic: `feedkeeper/${(sims[i % sims.length] as SimulatedFeeder).id}/telemetry`,
    payload: JSON.stringify(telemetrySample(i)),
  });
  const rawCpuMeter = cpuMeter(pid);
  const raw = await rawBrokerBaseline({
    messages: TELEMETRY,
    inFlight: IN_FLIGHT,
    publishers: 1,
    brokerThread: "bench",
    timeoutMs: 60_000,
    message: rawMessage,
  });
  const rawCpu = rawCpuMeter();
  const ingestRatio = ingestMsgPerSec / raw.msgPerSec;
  progress(
    `raw aedes, 1 publisher: ${TELEMETRY} messages in ${raw.ms.toFixed(0)} ms = ${raw.msgPerSec.toFixed(0)} msg/s; ${cpuText(rawCpu)}`,
  );
  const rawFleet = await rawBrokerBaseline({
    messages: TELEMETRY,
    inFlight: IN_FLIGHT,
    publishers: FEEDERS,
    brokerThread: "worker",
    timeoutMs: 60_000,
    message: rawMessage,
  });
  const fleetRatio = ingestMsgPerSec / rawFleet.msgPerSec;
  progress(
    `raw aedes, ${FEEDERS} publishers, broker on its own thread: ${rawFleet.msgPerSec.toFixed(0)} msg/s (${rawFleet.ms.toFixed(0)} ms)`,
  );

  // --- Idle memory with the fleet connected, after the feed and telemetry loads ------------------------------------------------------------------
  progress(`idling ${IDLE_MS / 1000} s`);
  await sleep(IDLE_MS);
  const memIdle = memAfter("idle");
  const rssIdleMiB = memIdle.rss;
  const stillConnected = sims.filter((s) => s.connected).length;

  // --- GET /api/feeders throughput with the whole fleet --------------------------------------------------------
  const fleetList = await listThroughput(server.httpUrl, authorization, pid);
  const memList = memAfter("list");
  progress(`GET /api/feeders, ${FEEDERS} feeders: ${listText(fleetList)}; ${cpuText(fleetList.cpu)}`);

  // --- Report ------------------------------------------------------------------------------------------------
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const feedPass = feedLatency.p99 <= TARGETS.feedP99Ms;
  const ingestPass = ingestRatio >= TARGETS.ingestRatio;
  const rssPass = rssIdleMiB <= TARGETS.idleRssMiB;
  const lines = [
    "",
    `Feedkeeper benchmark: ${FEEDERS} feeders, node ${process.version}, ${os.cpus().length} CPUs, data dir on ${os.tmpdir()}`,
    "-".repeat(100),
    `cold start to ready:           ${coldStartMs.toFixed(0)} ms spawn to "feedkeeper ready" (server's own startupMs ${startupMs ?? "?"})`,
    `feed latency (${FEEDERS} feeders, ${FEEDS} sequential): p50 ${ms(feedLatency.p50)}  p99 ${ms(feedLatency.p99)}  max ${ms(feedLatency.max)}  [target p99 ≤ ${TARGETS.feedP99Ms} ms: ${pass(feedPass)}]`,
    `  POST response time:          p50 ${ms(feedResponse.p50)}  p99 ${ms(feedResponse.p99)}  max ${ms(feedResponse.max)}`,
    `telemetry ingest (${TELEMETRY} QoS 1, ${IN_FLIGHT} in flight): ${ingestMsgPerSec.toFixed(0)} msg/s (${ms(ingestMs)} to all rows in SQLite; PUBACKs after ${ms(ingestAckedMs)})`,
    `raw aedes baseline (same N and in-flight): ${raw.msgPerSec.toFixed(0)} msg/s (${ms(raw.ms)}; PUBACKs after ${ms(raw.ackedMs)})`,
    `ingest / raw:                  ${ingestRatio.toFixed(2)}  [target ≥ ${TARGETS.ingestRatio}: ${pass(ingestPass)}]`,
    `  context: raw aedes with ${FEEDERS} publishers (broker on its own thread): ${rawFleet.msgPerSec.toFixed(0)} msg/s; ingest / that: ${fleetRatio.toFixed(2)}`,
    `idle memory, empty:            ${memText(memEmpty)}`,
    `idle memory, ${FEEDERS} connected: ${memText(memIdle)} after ${IDLE_MS / 1000} s idle (${stillConnected} still connected)  [target RSS ≤ ${TARGETS.idleRssMiB} MiB: ${pass(rssPass)}]`,
    `  after the list load below:   ${memText(memList)}`,
    `GET /api/feeders, ${HOME_FEEDERS} feeders (${LIST_LOOPS} loops, ${LIST_MS / 1000} s): ${listText(homeList)}`,
    `GET /api/feeders, ${FEEDERS + HOME_FEEDERS} feeders (${LIST_LOOPS} loops, ${LIST_MS / 1000} s): ${listText(fleetList)}`,
    `RSS after each phase (MiB): ${memTrail.map(({ after, mem }) => `${after} ${mem.rss.toFixed(0)}`).join(" → ")}`,
    `setup: create ${FEEDERS} feeders ${createMs.toFixed(0)} ms; connect ${connectMs.toFixed(0)} ms; all online in API ${onlineMs.toFixed(0)} ms; just after connect ${memText(memConnected)}`,
    "",
  ];
  console.log(lines.join("\n"));

  const memJson = (m: ProcessMemory) => ({
    rss: round(m.rss, 1),
    anon: round(m.anon, 1),
    file: round(m.file, 1),
  });
  return {
    config: {
      feeders: FEEDERS,
      feeds: FEEDS,
      warmupFeeds: WARMUP_FEEDS,
      telemetryMessages: TELEMETRY,
      inFlight: IN_FLIGHT,
      logLevel: LOG_LEVEL,
      serverNodeOptions: serverNodeOptions ?? null,
      dispenseMsPerPortion: DISPENSE_MS_PER_PORTION,
    },
    coldStart: { spawnToReadyMs: round(coldStartMs), serverStartupMs: startupMs },
    setup: {
      createFeedersMs: round(createMs),
      connectFeedersMs: round(connectMs),
      allOnlineMs: round(onlineMs),
    },
    feedLatencyMs: summaryJson(feedLatency),
    feedCpu,
    feedResponseMs: summaryJson(feedResponse),
    feedOutcomes,
    telemetryIngest: {
      messages: TELEMETRY,
      ms: round(ingestMs),
      ackedMs: round(ingestAckedMs),
      msgPerSec: round(ingestMsgPerSec, 0),
      cpu: ingestCpu,
    },
    rawBroker: {
      ms: round(raw.ms),
      ackedMs: round(raw.ackedMs),
      msgPerSec: round(raw.msgPerSec, 0),
      benchCpuPct: rawCpu.benchPct,
    },
    rawBrokerFleetShape: {
      publishers: FEEDERS,
      ms: round(rawFleet.ms),
      ackedMs: round(rawFleet.ackedMs),
      msgPerSec: round(rawFleet.msgPerSec, 0),
      ingestRatio: round(fleetRatio, 3),
    },
    ingestRatio: round(ingestRatio, 3),
    memoryMiB: Object.fromEntries(memTrail.map(({ after, mem }) => [after, memJson(mem)])),
    listFeeders: { loops: LIST_LOOPS, home: listJson(homeList), fleet: listJson(fleetList) },
    targets: {
      feedP99Ms: { target: TARGETS.feedP99Ms, pass: feedPass },
      ingestRatio: { target: TARGETS.ingestRatio, pass: ingestPass },
      idleRssMiB: { target: TARGETS.idleRssMiB, pass: rssPass },
    },
  };
}

/**
 * Meals due together for a whole fleet: the spread of their dispatch, and the exactly-once checks. A failed
 * check is a broken server, not a missed target: it fails the run.
 */
async function mealSection(): Promise<Record<string, unknown>> {
  progress(`meals section: ${MEAL_FEEDERS} feeders × ${MEALS_PER_FEEDER} meals due in the same minute`);
  const r = await mealDispatchBench({ feeders: MEAL_FEEDERS, mealsPerFeeder: MEALS_PER_FEEDER, progress });
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const spreadPass = r.spread !== null && r.spread.max <= TARGETS.mealDispatchMaxMs;
  const onceOk = r.checks.every((c) => c.ok);
  const lines = [
    "",
    `Meal dispatch: ${r.feeders} feeders × ${r.mealsPerFeeder} meals due at the same instant (${r.occurrences} occurrences); real scheduler, feed service and SQLite, no MQTT`,
    "-".repeat(100),
    r.spread
      ? `dispatch spread, tick start → command handed to the sender: p50 ${ms(r.spread.p50)}  p99 ${ms(r.spread.p99)}  max ${ms(r.spread.max)}  (first ${ms(r.spread.min)})  [target max ≤ ${TARGETS.mealDispatchMaxMs} ms: ${pass(spreadPass)}]`
      : `dispatch spread: nothing was handed to the sender  [target max ≤ ${TARGETS.mealDispatchMaxMs} ms: FAIL]`,
    `  the tick: ${ms(r.tickMs)} in all, of which its one transaction (${r.occurrences} occurrences and their feeds) ${ms(r.transactionMs)}; ${r.sent} commands handed over`,
    `  all feeds marked sent in the ledger: ${r.ledgerSentMs === null ? "not within the bound" : `${ms(r.ledgerSentMs)} after the tick started`}`,
    `  on a real clock the scheduler times its tick to the next due instant, so tick start ≈ due instant`,
    `exactly once: ${onceOk ? "PASS" : "FAIL"}`,
    ...r.checks.map((c) => `  ${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`),
    `setup: ${r.feeders} feeders and their plans through the services in one transaction ${ms(r.setupMs)}; scheduler start ${ms(r.schedulerStartMs)}`,
    "",
  ];
  console.log(lines.join("\n"));
  const results = {
    config: { feeders: r.feeders, mealsPerFeeder: r.mealsPerFeeder, occurrences: r.occurrences },
    setupMs: round(r.setupMs),
    schedulerStartMs: round(r.schedulerStartMs),
    tickMs: round(r.tickMs),
    transactionMs: round(r.transactionMs),
    sent: r.sent,
    spreadMs: r.spread ? summaryJson(r.spread) : null,
    ledgerSentMs: r.ledgerSentMs === null ? null : round(r.ledgerSentMs),
    restartSchedulerStartMs: round(r.restartStartMs),
    checks: r.checks,
    targets: { dispatchMaxMs: { target: TARGETS.mealDispatchMaxMs, pass: spreadPass } },
  };
  if (!onceOk) {
    writeResults({ mealDispatch: results });
    throw new Error("meal dispatch: a meal was not dispatched exactly once (see the checks above)");
  }
  return results;
}

function writeResults(sections: Record<string, unknown>): void {
  const results = {
    at: new Date().toISOString(),
    environment: { node: process.version, cpus: os.cpus().length, platform: process.platform },
    sections: [...SECTIONS],
    ...sections,
  };
  fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  progress(`wrote ${path.relative(ROOT, RESULTS_FILE)}`);
}

async function main(): Promise<void> {
  progress(`node ${process.version}, ${os.cpus().length} CPUs; sections: ${[...SECTIONS].join(", ")}`);
  // Meals first: in this process, before the server and its 1,000 simulated feeders exist.
  const meals = SECTIONS.has("meals") ? { mealDispatch: await mealSection() } : {};
  const server = SECTIONS.has("server") ? await serverSection() : {};
  writeResults({ ...server, ...meals });
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  console.error("benchmark failed:", err);
  exitCode = 1;
}
progress("cleaning up");
await cleanup(true);
progress("done");
// mqtt.js reconnect timers or keep-alive sockets must not keep a finished benchmark alive.
process.exit(exitCode);
