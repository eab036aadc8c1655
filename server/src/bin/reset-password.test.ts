/**
 * The built binary's `reset-password` subcommand against a database a running server created: the old
 * password and sessions stop working at once, the new password works, and the command needs no network.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestApi } from "../../../test/helpers/api.js";
import { runFeedkeeper } from "../../../test/helpers/cli.js";
import { bootInProcess } from "../../../test/helpers/in-process.js";
import type { Running } from "../main.js";

const OLD_PASSWORD = "the old forgotten password";

let dataDir: string;
let server: Running;
let api: TestApi;

function resetPassword(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}) {
  return runFeedkeeper(["reset-password", ...args], {
    env: {
      FEEDKEEPER_DATA_DIR: dataDir,
      // The running server's own port: the command would fail with EADDRINUSE if it listened.
      FEEDKEEPER_HTTP_PORT: String(server.httpPort),
      ...options.env,
    },
    ...(options.stdin !== undefined && { stdin: options.stdin }),
  });
}

async function login(username: string, password: string) {
  const res = await fetch(`${api.baseUrl}/api/session`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: api.baseUrl },
    body: JSON.stringify({ username, password }),
  });
  return { status: res.status, cookie: (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "" };
}

async function sessionStatus(cookie: string) {
  return (await fetch(`${api.baseUrl}/api/session`, { headers: { cookie } })).status;
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "feedkeeper-reset-"));
  ({ server, api } = await bootInProcess({ dataDir }));
  await api.setupOwner("owner", OLD_PASSWORD);
});
afterAll(async () => {
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("feedkeeper reset-password", () => {
  it("prints a new random password once; the old password and sessions stop working", async () => {
    const before = await login("owner", OLD_PASSWORD);
    expect(before.status).toBe(200);
    expect(await sessionStatus(before.cookie)).toBe(200);

    const run = await resetPassword(["owner"]);
    expect(run.code, run.stderr).toBe(0);
    // stdout is the password and nothing else, so a script can capture it.
    const lines = run.stdout.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    const password = lines[0] as string;
    expect(password.length).toBeGreaterThanOrEqual(20);
    // The setup's session and the sign-in above.
    expect(run.stderr).toMatch(/new password set for "owner"; 2 session\(s\) ended/);
    expect(run.stderr).not.toContain(password);

    expect(await sessionStatus(before.cookie)).toBe(401);
    expect((await login("owner", OLD_PASSWORD)).status).toBe(401);
    const after = await login("owner", password);
    expect(after.status).toBe(200);
    expect(await sessionStatus(after.cookie)).toBe(200);

    // The owner's API token is not a session: it keeps working.
    expect((await api.request("GET", "/api/feeders")).status).toBe(200);
  });

  it("takes the password from stdin with --password-stdin, under the usual rules", async () => {
    const weak = await resetPassword(["owner", "--password-stdin"], { stdin: "short\n" });
    expect(weak.code).toBe(1);
    expect(weak.stderr).toContain("at least 10 characters");
    const common = await resetPassword(["owner", "--password-stdin"], { stdin: "password123\n" });
    expect(common.code).toBe(1);

    const chosen = "a password I will remember";
    const run = await resetPassword(["owner", "--password-stdin"], { stdin: `${chosen}\n` });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe("");
    expect((await login("owner", chosen)).status).toBe(200);
  });

  it("refuses an unknown account, a missing database and bad usage, changing nothing", async () => {
    const unknown = await resetPassword(["nobody"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe("");
    expect(unknown.stderr).toContain('no account named "nobody"; accounts: owner');

    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "feedkeeper-reset-empty-"));
    try {
      const missing = await resetPassword(["owner"], { env: { FEEDKEEPER_DATA_DIR: empty } });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("no database at");
      expect(fs.readdirSync(empty)).toEqual([]);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }

    expect((await resetPassword([])).code).toBe(2);
    expect((await resetPassword(["a", "b"])).code).toBe(2);
    const help = await resetPassword(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: feedkeeper reset-password");
  });
});
