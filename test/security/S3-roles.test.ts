/**
 * S3 (function-level authorisation, OWASP API5): every route of the OpenAPI document called as each role
 * against the real server. A sitter feeds and looks; a member also runs the household's plans, pets and
 * alerts; only owners manage users, devices, adoption and profiles. A route nobody decided about is the
 * owner's alone. Also: a sitter's account ends on its date, the last owner cannot be removed or demoted,
 * passwords follow the rules, and a password change ends the user's other sessions.
 */
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PERMISSIONS } from "../../server/src/http/middleware/authorize.js";
import type { Running } from "../../server/src/main.js";
import { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";

const PASSWORD = "a long enough password";

let dataDir: string;
let server: Running;
let owner: TestApi;
let member: TestApi;
let sitter: TestApi;
let feederId: string;
let routes: Array<{ method: string; path: string; public: boolean }>;

beforeAll(async () => {
  dataDir = makeDataDir();
  ({ server, api: owner } = await bootInProcess({ dataDir }));
  await owner.setupOwner("owner", PASSWORD);
  for (const [username, role] of [
    ["mia", "member"],
    ["sam", "sitter"],
  ]) {
    const res = await owner.request("POST", "/api/users", { username, password: PASSWORD, role });
    expect(res.status).toBe(201);
  }
  member = await owner.signInAs("mia", PASSWORD);
  sitter = await owner.signInAs("sam", PASSWORD);
  feederId = (await owner.createFeeder("Kitchen", { minFeedIntervalSeconds: 0 })).feeder.id;
  const doc = (
    await owner.request<{ paths: Record<string, Record<string, { security?: unknown[] }>> }>(
      "GET",
      "/api/openapi.json",
    )
  ).body;
  routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      public: Array.isArray(op.security) && op.security.length === 0,
    })),
  );
});

afterAll(async () => {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** A concrete URL for a documented path: real ids where the route needs one to get past validation. */
function concrete(path: string): string {
  return path
    .replace("{id}", path.startsWith("/api/feeders") ? feederId : "nosuchthing")
    .replace("{feedId}", "nosuchfeed")
    .replace("{mealId}", "breakfast")
    .replace("{date}", "2099-01-01");
}

describe("S3: who may call what", () => {
  it("has a decision for every route the API documents (or it is the owner's alone)", () => {
    expect(routes.length).toBeGreaterThan(40);
    for (const key of Object.keys(PERMISSIONS)) {
      const [method, path] = key.split(" ");
      expect(
        routes.some((r) => r.method === method && r.path === path),
        `${key} is not a route`,
      ).toBe(true);
    }
  });

  it("refuses every route a role is not given, with 403 and before anything happens", async () => {
    const refusedFor = { member: [] as string[], sitter: [] as string[] };
    for (const route of routes.filter((r) => !r.public)) {
      const key = `${route.method} ${route.path}`;
      const allowed = PERMISSIONS[key] ?? ["owner"];
      for (const [role, api] of [
        ["member", member],
        ["sitter", sitter],
      ] as const) {
        if (allowed.includes(role)) continue;
        const body = route.method === "GET" || route.method === "DELETE" ? undefined : {};
        const res = await api.request(route.method, concrete(route.path), body);
        expect(res.status, `${role} ${key}`).toBe(403);
        refusedFor[role].push(key);
      }
    }
    // The table's intent, spelled out: what a sitter must never do, and what a member may.
    expect(refusedFor.sitter).toEqual(
      expect.arrayContaining([
        "PUT /api/feeders/{id}/schedule",
        "POST /api/feeders",
        "DELETE /api/feeders/{id}",
        "POST /api/users",
        "GET /api/users",
        "POST /api/devices/pending/{id}/adopt",
        "GET /api/connection-log",
      ]),
    );
    expect(refusedFor.member).toEqual(
      expect.arrayContaining(["POST /api/feeders", "POST /api/users", "DELETE /api/users/{id}"]),
    );
    expect(refusedFor.member).not.toContain("PUT /api/feeders/{id}/schedule");
    // Nothing the refused calls asked for happened.
    const feeders = await owner.request<{ feeders: unknown[] }>("GET", "/api/feeders");
    expect(feeders.body.feeders).toHaveLength(1);
  });

  it("lets a sitter feed within the safety limits but not override them", async () => {
    const fed = await sitter.feed(feederId, { portions: 1 });
    expect(fed.status).toBe(202);
    const override = await sitter.feed(feederId, { portions: 1, override: true });
    expect(override.status).toBe(403);
    const history = await sitter.request("GET", `/api/feeders/${feederId}/feeds`);
    expect(history.status).toBe(200);
  });

  it("lets a member run the meal plan", async () => {
    const res = await member.request("PUT", `/api/feeders/${feederId}/schedule`, {
      meals: [{ id: "breakfast", time: "07:30", days: ["mon"], portions: 1 }],
    });
    expect(res.status).toBe(200);
  });
});

describe("accounts", () => {
  it("ends a sitter's access on its date", async () => {
    const created = await owner.request<{ user: { id: string } }>("POST", "/api/users", {
      username: "neighbour",
      password: PASSWORD,
      role: "sitter",
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(created.status).toBe(201);
    const neighbour = await owner.signInAs("neighbour", PASSWORD);
    expect((await neighbour.request("GET", "/api/feeders")).status).toBe(200);
    const ended = await owner.request("PATCH", `/api/users/${created.body.user.id}`, {
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    expect(ended.status).toBe(200);
    expect((await neighbour.request("GET", "/api/feeders")).status).toBe(401);
    await expect(owner.signInAs("neighbour", PASSWORD)).rejects.toThrow(/401/);
  });

  it("lists one's own sessions and signs one out, and only one's own", async () => {
    await owner.request("POST", "/api/users", { username: "kim", password: PASSWORD, role: "member" });
    const kim = await owner.signInAs("kim", PASSWORD);
    await owner.signInAs("kim", PASSWORD);
    type Sessions = { sessions: Array<{ id: string; current: boolean }> };
    const listed = (await kim.request<Sessions>("GET", "/api/users/me/sessions")).body.sessions;
    expect(listed).toHaveLength(2);
    // Another user's session (the owner's, from signing in just above) is not kim's to end.
    const ownerSession = (
      await owner
        .signInAs("owner", PASSWORD)
        .then((o) => o.request<Sessions>("GET", "/api/users/me/sessions"))
    ).body.sessions[0];
    expect((await kim.request("DELETE", `/api/users/me/sessions/${ownerSession?.id}`)).status).toBe(404);
    expect((await kim.request("DELETE", `/api/users/me/sessions/${listed[0]?.id}`)).status).toBe(204);
    expect((await kim.request<Sessions>("GET", "/api/users/me/sessions")).body.sessions).toHaveLength(1);
  });

  it("acts with a token's lower role, and never makes one above its user's", async () => {
    const made = await owner.request<{ token: string }>("POST", "/api/tokens", {
      name: "feed button",
      role: "sitter",
    });
    expect(made.status).toBe(201);
    const button = new TestApi(owner.baseUrl, made.body.token);
    expect((await button.feed(feederId, { portions: 1 })).status).toBe(202);
    expect((await button.request("DELETE", `/api/feeders/${feederId}`)).status).toBe(403);
    expect((await member.request("POST", "/api/tokens", { name: "up", role: "owner" })).status).toBe(403);
  });

  it("keeps at least one owner", async () => {
    const users = (
      await owner.request<{ users: Array<{ id: string; username: string }> }>("GET", "/api/users")
    ).body.users;
    const me = users.find((u) => u.username === "owner");
    expect((await owner.request("DELETE", `/api/users/${me?.id}`)).status).toBe(409);
    expect((await owner.request("PATCH", `/api/users/${me?.id}`, { role: "member" })).status).toBe(409);
  });

  it("takes only good passwords, and a new one ends the user's other sessions", async () => {
    for (const password of ["short", "password123", "Qwertyuiop"]) {
      const res = await owner.request("POST", "/api/users", { username: "weak", password, role: "member" });
      expect(res.status, password).toBe(400);
    }
    const other = await owner.signInAs("mia", PASSWORD);
    const wrong = await member.request("POST", "/api/users/me/password", {
      currentPassword: "not it at all",
      newPassword: "another long password",
    });
    expect(wrong.status).toBe(401);
    const changed = await member.request("POST", "/api/users/me/password", {
      currentPassword: PASSWORD,
      newPassword: "another long password",
    });
    expect(changed.status).toBe(204);
    await expect(owner.signInAs("mia", PASSWORD)).rejects.toThrow(/401/);
    expect(await owner.signInAs("mia", "another long password")).toBeDefined();
    // Tokens are separate credentials: they stay until revoked.
    expect((await other.request("GET", "/api/feeders")).status).toBe(200);
  });
});
