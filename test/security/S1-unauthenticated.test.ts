/**
 * S1 (default credentials and unauthenticated access; ETSI EN 303 645 5.1-1, 5.5-4/5; OWASP IoT I1, I9):
 * every route the OpenAPI document lists, called without working credentials, on two real servers:
 *
 * - `fresh`: an empty database, never set up. No default account signs in, setup refuses a well-known
 *   password, and the embedded broker has no account at all: no CONNECT is accepted, with or without
 *   credentials.
 * - `home`: set up, with a feeder, a feed, a pet, a meal plan, users and tokens, so each private route is
 *   called with ids that exist: a 401 there is the sign-in check, not a 404 in disguise.
 *
 * Ways in that must not work: nothing; a made-up bearer token; HTTP Basic with the owner's real password;
 * a revoked, an expired token; the token of an account whose end date passed and of a deleted user; the
 * cookie of a signed-out session; a made-up cookie; a valid token in the query string. Each private route
 * answers 401 with exactly `{"error":{"code":"unauthorized","message"}}`, and nothing the calls asked for
 * happened. The public routes are exactly health, setup (both methods) and sign-in; the OpenAPI document and
 * the docs page are private too.
 *
 * The document itself needs sign-in, so it is read from `home` with the owner's token and swept on both.
 */
import fs from "node:fs";
import type mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Running } from "../../server/src/main.js";
import { FakeClock } from "../../server/src/testing/fake-clock.js";
import { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { connack as tryConnect } from "../helpers/mqtt-connack.js";
import { makeDataDir } from "../helpers/server.js";

const PASSWORD = "a long enough password";
const DAY_MS = 24 * 60 * 60 * 1000;

/** The routes anyone may call; everything else needs a user. */
const PUBLIC = ["GET /api/health", "GET /api/setup", "POST /api/setup", "POST /api/session"];
const UNAUTHORIZED_MESSAGES = [
  "Sign in or send an API token.",
  "The API token is unknown, revoked or expired.",
];

interface Route {
  method: string;
  path: string;
  key: string;
  public: boolean;
}

interface Booted {
  server: Running;
  api: TestApi;
  dataDir: string;
}

const clock = new FakeClock();
let fresh: Booted;
let home: Booted;
let routes: Route[];

/** Real ids on `home`, filled in by the setup below. */
const ids = { feeder: "", feed: "", pet: "", member: "", token: "", oneOff: "" };
/** Credentials that must not work on `home`. */
const dead = {
  revokedToken: "",
  expiredToken: "",
  endedAccountToken: "",
  deletedUserToken: "",
  signedOutCookie: "",
  liveOwnerToken: "",
};

async function boot(withClock?: FakeClock): Promise<Booted> {
  const dataDir = makeDataDir();
  const { server, api } = await bootInProcess({ dataDir, ...(withClock && { clock: withClock }) });
  return { server, api, dataDir };
}

async function signIn(baseUrl: string, username: string): Promise<string> {
  const res = await new TestApi(baseUrl).request("POST", "/api/session", { username, password: PASSWORD });
  expect(res.status).toBe(200);
  return (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
}

async function newToken(
  api: TestApi,
  body: Record<string, unknown> = {},
): Promise<{ id: string; token: string }> {
  const res = await api.request("POST", "/api/tokens", { name: "s1", ...body });
  expect(res.status).toBe(201);
  return { id: res.body.apiToken.id, token: res.body.token };
}

async function createUser(
  owner: TestApi,
  username: string,
  role: string,
  extra: object = {},
): Promise<string> {
  const res = await owner.request("POST", "/api/users", { username, password: PASSWORD, role, ...extra });
  expect(res.status).toBe(201);
  return res.body.user.id;
}

beforeAll(async () => {
  [fresh, home] = await Promise.all([boot(), boot(clock)]);
  const owner = home.api;
  await owner.setupOwner("owner", PASSWORD);
  dead.liveOwnerToken = owner.token ?? "";

  const { feeder } = await owner.createFeeder("Kitchen");
  ids.feeder = feeder.id;
  const fed = await owner.feed(feeder.id, { portions: 1 });
  expect(fed.status).toBe(202);
  ids.feed = fed.body.feed.id;
  ids.pet = (await owner.request("POST", "/api/pets", { name: "Miso" })).body.pet.id;
  expect(
    (
      await owner.request("PUT", `/api/feeders/${feeder.id}/schedule`, {
        meals: [
          {
            id: "breakfast",
            time: "07:30",
            days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            portions: 1,
          },
        ],
      })
    ).status,
  ).toBe(200);
  const oneOff = await owner.request("POST", `/api/feeders/${feeder.id}/schedule/one-offs`, {
    date: "2026-12-24",
    time: "18:00",
    portions: 1,
  });
  expect(oneOff.status).toBe(201);
  ids.oneOff = oneOff.body.oneOff.id;
  ids.member = await createUser(owner, "mia", "member");

  const revoked = await newToken(owner);
  expect((await owner.request("DELETE", `/api/tokens/${revoked.id}`)).status).toBe(204);
  dead.revokedToken = revoked.token;
  dead.expiredToken = (await newToken(owner, { expiresInDays: 1 })).token;
  ids.token = (await newToken(owner)).id;

  await createUser(owner, "sam", "sitter", {
    expiresAt: new Date(clock.now() + 60 * 60 * 1000).toISOString(),
  });
  dead.endedAccountToken = (await newToken(await owner.signInAs("sam", PASSWORD))).token;
  const leoId = await createUser(owner, "leo", "member");
  dead.deletedUserToken = (await newToken(await owner.signInAs("leo", PASSWORD))).token;
  expect((await owner.request("DELETE", `/api/users/${leoId}`)).status).toBe(204);

  const cookie = await signIn(owner.baseUrl, "owner");
  const signOut = await new TestApi(owner.baseUrl).request("DELETE", "/api/session", undefined, {
    cookie,
    origin: owner.baseUrl,
  });
  expect(signOut.status).toBe(204);
  dead.signedOutCookie = cookie;

  // Past the 1-day token and the sitter's last hour.
  clock.advance(2 * DAY_MS);

  const doc = await owner.request("GET", "/api/openapi.json");
  expect(doc.status).toBe(200);
  routes = Object.entries(doc.body.paths as Record<string, Record<string, { security?: unknown[] }>>).flatMap(
    ([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        key: `${method.toUpperCase()} ${path}`,
        public: Array.isArray(op.security) && op.security.length === 0,
      })),
  );
});

afterAll(async () => {
  for (const booted of [fresh, home]) {
    await booted?.server.stop();
    if (booted) fs.rmSync(booted.dataDir, { recursive: true, force: true });
  }
});

/** A concrete URL for a documented path, with ids that exist on `home`. */
function concrete(path: string): string {
  const idFor = (prefix: string) => {
    if (prefix.startsWith("/api/feeders/")) return ids.feeder;
    if (prefix.startsWith("/api/pets/")) return ids.pet;
    if (prefix.startsWith("/api/users/me/sessions/")) return "AAAAAAAAAAAAAAAA";
    if (prefix.startsWith("/api/users/")) return ids.member;
    if (prefix.startsWith("/api/tokens/")) return ids.token;
    return "nosuchthing";
  };
  return path
    .replace(/^(\/api\/[^{]+)\{id\}/, (_m, prefix: string) => `${prefix}${idFor(prefix)}`)
    .replace("{feedId}", ids.feed)
    .replace("{date}", "2026-12-24")
    .replace("/one-offs/{mealId}", `/one-offs/${ids.oneOff}`)
    .replace("{mealId}", "breakfast");
}

/** Bodies that would succeed with credentials: a refusal is the sign-in check, not validation. */
const BODIES: Record<string, unknown> = {
  "POST /api/tokens": { name: "intruder" },
  "POST /api/feeders": { name: "Intruder", profile: "feedkeeper" },
  "PATCH /api/feeders/{id}": { name: "Pwned", dailyMaxPortions: 1000, minFeedIntervalSeconds: 0 },
  "POST /api/feeders/{id}/feeds": { portions: 1 },
  "PUT /api/feeders/{id}/schedule": { meals: [{ time: "03:00", days: ["mon"], portions: 9 }] },
  "PUT /api/feeders/{id}/schedule/pause": { from: "2026-12-01", until: "2026-12-31" },
  "POST /api/feeders/{id}/schedule/one-offs": { date: "2026-12-01", time: "03:00", portions: 1 },
  "POST /api/users": { username: "intruder", password: PASSWORD, role: "owner" },
  "PATCH /api/users/{id}": { role: "owner" },
  "POST /api/users/me/password": { currentPassword: PASSWORD, newPassword: "an intruder's password" },
  "POST /api/pets": { name: "Intruder" },
  "PATCH /api/pets/{id}": { name: "Pwned" },
  "POST /api/devices/pending/{id}/adopt": { name: "Intruder" },
};

function bodyFor(route: Route): unknown {
  if (route.key in BODIES) return BODIES[route.key];
  return route.method === "GET" || route.method === "DELETE" ? undefined : {};
}

/** The 401 every private route must give: the error shape and nothing else. */
function expectUnauthorized(res: { status: number; body: any; headers: Headers }, what: string) {
  expect(res.status, what).toBe(401);
  expect(res.headers.get("content-type"), what).toMatch(/^application\/json/);
  expect(Object.keys(res.body ?? {}), what).toEqual(["error"]);
  expect(Object.keys(res.body.error).sort(), what).toEqual(["code", "message"]);
  expect(res.body.error.code, what).toBe("unauthorized");
  expect(UNAUTHORIZED_MESSAGES, what).toContain(res.body.error.message);
}

/** What the owner sees of the household, to show the refused calls changed nothing. */
async function snapshot(owner: TestApi) {
  const read = async (path: string) => {
    const res = await owner.request("GET", path);
    expect(res.status, path).toBe(200);
    return res.body;
  };
  return {
    feeders: await read("/api/feeders"),
    feeds: await read(`/api/feeders/${ids.feeder}/feeds`),
    schedule: await read(`/api/feeders/${ids.feeder}/schedule`),
    pets: await read("/api/pets"),
    users: await read("/api/users"),
    tokens: (await read("/api/tokens")).apiTokens.map(
      (t: { id: string; name: string }) => `${t.id} ${t.name}`,
    ),
  };
}

describe("S1: the documented surface", () => {
  it("has exactly health, setup and sign-in as public routes", () => {
    expect(routes.length).toBeGreaterThan(40);
    expect(
      routes
        .filter((r) => r.public)
        .map((r) => r.key)
        .sort(),
    ).toEqual([...PUBLIC].sort());
  });

  it("keeps the OpenAPI document and the docs page behind sign-in", async () => {
    for (const { api } of [fresh, home]) {
      for (const path of [
        "/api/openapi.json",
        "/api/docs",
        "/api/docs/init.js",
        "/api/docs/swagger-ui.css",
        "/api/docs/swagger-ui-bundle.js",
      ]) {
        expectUnauthorized(await new TestApi(api.baseUrl).request("GET", path), `GET ${path}`);
      }
    }
  });

  it("answers an unknown /api path and undocumented methods with 401, not a hint that a route exists", async () => {
    const anonymous = new TestApi(home.api.baseUrl);
    for (const [method, path] of [
      ["GET", "/api/nosuchroute"],
      ["GET", "/api/admin"],
      ["PUT", "/api/feeders"],
      ["DELETE", "/api/feeders"],
      ["OPTIONS", "/api/feeders"],
      ["POST", `/api/feeds/${ids.feed}`],
    ] as const) {
      expectUnauthorized(await anonymous.request(method, path), `${method} ${path}`);
    }
    const head = await fetch(`${home.api.baseUrl}/api/feeders`, { method: "HEAD" });
    expect(head.status).toBe(401);
  });
});

describe("S1: before first-run setup (empty database)", () => {
  it("says setup is required", async () => {
    expect(await new TestApi(fresh.api.baseUrl).request("GET", "/api/setup")).toMatchObject({
      status: 200,
      body: { required: true },
    });
  });

  it("answers every private route 401 without credentials or with a made-up token", async () => {
    const headerSets: Array<Record<string, string>> = [
      {},
      { authorization: "Bearer fkt_0000000000000000000000000000000000000000000" },
    ];
    for (const headers of headerSets) {
      const api = new TestApi(fresh.api.baseUrl);
      for (const route of routes) {
        const res = await api.request(route.method, concrete(route.path), bodyFor(route), headers);
        if (route.public && Object.keys(headers).length === 0) {
          expect(res.status, route.key).not.toBe(401);
        } else {
          expectUnauthorized(res, `${route.key} ${JSON.stringify(headers)}`);
        }
      }
    }
  });

  it("reaches the public routes without credentials, and setup still waits for the owner", async () => {
    const api = new TestApi(fresh.api.baseUrl);
    expect(await api.request("GET", "/api/health")).toMatchObject({ status: 200, body: { status: "ok" } });
    // Invalid bodies: the routes are reachable (400, not 401), and setup is not done by the sweep.
    expect((await api.request("POST", "/api/setup", {})).status).toBe(400);
    expect((await api.request("POST", "/api/session", {})).status).toBe(400);
    expect((await api.request("GET", "/api/setup")).body).toEqual({ required: true });
  });

  it("has no default account: well-known usernames and passwords do not sign in", async () => {
    const api = new TestApi(fresh.api.baseUrl);
    // Fewer than the 20 failures an address may have before it is throttled, so each one is really checked.
    const defaults: Array<[string, string]> = [
      ["admin", "admin"],
      ["admin", "password"],
      ["admin", "1234"],
      ["admin", ""],
      ["feedkeeper", "feedkeeper"],
      ["owner", "owner"],
      ["owner", PASSWORD],
      ["root", "root"],
      ["root", "toor"],
      ["user", "user"],
      ["pi", "raspberry"],
      ["guest", "guest"],
      ["mosquitto", "mosquitto"],
    ];
    for (const [username, password] of defaults) {
      const res = await api.request("POST", "/api/session", { username, password });
      const what = `${username}/${password}`;
      expect(res.headers.get("set-cookie"), what).toBeNull();
      if (password === "") {
        expect(res.status, what).toBe(400);
      } else {
        expect(res.status, what).toBe(401);
        expect(res.body.error.code, what).toBe("invalid_credentials");
      }
    }
    const basic = `Basic ${Buffer.from("admin:admin").toString("base64")}`;
    expectUnauthorized(
      await api.request("GET", "/api/feeders", undefined, { authorization: basic }),
      "Basic",
    );
  });

  it("makes the owner choose a password: a well-known one is refused at setup", async () => {
    const api = new TestApi(fresh.api.baseUrl);
    for (const password of ["password123", "administrator", "1234567890", "admin"]) {
      const res = await api.request("POST", "/api/setup", { username: "admin", password });
      expect(res.status, password).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
    }
    expect((await api.request("GET", "/api/setup")).body).toEqual({ required: true });
  });

  describe("embedded MQTT broker", () => {
    const clients: mqtt.MqttClient[] = [];
    afterAll(() => {
      for (const c of clients) c.end(true);
    });

    const connack = (url: string, options: mqtt.IClientOptions) => tryConnect(url, options, clients);

    it("refuses CONNECT without credentials, over TCP and WebSocket (not authorized)", async () => {
      const tcp = `mqtt://127.0.0.1:${fresh.server.mqttPort}`;
      expect(await connack(tcp, { clientId: "anon" })).toBe(5);
      expect(await connack(tcp, { clientId: "anon2", username: "admin" })).toBe(5);
      expect(await connack(`ws://127.0.0.1:${fresh.server.httpPort}/mqtt`, { clientId: "anon3" })).toBe(5);
    });

    it("refuses common default accounts, whatever the client id", async () => {
      const tcp = `mqtt://127.0.0.1:${fresh.server.mqttPort}`;
      const defaults: Array<[string, string]> = [
        ["admin", "admin"],
        ["admin", "password"],
        ["feedkeeper", "feedkeeper"],
        ["mosquitto", "mosquitto"],
        ["guest", "guest"],
        ["user", "user"],
        ["root", "root"],
        ["", ""],
      ];
      for (const [username, password] of defaults) {
        for (const clientId of [username || "empty", `probe-${username}`]) {
          const code = await connack(tcp, { clientId, username, password });
          expect(code, `${clientId} ${username}/${password}`).not.toBe("connected");
          // 2: identifier rejected, 4: bad username or password, 5: not authorized (3 would be the throttle).
          expect([2, 4, 5], `${clientId} ${username}/${password}`).toContain(code);
        }
      }
    });
  });
});

describe("S1: a set-up server, with credentials that do not work", () => {
  const variants = (): Array<{
    name: string;
    headers: Record<string, string>;
    query?: string;
    badAuthHeader: boolean;
  }> => [
    { name: "no credentials", headers: {}, badAuthHeader: false },
    { name: "a made-up bearer token", headers: { authorization: "Bearer fkt_madeup" }, badAuthHeader: true },
    {
      name: "HTTP Basic with the owner's real password",
      headers: { authorization: `Basic ${Buffer.from(`owner:${PASSWORD}`).toString("base64")}` },
      badAuthHeader: true,
    },
    {
      name: "a revoked token",
      headers: { authorization: `Bearer ${dead.revokedToken}` },
      badAuthHeader: true,
    },
    {
      name: "an expired token",
      headers: { authorization: `Bearer ${dead.expiredToken}` },
      badAuthHeader: true,
    },
    {
      name: "the token of an account past its end date",
      headers: { authorization: `Bearer ${dead.endedAccountToken}` },
      badAuthHeader: true,
    },
    {
      name: "the token of a deleted user",
      headers: { authorization: `Bearer ${dead.deletedUserToken}` },
      badAuthHeader: true,
    },
    {
      name: "the cookie of a signed-out session",
      headers: { cookie: dead.signedOutCookie, origin: home.api.baseUrl },
      badAuthHeader: false,
    },
    {
      name: "a made-up session cookie",
      headers: { cookie: "fk_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", origin: home.api.baseUrl },
      badAuthHeader: false,
    },
    {
      name: "a valid token in the query string",
      headers: {},
      query: `token=${dead.liveOwnerToken}&access_token=${dead.liveOwnerToken}`,
      badAuthHeader: false,
    },
  ];

  it("still serves the live owner token (so the dead ones below are dead, not the server)", async () => {
    expect((await home.api.request("GET", "/api/feeders")).status).toBe(200);
    expect((await home.api.request("GET", "/api/session")).body.user.username).toBe("owner");
  });

  it("answers every private route 401 with only the error, and changes nothing", async () => {
    const before = await snapshot(home.api);
    let calls = 0;
    for (const variant of variants()) {
      const api = new TestApi(home.api.baseUrl);
      for (const route of routes) {
        const url = concrete(route.path) + (variant.query ? `?${variant.query}` : "");
        const res = await api.request(route.method, url, bodyFor(route), variant.headers);
        calls++;
        const what = `${route.key} with ${variant.name}`;
        if (route.public && !variant.badAuthHeader) {
          expect(res.status, what).not.toBe(401);
        } else {
          // A broken Authorization header is refused even on public routes: a script should hear about it.
          expectUnauthorized(res, what);
        }
      }
    }
    expect(calls).toBe(routes.length * variants().length);
    expect(await snapshot(home.api)).toEqual(before);
  });

  it("answers the public routes as documented when no credentials are sent", async () => {
    const api = new TestApi(home.api.baseUrl);
    expect(await api.request("GET", "/api/health")).toMatchObject({ status: 200, body: { status: "ok" } });
    expect((await api.request("GET", "/api/setup")).body).toEqual({ required: false });
    expect((await api.request("POST", "/api/setup", { username: "evil", password: PASSWORD })).status).toBe(
      409,
    );
    const signIn = await api.request("POST", "/api/session", { username: "owner", password: PASSWORD });
    expect(signIn.status).toBe(200);
  });
});
