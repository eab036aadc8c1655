/**
 * S12 (secrets at rest and in logs, ETSI 5.4-1/3/4) and the secret-leak half of S4 (OWASP API3), against the
 * built server run as a child process the way a user runs it, at debug level, with MQTTS on so it makes its
 * own TLS identity. A short realistic flow: first-run setup, an API token, a feeder that connects and is fed,
 * a failed device login, a member whose password is changed, a failed sign-in. Then:
 * - no secret (passwords old and new, wrong guesses, the API token, the feeder's MQTT password, session
 *   cookies) is in the server's whole output, stdout and stderr, JSON or not;
 * - no JSON response carries a secret or a key named like pass/secret/hash/token, except the two documented
 *   one-time answers: `token` of POST /api/tokens and `credentials.password` of POST /api/feeders;
 * - the data directory and DATA_DIR/tls are 700 and every file in them (database, WAL, TLS key) 600 or
 *   stricter. The certificate is public and may be readable by others.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimulatedFeeder } from "../../server/src/sim/native-feeder.js";
import { makeDataDir, SERVER_ENTRY, SERVER_NODE_FLAGS } from "../helpers/server.js";

const SECRETS = {
  ownerPassword: "owner pass phrase 7Kq",
  userPassword: "member first pass 3Xz",
  userNewPassword: "member second pass 9Wv",
  wrongPassword: "a wrong guess of 5Tn",
  wrongMqttPassword: "wrong-device-secret-8Lm",
};
/** Keys that must not be in a response, wherever they are nested. */
const SECRET_KEY = /pass|secret|hash|token/i;

let child: ChildProcess;
let output = "";
let exited: Promise<number | null>;
let dataDir: string;
let baseUrl: string;
let mqttUrl: string;
const responses: Array<{ call: string; body: unknown }> = [];
/** Filled in by the flow: the values the server issued. */
const issued = { token: "", feederPassword: "", ownerCookie: "", userCookie: "", userNewCookie: "" };

beforeAll(async () => {
  if (!fs.existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run \`npm run build\``);
  dataDir = makeDataDir();
  child = spawn(process.execPath, [...SERVER_NODE_FLAGS, SERVER_ENTRY], {
    env: {
      PATH: process.env.PATH ?? "",
      FEEDKEEPER_DATA_DIR: dataDir,
      FEEDKEEPER_HTTP_PORT: "0",
      FEEDKEEPER_MQTT_PORT: "0",
      FEEDKEEPER_MQTTS_PORT: "0",
      FEEDKEEPER_BIND: "127.0.0.1",
      FEEDKEEPER_LOG_LEVEL: "debug",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const ready = await new Promise<{ httpPort: number; mqttPort: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in 15 s\n${output}`)), 15_000);
    child.once("exit", (code) => reject(new Error(`server exited with ${code}\n${output}`)));
    child.stdout?.on("data", (d: Buffer) => {
      output += d.toString();
      for (const line of output.split("\n")) {
        if (!line.includes('"feedkeeper ready"')) continue;
        clearTimeout(timer);
        resolve(JSON.parse(line));
        return;
      }
    });
  });
  baseUrl = `http://127.0.0.1:${ready.httpPort}`;
  mqttUrl = `mqtt://127.0.0.1:${ready.mqttPort}`;
}, 30_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** A call to the API; every JSON answer is kept for the checks. */
async function call<T = any>(
  method: string,
  p: string,
  options: { body?: unknown; token?: string; cookie?: string } = {},
): Promise<{ status: number; body: T; cookie: string }> {
  const res = await fetch(`${baseUrl}${p}`, {
    method,
    headers: {
      origin: baseUrl,
      ...(options.body !== undefined && { "content-type": "application/json" }),
      ...(options.token && { authorization: `Bearer ${options.token}` }),
      ...(options.cookie && { cookie: options.cookie }),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  const body = text ? JSON.parse(text) : undefined;
  responses.push({ call: `${method} ${p} → ${res.status}`, body });
  return { status: res.status, body, cookie: (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "" };
}

/**
 * Paths of keys named like a secret that hold a value, e.g. `credentials.password`. A key that holds an object
 * or a list (`apiToken`, `apiTokens`: a token's id, name and dates) is a record about a secret, not one: what
 * it holds is checked in turn.
 */
function secretKeys(value: unknown, at = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => secretKeys(v, `${at}[${i}]`));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, v]) => {
    const here = at ? `${at}.${key}` : key;
    const holdsValue = v === null || typeof v !== "object";
    return [...(SECRET_KEY.test(key) && holdsValue ? [here] : []), ...secretKeys(v, here)];
  });
}

/** The documented one-time answers, and the only places a secret may be. */
function allowedKeys(callName: string): string[] {
  if (/^POST \/api\/tokens → 201$/.test(callName)) return ["token"];
  if (/^POST \/api\/feeders → 201$/.test(callName)) return ["credentials.password"];
  return [];
}

/** The value (a cookie's, for a `name=value` pair). */
const cookieValue = (cookie: string) => cookie.slice(cookie.indexOf("=") + 1);

describe("S12: secrets stay out of responses, logs and readable files", () => {
  it("runs a realistic flow", { timeout: 30_000 }, async () => {
    const setup = await call("POST", "/api/setup", {
      body: { username: "owner", password: SECRETS.ownerPassword },
    });
    expect(setup.status).toBe(201);
    issued.ownerCookie = setup.cookie;
    const token = await call<{ token: string }>("POST", "/api/tokens", {
      body: { name: "scripts" },
      cookie: issued.ownerCookie,
    });
    expect(token.status).toBe(201);
    issued.token = token.body.token;
    const auth = { token: issued.token };

    const added = await call<{ feeder: { id: string }; credentials: { username: string; password: string } }>(
      "POST",
      "/api/feeders",
      { ...auth, body: { name: "Kitchen", profile: "feedkeeper" } },
    );
    expect(added.status).toBe(201);
    issued.feederPassword = added.body.credentials.password;
    const feederId = added.body.feeder.id;

    // A device with a wrong password first: its refusal must not log what it tried.
    const wrong = mqtt.connect(mqttUrl, {
      protocolVersion: 4,
      clientId: feederId,
      username: feederId,
      password: SECRETS.wrongMqttPassword,
      reconnectPeriod: 0,
    });
    await new Promise<void>((resolve) => {
      wrong.once("error", () => resolve());
      wrong.once("close", () => resolve());
    });
    wrong.end(true);

    const sim = new SimulatedFeeder({
      url: mqttUrl,
      id: added.body.credentials.username,
      password: issued.feederPassword,
      dispenseMsPerPortion: 10,
    });
    await sim.start();
    try {
      const fed = await call<{ feed: { id: string } }>("POST", `/api/feeders/${feederId}/feeds`, {
        ...auth,
        body: { portions: 1 },
      });
      expect(fed.status).toBe(202);
      const deadline = Date.now() + 10_000;
      while ((await call("GET", `/api/feeds/${fed.body.feed.id}`, auth)).body.feed.status !== "dispensed") {
        if (Date.now() > deadline) throw new Error("the feed was never dispensed");
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await sim.stop();
    }

    const user = await call("POST", "/api/users", {
      ...auth,
      body: { username: "mia", password: SECRETS.userPassword, role: "member" },
    });
    expect(user.status).toBe(201);
    const signedIn = await call("POST", "/api/session", {
      body: { username: "mia", password: SECRETS.userPassword },
    });
    expect(signedIn.status).toBe(200);
    issued.userCookie = signedIn.cookie;
    const changed = await call("POST", "/api/users/me/password", {
      cookie: issued.userCookie,
      body: { currentPassword: SECRETS.userPassword, newPassword: SECRETS.userNewPassword },
    });
    expect(changed.status).toBe(204);
    const failed = await call("POST", "/api/session", {
      body: { username: "mia", password: SECRETS.wrongPassword },
    });
    expect(failed.status).toBe(401);
    const again = await call("POST", "/api/session", {
      body: { username: "mia", password: SECRETS.userNewPassword },
    });
    expect(again.status).toBe(200);
    issued.userNewCookie = again.cookie;

    // What a client reads back afterwards.
    for (const p of [
      "/api/session",
      "/api/users",
      "/api/users/me/sessions",
      "/api/tokens",
      "/api/feeders",
      `/api/feeders/${feederId}`,
      `/api/feeders/${feederId}/feeds`,
      "/api/audit",
      "/api/connection-log",
    ])
      expect((await call("GET", p, auth)).status, p).toBe(200);

    for (const [name, value] of Object.entries(issued)) expect(value, name).not.toBe("");
  });

  // The built server also serves the web UI, whose catch-all GET route once decided members' and sitters'
  // permissions (403 "GET /*" on every API read); in-process servers serve no UI and did not show it.
  it("lets a member read back its own session and sessions (their answers are checked below)", async () => {
    for (const p of ["/api/session", "/api/users/me/sessions", "/api/feeders"]) {
      const res = await call("GET", p, { cookie: issued.userNewCookie });
      expect(res.status, `${p}: ${JSON.stringify(res.body)}`).toBe(200);
    }
  });

  it("returns no secret and no secret-named key but the documented one-time ones", () => {
    expect(responses.length).toBeGreaterThan(15);
    const secrets = [
      ...Object.values(SECRETS),
      issued.token,
      issued.feederPassword,
      ...[issued.ownerCookie, issued.userCookie, issued.userNewCookie].map(cookieValue),
    ];
    const leaks: string[] = [];
    for (const { call: name, body } of responses) {
      const allowed = allowedKeys(name);
      for (const key of secretKeys(body)) if (!allowed.includes(key)) leaks.push(`${name}: key ${key}`);
      let text = JSON.stringify(body ?? null);
      // The one-time answers hold exactly their own secret, once.
      if (allowed.includes("token")) text = text.replace(issued.token, "");
      if (allowed.includes("credentials.password")) text = text.replace(issued.feederPassword, "");
      for (const secret of secrets) if (text.includes(secret)) leaks.push(`${name}: a secret's value`);
    }
    expect(leaks).toEqual([]);
  });

  it("logs no secret, whatever the level", async () => {
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    // The flow was logged at all (else this proves nothing), including the refusal and the failed sign-in.
    expect(output.split("\n").length).toBeGreaterThan(20);
    expect(output).toContain("refused MQTT connection");
    const secrets = {
      ...SECRETS,
      ...issued,
      ownerCookie: cookieValue(issued.ownerCookie),
      userCookie: cookieValue(issued.userCookie),
      userNewCookie: cookieValue(issued.userNewCookie),
    };
    for (const [name, secret] of Object.entries(secrets))
      expect(output.includes(secret), `${name} is in the server's output`).toBe(false);
  });

  it("keeps the data directory and every file in it private", () => {
    const mode = (p: string) => fs.statSync(p).mode & 0o777;
    expect(mode(dataDir).toString(8)).toBe("700");
    const dirs = [dataDir];
    const tls = path.join(dataDir, "tls");
    expect(fs.existsSync(tls), "MQTTS is on, so the server made its TLS identity").toBe(true);
    dirs.push(tls);
    const checked: string[] = [];
    for (const dir of dirs) {
      expect(mode(dir).toString(8), dir).toBe("700");
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          expect(mode(file).toString(8), file).toBe("700");
          continue;
        }
        // A certificate is public by design; everything else (database, WAL, private key) is not.
        if (/cert/i.test(entry.name)) continue;
        expect(mode(file) & 0o077, `${file} is mode ${mode(file).toString(8)}`).toBe(0);
        checked.push(entry.name);
      }
    }
    expect(checked).toContain("feedkeeper.db");
    expect(checked.some((name) => /key/i.test(name))).toBe(true);
  });
});
