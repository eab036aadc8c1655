/**
 * Who is asking: a browser session cookie or an `Authorization: Bearer` API
 * token. Tokens are never read from the query string (they would end up in
 * logs and browser history).
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import type { AccountService, User } from "../../auth/accounts.js";
import { AppError } from "../../errors.js";
import type { AppEnv } from "../context.js";

export const SESSION_COOKIE = "fk_session";

/** What a request's credentials are worth right now; a long-lived stream asks again with the same ones. */
export type Credentials = { via: "token"; header: string } | { via: "session"; cookie: string | undefined };

export function credentialsOf(c: Context<AppEnv>): Credentials {
  const header = c.req.header("authorization");
  return header !== undefined
    ? { via: "token", header }
    : { via: "session", cookie: getCookie(c, SESSION_COOKIE) };
}

export function holderOf(
  accounts: AccountService,
  credentials: Credentials,
): { user: User; tokenName?: string } | undefined {
  if (credentials.via === "token") {
    const token = /^Bearer\s+(\S+)$/i.exec(credentials.header)?.[1];
    return token ? accounts.userForToken(token) : undefined;
  }
  const user = credentials.cookie ? accounts.userForSession(credentials.cookie) : undefined;
  return user && { user };
}

export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const credentials = credentialsOf(c);
  const holder = holderOf(c.get("services").accounts, credentials);
  // A bad token is an error even on public routes: a script with a broken token should hear about it.
  if (credentials.via === "token" && !holder) {
    throw new AppError("unauthorized", "The API token is unknown, revoked or expired.");
  }
  c.set("user", holder?.user);
  c.set("authVia", holder ? credentials.via : undefined);
  c.set("tokenName", holder?.tokenName);
  return next();
});

export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.get("user")) throw new AppError("unauthorized");
  return next();
});
