/**
 * The Home Assistant discovery config of one feeder, in the device-based form
 * (`<prefix>/device/feedkeeper_<id>/config`: `dev`, `o`, `cmps`). Pure: the same feeder and profile give
 * the same payload, so the recorded fixtures in test/fixtures/home-assistant/ pin it exactly.
 *
 * Which entities a feeder gets comes from its profile's capability model (the one the API and the UI read):
 * a food level sensor only for a family that reports one, and so on. Every `unique_id` is made from the
 * feeder's id, which never changes: renaming a feeder renames the device in Home Assistant and nothing else.
 *
 * Availability is two topics that must both say `online` (availability_mode `all`): the server's, and the
 * feeder's. What the server knows by itself (the last and next meal, a problem, whether the feeder is
 * online at all) follows the server only, so it stays readable while the feeder is away.
 */
import type { Capabilities } from "../../profiles/profile-schema.js";
import {
  HA_SERVER_STATUS_TOPIC,
  haTopics,
  PAYLOAD_OFFLINE,
  PAYLOAD_ONLINE,
  PAYLOAD_PRESS,
} from "./topics.js";

type Sensor = Capabilities["sensors"][number];

/** What of a feeder its discovery config shows. */
export interface DiscoveryFeeder {
  id: string;
  name: string;
  profileModel: string | null;
  /** What the device says it is and runs (its hello), when it said. */
  model: string | null;
  firmware: string | null;
  /** The most portions one feed may ask for: the top of the portions number. */
  maxPortions: number;
}

export interface DiscoveryProfile {
  name: string;
  vendor: string;
  models: ReadonlyArray<{ id: string; name: string }>;
  capabilities: Pick<Capabilities, "sensors">;
}

export interface DiscoveryOptions {
  prefix: string;
  /** The `o` block: who publishes these configs (Home Assistant logs it with each discovery). */
  origin: { name: string; sw: string };
}

export type Component = { p: string; unique_id: string } & Record<string, unknown>;

export interface DevicePayload {
  dev: { ids: string[]; name: string; mf: string; mdl: string; mdl_id?: string; sw?: string };
  o: { name: string; sw: string };
  cmps: Record<string, Component>;
  availability: Array<{ topic: string; payload_available: string; payload_not_available: string }>;
  availability_mode: "all";
  state_topic: string;
  qos: 1;
}

interface EntitySpec {
  /** The component id in `cmps`, the end of its unique_id, and its key in the state message. */
  id: string;
  /** Shown only for families whose profile lists this sensor. */
  needs?: Sensor;
  /** Follows the server's availability only (what the server knows without the feeder). */
  serverOnly?: boolean;
  /** For docs/home-assistant.md. */
  about: string;
  config(feeder: DiscoveryFeeder): Record<string, unknown> & { p: string; name: string };
}

const value = (key: string) => `{{ value_json.${key} }}`;
const onOff = (key: string) => `{{ 'ON' if value_json.${key} else 'OFF' }}`;

/** Every entity a feeder may have, in the order Home Assistant lists them. */
export const ENTITIES: readonly EntitySpec[] = [
  {
    id: "feed",
    about: "Feeds now: as many portions as the portions number says, within the feeder's safety limits.",
    config: (f) => ({
      p: "button",
      name: "Feed",
      icon: "mdi:bowl-mix",
      command_topic: haTopics.command(f.id, "feed"),
      payload_press: PAYLOAD_PRESS,
      json_attributes_topic: haTopics.state(f.id),
      json_attributes_template:
        "{{ {'last_press': value_json.last_press, 'last_press_result': value_json.last_press_result} | tojson }}",
    }),
  },
  {
    id: "portions",
    serverOnly: true,
    about: "Portions per press of Feed, 1 to the feeder's per-feed limit (kept by the server).",
    config: (f) => ({
      p: "number",
      name: "Portions per feed",
      icon: "mdi:counter",
      entity_category: "config",
      command_topic: haTopics.command(f.id, "portions"),
      value_template: value("portions"),
      min: 1,
      max: Math.max(1, f.maxPortions),
      step: 1,
      mode: "box",
    }),
  },
  {
    id: "food_level",
    needs: "foodLevel",
    about: "How full the hopper is, in percent.",
    config: () => ({
      p: "sensor",
      name: "Food level",
      icon: "mdi:food-drumstick",
      unit_of_measurement: "%",
      state_class: "measurement",
      value_template: value("food_level"),
    }),
  },
  {
    id: "bowl_weight",
    needs: "weightGrams",
    about: "Food in the bowl, in grams.",
    config: () => ({
      p: "sensor",
      name: "Food in bowl",
      device_class: "weight",
      unit_of_measurement: "g",
      state_class: "measurement",
      value_template: value("bowl_weight"),
    }),
  },
  {
    id: "battery",
    needs: "battery",
    about: "Battery charge, in percent.",
    config: () => ({
      p: "sensor",
      name: "Battery",
      device_class: "battery",
      unit_of_measurement: "%",
      state_class: "measurement",
      entity_category: "diagnostic",
      value_template: value("battery"),
    }),
  },
  {
    id: "charging",
    needs: "charging",
    about: "On mains power or charging.",
    config: () => ({
      p: "binary_sensor",
      name: "Charging",
      device_class: "battery_charging",
      entity_category: "diagnostic",
      value_template: value("charging"),
    }),
  },
  {
    id: "signal_strength",
    needs: "rssi",
    about: "Wi-Fi signal strength, in dBm (disabled until enabled in Home Assistant).",
    config: () => ({
      p: "sensor",
      name: "Signal strength",
      device_class: "signal_strength",
      unit_of_measurement: "dBm",
      state_class: "measurement",
      entity_category: "diagnostic",
      enabled_by_default: false,
      value_template: value("signal_strength"),
    }),
  },
  {
    id: "link_quality",
    needs: "linkQuality",
    about: "Zigbee link quality, 0–255 (disabled until enabled in Home Assistant).",
    config: () => ({
      p: "sensor",
      name: "Link quality",
      icon: "mdi:signal",
      unit_of_measurement: "lqi",
      state_class: "measurement",
      entity_category: "diagnostic",
      enabled_by_default: false,
      value_template: value("link_quality"),
    }),
  },
  {
    id: "last_meal",
    serverOnly: true,
    about: "When food last came out (any source); portions, grams and source as attributes.",
    config: (f) => ({
      p: "sensor",
      name: "Last meal",
      device_class: "timestamp",
      icon: "mdi:history",
      value_template: value("last_meal"),
      json_attributes_topic: haTopics.state(f.id),
      json_attributes_template:
        "{{ {'portions': value_json.last_meal_portions, 'grams': value_json.last_meal_grams, 'source': value_json.last_meal_source} | tojson }}",
    }),
  },
  {
    id: "next_meal",
    serverOnly: true,
    about: "When the meal plan feeds next (within 8 days); portions and the meal's label as attributes.",
    config: (f) => ({
      p: "sensor",
      name: "Next meal",
      device_class: "timestamp",
      icon: "mdi:calendar-clock",
      value_template: value("next_meal"),
      json_attributes_topic: haTopics.state(f.id),
      json_attributes_template:
        "{{ {'portions': value_json.next_meal_portions, 'label': value_json.next_meal_label} | tojson }}",
    }),
  },
  {
    id: "online",
    serverOnly: true,
    about: "Whether the feeder is connected and ready for commands.",
    config: () => ({
      p: "binary_sensor",
      name: "Online",
      device_class: "connectivity",
      entity_category: "diagnostic",
      value_template: onOff("online"),
    }),
  },
  {
    id: "problem",
    serverOnly: true,
    about:
      "On while the feeder reports a fault (jam, empty…) or has unacknowledged alerts; both as attributes.",
    config: (f) => ({
      p: "binary_sensor",
      name: "Problem",
      device_class: "problem",
      value_template: onOff("problem"),
      json_attributes_topic: haTopics.state(f.id),
      json_attributes_template:
        "{{ {'fault': value_json.fault, 'open_alerts': value_json.open_alerts} | tojson }}",
    }),
  },
];

const availabilityOf = (topic: string) => ({
  topic,
  payload_available: PAYLOAD_ONLINE,
  payload_not_available: PAYLOAD_OFFLINE,
});

/** The entities this profile's feeders get. */
export function entitiesFor(profile: DiscoveryProfile): EntitySpec[] {
  return ENTITIES.filter((e) => e.needs === undefined || profile.capabilities.sensors.includes(e.needs));
}

export function uniqueIdOf(feederId: string, entityId: string): string {
  return `feedkeeper_${feederId}_${entityId}`;
}

export function buildDiscovery(
  feeder: DiscoveryFeeder,
  profile: DiscoveryProfile,
  options: DiscoveryOptions,
): { topic: string; payload: DevicePayload } {
  const cmps: Record<string, Component> = {};
  for (const entity of entitiesFor(profile)) {
    const { p, ...rest } = entity.config(feeder);
    cmps[entity.id] = {
      p,
      unique_id: uniqueIdOf(feeder.id, entity.id),
      ...rest,
      ...(entity.serverOnly && { availability: [availabilityOf(HA_SERVER_STATUS_TOPIC)] }),
    };
  }
  // A family of several models names the owner's pick; a family of one is the family.
  const picked =
    profile.models.length > 1 ? profile.models.find((m) => m.id === feeder.profileModel) : undefined;
  return {
    topic: haTopics.discovery(options.prefix, feeder.id),
    payload: {
      dev: {
        ids: [`feedkeeper_${feeder.id}`],
        name: feeder.name,
        mf: profile.vendor,
        mdl: picked ? `${profile.name}: ${picked.name}` : profile.name,
        ...(feeder.model !== null && { mdl_id: feeder.model }),
        ...(feeder.firmware !== null && { sw: feeder.firmware }),
      },
      o: options.origin,
      cmps,
      availability: [
        availabilityOf(HA_SERVER_STATUS_TOPIC),
        availabilityOf(haTopics.availability(feeder.id)),
      ],
      availability_mode: "all",
      state_topic: haTopics.state(feeder.id),
      qos: 1,
    },
  };
}

/** The entity table of docs/home-assistant.md, made from ENTITIES (a test keeps the document in step). */
export function entityTable(): string {
  const rows = ENTITIES.map((e) => {
    const { p, name } = e.config({
      id: "ID",
      name: "",
      profileModel: null,
      model: null,
      firmware: null,
      maxPortions: 1,
    });
    const when = e.needs ? `profile lists \`${e.needs}\`` : "always";
    const availability = e.serverOnly ? "server" : "server + feeder";
    return `| ${name} | \`${p}\` | \`feedkeeper_<id>_${e.id}\` | ${when} | ${availability} | ${e.about} |`;
  });
  return [
    "| Entity | Platform | unique_id | When | Available with | What it is |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}
