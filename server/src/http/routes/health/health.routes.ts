import { createRoute, z } from "@hono/zod-openapi";

export const getHealth = createRoute({
  method: "get",
  path: "/api/health",
  security: [],
  tags: ["System"],
  summary: "Liveness and readiness; public",
  responses: {
    200: {
      description: "The server is up",
      content: {
        "application/json": {
          schema: z.object({ status: z.literal("ok"), version: z.string() }).openapi("Health"),
        },
      },
    },
  },
});
