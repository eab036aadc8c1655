/**
 * The audit log on the real server: sign-ins and failed sign-ins with the name they tried, changes made
 * through the API with who, what, the outcome and the address, refused attempts too; owners read it,
 * nobody else; and no password or token ever lands in it.
 */
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Running } from "../../server/src/main.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";

const PASSWORD = "a long enough password";

let dataDir: string;
let server: Running;
let owner: TestApi;

interface Entry {
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  address: string | null;
}

beforeAll(async () => {
  dataDir = makeDataDir();
  ({ server, api: owner } = await bootInProcess({ dataDir }));
  await owner.setupOwner("owner", PASSWORD);
});

afterAll(async () => {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("audit log", () => {
  it("records who changed what, from where, including refusals and failed sign-ins", async () => {
    const { feeder } = await owner.createFeeder("Kitchen", { minFeedIntervalSeconds: 0 });
    await owner.feed(feeder.id, { portions: 2 });
    await owner.request("POST", "/api/users", { username: "sam", password: PASSWORD, role: "sitter" });
    const sitter = await owner.signInAs("sam", PASSWORD);
    expect((await sitter.request("DELETE", `/api/feeders/${feeder.id}`)).status).toBe(403);
    await expect(owner.signInAs("owner", "not the password at all")).rejects.toThrow(/401/);

    const res = await owner.request<{ entries: Entry[] }>("GET", "/api/audit?limit=50");
    expect(res.status).toBe(200);
    const entries = res.body.entries;
    expect(entries).toContainEqual(
      expect.objectContaining({
        // TestApi calls with an API token named "tests".
        actor: 'owner (token "tests")',
        action: "POST /api/feeders/{id}/feeds",
        target: JSON.stringify({ id: feeder.id }),
        outcome: "202",
        address: expect.stringContaining("127.0.0.1"),
      }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({
        actor: 'sam (token "tests")',
        action: "DELETE /api/feeders/{id}",
        outcome: "403",
      }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({ actor: "owner", action: "POST /api/session", outcome: "401" }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({ actor: "sam", action: "POST /api/session", outcome: "200" }),
    );
    // Newest first.
    expect(entries[0]?.action).toBe("POST /api/session");

    const text = JSON.stringify(entries);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain("not the password at all");
    expect(text).not.toMatch(/fkt_/);
  });

  it("is for owners only", async () => {
    await owner.request("POST", "/api/users", { username: "mia", password: PASSWORD, role: "member" });
    const member = await owner.signInAs("mia", PASSWORD);
    expect((await member.request("GET", "/api/audit")).status).toBe(403);
  });
});
