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

const JOINS: Record<DeviceProfile["transport"]["identify"]["by"], string> = {
  credentials: "credentials Feedkeeper issues",
  clientId: "its own credentials, adopted when it connects",
  username: "its own credentials, adopted when it connects",
  topic: "its id on the external broker",
};

function capabilities(p: DeviceProfile): string {
  const c = p.capabilities;
  const feed = `feed ${c.feed.min}–${c.feed.max} ${c.feed.unit}${c.feed.max === 1 ? "" : "s"}`;
  const features = c.schedule.features?.length ? `; ${c.schedule.features.join(", ")}` : "";
  const schedule =
    c.schedule.storage === "device"
      ? `schedule on the device${c.schedule.slots ? ` (${c.schedule.slots} slots${features})` : features ? ` (${features.slice(2)})` : ""}`
      : "schedule by the server";
  return [feed, schedule, ...c.sensors, ...c.settings].join(", ");
}

function faults(map: { map: Record<string, string> } | undefined): string {
  if (!map) return "";
  return [...new Set(Object.values(map.map))].filter((f) => f !== "ok" && f !== "unknown").join(", ");
}

/** One section per profile: what the API takes for it (model ids) and what is uncertain about it. */
function details(p: DeviceProfile): string[] {
  const lines = [
    `## \`${p.id}\``,
    "",
    `${p.name} (${p.vendor}). Connects to the ${p.transport.broker} broker with ${JOINS[p.transport.identify.by]}. ${capabilities(p)}.`,
    "",
    "| Model id | Model | Faults it reports |",
    "| -------- | ----- | ----------------- |",
    ...p.models.map(
      (m) => `| \`${m.id}\` | ${m.name} | ${faults(m.faults ?? p.capabilities.faults) || "none"} |`,
    ),
  ];
  if (p.uncertain.length > 0) {
    lines.push("", "Not verified:", "", ...p.uncertain.map((u) => `- ${u}`));
  }
  return [...lines, ""];
}

export function profilesMarkdown(profiles: readonly ProfileInfo[]): string {
  const shipped = profiles.filter((p) => p.builtIn).map((p) => p.profile);
  const rows = shipped.map(
    (p) =>
      `| \`${p.id}\` | ${p.guide ? `[${p.name}](${path.posix.relative("docs/devices", p.guide)})` : p.name} | ${p.models.map((m) => m.name).join("; ")} | ${p.transport.broker} broker, ${JOINS[p.transport.identify.by]} | ${capabilities(p)} | ${STATUS[p.status]} |`,
  );
  return [
    "<!-- Generated from device-profiles/*.yaml by `npm run profiles:generate`; do not edit by hand. -->",
    "",
    "# Supported devices",
    "",
    "Each device family is one profile in [`device-profiles/`](../../device-profiles). A feeder is added with",
    'the profile\'s id (`POST /api/feeders` with `"profile": "<id>"` and, when it has several, `"model"`), or',
    "adopted from the pending devices when its firmware brings its own credentials. `GET /api/profiles` lists",
    "the profiles a running server loaded, with their full capability model.",
    "",
    "| Profile | Name | Models | Connects to | Capabilities | Status |",
    "| ------- | ---- | ------ | ----------- | ------------ | ------ |",
    ...rows,
    "",
    ...shipped.flatMap(details),
  ].join("\n");
}
