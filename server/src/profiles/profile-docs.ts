/**
 * Files generated from the profiles, so they cannot drift from them: the JSON
 * Schema editors use for completion, and the list of supported devices in
 * docs/devices/. `npm run profiles:generate` writes them; a test fails when a
 * committed copy is stale.
 */
import path from "node:path";
import { z } from "zod";
import type { ProfileInfo } from "./profile-registry.js";
import { type DeviceProfile, profileSchema } from "./profile-schema.js";

export function profileJsonSchema(): string {
  const schema = z.toJSONSchema(profileSchema, { io: "input", target: "draft-2020-12" });
  return `${JSON.stringify({ ...schema, title: "Feedkeeper device profile" }, null, 2)}\n`;
}

const STATUS: Record<DeviceProfile["status"], string> = {
  native: "native",
  verified: "verified on hardware",
  community: "from public sources",
  experimental: "experimental",
};

function capabilities(p: DeviceProfile): string {
  const c = p.capabilities;
  const feed = `feed ${c.feed.min}–${c.feed.max} ${c.feed.unit}${c.feed.max === 1 ? "" : "s"}`;
  const schedule =
    c.schedule.storage === "device"
      ? `schedule on the device${c.schedule.slots ? ` (${c.schedule.slots} slots)` : ""}`
      : "schedule by the server";
  return [feed, schedule, ...c.sensors, ...c.settings].join(", ");
}

export function profilesMarkdown(profiles: readonly ProfileInfo[]): string {
  const rows = profiles
    .filter((p) => p.builtIn)
    .map(
      ({ profile: p }) =>
        `| \`${p.id}\` | ${p.guide ? `[${p.name}](${path.posix.relative("docs/devices", p.guide)})` : p.name} | ${p.models.map((m) => m.name).join("; ")} | ${p.transport.broker} broker | ${capabilities(p)} | ${STATUS[p.status]} |`,
    );
  return [
    "<!-- Generated from device-profiles/*.yaml by `npm run profiles:generate`; do not edit by hand. -->",
    "",
    "# Supported devices",
    "",
    "Each device family is one profile in [`device-profiles/`](../../device-profiles). A feeder is added with",
    'the profile\'s id (`POST /api/feeders` with `"profile": "<id>"`). `GET /api/profiles` lists the',
    "profiles a running server loaded, with their full capability model.",
    "",
    "| Profile | Name | Models | Connects to | Capabilities | Status |",
    "| ------- | ---- | ------ | ----------- | ------------ | ------ |",
    ...rows,
    "",
  ].join("\n");
}
