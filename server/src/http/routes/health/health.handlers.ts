import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../context.js";
import type { getHealth } from "./health.routes.js";

export const health: RouteHandler<typeof getHealth, AppEnv> = (c) =>
  c.json({ status: "ok" as const, version: c.get("services").version }, 200);
