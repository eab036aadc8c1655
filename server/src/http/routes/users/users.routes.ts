import { createRoute, z } from "@hono/zod-openapi";
import {
  errorResponses,
  NewUserSchema,
  PasswordChangeSchema,
  UserChangesSchema,
  UserSchema,
} from "../../schemas.js";

const UserIdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" }, example: "bpsllflk2sj2" }),
});
const oneUser = {
  description: "The user",
  content: { "application/json": { schema: z.object({ user: UserSchema }) } },
};

export const listUsers = createRoute({
  method: "get",
  path: "/api/users",
  tags: ["Users"],
  summary: "The household's users",
  description: "Owners and members see who has access; sitters do not.",
  responses: {
    200: {
      description: "Oldest first",
      content: { "application/json": { schema: z.object({ users: z.array(UserSchema) }) } },
    },
    ...errorResponses(401, 403),
  },
});

export const postUser = createRoute({
  method: "post",
  path: "/api/users",
  tags: ["Users"],
  summary: "Add a user (owners only)",
  description:
    "Roles: owner (everything), member (feed, meal plans, pets, alerts; sees everything), sitter (feeds now within the safety limits, sees status and history). `expiresAt` ends the account, e.g. a sitter's last day. The password must have at least 10 characters and not be a common one.",
  request: { body: { required: true, content: { "application/json": { schema: NewUserSchema } } } },
  responses: { 201: { ...oneUser, description: "Created" }, ...errorResponses(400, 401, 403, 409) },
});

export const patchUser = createRoute({
  method: "patch",
  path: "/api/users/{id}",
  tags: ["Users"],
  summary: "Change a user's role or end date (owners only)",
  description: "The last owner can be neither demoted nor given an end date (409 last_owner).",
  request: {
    params: UserIdParam,
    body: { required: true, content: { "application/json": { schema: UserChangesSchema } } },
  },
  responses: { 200: oneUser, ...errorResponses(400, 401, 403, 404, 409) },
});

export const deleteUser = createRoute({
  method: "delete",
  path: "/api/users/{id}",
  tags: ["Users"],
  summary: "Remove a user with their sessions and tokens (owners only)",
  description: "The last owner cannot be removed (409 last_owner).",
  request: { params: UserIdParam },
  responses: { 204: { description: "Removed" }, ...errorResponses(401, 403, 404, 409) },
});

const SessionSchema = z
  .object({
    id: z.string().openapi({ description: "Names the session; not a credential" }),
    createdAt: z.string(),
    expiresAt: z.string(),
    current: z.boolean().openapi({ description: "The session this request came with" }),
    userAgent: z.string().nullable().openapi({
      description: "The User-Agent that signed in (at most 256 characters); null if it sent none",
    }),
    address: z.string().nullable().openapi({ description: "The address it signed in from" }),
  })
  .openapi("Session");

export const listSessions = createRoute({
  method: "get",
  path: "/api/users/me/sessions",
  tags: ["Users"],
  summary: "One's own signed-in browsers",
  responses: {
    200: {
      description: "Newest first",
      content: { "application/json": { schema: z.object({ sessions: z.array(SessionSchema) }) } },
    },
    ...errorResponses(401),
  },
});

export const deleteSession = createRoute({
  method: "delete",
  path: "/api/users/me/sessions/{id}",
  tags: ["Users"],
  summary: "Sign out one of one's own browsers",
  request: {
    params: z.object({
      id: z
        .string()
        .regex(/^[\w-]{16}$/, "a session id is 16 letters, digits, - or _")
        .openapi({ param: { name: "id", in: "path" } }),
    }),
  },
  responses: { 204: { description: "Signed out" }, ...errorResponses(400, 401, 404) },
});

export const postPassword = createRoute({
  method: "post",
  path: "/api/users/me/password",
  tags: ["Users"],
  summary: "Change one's own password",
  description:
    "Needs the current password. Every other session of the user ends; this one stays. API tokens stay valid (revoke them separately).",
  request: { body: { required: true, content: { "application/json": { schema: PasswordChangeSchema } } } },
  responses: { 204: { description: "Changed" }, ...errorResponses(400, 401, 403, 429) },
});
