import { createRoute, z } from "@hono/zod-openapi";
import { CredentialsSchema, errorResponses, UserSchema } from "../../schemas.js";

const SessionUser = z.object({ user: UserSchema }).openapi("SessionUser");

export const postSession = createRoute({
  method: "post",
  path: "/api/session",
  security: [],
  tags: ["Accounts"],
  summary: "Sign in; sets an HttpOnly, SameSite=Strict session cookie",
  request: { body: { required: true, content: { "application/json": { schema: CredentialsSchema } } } },
  responses: {
    200: { description: "Signed in", content: { "application/json": { schema: SessionUser } } },
    ...errorResponses(400, 401, 429),
  },
});

export const getSession = createRoute({
  method: "get",
  path: "/api/session",
  tags: ["Accounts"],
  summary: "Who is signed in",
  responses: {
    200: { description: "The current user", content: { "application/json": { schema: SessionUser } } },
    ...errorResponses(401),
  },
});

export const deleteSession = createRoute({
  method: "delete",
  path: "/api/session",
  tags: ["Accounts"],
  summary: "Sign out",
  responses: { 204: { description: "Signed out" }, ...errorResponses(401) },
});
