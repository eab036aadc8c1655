// The owner's side of scripts/test-container.sh: talks to a Feedkeeper running in a container only through
// its published ports, as an owner and a feeder would. One step per run; what later steps need (the API token,
// the feeders' credentials, the feeds) is kept in a JSON state file.
//
//   node scripts/container-smoke.mjs setup <http url> <state.json>    first-run setup, an API token, two feeders
//   node scripts/container-smoke.mjs feed  <http url> <mqtt url> <state.json> <label>
//                                          the simulator (npm run simulate) as feeder "kitchen", one feed until
//                                          it is dispensed
//   node scripts/container-smoke.mjs watch <mqtt url> <state.json>    as feeder "watcher", prints each message
//                                          on feedkeeper/server/status until killed
//   node scripts/container-smoke.mjs check <http url> <state.json>    both feeders and every feed still there
//   node scripts/container-smoke.mjs signin <http url> <user> <password>   that password signs in
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import mqtt from "mqtt";

const OWNER = { username: "owner", password: "container smoke test password" };
const SERVER_STATUS_TOPIC = "feedkeeper/server/status";

function readState(file) {
  return JSON.parse(readFileSync(file, "utf8"));
}

function writeState(file, state) {
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function api(base, token, method, path, body, headers = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body !== undefined && { "content-type": "application/json" }),
      ...(token && { authorization: `Bearer ${token}` }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, body: json, headers: res.headers };
}

function expectStatus(res, status, what) {
  if (res.status !== status) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Polls until `probe` returns a value, or fails after `timeoutMs` saying what it waited for. */
async function waitFor(what, timeoutMs, probe) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await probe();
    if (last.done) return last.value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${last.seen}`);
    await sleep(100);
  }
}

async function setup(base, stateFile) {
  // First run: the owner account, as README's API section does it (an Origin header, a session cookie).
  const origin = { origin: base };
  const created = await api(base, undefined, "POST", "/api/setup", OWNER, origin);
  expectStatus(created, 201, "POST /api/setup");
  const cookie = (created.headers.get("set-cookie") ?? "").split(";")[0];
  const again = await api(base, undefined, "POST", "/api/setup", OWNER, origin);
  if (again.status < 400) throw new Error(`a second POST /api/setup was accepted (HTTP ${again.status})`);
  const token = expectStatus(
    await api(base, undefined, "POST", "/api/tokens", { name: "container test" }, { cookie, ...origin }),
    201,
    "POST /api/tokens",
  ).token;
  const feeders = {};
  for (const name of ["kitchen", "watcher"]) {
    const body = expectStatus(
      // No minimum time between feeds: the test feeds again soon after a restart.
      await api(base, token, "POST", "/api/feeders", {
        name,
        profile: "feedkeeper",
        minFeedIntervalSeconds: 0,
      }),
      201,
      "POST /api/feeders",
    );
    feeders[name] = { id: body.feeder.id, password: body.credentials.password };
  }
  writeState(stateFile, { token, feeders, feeds: [] });
  console.log(
    `owner set up, API token issued, feeders ${feeders.kitchen.id} and ${feeders.watcher.id} added`,
  );
}

async function feed(base, mqttUrl, stateFile, label) {
  const state = readState(stateFile);
  const { id, password } = state.feeders.kitchen;
  const started = Date.now();
  // The simulator exactly as README's "Connect a feeder" runs it, through the container's published port.
  const sim = spawn(
    process.execPath,
    [
      "node_modules/tsx/dist/cli.mjs",
      "server/src/sim/cli.ts",
      "--url",
      mqttUrl,
      "--id",
      id,
      "--password",
      password,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const simOutput = [];
  const collect = (chunk) => {
    for (const line of chunk.toString().split("\n")) if (line.trim()) simOutput.push(line.trim());
  };
  sim.stdout.on("data", collect);
  sim.stderr.on("data", collect);
  const exited = new Promise((resolve) => sim.once("exit", resolve));
  try {
    await waitFor("the simulated feeder to be online", 30_000, async () => {
      if (sim.exitCode !== null) throw new Error(`the simulator exited: ${simOutput.join(" | ")}`);
      const { body } = await api(base, state.token, "GET", `/api/feeders/${id}`);
      return { done: body?.feeder?.online === true, seen: `online=${body?.feeder?.online}` };
    });
    const online = Date.now();
    const requested = expectStatus(
      await api(
        base,
        state.token,
        "POST",
        `/api/feeders/${id}/feeds`,
        { portions: 2 },
        { "idempotency-key": label },
      ),
      202,
      "POST /api/feeders/{id}/feeds",
    ).feed;
    const fed = await waitFor(`feed ${requested.id} to be dispensed`, 20_000, async () => {
      const { body } = await api(base, state.token, "GET", `/api/feeds/${requested.id}`);
      const status = body?.feed?.status;
      if (["failed", "expired", "timed_out"].includes(status))
        throw new Error(`feed ${requested.id} ${status}`);
      return { done: status === "dispensed", value: body?.feed, seen: status };
    });
    state.feeds.push({ id: fed.id, label, status: fed.status });
    writeState(stateFile, state);
    console.log(
      `feeder ${id} online after ${online - started} ms; feed ${fed.id} (${label}) dispensed ${Date.now() - online} ms after it was asked for`,
    );
    console.log(`simulator: ${simOutput.join(" | ")}`);
  } finally {
    sim.kill("SIGTERM");
    await Promise.race([exited, sleep(3000)]);
    if (sim.exitCode === null) sim.kill("SIGKILL");
  }
}

async function watch(mqttUrl, stateFile) {
  const { id, password } = readState(stateFile).feeders.watcher;
  const client = mqtt.connect(mqttUrl, {
    clientId: id,
    username: id,
    password,
    protocolVersion: 4,
    reconnectPeriod: 250,
    connectTimeout: 5000,
  });
  const say = (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  // Reconnect attempts while the server is down are not news: only changes are printed.
  let connected = false;
  client.on("connect", () => {
    connected = true;
    say("connected");
    client.subscribe(SERVER_STATUS_TOPIC, { qos: 1 });
  });
  client.on("close", () => {
    if (connected) say("disconnected");
    connected = false;
  });
  client.on("message", (topic, payload) => say(`${topic} ${payload.toString()}`));
  client.on("error", (err) => {
    if (connected) say(`error ${err.message}`);
  });
  await new Promise((resolve) => process.once("SIGTERM", resolve));
  client.end(true);
}

async function signin(base, username, password) {
  expectStatus(
    await api(base, undefined, "POST", "/api/session", { username, password }, { origin: base }),
    200,
    "POST /api/session",
  );
  console.log(`${username} signs in with the new password`);
}

async function check(base, stateFile) {
  const state = readState(stateFile);
  expectStatus(await api(base, undefined, "GET", "/api/health"), 200, "GET /api/health");
  const again = await api(base, undefined, "POST", "/api/setup", OWNER, { origin: base });
  if (again.status < 400)
    throw new Error(`POST /api/setup was accepted after the restart (HTTP ${again.status})`);
  const list = expectStatus(await api(base, state.token, "GET", "/api/feeders"), 200, "GET /api/feeders");
  const ids = (list.feeders ?? []).map((f) => f.id).sort();
  const expected = Object.values(state.feeders)
    .map((f) => f.id)
    .sort();
  if (JSON.stringify(ids) !== JSON.stringify(expected)) {
    throw new Error(`feeders after the restart: ${ids.join(", ")}; expected ${expected.join(", ")}`);
  }
  for (const f of state.feeds) {
    const got = expectStatus(
      await api(base, state.token, "GET", `/api/feeds/${f.id}`),
      200,
      `GET /api/feeds/${f.id}`,
    );
    if (got.feed.status !== f.status) throw new Error(`feed ${f.id} is ${got.feed.status}, was ${f.status}`);
  }
  const history = expectStatus(
    await api(base, state.token, "GET", `/api/feeders/${state.feeders.kitchen.id}/feeds`),
    200,
    "GET /api/feeders/{id}/feeds",
  );
  const listed = new Set((history.feeds ?? []).map((f) => f.id));
  const missing = state.feeds.filter((f) => !listed.has(f.id));
  if (missing.length > 0)
    throw new Error(`feeds missing from the feeder's history: ${missing.map((f) => f.id)}`);
  console.log(
    `the API token still works; feeders ${ids.join(", ")} and feeds ${state.feeds.map((f) => `${f.id} ${f.status}`).join(", ")} are there`,
  );
}

const [command, ...args] = process.argv.slice(2);
const commands = { setup, feed, watch, check, signin };
if (!Object.hasOwn(commands, command ?? "")) {
  console.error("usage: container-smoke.mjs setup|feed|watch|check|signin …");
  process.exit(2);
}
try {
  await commands[command](...args);
  process.exit(0);
} catch (err) {
  console.error(`container-smoke ${command}: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
}
