import type { RouteHandler } from "@hono/zod-openapi";
import { getCookie } from "hono/cookie";
import { loginKeys } from "../../../auth/attempt-throttle.js";
import { AppError } from "../../../errors.js";
import { type AppEnv, currentUser } from "../../context.js";
import { SESSION_COOKIE } from "../../middleware/authenticate.js";
import { peerAddress } from "../../peer-address.js";
import { presentUser } from "../../presenters.js";
import { endSession, startSession } from "./session.cookie.js";
import type { deleteSession, getSession, postSession } from "./session.routes.js";

export const signIn: RouteHandler<typeof postSession, AppEnv> = async (c) => {
  const { username, password } = c.req.valid("json");
  c.set("auditActor", username);
  const throttle = c.get("services").loginThrottle;
  const keys = loginKeys(username, peerAddress(c));
  const verdict = throttle.check(keys);
  if (verdict.throttled) {
    // Refused before the password is hashed: that work is what an attacker would otherwise get for free.
    const seconds = Math.ceil(verdict.retryAfterMs / 1000);
    c.header("Retry-After", String(seconds));
    throw new AppError("too_many_attempts", `Too many failed sign-in attempts; try again in ${seconds} s.`);
  }
  // Counted before the password is checked, so parallel attempts cannot all slip in under the limit.
  throttle.failed(keys);
  const { user } = await startSession(c, username, password);
  throttle.succeeded(keys);
  return c.json({ user: presentUser(user) }, 200);
};

export const whoAmI: RouteHandler<typeof getSession, AppEnv> = (c) =>
  c.json({ user: presentUser(currentUser(c)) }, 200);

export const signOut: RouteHandler<typeof deleteSession, AppEnv> = (c) => {
  const session = getCookie(c, SESSION_COOKIE);
  if (session) c.get("services").accounts.logout(session);
  endSession(c);
  return c.body(null, 204);
};
