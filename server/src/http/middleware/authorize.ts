/**
 * What each role may do, route by route, checked on the server for every request behind sign-in. A route
 * missing from the table is the owner's alone: a new route is closed until someone decides who may use it.
 *
 * - owner: everything (users, devices, adoption, tokens of their own, settings).
 * - member: feed, edit meal plans and pets, acknowledge alerts, and see everything of the household.
 * - sitter: feed now within the safety limits and see status and history; nothing else.
 */
import { createMiddleware } from "hono/factory";
import type { Role } from "../../auth/accounts.js";
import { AppError } from "../../errors.js";
import type { AppEnv } from "../context.js";
import { apiRoute } from "../route-key.js";

const EVERYONE: readonly Role[] = ["owner", "member", "sitter"];
const HOUSEHOLD: readonly Role[] = ["owner", "member"];

/** `METHOD path` as the OpenAPI document names the route → who may call it. */
export const PERMISSIONS: Readonly<Record<string, readonly Role[]>> = {
  // One's own session, password and tokens.
  "GET /api/session": EVERYONE,
  "DELETE /api/session": EVERYONE,
  "POST /api/users/me/password": EVERYONE,
  "GET /api/users/me/sessions": EVERYONE,
  "DELETE /api/users/me/sessions/{id}": EVERYONE,
  "GET /api/tokens": EVERYONE,
  "POST /api/tokens": EVERYONE,
  "DELETE /api/tokens/{id}": EVERYONE,
  // Status and history, and feeding now.
  "GET /api/feeders": EVERYONE,
  "GET /api/events": EVERYONE,
  "GET /api/feeders/{id}": EVERYONE,
  "GET /api/feeders/{id}/feeds": EVERYONE,
  "GET /api/feeders/{id}/history": EVERYONE,
  "POST /api/feeders/{id}/feeds": EVERYONE,
  "GET /api/feeds/{feedId}": EVERYONE,
  "GET /api/feeders/{id}/meals": EVERYONE,
  "GET /api/feeders/{id}/schedule": EVERYONE,
  "GET /api/alerts": EVERYONE,
  "GET /api/pets": EVERYONE,
  "GET /api/pets/{id}": EVERYONE,
  "GET /api/pets/{id}/intake": EVERYONE,
  "GET /api/profiles": EVERYONE,
  // The household's plans, pets and alerts.
  "PUT /api/feeders/{id}/schedule": HOUSEHOLD,
  "POST /api/feeders/{id}/schedule/skip-next": HOUSEHOLD,
  "PUT /api/feeders/{id}/schedule/skips/{date}/{mealId}": HOUSEHOLD,
  "DELETE /api/feeders/{id}/schedule/skips/{date}/{mealId}": HOUSEHOLD,
  "PUT /api/feeders/{id}/schedule/pause": HOUSEHOLD,
  "DELETE /api/feeders/{id}/schedule/pause": HOUSEHOLD,
  "POST /api/feeders/{id}/schedule/one-offs": HOUSEHOLD,
  "DELETE /api/feeders/{id}/schedule/one-offs/{mealId}": HOUSEHOLD,
  "POST /api/alerts/{id}/ack": HOUSEHOLD,
  "POST /api/pets": HOUSEHOLD,
  "PATCH /api/pets/{id}": HOUSEHOLD,
  "DELETE /api/pets/{id}": HOUSEHOLD,
  "GET /api/connection-log": HOUSEHOLD,
  "GET /api/users": HOUSEHOLD,
};

/** `isPublic`: routes anyone may call, signed in or not (health, setup, signing in). */
export const authorize = (isPublic: (key: string) => boolean) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const user = c.get("user");
    const key = apiRoute(c)?.key;
    // Without a user only public routes get this far (the sign-in check refused the rest); a path no
    // route matched has nothing to authorise and ends as a 404.
    if (!user || !key || isPublic(key)) return next();
    const allowed = PERMISSIONS[key] ?? ["owner"];
    if (!allowed.includes(user.role)) {
      throw new AppError("forbidden", `A ${user.role} may not do this (${key}).`);
    }
    return next();
  });
