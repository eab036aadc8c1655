/**
 * The production audit of `npm test` (scripts/audit-production.mjs) against a stand-in advisory endpoint on
 * loopback: it must fail on a high advisory for a shipped dependency, pass when there is none, and warn —
 * not pass silently — when the registry serves no advisories at all.
 */
import { spawn } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
let server: http.Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A registry that answers the bulk advisory request with `advise(asked)`, or 405 when `advise` is null. */
async function registry(advise: ((asked: Record<string, string[]>) => unknown) | null): Promise<string> {
  const created = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      if (!advise || !req.url?.endsWith("/-/npm/v1/security/advisories/bulk")) {
        res.writeHead(405, { allow: "GET,HEAD" }).end();
        return;
      }
      const body = Buffer.concat(chunks);
      const text =
        req.headers["content-encoding"] === "gzip"
          ? (await promisify(zlib.gunzip)(body)).toString()
          : body.toString();
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify(advise(JSON.parse(text))));
    });
  });
  server = created;
  await new Promise<void>((resolve) => created.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(created.address() as AddressInfo).port}/`;
}

function audit(registryUrl: string, env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, ["scripts/audit-production.mjs"], {
      cwd: ROOT,
      env: {
        ...process.env,
        npm_config_registry: registryUrl,
        npm_config_cache: path.join(os.tmpdir(), "fk-audit-cache"),
        ...env,
      },
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code) => resolve({ code, out }));
  });
}

describe("production dependency audit", () => {
  it("fails on a high advisory for a shipped dependency, naming it", async () => {
    let asked: Record<string, string[]> = {};
    const url = await registry((names) => {
      asked = names;
      return {
        hono: [
          {
            id: 1,
            url: "https://example.test/advisory/1",
            title: "Made-up body limit bypass",
            severity: "high",
            vulnerable_versions: ">=0.0.0",
            cwe: [],
            cvss: { score: 7.5, vectorString: null },
          },
        ],
      };
    });
    const { code, out } = await audit(url);
    expect(out).toContain("hono");
    expect(out).toContain("Made-up body limit bypass");
    expect(code).toBe(1);
    // Only what ships is audited: a dev tool is not asked about.
    expect(Object.keys(asked)).toContain("hono");
    expect(Object.keys(asked)).not.toContain("vitest");
  }, 60_000);

  it("passes when no shipped dependency has a high advisory", async () => {
    const url = await registry(() => ({}));
    const { code, out } = await audit(url);
    expect(out).toContain("clean at high and above");
    expect(code).toBe(0);
  }, 60_000);

  it("warns loudly when the registry serves no advisories, and fails when an audit is required", async () => {
    const url = await registry(null);
    const warned = await audit(url);
    expect(warned.out).toMatch(/warning: npm audit could not run \(405.*NOT audited/);
    expect(warned.code).toBe(0);
    const required = await audit(url, { FEEDKEEPER_REQUIRE_AUDIT: "1" });
    expect(required.code).toBe(1);
  }, 60_000);
});
