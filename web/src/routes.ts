/**
 * The signed-in pages, addressed by the URL hash: the server serves index.html for every path, but a
 * hash also survives a sign-in in between and needs no history handling.
 */
export type Route =
  | { page: "feeders" }
  | { page: "schedule"; feederId: string }
  | { page: "settings"; feederId: string }
  | { page: "alerts" }
  | { page: "pets" };

export const feedersHref = "#/";
export const alertsHref = "#/alerts";
export const petsHref = "#/pets";
export const scheduleHref = (feederId: string) => `#/feeders/${encodeURIComponent(feederId)}/schedule`;
export const settingsHref = (feederId: string) => `#/feeders/${encodeURIComponent(feederId)}/settings`;

export function parseHash(hash: string): Route {
  if (hash === alertsHref) return { page: "alerts" };
  if (hash === petsHref) return { page: "pets" };
  const feederPage = /^#\/feeders\/([^/]+)\/(schedule|settings)\/?$/.exec(hash);
  if (feederPage?.[1] && feederPage[2]) {
    try {
      const feederId = decodeURIComponent(feederPage[1]);
      return feederPage[2] === "schedule" ? { page: "schedule", feederId } : { page: "settings", feederId };
    } catch {
      // A malformed escape is no feeder; show the list.
    }
  }
  return { page: "feeders" };
}
