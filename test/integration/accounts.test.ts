import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestApi } from "../helpers/api.js";
import { startServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
let api: TestApi;

beforeAll(async () => {
  srv = await startServer();
  api = new TestApi(srv.httpUrl);
});
afterAll(() => srv?.stop());

/** Every route the server documents, with concrete ids filled in. */
const PROTECTED: Array<[string, string]> = [
  ["GET", "/api/session"],
  ["DELETE", "/api/session"],
  ["GET", "/api/tokens"],
  ["POST", "/api/tokens"],
  ["DELETE", "/api/tokens/abc"],
  ["GET", "/api/feeders"],
  ["GET", "/api/events"],
  ["POST", "/api/feeders"],
  ["GET", "/api/feeders/abc"],
  ["PATCH", "/api/feeders/abc"],
  ["DELETE", "/api/feeders/abc"],
  ["POST", "/api/feeders/abc/credentials"],
  ["POST", "/api/feeders/abc/feeds"],
  ["GET", "/api/feeders/abc/feeds"],
  ["GET", "/api/feeders/abc/history"],
  ["GET", "/api/feeds/abc"],
  ["GET", "/api/feeders/abc/schedule"],
  ["PUT", "/api/feeders/abc/schedule"],
  ["GET", "/api/feeders/abc/meals"],
  ["POST", "/api/feeders/abc/schedule/skip-next"],
  ["PUT", "/api/feeders/abc/schedule/skips/abc/abc"],
  ["DELETE", "/api/feeders/abc/schedule/skips/abc/abc"],
  ["PUT", "/api/feeders/abc/schedule/pause"],
  ["DELETE", "/api/feeders/abc/schedule/pause"],
  ["POST", "/api/feeders/abc/schedule/one-offs"],
  ["DELETE", "/api/feeders/abc/schedule/one-offs/abc"],
  ["GET", "/api/alerts"],
  ["GET", "/api/profiles"],
  ["GET", "/api/connection-log"],
  ["GET", "/api/devices/pending"],
  ["GET", "/api/users"],
  ["POST", "/api/users"],
  ["PATCH", "/api/users/abc"],
  ["DELETE", "/api/users/abc"],
  ["POST", "/api/users/me/password"],
  ["GET", "/api/audit"],
  ["GET", "/api/backup"],
  ["GET", "/api/backups"],
  ["POST", "/api/backup/restore"],
  ["POST", "/api/backup/check"],
  ["GET", "/api/metrics"],
  ["GET", "/api/server/log-level"],
  ["PUT", "/api/server/log-level"],
  ["GET", "/api/users/me/sessions"],
  ["DELETE", "/api/users/me/sessions/abc"],
  ["POST", "/api/devices/pending/abc/adopt"],
  ["DELETE", "/api/devices/pending/abc"],
  ["POST", "/api/alerts/abc/ack"],
  ["GET", "/api/pets"],
  ["POST", "/api/pets"],
  ["GET", "/api/pets/abc"],
  ["PATCH", "/api/pets/abc"],
  ["DELETE", "/api/pets/abc"],
  ["GET", "/api/pets/abc/intake"],
  ["GET", "/api/notification-channels"],
  ["POST", "/api/notification-channels"],
  ["PATCH", "/api/notification-channels/abc"],
  ["DELETE", "/api/notification-channels/abc"],
  ["POST", "/api/notification-channels/abc/test"],
  ["GET", "/api/notification-channels/abc/deliveries"],
  ["GET", "/api/openapi.json"],
  ["GET", "/api/docs"],
];

describe("before first-run setup", () => {
  it("answers health and says setup is required", async () => {
    expect((await api.request("GET", "/api/health")).body).toMatchObject({ status: "ok" });
    expect((await api.request("GET", "/api/setup")).body).toEqual({ required: true });
  });

  it.each(PROTECTED)("%s %s answers 401", async (method, path) => {
    const res = await api.request(method, path, method === "GET" || method === "DELETE" ? undefined : {});
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: { code: "unauthorized" } });
  });

  it("has no default account", async () => {
    for (const [username, password] of [
      ["admin", "admin"],
      ["admin", "password"],
      ["root", "root"],
    ]) {
      const res = await api.request("POST", "/api/session", { username, password });
      expect(res.status).toBe(401);
    }
  });

  it("refuses a short password with a clear message", async () => {
    const res = await api.request("POST", "/api/setup", { username: "owner", password: "short" });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.message).toContain("at least 10 characters");
  });
});

describe("setup, sessions and tokens", () => {
  let cookie = "";

  it("creates the owner once and signs in with a strict HttpOnly cookie", async () => {
    const res = await api.request(
      "POST",
      "/api/setup",
      { username: "owner", password: "a long enough password" },
      { origin: srv.httpUrl },
    );
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({ username: "owner", role: "owner" });
    const setCookie = res.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    cookie = setCookie.split(";")[0] ?? "";
    expect(JSON.stringify(res.body)).not.toContain("password");

    const again = await api.request("POST", "/api/setup", {
      username: "evil",
      password: "another long password",
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("setup_already_done");
    expect((await api.request("GET", "/api/setup")).body).toEqual({ required: false });
  });

  it("serves the API with the session cookie, and refuses cross-site changes", async () => {
    expect((await api.request("GET", "/api/feeders", undefined, { cookie })).status).toBe(200);
    const crossSite = await api.request(
      "POST",
      "/api/feeders",
      { name: "x", profile: "feedkeeper" },
      { cookie, origin: "http://evil.example" },
    );
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.error.code).toBe("origin_mismatch");
    const noOrigin = await api.request(
      "POST",
      "/api/feeders",
      { name: "x", profile: "feedkeeper" },
      { cookie },
    );
    expect(noOrigin.status).toBe(403);
  });

  it("rejects a wrong password without saying which part was wrong", async () => {
    const wrong = await api.request("POST", "/api/session", {
      username: "owner",
      password: "not the password",
    });
    const unknown = await api.request("POST", "/api/session", {
      username: "nobody",
      password: "not the password",
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
  });

  it("issues API tokens shown once, lists them without secrets, and revokes them", async () => {
    const created = await api.request(
      "POST",
      "/api/tokens",
      { name: "home script" },
      { cookie, origin: srv.httpUrl },
    );
    expect(created.status).toBe(201);
    const token: string = created.body.token;
    expect(token).toMatch(/^fkt_/);

    const withToken = new TestApi(srv.httpUrl, token);
    const list = await withToken.request("GET", "/api/tokens");
    expect(list.status).toBe(200);
    expect(list.body.apiTokens).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain(token);
    expect(list.body.apiTokens[0].lastUsedAt).not.toBeNull();

    // Tokens work without Origin: scripts are not browsers.
    expect(
      (await withToken.request("POST", "/api/feeders", { name: "Scripted", profile: "feedkeeper" })).status,
    ).toBe(201);
    expect((await withToken.request("DELETE", `/api/tokens/${created.body.apiToken.id}`)).status).toBe(204);
    const after = await withToken.request("GET", "/api/feeders");
    expect(after.status).toBe(401);
    expect(after.body.error.message).toContain("unknown, revoked or expired");
  });

  it("serves the OpenAPI document and the docs page to a signed-in user", async () => {
    const doc = await api.request("GET", "/api/openapi.json", undefined, { cookie });
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe("3.1.0");
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        "/api/feeders",
        "/api/feeders/{id}/feeds",
        "/api/feeds/{feedId}",
        "/api/setup",
      ]),
    );
    const docs = await fetch(`${srv.httpUrl}/api/docs`, { headers: { cookie } });
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain("swagger-ui-bundle.js");
    const bundle = await fetch(`${srv.httpUrl}/api/docs/swagger-ui-bundle.js`, { headers: { cookie } });
    expect(bundle.status).toBe(200);
  });

  it("documents every /api route it serves and nothing else", async () => {
    const doc = await api.request("GET", "/api/openapi.json", undefined, { cookie });
    const documented = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{[^}]+\}/g, "abc")}`),
    );
    const probed = [
      ...PROTECTED.map(([m, p]) => `${m} ${p}`),
      "GET /api/health",
      "GET /api/setup",
      "POST /api/setup",
      "POST /api/session",
    ].filter((r) => !r.includes("/api/openapi.json") && !r.includes("/api/docs"));
    expect(new Set(documented)).toEqual(new Set(probed));
  });

  it("documents only patterns a JSON Schema validator can compile", async () => {
    const doc = await api.request("GET", "/api/openapi.json", undefined, { cookie });
    const patterns = [...JSON.stringify(doc.body).matchAll(/"pattern":("(?:[^"\\]|\\.)*")/g)].map(
      (m) => JSON.parse(m[1] as string) as string,
    );
    expect(patterns.length).toBeGreaterThan(2);
    for (const pattern of patterns) {
      expect(pattern, pattern).not.toMatch(/\/[a-z]*$/);
      expect(() => new RegExp(pattern, "u"), pattern).not.toThrow();
    }
  });

  it("signs out", async () => {
    expect(
      (await api.request("DELETE", "/api/session", undefined, { cookie, origin: srv.httpUrl })).status,
    ).toBe(204);
    expect((await api.request("GET", "/api/session", undefined, { cookie })).status).toBe(401);
  });

  it("sends security headers", async () => {
    const res = await fetch(`${srv.httpUrl}/api/health`);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("refuses an oversized body with 413, also when chunked", async () => {
    const big = JSON.stringify({ name: "x".repeat(100 * 1024), profile: "feedkeeper" });
    const withLength = await api.request("POST", "/api/setup", big);
    expect(withLength.status).toBe(413);
    const chunked = await fetch(`${srv.httpUrl}/api/setup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 100; i++) controller.enqueue(new TextEncoder().encode("x".repeat(1024)));
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });
});
