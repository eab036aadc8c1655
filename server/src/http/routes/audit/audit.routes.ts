import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses } from "../../schemas.js";

const isoTime = z.string().openapi({ example: "2026-11-26T07:30:00.000Z" });

export const AuditEntrySchema = z
  .object({
    id: z.number().int(),
    at: isoTime,
    actor: z.string().openapi({
      description:
        'A username (with `(token "<name>")` when an API token made the request), or `device:<feeder id>` for a meal the device started itself',
    }),
    userId: z.string().nullable(),
    action: z.string().openapi({ example: "POST /api/feeders/{id}/feeds" }),
    target: z.string().nullable().openapi({ description: "The route's ids as JSON, e.g. the feeder's" }),
    outcome: z.string().openapi({ description: "The HTTP status, or what a feed came to" }),
    address: z.string().nullable(),
  })
  .openapi("AuditEntry");

export const listAudit = createRoute({
  method: "get",
  path: "/api/audit",
  tags: ["Users"],
  summary: "The audit log (owners only)",
  description:
    "Sign-ins and failed sign-ins, every change made through the API (who, which route, which object, the status, from where), and every feed with what started it. Kept for FEEDKEEPER_AUDIT_DAYS (default 365). Request bodies are never recorded.",
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      before: z.iso
        .datetime({ offset: true })
        .optional()
        .openapi({ description: "Older than this, for paging" }),
      userId: z.string().max(64).optional(),
    }),
  },
  responses: {
    200: {
      description: "Newest first",
      content: { "application/json": { schema: z.object({ entries: z.array(AuditEntrySchema) }) } },
    },
    ...errorResponses(400, 401, 403),
  },
});
