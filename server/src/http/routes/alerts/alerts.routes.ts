import { createRoute, z } from "@hono/zod-openapi";
import { AlertSchema, errorResponses } from "../../schemas.js";

const AlertIdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
});

export const listAlerts = createRoute({
  method: "get",
  path: "/api/alerts",
  tags: ["Alerts"],
  summary: "Alerts, newest first",
  description:
    "Raised when a planned meal was missed or failed (within 5 minutes of its time), a meal was dispensed twice, a device's stored schedule differs from the plan, or a device's clock is off by more than 2 minutes. Each is also handed to the notifiers (the server log for now).",
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(500).default(50),
      unacknowledged: z
        .enum(["true", "false"])
        .optional()
        .openapi({ description: "true: only alerts nobody has acknowledged yet" }),
      feederId: z.string().max(64).optional(),
    }),
  },
  responses: {
    200: {
      description: "Alerts",
      content: {
        "application/json": {
          schema: z.object({
            alerts: z.array(AlertSchema),
            unacknowledged: z
              .number()
              .int()
              .openapi({ description: "How many are not acknowledged, in all" }),
          }),
        },
      },
    },
    ...errorResponses(400, 401),
  },
});

export const acknowledgeAlert = createRoute({
  method: "post",
  path: "/api/alerts/{id}/ack",
  tags: ["Alerts"],
  summary: "Acknowledge an alert",
  request: { params: AlertIdParam },
  responses: {
    200: {
      description: "The alert",
      content: { "application/json": { schema: z.object({ alert: AlertSchema }) } },
    },
    ...errorResponses(401, 403, 404),
  },
});
