import type { RouteHandler } from "@hono/zod-openapi";
import { getCookie } from "hono/cookie";
import { type AppEnv, currentUser } from "../../context.js";
import { SESSION_COOKIE } from "../../middleware/authenticate.js";
import { presentUser } from "../../presenters.js";
import { endSession, startSession } from "./session.cookie.js";
import type { deleteSession, getSession, postSession } from "./session.routes.js";

export const signIn: RouteHandler<typeof postSession, AppEnv> = async (c) => {
  const { username, password } = c.req.valid("json");
  const { user } = await startSession(c, username, password);
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
