import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PROFILE_YAML } from "../testing/profile-yaml.js";
import { formatProfileError, loadProfiles, parseProfile } from "./profile-loader.js";
import { BUILT_IN_CODECS, builtInProfilesDir } from "./profile-registry.js";

let dir: string;
let userDir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "profiles-"));
  userDir = fs.mkdtempSync(path.join(os.tmpdir(), "user-profiles-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(userDir, { recursive: true, force: true });
});

const errorsOf = (text: string) => {
  const outcome = parseProfile("x.yaml", text, BUILT_IN_CODECS);
  if (!("errors" in outcome)) throw new Error("expected errors");
  return outcome.errors.map(formatProfileError);
};

describe("parseProfile", () => {
  it("accepts a valid profile and fills in the defaults", () => {
    const outcome = parseProfile("x.yaml", PROFILE_YAML, BUILT_IN_CODECS);
    expect(outcome).toMatchObject({
      profile: {
        id: "acme-bowl",
        capabilities: {
          feed: { unit: "portion", min: 1, max: 12, step: 1 },
          schedule: { storage: "server" },
        },
      },
    });
  });

  it("names file, line and column of a wrong value", () => {
    expect(errorsOf(PROFILE_YAML.replace("max: 12", "max: lots"))).toEqual([
      "x.yaml:17:10: capabilities.feed.max: Invalid input: expected number, received string",
    ]);
  });

  it("points at an unknown key itself", () => {
    expect(errorsOf(PROFILE_YAML.replace("  feed:\n", "  fed: {}\n  feed:\n"))).toEqual([
      'x.yaml:15:3: capabilities: Unrecognized key: "fed"',
    ]);
  });

  it("reports a missing field at its parent and a bad enum value where it stands (lines shift: vendor is gone)", () => {
    expect(
      errorsOf(PROFILE_YAML.replace("vendor: Acme\n", "").replace("broker: embedded", "broker: cloud")),
    ).toEqual([
      "x.yaml:1:1: vendor: Invalid input: expected string, received undefined",
      'x.yaml:9:11: transport.broker: Invalid option: expected one of "embedded"|"external"',
    ]);
  });

  it("reports YAML syntax errors and duplicate keys with their line", () => {
    expect(errorsOf(`${PROFILE_YAML}capabilities: {}\n`)[0]).toMatch(
      /^x\.yaml:18:1: Map keys must be unique/,
    );
    expect(errorsOf("id: [unclosed\n")[0]).toMatch(/^x\.yaml:\d+:\d+: /);
  });

  it("refuses an unknown codec and min above max", () => {
    const [unknown] = errorsOf(PROFILE_YAML.replace("codec: native-v1", "codec: magic"));
    expect(unknown).toMatch(/^x\.yaml:13:8: codec: unknown codec "magic"; built in: native-v1, mapping, /);
    expect(errorsOf(PROFILE_YAML.replace("min: 1", "min: 20"))).toEqual([
      "x.yaml:16:10: capabilities.feed.min: min must not be above max",
    ]);
  });
});

describe("loadProfiles", () => {
  it("skips a broken file, keeps the others, and never lets a user profile replace a built-in one", () => {
    fs.writeFileSync(path.join(dir, "acme.yaml"), PROFILE_YAML);
    fs.writeFileSync(path.join(dir, "broken.yaml"), PROFILE_YAML.replace("id: acme-bowl", "id: Bad Id"));
    fs.writeFileSync(path.join(userDir, "mine.yaml"), PROFILE_YAML.replace("Acme Bowl\n", "My Bowl\n"));
    fs.writeFileSync(path.join(userDir, "other.yaml"), PROFILE_YAML.replace("id: acme-bowl", "id: my-bowl"));
    fs.writeFileSync(path.join(userDir, "notes.txt"), "not a profile");
    const loaded = loadProfiles({ builtIn: dir, user: userDir }, BUILT_IN_CODECS);
    expect([...loaded.profiles.keys()].sort()).toEqual(["acme-bowl", "my-bowl"]);
    expect(loaded.profiles.get("acme-bowl")).toMatchObject({ builtIn: true, profile: { name: "Acme Bowl" } });
    expect(loaded.profiles.get("my-bowl")?.builtIn).toBe(false);
    expect(loaded.errors.map(formatProfileError)).toEqual([
      `${path.join(dir, "broken.yaml")}:1:5: id: id: 2-64 lower-case letters, digits and -`,
      `${path.join(userDir, "mine.yaml")}:1:1: id: "acme-bowl" is already defined by ${path.join(dir, "acme.yaml")}; give this profile another id (profiles never replace each other)`,
    ]);
  });

  it("reports an unreadable user directory without losing the built-in profiles", () => {
    fs.writeFileSync(path.join(dir, "acme.yaml"), PROFILE_YAML);
    const loaded = loadProfiles({ builtIn: dir, user: path.join(userDir, "missing") }, BUILT_IN_CODECS);
    expect([...loaded.profiles.keys()]).toEqual(["acme-bowl"]);
    expect(loaded.errors[0]?.message).toContain("cannot read the directory");
  });

  it("loads every shipped profile without an error", () => {
    const loaded = loadProfiles({ builtIn: builtInProfilesDir() }, BUILT_IN_CODECS);
    expect(loaded.errors.map(formatProfileError)).toEqual([]);
    expect(loaded.profiles.has("feedkeeper")).toBe(true);
  });
});
