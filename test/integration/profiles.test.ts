/**
 * Device profiles through the running server: the shipped ones, an owner's own directory with a good
 * and a broken file, and what the capability model lets a feeder be configured to.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Running } from "../../server/src/main.js";
import { PROFILE_YAML } from "../../server/src/testing/profile-yaml.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";

/** The owner's own profile: at most 4 portions a feed, and a scale. */
const MINE = PROFILE_YAML.replace("id: acme-bowl", "id: my-diy-bowl")
  .replace("max: 12", "max: 4")
  .concat("  sensors: [weightGrams]\n");

let dataDir: string;
let server: Running;
let api: TestApi;

beforeEach(async () => {
  dataDir = makeDataDir();
  const profilesDir = path.join(dataDir, "my-profiles");
  fs.mkdirSync(profilesDir);
  fs.writeFileSync(path.join(profilesDir, "bowl.yaml"), MINE);
  fs.writeFileSync(
    path.join(profilesDir, "typo.yaml"),
    MINE.replace("id: my-diy-bowl", "id: typo").replace("max: 4", "max: four"),
  );
  ({ server, api } = await bootInProcess({ dataDir, env: { FEEDKEEPER_PROFILES_DIR: profilesDir } }));
  await api.setupOwner();
});

afterEach(async () => {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("device profiles", () => {
  it("lists the shipped and the owner's profiles, and the broken file with its line", async () => {
    const res = await api.request("GET", "/api/profiles");
    expect(res.status).toBe(200);
    const ids = res.body.profiles.map((p: { id: string }) => p.id);
    expect(ids).toEqual(expect.arrayContaining(["feedkeeper", "my-diy-bowl"]));
    expect(ids).not.toContain("typo");
    expect(res.body.profiles.find((p: { id: string }) => p.id === "my-diy-bowl")).toMatchObject({
      builtIn: false,
      broker: "embedded",
      capabilities: { feed: { min: 1, max: 4, unit: "portion" }, sensors: ["weightGrams"] },
    });
    expect(res.body.problems).toEqual([
      {
        file: "typo.yaml",
        line: 17,
        column: 10,
        message: "capabilities.feed.max: Invalid input: expected number, received string",
      },
    ]);
  });

  it("adds feeders only with a loaded profile, within what the profile can feed", async () => {
    const mine = await api.request("POST", "/api/feeders", { name: "Bowl", profile: "my-diy-bowl" });
    expect(mine.status).toBe(201);
    // The default of 10 portions a feed is capped at what this family can do.
    expect(mine.body.feeder.maxPortions).toBe(4);
    const tooMuch = await api.request("PATCH", `/api/feeders/${mine.body.feeder.id}`, { maxPortions: 5 });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.error.message).toContain('"my-diy-bowl" profile can feed at most 4');
    const unknown = await api.request("POST", "/api/feeders", { name: "X", profile: "typo" });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.message).toContain('Unknown device profile "typo"');
  });
});
