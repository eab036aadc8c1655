/**
 * The yardstick for telemetry ingest: a bare aedes broker, mqtt.js publishers and one subscriber, the same
 * messages and the same in-flight bound as the feeders publishing to the real server. What the server adds on
 * top (authentication, ACL, frame guard, validation, SQLite) shows as the ratio.
 *
 * Two shapes: the reference is one publisher with the broker in this process. One connection lets both sides
 * batch many packets per read and write, which 1,000 feeders with a message or two in flight each cannot, so
 * the fleet shape (one connection per feeder, broker on its own thread as the server has its own process) is
 * measured too, to tell the cost of the connection shape from the cost of the server.
 */
import { createRequire } from "node:module";
import net from "node:net";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { Aedes } from "aedes";
import mqtt, { type MqttClient } from "mqtt";
import { mapLimit, withTimeout } from "./util.js";

export interface RawBaselineOptions {
  messages: number;
  inFlight: number;
  /** Publisher connections; message i goes out on connection i mod publishers. */
  publishers: number;
  /** "bench": the broker shares this thread with the clients; "worker": it gets a thread of its own. */
  brokerThread: "bench" | "worker";
  /** Topic and payload of message i, so the baseline carries what the feeders publish. */
  message: (i: number) => { topic: string; payload: string };
  timeoutMs: number;
}

export interface RawBaselineResult {
  /** Publish start until the subscriber has every message. */
  ms: number;
  msgPerSec: number;
  /** Publish start until the publishers have every PUBACK. */
  ackedMs: number;
}

interface RunningBroker {
  port: number;
  close(): Promise<void>;
}

const CONNECT_CONCURRENCY = 50;

async function brokerInThisThread(): Promise<RunningBroker> {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("raw broker has no TCP address");
  return {
    port: address.port,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

/** Plain JavaScript, so the worker needs no TypeScript loader; aedes is an ES module, hence the import(). */
const WORKER_SOURCE = `
const net = require("node:net");
const { parentPort, workerData } = require("node:worker_threads");
import(workerData.aedesUrl).then(async ({ Aedes }) => {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  server.listen(0, "127.0.0.1", () => parentPort.postMessage({ port: server.address().port }));
  parentPort.once("message", () => server.close(() => broker.close(() => parentPort.close())));
});
`;

async function brokerInWorker(): Promise<RunningBroker> {
  const aedesUrl = pathToFileURL(createRequire(import.meta.url).resolve("aedes")).href;
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { aedesUrl } });
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  try {
    const { port } = await withTimeout(
      new Promise<{ port: number }>((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      }),
      10_000,
      "raw broker worker to listen",
    );
    return {
      port,
      async close() {
        worker.postMessage("close");
        await withTimeout(exited, 5000, "raw broker worker to exit").catch(() => worker.terminate());
      },
    };
  } catch (err) {
    await worker.terminate();
    throw err;
  }
}

export async function rawBrokerBaseline(options: RawBaselineOptions): Promise<RawBaselineResult> {
  const broker = options.brokerThread === "worker" ? await brokerInWorker() : await brokerInThisThread();
  const clients: MqttClient[] = [];
  try {
    const url = `mqtt://127.0.0.1:${broker.port}`;
    const connect = async (clientId: string) => {
      const client = await mqtt.connectAsync(url, {
        protocolVersion: 4,
        clientId,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      });
      clients.push(client);
      return client;
    };
    const subscriber = await connect("bench-raw-sub");
    const publishers = await withTimeout(
      mapLimit(
        Array.from({ length: options.publishers }, (_, i) => i),
        CONNECT_CONCURRENCY,
        (i) => connect(`bench-raw-pub-${i}`),
      ),
      60_000,
      `${options.publishers} raw publishers to connect`,
    );

    let received = 0;
    let resolveAll: (at: number) => void = () => {};
    const allReceived = new Promise<number>((resolve) => {
      resolveAll = resolve;
    });
    subscriber.on("message", () => {
      received++;
      if (received === options.messages) resolveAll(performance.now());
    });
    // A shared wildcard: one subscription sees every feeder's telemetry, as the server's bridge does.
    await subscriber.subscribeAsync("feedkeeper/+/telemetry", { qos: 1 });

    const indices = Array.from({ length: options.messages }, (_, i) => i);
    const start = performance.now();
    await withTimeout(
      mapLimit(indices, options.inFlight, async (i) => {
        const { topic, payload } = options.message(i);
        await (publishers[i % publishers.length] as MqttClient).publishAsync(topic, payload, { qos: 1 });
      }),
      options.timeoutMs,
      "raw broker publishes acknowledged",
    );
    const acked = performance.now();
    const done = await withTimeout(
      allReceived,
      options.timeoutMs,
      `raw broker subscriber to receive ${options.messages} messages (has ${received})`,
    );
    const ms = done - start;
    return { ms, msgPerSec: (options.messages / ms) * 1000, ackedMs: acked - start };
  } finally {
    await mapLimit(clients, 100, (c) => c.endAsync(true).catch(() => undefined));
    await broker.close();
  }
}
