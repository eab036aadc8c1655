import fs from "node:fs";
import path from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { shippedProfiles } from "../testing/profiles.js";
import { profileJsonSchema, profilesMarkdown } from "./profile-docs.js";
import { builtInProfilesDir, ProfileRegistry } from "./profile-registry.js";

const root = path.resolve(builtInProfilesDir(), "..");

describe("files generated from the profiles", () => {
  it("are committed up to date (run `npm run profiles:generate`)", () => {
    const registry = ProfileRegistry.load({ builtIn: builtInProfilesDir() }, pino({ level: "silent" }));
    expect(fs.readFileSync(path.join(root, "device-profiles/schema.json"), "utf8")).toBe(profileJsonSchema());
    expect(fs.readFileSync(path.join(root, "docs/devices/README.md"), "utf8")).toBe(
      profilesMarkdown(registry.list()),
    );
  });

  it("point to guides that exist", () => {
    for (const { profile } of shippedProfiles().list()) {
      if (profile.guide) expect(fs.existsSync(path.join(root, profile.guide)), profile.guide).toBe(true);
    }
  });

  it("lists each built-in profile with its capabilities", () => {
    const registry = ProfileRegistry.load({ builtIn: builtInProfilesDir() }, pino({ level: "silent" }));
    const md = profilesMarkdown(registry.list());
    expect(md).toContain("| `feedkeeper` | [Feedkeeper native protocol v1](../protocol.md) |");
    expect(md).toContain("feed 1–100 portions");
  });
});
