/**
 * Who may do what on the embedded broker. Pure functions, so the rules are
 * tested apart from sockets. A feeder lives in its own topic subtree and can
 * neither read another feeder's commands nor speak for it.
 */
import { FEEDER_ID_PATTERN, SERVER_STATUS_TOPIC, TOPIC_ROOT, topics } from "../protocol/native-v1.js";

/** Anything but a well-formed feeder id (wildcards, slashes, `$`) is never a feeder. */
export function isFeederIdentity(value: string | undefined): value is string {
  return value !== undefined && FEEDER_ID_PATTERN.test(value);
}

export type PublishDecision =
  /** `discard`: accepted so the device stays connected, but thrown away unread. */
  { allow: true; discard?: boolean } | { allow: false; reason: string };

export function authorizeFeederPublish(feederId: string, topic: string): PublishDecision {
  const prefix = `${TOPIC_ROOT}/${feederId}/`;
  if (!topic.startsWith(prefix)) return { allow: false, reason: "outside the feeder's own topics" };
  const rest = topic.slice(prefix.length);
  const channel = rest.split("/", 1)[0] ?? "";
  if (channel === "" || channel === "cmd") return { allow: false, reason: "command topics are server-only" };
  return { allow: true };
}

export function authorizeFeederSubscribe(feederId: string, filter: string): boolean {
  if (filter === SERVER_STATUS_TOPIC) return true;
  const cmdRoot = `${TOPIC_ROOT}/${feederId}/cmd`;
  if (filter === topics.commandFilter(feederId)) return true;
  if (!filter.startsWith(`${cmdRoot}/`)) return false;
  // One concrete command or `+`; a `#` anywhere but the end is invalid MQTT anyway.
  const rest = filter.slice(cmdRoot.length + 1);
  return rest.length > 0 && !rest.includes("#") && !rest.includes("/");
}

/** Last check before a message reaches a feeder's socket, whatever its subscriptions say. */
export function mayDeliverToFeeder(feederId: string, topic: string, retain: boolean): boolean {
  if (topic === SERVER_STATUS_TOPIC) return true;
  // A retained command would replay on every reconnect: never deliver one.
  return topic.startsWith(`${TOPIC_ROOT}/${feederId}/cmd/`) && !retain;
}

/** Does `topic` match the MQTT filter (`+` one level, a trailing `#` the rest, zero levels included)? */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return i === f.length - 1;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Does the allowed filter cover every topic the requested one could match? */
export function filterCovers(allowed: string, requested: string): boolean {
  const a = allowed.split("/");
  const r = requested.split("/");
  for (let i = 0; i < a.length; i++) {
    if (a[i] === "#") return true;
    if (i >= r.length) return false;
    if (r[i] === "#") return false;
    if (a[i] !== "+" && (r[i] === "+" || a[i] !== r[i])) return false;
  }
  return a.length === r.length;
}

/**
 * The topic space of a vendor device, from its profile: it publishes only on `fromDevice` and subscribes
 * only within `toDevice`.
 */
export interface VendorTopics {
  fromDevice: string[];
  toDevice: string[];
  /** Where its commands go (a filter, maybe with `+`); undefined: any subscription of its own will do. */
  commands?: string | undefined;
}

export function authorizeVendorPublish(space: VendorTopics, topic: string): PublishDecision {
  if (!space.fromDevice.some((f) => topicMatches(f, topic))) {
    return { allow: false, reason: "outside the topics its profile lets it publish" };
  }
  return { allow: true };
}

export function authorizeVendorSubscribe(space: VendorTopics, filter: string): boolean {
  return space.toDevice.some((allowed) => filterCovers(allowed, filter));
}

export function mayDeliverToVendor(space: VendorTopics, topic: string, retain: boolean): boolean {
  return !retain && space.toDevice.some((f) => topicMatches(f, topic));
}
