/**
 * The signed-in pages, addressed by the URL hash: the server serves index.html for every path, but a
 * hash also survives a sign-in in between and needs no history handling.
 */
export type Route =
  | { page: "feeders" }
  | { page: "schedule"; feederId: string }
  | { page: "settings"; feederId: string }
  | { page: "history"; feederId: string }
  | { page: "alerts" }
  | { page: "pets" }
  | { page: "users" }
  | { page: "account" }
  | { page: "audit" }
  | { page: "server" }
  | { page: "connections"; filter: ConnectionFilter };

/** Which entries the connection log shows: all, one feeder's, or only devices that are no feeder. */
export type ConnectionFilter = "all" | "unknown" | { feederId: string };

export const feedersHref = "#/";
export const alertsHref = "#/alerts";
export const petsHref = "#/pets";
export const usersHref = "#/users";
export const accountHref = "#/account";
export const auditHref = "#/audit";
export const serverHref = "#/server";
export const scheduleHref = (feederId: string) => `#/feeders/${encodeURIComponent(feederId)}/schedule`;
export const settingsHref = (feederId: string) => `#/feeders/${encodeURIComponent(feederId)}/settings`;
export const historyHref = (feederId: string) => `#/feeders/${encodeURIComponent(feederId)}/history`;
export const connectionsHref = (filter: ConnectionFilter = "all") => {
  if (filter === "all") return "#/connections";
  if (filter === "unknown") return "#/connections/unknown";
  return `#/connections/feeders/${encodeURIComponent(filter.feederId)}`;
};

export function parseHash(hash: string): Route {
  if (hash === alertsHref) return { page: "alerts" };
  if (hash === petsHref) return { page: "pets" };
  if (hash === usersHref) return { page: "users" };
  if (hash === accountHref) return { page: "account" };
  if (hash === auditHref) return { page: "audit" };
  if (hash === serverHref) return { page: "server" };
  if (hash === connectionsHref()) return { page: "connections", filter: "all" };
  if (hash === connectionsHref("unknown")) return { page: "connections", filter: "unknown" };
  const feederLog = /^#\/connections\/feeders\/([^/]+)\/?$/.exec(hash);
  if (feederLog?.[1]) {
    try {
      return { page: "connections", filter: { feederId: decodeURIComponent(feederLog[1]) } };
    } catch {
      // A malformed escape is no feeder; show the whole log.
      return { page: "connections", filter: "all" };
    }
  }
  const [, encodedId, page] = /^#\/feeders\/([^/]+)\/(schedule|settings|history)\/?$/.exec(hash) ?? [];
  if (encodedId && (page === "schedule" || page === "settings" || page === "history")) {
    try {
      return { page, feederId: decodeURIComponent(encodedId) };
    } catch {
      // A malformed escape is no feeder; show the list.
    }
  }
  return { page: "feeders" };
}
