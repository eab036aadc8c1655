/**
 * S2: brute force against web sign-in and MQTT CONNECT is throttled per account (or client id) at an
 * address and per address, and the right password keeps working.
 *
 * Every test client is on loopback, but Linux routes all of 127.0.0.0/8 there: binding the client's end of
 * the socket to 127.0.0.2, 127.0.0.3 … makes the server see distinct source addresses, so "the owner from
 * another address" is a real second address and not a trusted header (the server trusts none).
 *
 * Both throttles run on the injected FakeClock, so their waits are skipped by moving the clock.
 */
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Running } from "../../server/src/main.js";
import { FakeClock } from "../../server/src/testing/fake-clock.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";

const OWNER = "owner";
const PASSWORD = "a long enough password";

let dataDir: string;
let server: Running;
let api: TestApi;
const clock = new FakeClock();

beforeAll(async () => {
  dataDir = makeDataDir();
  ({ server, api } = await bootInProcess({ dataDir, clock }));
  await api.setupOwner(OWNER, PASSWORD);
});
afterAll(async () => {
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

interface LoginAnswer {
  status: number;
  retryAfter: string | undefined;
  body: { error?: { code: string; message: string } };
}

/** POST /api/session from a given loopback address. */
function login(username: string, password: string, from = "127.0.0.1"): Promise<LoginAnswer> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ username, password });
    const req = http.request(
      {
        host: "127.0.0.1",
        port: server.httpPort,
        localAddress: from,
        method: "POST",
        path: "/api/session",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers["retry-after"] as string | undefined,
            body: text ? JSON.parse(text) : {},
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("web sign-in (POST /api/session)", () => {
  it("answers 429 with Retry-After after 5 wrong passwords, without checking the password any more", async () => {
    const statuses: number[] = [];
    let throttledMs = 0;
    for (let i = 0; i < 50; i++) {
      const started = performance.now();
      const answer = await login(OWNER, `wrong guess ${i}`);
      statuses.push(answer.status);
      if (answer.status === 429) {
        throttledMs += performance.now() - started;
        expect(answer.retryAfter).toBe("1");
        expect(answer.body.error?.code).toBe("too_many_attempts");
        expect(answer.body.error?.message).toContain("try again in 1 s");
      }
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
    // 45 refusals that skip scrypt (~50 ms each) take a fraction of that.
    expect(throttledMs).toBeLessThan(45 * 20);
  });

  it("lets the owner in from another address at once, and from the attacked one once the lock ends", async () => {
    expect((await login(OWNER, PASSWORD, "127.0.0.2")).status).toBe(200);
    // Even the right password is refused, unchecked, from the locked account-and-address …
    expect((await login(OWNER, PASSWORD)).status).toBe(429);
    // … until the 1 s lock has passed: hammering it did not make it longer.
    clock.advance(1000);
    expect((await login(OWNER, PASSWORD)).status).toBe(200);
  });

  it("locks an address that guesses across many accounts (20 failures), and only that address", async () => {
    const from = "127.0.0.3";
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await login(`user${i}`, "guess", from)).status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(20);
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
    expect((await login(OWNER, PASSWORD, from)).status).toBe(429);
    expect((await login(OWNER, PASSWORD, "127.0.0.2")).status).toBe(200);
    clock.advance(1000);
    expect((await login(OWNER, PASSWORD, from)).status).toBe(200);
  });
});

describe("MQTT CONNECT", () => {
  let feeder: { username: string; password: string };
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    feeder = (await api.createFeeder("Kitchen")).credentials;
  });
  afterAll(() => {
    for (const c of clients) c.end(true);
  });

  /** One CONNECT from a given loopback address: "connected", or the CONNACK's refusal code. */
  function connect(password: string, from: string): Promise<number | "connected"> {
    return new Promise((resolve, reject) => {
      const client = new MqttClient(
        () => net.createConnection({ host: "127.0.0.1", port: server.mqttPort, localAddress: from }),
        {
          clientId: feeder.username,
          username: feeder.username,
          password,
          protocolVersion: 4,
          reconnectPeriod: 0,
          connectTimeout: 5000,
        },
      );
      client.once("connect", () => {
        clients.push(client);
        resolve("connected");
      });
      client.once("error", (err) => {
        client.end(true);
        const code = (err as { code?: unknown }).code;
        if (typeof code === "number") resolve(code);
        else reject(err);
      });
    });
  }

  it("refuses a feeder's CONNECTs with code 3 after 5 wrong passwords; the right one works from elsewhere", async () => {
    const from = "127.0.0.4";
    const started = performance.now();
    const codes: Array<number | "connected"> = [];
    for (let i = 0; i < 50; i++) codes.push(await connect(`wrong ${i}`, from));
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(codes.slice(0, 5)).toEqual([4, 4, 4, 4, 4]);
    expect(codes.filter((c) => c === 4)).toHaveLength(5);
    expect(codes.every((c) => c === 3 || c === 4)).toBe(true);

    const log = await api.request<{ entries: Array<{ detail: string; address: string | null }> }>(
      "GET",
      "/api/connection-log",
    );
    expect(log.body.entries.some((e) => e.detail.startsWith(`too many failed logins from ${from}`))).toBe(
      true,
    );

    // The feeder at its own address is not affected by the attack.
    expect(await connect(feeder.password, "127.0.0.1")).toBe("connected");
  });

  it("lets the right password in from the attacked address too once the lock ends", async () => {
    const from = "127.0.0.4";
    expect(await connect(feeder.password, from)).toBe(3);
    // The lock doubled with each failure past the limit, to its cap: move the clock past it.
    clock.advance(15 * 60_000);
    expect(await connect(feeder.password, from)).toBe("connected");
  });
});
