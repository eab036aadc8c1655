import { createRoute, z } from "@hono/zod-openapi";
import { ApiTokenSchema, errorResponses, NewApiTokenSchema, TokenIdParam } from "../../schemas.js";

export const postToken = createRoute({
  method: "post",
  path: "/api/tokens",
  tags: ["Accounts"],
  summary: "Create an API token for scripts",
  description:
    "The token is shown only in this response and stored hashed. Send it as `Authorization: Bearer <token>`.",
  request: { body: { required: true, content: { "application/json": { schema: NewApiTokenSchema } } } },
  responses: {
    201: {
      description: "Created",
      content: {
        "application/json": {
          schema: z.object({ apiToken: ApiTokenSchema, token: z.string().openapi({ example: "fkt_…" }) }),
        },
      },
    },
    ...errorResponses(400, 401, 403),
  },
});

export const listTokens = createRoute({
  method: "get",
  path: "/api/tokens",
  tags: ["Accounts"],
  summary: "Your API tokens (never the secrets)",
  responses: {
    200: {
      description: "Tokens",
      content: { "application/json": { schema: z.object({ apiTokens: z.array(ApiTokenSchema) }) } },
    },
    ...errorResponses(401),
  },
});

export const deleteToken = createRoute({
  method: "delete",
  path: "/api/tokens/{id}",
  tags: ["Accounts"],
  summary: "Revoke an API token",
  request: { params: TokenIdParam },
  responses: { 204: { description: "Revoked" }, ...errorResponses(401, 403, 404) },
});
