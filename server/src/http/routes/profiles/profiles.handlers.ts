import type { RouteHandler } from "@hono/zod-openapi";
import type { DeviceProfile } from "../../../profiles/profile-schema.js";
import type { AppEnv } from "../../context.js";
import type { listProfiles } from "./profiles.routes.js";

function joinsBy(identify: DeviceProfile["transport"]["identify"]["by"]) {
  if (identify === "credentials") return "credentials" as const;
  return identify === "topic" ? ("deviceKey" as const) : ("adoption" as const);
}

export const list: RouteHandler<typeof listProfiles, AppEnv> = (c) => {
  const registry = c.get("services").profiles;
  const profiles = registry.list().map(({ profile: p, builtIn }) => ({
    id: p.id,
    name: p.name,
    vendor: p.vendor,
    status: p.status,
    models: p.models.map((m) => ({ id: m.id, name: m.name })),
    broker: p.transport.broker,
    joins: joinsBy(p.transport.identify.by),
    capabilities: p.capabilities,
    guide: p.guide ?? null,
    builtIn,
    uncertain: p.uncertain,
    sources: p.sources,
  }));
  // Where a server keeps its built-in files is its own business: name the file, not the path.
  const problems = registry.errors.map((e) => ({ ...e, file: e.file.split(/[\\/]/).pop() ?? e.file }));
  return c.json(
    { profiles, problems, externalBroker: c.get("services").config.externalBroker !== undefined },
    200,
  );
};
