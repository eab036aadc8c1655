import { createRoute, z } from "@hono/zod-openapi";
import { CONNECTION_EVENTS } from "../../../bridge/connection-log.js";
import { errorResponses } from "../../schemas.js";

const isoTime = z.string().openapi({ example: "2026-11-26T07:30:00.000Z" });

export const ConnectionLogEntrySchema = z
  .object({
    kind: z.enum(CONNECTION_EVENTS),
    clientId: z.string().openapi({ description: "The MQTT client id the device used" }),
    feederId: z.string().nullable().openapi({ description: "Null when the client id names no feeder" }),
    detail: z.string().openapi({
      example: "bad username or password (unknown feeder, wrong secret, or rotated credentials)",
    }),
    address: z.string().nullable(),
    firstAt: isoTime,
    lastAt: isoTime,
    count: z.number().int().openapi({ description: "How often this happened in a row" }),
  })
  .openapi("ConnectionLogEntry");

export const getConnectionLog = createRoute({
  method: "get",
  path: "/api/connection-log",
  tags: ["Feeders"],
  summary: "Recent device connections, refusals and dropped messages",
  description:
    "Why a device is not talking: each connect and disconnect, each refused connection (with the reason and the device's address, also for client ids that are no feeder), each refused publish or subscription, and each message dropped as unreadable (with the topic and what was wrong). Kept in memory (the last 500 events); a repeated event counts up instead of filling the list.",
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(500).default(100),
      feederId: z.string().max(64).optional(),
      unknown: z
        .enum(["true", "false"])
        .optional()
        .openapi({ description: "true: only client ids that are no feeder (wrong or foreign credentials)" }),
    }),
  },
  responses: {
    200: {
      description: "Newest first",
      content: { "application/json": { schema: z.object({ entries: z.array(ConnectionLogEntrySchema) }) } },
    },
    ...errorResponses(400, 401, 403, 404),
  },
});
