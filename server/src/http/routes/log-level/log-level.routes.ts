import { createRoute, z } from "@hono/zod-openapi";
import { LOG_LEVELS } from "../../../config.js";
import { errorResponses } from "../../schemas.js";

const level = z.enum(LOG_LEVELS).openapi({
  description:
    "fatal, error, warn, info (the default), debug or trace: each also writes the levels before it; silent writes nothing",
});

export const LogLevelSchema = z
  .object({
    level: level.openapi({ description: "What the server logs now" }),
    configured: level.openapi({
      description: "FEEDKEEPER_LOG_LEVEL: what the server starts with, and goes back to on a restart",
    }),
  })
  .openapi("LogLevel");

export const LogLevelChangeSchema = z.object({ level }).strict().openapi("LogLevelChange");

const description =
  "The level applies at once to everything the server logs. It is not kept: a restart goes back to FEEDKEEPER_LOG_LEVEL (debug and trace are meant for finding a problem, not for every day).";

export const getLogLevel = createRoute({
  method: "get",
  path: "/api/server/log-level",
  tags: ["System"],
  summary: "The server's log level (owners only)",
  description,
  responses: {
    200: { description: "The level now", content: { "application/json": { schema: LogLevelSchema } } },
    ...errorResponses(401, 403),
  },
});

export const putLogLevel = createRoute({
  method: "put",
  path: "/api/server/log-level",
  tags: ["System"],
  summary: "Change the server's log level until the next restart (owners only)",
  description: `${description} The change is written to the log and to the audit log.`,
  request: {
    body: { required: true, content: { "application/json": { schema: LogLevelChangeSchema } } },
  },
  responses: {
    200: { description: "The level now", content: { "application/json": { schema: LogLevelSchema } } },
    ...errorResponses(400, 401, 403),
  },
});
