/**
 * Object-level access (OWASP API1, "BOLA"): every id in a route's path must name an object of the caller's
 * household. Another household's feeder, feed, alert, pet or user answers the same 404 as one that does not
 * exist, so ids cannot even be probed. One server holds one household today; the checks make sure a second
 * one could never read or change the first's data.
 *
 * Every path parameter of every route must appear in OBJECTS: the server refuses to start otherwise
 * (`assertObjectAccessCovers`), so a new route cannot forget the check.
 */
import { createMiddleware } from "hono/factory";
import { AppError, type ErrorCode } from "../../errors.js";
import type { AppEnv, Services } from "../context.js";
import { apiRoute } from "../route-key.js";

/** The object's household; null when it belongs to none (visible to all); undefined when there is none. */
type HouseholdOf = (services: Services, id: string) => string | null | undefined;

type Rule =
  | { household: HouseholdOf; notFound: ErrorCode }
  /** Not an object of its own: a date, or an id the handler only looks up under an object checked above it. */
  | { scopedBy: string };

const feederHousehold: HouseholdOf = (s, id) => s.feeders.find(id)?.householdId;

/** Keyed by the path up to and including the parameter, as the OpenAPI document writes it. */
const OBJECTS: Readonly<Record<string, Rule>> = {
  "/api/feeders/{id}": { household: feederHousehold, notFound: "feeder_not_found" },
  "/api/feeds/{feedId}": {
    household: (s, id) => {
      const feed = s.feeds.find(id);
      return feed && feederHousehold(s, feed.feederId);
    },
    notFound: "feed_not_found",
  },
  "/api/alerts/{id}": {
    household: (s, id) => {
      const alert = s.alerts.find(id);
      if (!alert) return undefined;
      // An alert about the server itself (no feeder) concerns everyone.
      return alert.feederId === null ? null : feederHousehold(s, alert.feederId);
    },
    notFound: "alert_not_found",
  },
  "/api/pets/{id}": { household: (s, id) => s.pets.find(id)?.householdId, notFound: "pet_not_found" },
  "/api/users/{id}": {
    household: (s, id) => s.accounts.findUser(id)?.householdId,
    notFound: "user_not_found",
  },
  "/api/notification-channels/{id}": {
    household: (s, id) => s.notificationChannels.find(id)?.householdId,
    notFound: "notification_channel_not_found",
  },
  "/api/feeders/{id}/schedule/skips/{date}": { scopedBy: "a date" },
  "/api/feeders/{id}/schedule/skips/{date}/{mealId}": { scopedBy: "the feeder's meal plan" },
  "/api/feeders/{id}/schedule/one-offs/{mealId}": { scopedBy: "the feeder's meal plan" },
  "/api/tokens/{id}": { scopedBy: "the caller's own tokens" },
  "/api/users/me/sessions/{id}": { scopedBy: "the caller's own sessions" },
  "/api/docs/{asset}": { scopedBy: "the API documentation's own files" },
  // Waiting devices belong to no household until an owner adopts one into theirs.
  "/api/devices/pending/{id}": { scopedBy: "the server (devices not adopted yet)" },
};

/**
 * Each parameter of a path (`/api/feeders/{id}/x/{y}`, or Hono's `/api/feeders/:id/x/:y`) with the path up
 * to it in the documented form: `/api/feeders/{id}`, `/api/feeders/{id}/x/{y}`.
 */
function parameterPrefixes(anyPath: string): Array<{ prefix: string; name: string }> {
  const path = anyPath.replace(/:(\w+)/g, "{$1}");
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    prefix: path.slice(0, (m.index ?? 0) + m[0].length),
    name: m[1] as string,
  }));
}

/** Throws, naming the route, when a documented path has a parameter nobody decided how to check. */
export function assertObjectAccessCovers(paths: Iterable<string>): void {
  const missing = [...paths].flatMap((path) =>
    parameterPrefixes(path)
      .filter(({ prefix }) => !OBJECTS[prefix])
      .map(({ prefix }) => prefix),
  );
  if (missing.length > 0) {
    throw new Error(
      `No object access rule for ${[...new Set(missing)].join(", ")} (http/middleware/object-access.ts)`,
    );
  }
}

export const objectAccess = createMiddleware<AppEnv>(async (c, next) => {
  const user = c.get("user");
  const route = apiRoute(c);
  if (!user || !route) return next();
  const services = c.get("services");
  for (const { prefix, name } of parameterPrefixes(route.path)) {
    const rule = OBJECTS[prefix];
    if (!rule) throw new Error(`No object access rule for ${prefix}`);
    if ("scopedBy" in rule) continue;
    const household = rule.household(services, route.params[name] ?? "");
    if (household === undefined || (household !== null && household !== user.householdId)) {
      throw new AppError(rule.notFound);
    }
  }
  return next();
});
