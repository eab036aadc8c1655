/**
 * Where Home Assistant discovery lives on MQTT. Feedkeeper's own topics for Home Assistant stay under
 * feedkeeper/ha/, apart from the device topics (feedkeeper/<feeder id>/…), so a Home Assistant client on the
 * embedded broker can be given the one subtree without ever seeing what feeders say or are told.
 */
import { FEEDER_ID_PATTERN } from "../../protocol/native-v1.js";

export const HA_ROOT = "feedkeeper/ha";

/** Whether Feedkeeper runs: `online` while it does, `offline` on a clean stop and as its last will. */
export const HA_SERVER_STATUS_TOPIC = `${HA_ROOT}/status`;

export const PAYLOAD_ONLINE = "online";
export const PAYLOAD_OFFLINE = "offline";
/** What Home Assistant's button sends (its default `payload_press`). */
export const PAYLOAD_PRESS = "PRESS";

export type HaCommand = "feed" | "portions";

export const haTopics = {
  /** The device-based discovery config of one feeder: every entity of it in one retained message. */
  discovery: (prefix: string, feederId: string) => `${prefix}/device/feedkeeper_${feederId}/config`,
  /** Home Assistant's birth and last will (`online` / `offline`). */
  birth: (prefix: string) => `${prefix}/status`,
  state: (feederId: string) => `${HA_ROOT}/${feederId}/state`,
  availability: (feederId: string) => `${HA_ROOT}/${feederId}/availability`,
  command: (feederId: string, command: HaCommand) => `${HA_ROOT}/${feederId}/${command}/set`,
};

/** The feeder and command a command topic names, or undefined when it is none. */
export function parseCommandTopic(topic: string): { feederId: string; command: HaCommand } | undefined {
  const match = /^feedkeeper\/ha\/([^/]+)\/(feed|portions)\/set$/.exec(topic);
  const feederId = match?.[1];
  const command = match?.[2] as HaCommand | undefined;
  if (!feederId || !command || !FEEDER_ID_PATTERN.test(feederId)) return undefined;
  return { feederId, command };
}

/** The feeder a topic of Feedkeeper's Home Assistant tree or discovery belongs to, if it is one's. */
export function feederOfTopic(prefix: string, topic: string): string | undefined {
  const discovery = `${prefix}/device/feedkeeper_`;
  if (topic.startsWith(discovery)) {
    const id = topic.slice(discovery.length).split("/", 1)[0] ?? "";
    return topic === haTopics.discovery(prefix, id) && FEEDER_ID_PATTERN.test(id) ? id : undefined;
  }
  if (!topic.startsWith(`${HA_ROOT}/`)) return undefined;
  const id = topic.slice(HA_ROOT.length + 1).split("/", 1)[0] ?? "";
  return FEEDER_ID_PATTERN.test(id) && topic.length > HA_ROOT.length + 1 + id.length ? id : undefined;
}
