/**
 * Changing the log level at run time, on the whole server in this process with its log captured: a child
 * logger the broker made at start writes debug lines once an owner asks for them, and the change is itself
 * logged and audited. Nobody else may change it.
 */
import fs from "node:fs";
import net from "node:net";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/src/config.js";
import { createLogger } from "../../server/src/logger.js";
import { type Running, start } from "../../server/src/main.js";
import { TestApi } from "../helpers/api.js";
import { makeDataDir } from "../helpers/server.js";

let dataDir: string;
let server: Running;
let api: TestApi;
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  dataDir = makeDataDir();
  const config = loadConfig({
    FEEDKEEPER_HTTP_PORT: "0",
    FEEDKEEPER_MQTT_PORT: "0",
    FEEDKEEPER_BIND: "127.0.0.1",
    FEEDKEEPER_DATA_DIR: dataDir,
    FEEDKEEPER_LOG_LEVEL: "info",
  });
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  server = await start(config, createLogger(config.logLevel, { format: "json", destination }));
  api = new TestApi(`http://127.0.0.1:${server.httpPort}`);
  await api.setupOwner("anna");
});

afterAll(async () => {
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** A CONNECT cut short: the broker closes the connection and says why at debug, from its own logger. */
async function sendGarbageToBroker(): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(server.mqttPort, "127.0.0.1", () =>
      socket.write(Buffer.from([0x10, 0x02, 0x00, 0x00])),
    );
    socket.on("close", () => resolve());
    socket.on("error", reject);
    socket.setTimeout(5000, () => socket.destroy());
  });
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const brokerDebug = () => lines.filter((l) => l.component === "broker" && l.level === 20);

describe("the server's log level", () => {
  it("starts at FEEDKEEPER_LOG_LEVEL", async () => {
    const res = await api.request("GET", "/api/server/log-level");
    expect(res).toMatchObject({ status: 200, body: { level: "info", configured: "info" } });
    await sendGarbageToBroker();
    // Give a debug line every chance to show up before saying it did not.
    await new Promise((r) => setTimeout(r, 200));
    expect(brokerDebug()).toHaveLength(0);
  });

  it("changes at once for loggers made before, is logged and audited", async () => {
    const res = await api.request("PUT", "/api/server/log-level", { level: "debug" });
    expect(res).toMatchObject({ status: 200, body: { level: "debug", configured: "info" } });
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: "log level changed", from: "info", to: "debug", by: "anna", level: 30 }),
    );
    await sendGarbageToBroker();
    await until("a debug line from the broker", () => brokerDebug().length > 0);
    expect((await api.request("GET", "/api/server/log-level")).body).toMatchObject({ level: "debug" });

    const audit = await api.request<{ entries: Array<{ action: string; outcome: string; actor: string }> }>(
      "GET",
      "/api/audit",
    );
    expect(audit.body.entries[0]).toMatchObject({
      action: "PUT /api/server/log-level",
      outcome: "200",
      actor: 'anna (token "tests")',
    });

    expect((await api.request("PUT", "/api/server/log-level", { level: "info" })).status).toBe(200);
    const before = brokerDebug().length;
    await sendGarbageToBroker();
    await new Promise((r) => setTimeout(r, 200));
    expect(brokerDebug()).toHaveLength(before);
  });

  it("takes only a known level and nothing else", async () => {
    for (const body of [{ level: "verbose" }, {}, { level: "debug", persist: true }]) {
      const res = await api.request("PUT", "/api/server/log-level", body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: { code: "validation_failed" } });
    }
    expect((await api.request("GET", "/api/server/log-level")).body).toMatchObject({ level: "info" });
  });

  it("is the owner's alone", async () => {
    expect((await fetch(`${api.baseUrl}/api/server/log-level`)).status).toBe(401);
    const created = await api.request("POST", "/api/users", {
      username: "member.m",
      password: "a long enough password",
      role: "member",
    });
    expect(created.status).toBe(201);
    const member = await api.signInAs("member.m", "a long enough password");
    const put = await member.request("PUT", "/api/server/log-level", { level: "debug" });
    expect(put).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    expect((await member.request("GET", "/api/server/log-level")).status).toBe(403);
    expect((await api.request("GET", "/api/server/log-level")).body).toMatchObject({ level: "info" });
  });
});
