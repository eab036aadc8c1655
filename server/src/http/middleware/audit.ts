/**
 * Writes every state-changing API request to the audit log once it is answered: who (the signed-in user, or
 * the username a sign-in attempt named), which route, which object (the route's ids), the status and the
 * address it came from. Reads are not logged; request bodies never are.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context.js";
import { peerAddress } from "../peer-address.js";
import { apiRouteKey } from "../route-key.js";

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

export const auditRequests = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (READS.has(c.req.method)) return;
  const user = c.get("user");
  const params = c.req.param() as Record<string, string>;
  c.get("services").audit.record({
    actor: user?.username ?? c.get("auditActor") ?? "anonymous",
    userId: user?.id ?? null,
    action: apiRouteKey(c) ?? `${c.req.method} ${c.req.path}`,
    target: Object.keys(params).length > 0 ? JSON.stringify(params) : null,
    outcome: String(c.res.status),
    address: peerAddress(c) ?? null,
  });
});
