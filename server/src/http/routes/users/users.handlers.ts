import type { RouteHandler } from "@hono/zod-openapi";
import { getCookie } from "hono/cookie";
import { loginKeys } from "../../../auth/attempt-throttle.js";
import { AppError } from "../../../errors.js";
import { type AppEnv, currentUser } from "../../context.js";
import { SESSION_COOKIE } from "../../middleware/authenticate.js";
import { peerAddress } from "../../peer-address.js";
import { presentUser } from "../../presenters.js";
import type {
  deleteSession,
  deleteUser,
  listSessions,
  listUsers,
  patchUser,
  postPassword,
  postUser,
} from "./users.routes.js";

const toDate = (iso: string | null | undefined) =>
  iso === undefined ? undefined : iso === null ? null : new Date(iso);

export const allUsers: RouteHandler<typeof listUsers, AppEnv> = (c) =>
  c.json({ users: c.get("services").accounts.listUsers(currentUser(c).householdId).map(presentUser) }, 200);

export const createUser: RouteHandler<typeof postUser, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const user = await c.get("services").accounts.createUser({
    ...body,
    householdId: currentUser(c).householdId,
    expiresAt: toDate(body.expiresAt),
  });
  return c.json({ user: presentUser(user) }, 201);
};

export const changeUser: RouteHandler<typeof patchUser, AppEnv> = (c) => {
  const { role, expiresAt } = c.req.valid("json");
  const user = c
    .get("services")
    .accounts.updateUser(c.req.valid("param").id, { role, expiresAt: toDate(expiresAt) });
  return c.json({ user: presentUser(user) }, 200);
};

export const removeUser: RouteHandler<typeof deleteUser, AppEnv> = (c) => {
  c.get("services").accounts.deleteUser(c.req.valid("param").id);
  return c.body(null, 204);
};

export const mySessions: RouteHandler<typeof listSessions, AppEnv> = (c) => {
  const sessions = c
    .get("services")
    .accounts.listSessions(currentUser(c).id, getCookie(c, SESSION_COOKIE))
    .map((s) => ({ ...s, createdAt: s.createdAt.toISOString(), expiresAt: s.expiresAt.toISOString() }));
  return c.json({ sessions }, 200);
};

export const revokeSession: RouteHandler<typeof deleteSession, AppEnv> = (c) => {
  c.get("services").accounts.revokeSession(currentUser(c).id, c.req.valid("param").id);
  return c.body(null, 204);
};

export const changePassword: RouteHandler<typeof postPassword, AppEnv> = async (c) => {
  const { currentPassword, newPassword } = c.req.valid("json");
  const user = currentUser(c);
  // Guessing the current password through a stolen session is a sign-in attempt like any other.
  const throttle = c.get("services").loginThrottle;
  const keys = loginKeys(user.username, peerAddress(c));
  const verdict = throttle.check(keys);
  if (verdict.throttled) {
    const seconds = Math.ceil(verdict.retryAfterMs / 1000);
    c.header("Retry-After", String(seconds));
    throw new AppError("too_many_attempts", `Too many wrong passwords; try again in ${seconds} s.`);
  }
  throttle.failed(keys);
  await c
    .get("services")
    .accounts.changePassword(user.id, currentPassword, newPassword, getCookie(c, SESSION_COOKIE));
  throttle.succeeded(keys);
  return c.body(null, 204);
};
