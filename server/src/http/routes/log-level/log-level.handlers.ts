import type { RouteHandler } from "@hono/zod-openapi";
import { type AppEnv, currentUser } from "../../context.js";
import type { getLogLevel, putLogLevel } from "./log-level.routes.js";

export const get: RouteHandler<typeof getLogLevel, AppEnv> = (c) => {
  const { logLevel } = c.get("services");
  return c.json({ level: logLevel.current(), configured: logLevel.configured }, 200);
};

export const put: RouteHandler<typeof putLogLevel, AppEnv> = (c) => {
  const { logLevel } = c.get("services");
  logLevel.change(c.req.valid("json").level, currentUser(c).username);
  return c.json({ level: logLevel.current(), configured: logLevel.configured }, 200);
};
