/**
 * S3, object level (OWASP API1, "BOLA"): two households on one server. The UI makes one household, so the
 * second is written into the database the way a future "add household" would; after that everything goes
 * through the API. The owner of household A, holding every id of household B, must get 404 for each route of
 * the OpenAPI document that takes one (the same answer as for an id that does not exist) and see none of B
 * in any list; and nothing of B may change.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../../server/src/auth/passwords.js";
import type { Running } from "../../server/src/main.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";

const PASSWORD = "a long enough password";

let dataDir: string;
let server: Running;
let a: TestApi;
let b: TestApi;
/** Household B's objects, by the path parameter that names them. */
const theirs = { feeder: "", feed: "", pet: "", user: "", alert: "" };
let ours = { feeder: "", pet: "" };
let routes: Array<{ method: string; path: string }>;

/** Writes straight into the running server's database (WAL lets a second connection in). */
function withDatabase<T>(fn: (db: Database.Database) => T): T {
  const db = new Database(path.join(dataDir, "feedkeeper.db"));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  dataDir = makeDataDir();
  ({ server, api: a } = await bootInProcess({ dataDir }));
  await a.setupOwner("anna", PASSWORD);
  const hash = await hashPassword(PASSWORD);
  withDatabase((db) => {
    db.prepare("insert into households (id, name) values ('other', 'Next door')").run();
    db.prepare(
      "insert into users (id, household_id, username, password_hash, role) values ('bobid', 'other', 'bob', ?, 'owner')",
    ).run(hash);
  });
  b = await a.signInAs("bob", PASSWORD);

  theirs.pet = (await b.request<{ pet: { id: string } }>("POST", "/api/pets", { name: "Kuro" })).body.pet.id;
  theirs.feeder = (
    await b.createFeeder("Bob's feeder", { petId: theirs.pet, minFeedIntervalSeconds: 0 })
  ).feeder.id;
  const fed = await b.feed(theirs.feeder, { portions: 1 });
  expect(fed.status, JSON.stringify(fed.body)).toBe(202);
  theirs.feed = fed.body.feed.id;
  expect(
    (
      await b.request("PUT", `/api/feeders/${theirs.feeder}/schedule`, {
        meals: [{ id: "breakfast", time: "07:30", days: ["mon"], portions: 1 }],
      })
    ).status,
  ).toBe(200);
  theirs.user = (await b.request<{ user: { id: string } }>("GET", "/api/session")).body.user.id;
  theirs.alert = "alert-of-b";
  withDatabase((db) =>
    db
      .prepare(
        "insert into alerts (id, feeder_id, kind, key, message, created_at) values (?, ?, 'food_low', 'b-food-low', 'Bob''s food is low', ?)",
      )
      .run(theirs.alert, theirs.feeder, Date.now()),
  );

  ours = {
    pet: (await a.request<{ pet: { id: string } }>("POST", "/api/pets", { name: "Tama" })).body.pet.id,
    feeder: (await a.createFeeder("Anna's feeder")).feeder.id,
  };
  const doc = await a.request<{ paths: Record<string, Record<string, unknown>> }>("GET", "/api/openapi.json");
  routes = Object.entries(doc.body.paths).flatMap(([p, ops]) =>
    Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path: p })),
  );
});

afterAll(async () => {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** The route with household B's ids in it; undefined when its first id names no household's object. */
function withTheirIds(p: string): string | undefined {
  if (
    p.startsWith("/api/tokens/") ||
    p.startsWith("/api/users/me/") ||
    p.startsWith("/api/devices/pending/")
  ) {
    return undefined;
  }
  return p
    .replace(
      "{id}",
      p.startsWith("/api/feeders")
        ? theirs.feeder
        : p.startsWith("/api/pets")
          ? theirs.pet
          : p.startsWith("/api/alerts")
            ? theirs.alert
            : theirs.user,
    )
    .replace("{feedId}", theirs.feed)
    .replace("{mealId}", "breakfast")
    .replace("{date}", "2099-01-01");
}

/** A body that passes validation where the route needs one, so a wrong answer cannot hide behind a 400. */
function validBody(method: string, p: string): unknown {
  if (method === "GET" || method === "DELETE") return undefined;
  if (p.endsWith("/feeds")) return { portions: 1 };
  if (p.endsWith("/schedule")) return { meals: [] };
  if (p.endsWith("/pause")) return { from: "2099-01-01", until: "2099-01-02" };
  if (p.endsWith("/one-offs")) return { date: "2099-01-01", time: "08:00", portions: 1 };
  if (p.startsWith("/api/pets/")) return { name: "Mine now" };
  if (p.startsWith("/api/users/")) return { role: "member" };
  if (p.startsWith("/api/feeders/{id}") && method === "PATCH") return { name: "Mine now" };
  return {};
}

describe("S3: one household cannot reach another's objects", () => {
  it("answers 404 to every route that names one of B's objects, as for an id that does not exist", async () => {
    const probed: string[] = [];
    for (const route of routes) {
      const url = withTheirIds(route.path);
      if (!url || url === route.path) continue;
      const res = await a.request(route.method, url, validBody(route.method, route.path));
      expect(res.status, `${route.method} ${url}: ${JSON.stringify(res.body)}`).toBe(404);
      expect(JSON.stringify(res.body)).not.toMatch(/Bob|Kuro|Next door/);
      probed.push(`${route.method} ${route.path}`);
    }
    expect(probed).toEqual(
      expect.arrayContaining([
        "GET /api/feeders/{id}",
        "PATCH /api/feeders/{id}",
        "DELETE /api/feeders/{id}",
        "POST /api/feeders/{id}/feeds",
        "GET /api/feeds/{feedId}",
        "PUT /api/feeders/{id}/schedule",
        "POST /api/alerts/{id}/ack",
        "GET /api/pets/{id}/intake",
        "DELETE /api/users/{id}",
      ]),
    );
    expect(probed.length).toBeGreaterThan(20);
  });

  it("lists none of B's feeders, pets, users, alerts or audit entries", async () => {
    const lists = await Promise.all(
      ["/api/feeders", "/api/pets", "/api/users", "/api/alerts", "/api/audit", "/api/connection-log"].map(
        (p) => a.request("GET", p),
      ),
    );
    const audit = lists.splice(4, 1)[0]?.body as { entries: Array<{ actor: string; userId: string | null }> };
    // A's audit log names B's ids only in A's own refused attempts above; nothing B did shows.
    const { entries } = audit;
    expect(entries.length).toBeGreaterThan(10);
    expect(entries.filter((e) => e.actor.startsWith("bob") || e.userId === theirs.user)).toEqual([]);
    for (const res of lists) {
      expect(res.status).toBe(200);
      const text = JSON.stringify(res.body);
      for (const id of Object.values(theirs)) expect(text).not.toContain(id);
      expect(text).not.toMatch(/bob|Kuro/i);
    }
    const feeders = lists[0]?.body as { feeders: Array<{ id: string }> };
    expect(feeders.feeders.map((f) => f.id)).toEqual([ours.feeder]);
    const alerts = lists[3]?.body as { unacknowledged: number };
    expect(alerts.unacknowledged).toBe(0);
  });

  it("refuses B's ids in query strings and bodies", async () => {
    expect((await a.request("GET", `/api/connection-log?feederId=${theirs.feeder}`)).status).toBe(404);
    const alerts = await a.request<{ alerts: unknown[] }>("GET", `/api/alerts?feederId=${theirs.feeder}`);
    expect(alerts.body.alerts).toEqual([]);
    // Another household's pet is as unknown as one that does not exist.
    const linked = await a.request("PATCH", `/api/feeders/${ours.feeder}`, { petId: theirs.pet });
    expect([linked.status, linked.body.error.code]).toEqual([422, "unknown_pet"]);
    const created = await a.request("POST", "/api/feeders", {
      name: "x",
      profile: "feedkeeper",
      petId: theirs.pet,
    });
    expect([created.status, created.body.error.code]).toEqual([422, "unknown_pet"]);
    const audit = await a.request<{ entries: unknown[] }>("GET", `/api/audit?userId=${theirs.user}`);
    expect(audit.body.entries).toEqual([]);
  });

  it("left all of B as it was, and B still sees and uses it", async () => {
    const feeder = await b.request<{ feeder: { name: string; petId: string } }>(
      "GET",
      `/api/feeders/${theirs.feeder}`,
    );
    expect(feeder.body.feeder).toMatchObject({ name: "Bob's feeder", petId: theirs.pet });
    const schedule = await b.request<{ schedule: { meals: unknown[] } }>(
      "GET",
      `/api/feeders/${theirs.feeder}/schedule`,
    );
    expect(schedule.body.schedule.meals).toHaveLength(1);
    expect((await b.request("GET", `/api/pets/${theirs.pet}`)).body.pet.name).toBe("Kuro");
    const users = await b.request<{ users: Array<{ username: string; role: string }> }>("GET", "/api/users");
    expect(users.body.users).toEqual([expect.objectContaining({ username: "bob", role: "owner" })]);
    const alerts = await b.request<{ alerts: Array<{ id: string; acknowledgedAt: string | null }> }>(
      "GET",
      "/api/alerts",
    );
    expect(alerts.body.alerts).toEqual([expect.objectContaining({ id: theirs.alert, acknowledgedAt: null })]);
    const feeds = await b.request<{ feeds: unknown[] }>("GET", `/api/feeders/${theirs.feeder}/feeds`);
    expect(feeds.body.feeds).toHaveLength(1);
    // B's own household has its own last owner: A's owner does not count for it.
    expect((await b.request("DELETE", `/api/users/${theirs.user}`)).status).toBe(409);
  });
});
