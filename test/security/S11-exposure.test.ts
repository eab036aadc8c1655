/**
 * S11 (security checklist): what the built server exposes over HTTP. Security headers on the web UI and
 * the API (a CSP whose scripts are same-origin only, no framing, no MIME sniffing, a referrer policy), no
 * CORS grant to another origin, and error answers (404, 400, a real 500) that carry no stack trace or
 * server path. The 500 is forced without touching server code: another connection holds the database's
 * write lock past the server's busy timeout, as a backup tool or a stuck process would.
 */
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestApi } from "../helpers/api.js";
import { startServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
let api: TestApi;

beforeAll(async () => {
  srv = await startServer();
  api = new TestApi(srv.httpUrl);
  await api.setupOwner();
});
afterAll(() => srv?.stop());

const EVIL_ORIGIN = "http://evil.example";

async function get(pathname: string, headers: Record<string, string> = {}) {
  return fetch(`${srv.httpUrl}${pathname}`, {
    headers: { authorization: `Bearer ${api.token}`, ...headers },
  });
}

function csp(res: Response): Map<string, string[]> {
  const header = res.headers.get("content-security-policy") ?? "";
  return new Map(
    header
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [(name as string).toLowerCase(), values]),
  );
}

function expectSecurityHeaders(res: Response, what: string) {
  const policy = csp(res);
  expect(policy.size, `${what}: Content-Security-Policy`).toBeGreaterThan(0);
  const scripts = policy.get("script-src") ?? policy.get("default-src");
  expect(scripts, `${what}: script-src or default-src`).toBeDefined();
  expect(scripts, `${what}: script-src`).not.toContain("'unsafe-inline'");
  expect(scripts, `${what}: script-src`).not.toContain("'unsafe-eval'");
  expect(scripts, `${what}: script-src`).not.toContain("*");
  expect(policy.get("object-src"), `${what}: object-src`).toEqual(["'none'"]);
  const noFraming =
    policy.get("frame-ancestors")?.join(" ") === "'none'" ||
    res.headers.get("x-frame-options")?.toUpperCase() === "DENY";
  expect(noFraming, `${what}: frame-ancestors 'none' or X-Frame-Options DENY`).toBe(true);
  expect(res.headers.get("x-content-type-options"), `${what}: X-Content-Type-Options`).toBe("nosniff");
  const referrer = res.headers.get("referrer-policy");
  expect(referrer, `${what}: Referrer-Policy`).toBeTruthy();
  expect(referrer, `${what}: Referrer-Policy`).not.toMatch(/unsafe-url|no-referrer-when-downgrade/);
  expect(res.headers.get("x-powered-by"), `${what}: X-Powered-By`).toBeNull();
}

/** Frames of a JavaScript stack trace, file paths of this machine, exception class names. */
function expectNoInternals(text: string, what: string) {
  expect(text, what).not.toMatch(
    /\n\s+at |\bat .+:\d+:\d+|node_modules|file:\/\/|SqliteError|TypeError|\.ts:\d+/,
  );
  expect(text, what).not.toContain(srv.dataDir);
  expect(text, what).not.toContain(path.resolve("."));
}

describe("S11: security headers", () => {
  it.each([
    ["/", "the web UI's entry page"],
    ["/feeders", "a web UI route (served by the SPA fallback)"],
    ["/favicon.svg", "a static file of the web UI"],
    ["/api/health", "a public API route"],
    ["/api/feeders", "an API route with a token"],
    ["/api/openapi.json", "the OpenAPI document"],
    ["/api/docs", "the API docs page (Swagger UI)"],
    ["/api/no-such-route", "an API 404"],
    ["/no-such-file.js", "a web UI 404"],
  ])("%s (%s)", async (pathname, what) => {
    const res = await get(pathname);
    expect(res.status, what).toBeLessThan(500);
    expectSecurityHeaders(res, what);
  });

  it("the web UI page itself has no inline script for the CSP to forbid", async () => {
    const html = await (await get("/")).text();
    expect(html).toContain("<script");
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\ssrc=/);
  });
});

describe("S11: no cross-origin access", () => {
  it.each([
    ["GET", "/api/health"],
    ["GET", "/api/feeders"],
    ["OPTIONS", "/api/feeders"],
    ["OPTIONS", "/api/session"],
  ])("%s %s from another origin gets no Access-Control-Allow-Origin", async (method, pathname) => {
    const res = await fetch(`${srv.httpUrl}${pathname}`, {
      method,
      headers: {
        authorization: `Bearer ${api.token}`,
        origin: EVIL_ORIGIN,
        ...(method === "OPTIONS" && {
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type",
        }),
      },
    });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(res.headers.get("access-control-allow-methods")).toBeNull();
  });
});

describe("S11: errors carry no internals", () => {
  it("404s", async () => {
    for (const pathname of ["/api/no-such-route", "/api/feeders/no-such-feeder", "/no-such-file.js"]) {
      const res = await get(pathname);
      expect(res.status, pathname).toBe(404);
      expectNoInternals(await res.text(), pathname);
    }
  });

  it("400s: malformed JSON, a wrong type, a bad percent-encoding", async () => {
    const malformed = await api.request("POST", "/api/feeders", '{"name": "x", ');
    expect(malformed.status).toBe(400);
    expectNoInternals(JSON.stringify(malformed.body), "malformed JSON");
    expect(malformed.body).toMatchObject({ error: { code: expect.any(String) } });

    const wrongType = await api.request("POST", "/api/feeders", { name: 5, profile: ["x"] });
    expect(wrongType.status).toBe(400);
    expectNoInternals(JSON.stringify(wrongType.body), "wrong type");

    const badEncoding = await get("/api/feeders/%E0%A4%A");
    expect(badEncoding.status).toBeLessThan(500);
    expectNoInternals(await badEncoding.text(), "bad percent-encoding");
  });

  it("a real 500 (the database locked by another writer) is a bare error code, with the headers", async () => {
    const lock = new Database(path.join(srv.dataDir, "feedkeeper.db"));
    try {
      lock.exec("BEGIN EXCLUSIVE");
      // The server waits out its busy timeout (5 s), then the write fails inside the handler.
      const res = await fetch(`${srv.httpUrl}/api/feeders`, {
        method: "POST",
        headers: { authorization: `Bearer ${api.token}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "Locked out", profile: "feedkeeper" }),
      });
      const text = await res.text();
      expect(res.status, text).toBe(500);
      expect(JSON.parse(text)).toEqual({
        error: { code: "internal", message: "Something went wrong on the server." },
      });
      expectNoInternals(text, "500");
      expectSecurityHeaders(res, "500");
    } finally {
      if (lock.inTransaction) lock.exec("ROLLBACK");
      lock.close();
    }
    // The failure is in the log for the operator, and the server carries on.
    await srv.waitForLogs((l) => l.msg === "unhandled error in request");
    expect((await get("/api/health")).status).toBe(200);
  });
});
