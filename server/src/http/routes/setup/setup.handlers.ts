import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../context.js";
import { presentUser } from "../../presenters.js";
import { startSession } from "../session/session.cookie.js";
import type { getSetup, postSetup } from "./setup.routes.js";

export const setupState: RouteHandler<typeof getSetup, AppEnv> = (c) =>
  c.json({ required: c.get("services").accounts.setupRequired() }, 200);

export const runSetup: RouteHandler<typeof postSetup, AppEnv> = async (c) => {
  const { username, password } = c.req.valid("json");
  const { accounts } = c.get("services");
  await accounts.setup(username, password);
  const { user } = await startSession(c, username, password);
  return c.json({ user: presentUser(user) }, 201);
};
