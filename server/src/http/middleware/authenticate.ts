/**
 * Who is asking: a browser session cookie or an `Authorization: Bearer` API
 * token. Tokens are never read from the query string (they would end up in
 * logs and browser history).
 */
import { getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { AppError } from "../../errors.js";
import type { AppEnv } from "../context.js";

export const SESSION_COOKIE = "fk_session";

export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const { accounts } = c.get("services");
  const header = c.req.header("authorization");
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const holder = match?.[1] ? accounts.userForToken(match[1]) : undefined;
    // A bad token is an error even on public routes: a script with a broken token should hear about it.
    if (!holder) throw new AppError("unauthorized", "The API token is unknown, revoked or expired.");
    c.set("user", holder.user);
    c.set("authVia", "token");
    c.set("tokenName", holder.tokenName);
    return next();
  }
  const session = getCookie(c, SESSION_COOKIE);
  const user = session ? accounts.userForSession(session) : undefined;
  c.set("user", user);
  c.set("authVia", user ? "session" : undefined);
  return next();
});

export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.get("user")) throw new AppError("unauthorized");
  return next();
});
