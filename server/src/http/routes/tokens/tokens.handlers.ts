import type { RouteHandler } from "@hono/zod-openapi";
import { type AppEnv, currentUser } from "../../context.js";
import { presentToken } from "../../presenters.js";
import type { deleteToken, listTokens, postToken } from "./tokens.routes.js";

export const createToken: RouteHandler<typeof postToken, AppEnv> = (c) => {
  const { name, expiresInDays, role } = c.req.valid("json");
  const { record, token } = c
    .get("services")
    .accounts.createToken(currentUser(c).id, name, expiresInDays, role);
  return c.json({ apiToken: presentToken(record), token }, 201);
};

export const tokensOfUser: RouteHandler<typeof listTokens, AppEnv> = (c) =>
  c.json({ apiTokens: c.get("services").accounts.listTokens(currentUser(c).id).map(presentToken) }, 200);

export const revokeToken: RouteHandler<typeof deleteToken, AppEnv> = (c) => {
  c.get("services").accounts.deleteToken(currentUser(c).id, c.req.valid("param").id);
  return c.body(null, 204);
};
