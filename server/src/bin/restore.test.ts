/**
 * The built binary's `backup` and `restore` subcommands, as a user runs them: a backup beside a running
 * server, a restore refused while that server holds the database, and done once it is stopped.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestApi } from "../../../test/helpers/api.js";
import { runFeedkeeper } from "../../../test/helpers/cli.js";
import { bootInProcess } from "../../../test/helpers/in-process.js";
import type { Running } from "../main.js";

let dataDir: string;
let server: Running | undefined;
let api: TestApi;

const cli = (args: string[]) =>
  runFeedkeeper(args, { env: { FEEDKEEPER_DATA_DIR: dataDir, FEEDKEEPER_HTTP_PORT: "1" } });

async function feederNames(): Promise<string[]> {
  const list = (await api.request("GET", "/api/feeders")).body.feeders as Array<{ name: string }>;
  return list.map((f) => f.name).sort();
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "feedkeeper-restore-cli-"));
  ({ server, api } = await bootInProcess({ dataDir }));
  await api.setupOwner();
  await api.createFeeder("Kitchen");
});
afterAll(async () => {
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("feedkeeper backup and restore", () => {
  let file: string;

  it("backs up while the server runs and prints the file's path alone on stdout", async () => {
    const run = await cli(["backup"]);
    expect(run.stderr).toContain("backup written");
    expect(run.code).toBe(0);
    file = run.stdout.trim();
    expect(file).toMatch(/backups\/feedkeeper-.+\.fkbackup$/);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect((await cli(["backup", "--output", file])).stderr).toContain("exists already");
  });

  it("checks a backup without changing anything", async () => {
    const run = await cli(["restore", file, "--check"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/good backup[\s\S]*1 feeders/);
    const bad = path.join(dataDir, "bad.fkbackup");
    fs.writeFileSync(bad, fs.readFileSync(file).subarray(0, 200));
    const refused = await cli(["restore", bad, "--check"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("not a usable Feedkeeper backup");
  });

  it("refuses to restore under a running server", async () => {
    await api.createFeeder("Later");
    const run = await cli(["restore", file, "--yes"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("has the database");
    expect(await feederNames()).toEqual(["Kitchen", "Later"]);
  });

  it("asks first, and restores once the server is stopped", async () => {
    const token = api.token;
    await server?.stop();
    server = undefined;
    // No terminal to ask on and no --yes: nothing happens, but what it would undo is said first.
    const unasked = await cli(["restore", file]);
    expect(unasked.code).toBe(1);
    expect(unasked.stderr).toContain("pass --yes");
    expect(unasked.stderr).toContain(
      "warning:  Later is not in this backup: a restore removes it, and it must be added again",
    );

    const run = await cli(["restore", file, "--yes"]);
    expect(run.stderr).toContain("good backup");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("restored the backup made");
    expect(run.stdout).toContain("NOT in the backup, so no longer on this server: Later");
    expect(run.stdout).toMatch(/saved as .*pre-restore-.+\.fkbackup/);

    ({ server, api } = await bootInProcess({ dataDir }));
    api.token = token;
    expect(await feederNames()).toEqual(["Kitchen"]);
  });
});
