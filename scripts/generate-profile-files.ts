// Writes the files generated from the device profiles: device-profiles/schema.json and docs/devices/README.md.
import fs from "node:fs";
import pino from "pino";
import { profileJsonSchema, profilesMarkdown } from "../server/src/profiles/profile-docs.js";
import { builtInProfilesDir, ProfileRegistry } from "../server/src/profiles/profile-registry.js";

const registry = ProfileRegistry.load({ builtIn: builtInProfilesDir() }, pino({ level: "error" }));
if (registry.errors.length > 0) process.exit(1);
fs.writeFileSync("device-profiles/schema.json", profileJsonSchema());
fs.mkdirSync("docs/devices", { recursive: true });
fs.writeFileSync("docs/devices/README.md", profilesMarkdown(registry.list()));
console.log("wrote device-profiles/schema.json and docs/devices/README.md");
