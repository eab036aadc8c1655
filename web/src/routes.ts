/**
 * The signed-in pages, addressed by the URL hash: the server serves index.html for every path, but a
 * hash also survives a sign-in in between and needs no history handling.
 */
export type Route = { page: "feeders" } | { page: "schedule"; feederId: string } | { page: "alerts" };

export const feedersHref = "#/";
export const alertsHref = "#/alerts";
export const scheduleHref = (feederId: string) => `#/feeders/${encodeURIComponent(feederId)}/schedule`;

export function parseHash(hash: string): Route {
  if (hash === alertsHref) return { page: "alerts" };
  const schedule = /^#\/feeders\/([^/]+)\/schedule\/?$/.exec(hash);
  if (schedule?.[1]) {
    try {
      return { page: "schedule", feederId: decodeURIComponent(schedule[1]) };
    } catch {
      // A malformed escape is no feeder; show the list.
    }
  }
  return { page: "feeders" };
}
