import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses, SetupSchema, UserSchema } from "../../schemas.js";

export const getSetup = createRoute({
  method: "get",
  path: "/api/setup",
  security: [],
  tags: ["Accounts"],
  summary: "Whether the first-run setup still has to be done; public",
  responses: {
    200: {
      description: "Setup state",
      content: { "application/json": { schema: z.object({ required: z.boolean() }).openapi("SetupState") } },
    },
  },
});

export const postSetup = createRoute({
  method: "post",
  path: "/api/setup",
  security: [],
  tags: ["Accounts"],
  summary: "Create the owner account (first run only) and sign in",
  description: "Refused with 409 once any account exists. There is no default account or password.",
  request: { body: { required: true, content: { "application/json": { schema: SetupSchema } } } },
  responses: {
    201: {
      description: "Owner created; a session cookie is set",
      content: { "application/json": { schema: z.object({ user: UserSchema }) } },
    },
    ...errorResponses(400, 409),
  },
});
