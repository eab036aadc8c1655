/**
 * Writes every state-changing API request to the audit log once it is answered: who (the signed-in user and
 * the API token it came with, or the username a sign-in attempt named), which route, which object (the route's ids), the status and the
 * address it came from. Reads are not logged; request bodies never are.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context.js";
import { peerAddress } from "../peer-address.js";
import { apiRoute } from "../route-key.js";

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

export const auditRequests = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (READS.has(c.req.method)) return;
  const user = c.get("user");
  const route = apiRoute(c);
  const params = route?.params ?? {};
  const services = c.get("services");
  const named = user ? undefined : c.get("auditActor");
  services.audit.record({
    // A sign-in attempt belongs to the household of the account it names, if there is one.
    householdId: user?.householdId ?? (named && services.accounts.findUserByName(named)?.householdId) ?? null,
    actor: actorOf(user?.username, c.get("tokenName")) ?? named ?? "anonymous",
    userId: user?.id ?? null,
    action: route?.key ?? `${c.req.method} ${c.req.path}`,
    target: Object.keys(params).length > 0 ? JSON.stringify(params) : null,
    outcome: String(c.res.status),
    address: peerAddress(c) ?? null,
  });
});

/** `anna`, or `anna (token "feeding script")`: a token lent to a script or a sitter shows as itself. */
function actorOf(username: string | undefined, tokenName: string | undefined): string | undefined {
  if (username === undefined) return undefined;
  return tokenName === undefined ? username : `${username} (token "${tokenName}")`;
}
