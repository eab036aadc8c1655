/**
 * Zigbee2MQTT with one Aqara Pet Feeder C1 paired (profile `zigbee2mqtt-aqara-c1`), as a plain client of a
 * broker: what Feedkeeper sees on the owner's Mosquitto, set up as in docs/devices/zigbee2mqtt-aqara-c1.md.
 * It stands in for Zigbee2MQTT and the feeder in tests and the simulator. What it does follows
 * Zigbee2MQTT's and zigbee-herdsman-converters' source (the profile's sources):
 *
 * - `zigbee2mqtt/bridge/state` online, retained, with a will saying offline; the feeder's availability
 *   retained at QoS 1, in the 2.x JSON style or 1.x's default plain text. Stopping Zigbee2MQTT leaves the
 *   feeder's availability as it was: only the bridge state says offline;
 * - every state message is the whole cached state with the new values and the link quality, keys sorted;
 *   `feeding_source` and `feeding_size` stay out of the cache when `filteredCache` is on (the guide's
 *   setting), so only the message of the feeding report carries them;
 * - a /set message: of the keys this device's converter handles, only the first is applied (Zigbee2MQTT uses
 *   a converter once per message); its value is echoed at once (optimistic), the feeder's reports follow;
 * - after a meal the feeder reports `feed: ""`, then its feeding report, then the portions and weight of the
 *   day, each published as a message of its own. Jammed, it reports `error: true` and no meal.
 */
import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { MqttClient } from "mqtt";
import { z } from "zod";
import {
  Z2M_DAY_SETS,
  type Z2mDaySet,
  type Z2mScheduleEntry,
  z2mTopics,
} from "../profiles/codecs/z2m-aqara-c1.js";
import { ignore, SimConnection, type SimLogger, silentLogger } from "./sim-connection.js";

export type Z2mAvailabilityStyle = "json" | "legacy";
export type Z2mFeedingSource = "schedule" | "manual" | "remote";

export interface Z2mAqaraFeederOptions {
  url: string;
  friendlyName: string;
  /** `json`: Zigbee2MQTT 2.x (`{"state":"online"}`); `legacy`: 1.x's default plain `online`. */
  availability?: Z2mAvailabilityStyle;
  /** The device option `filtered_cache: [feeding_source, feeding_size]` the guide asks for. */
  filteredCache?: boolean;
  /** The device option `retain`. */
  retain?: boolean;
  username?: string;
  password?: string;
  clientId?: string;
  msPerPortion?: number;
  /** How long the feeder takes to report a setting back (its schedule) after Zigbee2MQTT's echo. */
  reportDelayMs?: number;
  servingSize?: number;
  portionWeight?: number;
  linkQuality?: number;
  jammed?: boolean;
  reconnectMs?: number;
  logger?: SimLogger;
}

export interface Z2mMeal {
  portions: number;
  source: Z2mFeedingSource;
}

export interface Z2mAqaraFeederEvents {
  /** After every (re)connection, once the bridge state (and on the first, the feeder) is announced. */
  ready: [];
  disconnected: [];
  /** A /set key the feeder's converter applied. */
  command: [key: string, value: unknown];
  dispensed: [meal: Z2mMeal];
  failed: [meal: Z2mMeal];
}

/** The keys zigbee-herdsman-converters' aqara_feeder converter handles: one converter, so one per message. */
const CONVERTER_KEYS = new Set([
  "feed",
  "schedule",
  "led_indicator",
  "child_lock",
  "mode",
  "serving_size",
  "portion_weight",
]);
const UNCACHED = new Set(["feeding_source", "feeding_size"]);

/** What the converter needs from a schedule entry; it writes the bytes without checking more. */
const scheduleValue = z.array(
  z.object({ days: z.string(), hour: z.number(), minute: z.number(), size: z.number() }),
);

/** json-stable-stringify, as Zigbee2MQTT writes its state: keys sorted at every level. */
function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The converter's day lookup, which writes an unknown name as every day. */
function knownDays(days: string): Z2mDaySet {
  return days in Z2M_DAY_SETS ? (days as Z2mDaySet) : "everyday";
}

export class Z2mAqaraFeeder extends EventEmitter<Z2mAqaraFeederEvents> {
  readonly friendlyName: string;
  /** Meals that came out, whatever started them. */
  readonly dispensed: Z2mMeal[] = [];

  private readonly style: Z2mAvailabilityStyle;
  private readonly filteredCache: boolean;
  private readonly retain: boolean;
  private readonly msPerPortion: number;
  private readonly reportDelayMs: number;
  private readonly log: SimLogger;
  private jammed: boolean;
  private linkQuality: number;
  /** Zigbee2MQTT's cached state of the feeder. */
  private readonly cache: Record<string, unknown>;
  /** The schedule the feeder itself holds. */
  private schedule: Z2mScheduleEntry[] = [];
  private readonly connection: SimConnection;
  /** The feeder runs one meal at a time. */
  private motor: Promise<void> = Promise.resolve();

  constructor(private readonly options: Z2mAqaraFeederOptions) {
    super();
    this.friendlyName = options.friendlyName;
    this.style = options.availability ?? "json";
    this.filteredCache = options.filteredCache ?? true;
    this.retain = options.retain ?? false;
    this.msPerPortion = options.msPerPortion ?? 300;
    this.reportDelayMs = options.reportDelayMs ?? 200;
    this.jammed = options.jammed ?? false;
    this.linkQuality = options.linkQuality ?? 150;
    this.log = options.logger ?? silentLogger;
    this.cache = {
      child_lock: "UNLOCK",
      error: false,
      feed: "",
      led_indicator: "OFF",
      mode: "schedule",
      portion_weight: options.portionWeight ?? 8,
      portions_per_day: 0,
      schedule: [],
      serving_size: options.servingSize ?? 1,
      weight_per_day: 0,
    };
    this.connection = new SimConnection(this, {
      url: options.url,
      deviceId: this.friendlyName,
      label: this.friendlyName,
      logger: this.log,
      announce: (client) => this.announce(client),
      onMessage: (topic, payload) => this.onMessage(topic, payload),
      // No onRefused: it has no `refused` event, and after a refused reconnect it simply stays offline.
    });
  }

  get connected(): boolean {
    return this.connection.connected;
  }

  /** What Zigbee2MQTT has cached for the feeder (its last published state without the link quality). */
  get state(): Readonly<Record<string, unknown>> {
    return this.cache;
  }

  /** Connects; rejects if the first attempt fails, then reconnects on its own like Zigbee2MQTT. */
  start(): Promise<void> {
    return this.connection.start({
      clientId: this.options.clientId ?? `zigbee2mqtt_${Math.random().toString(16).slice(2, 10)}`,
      ...(this.options.username !== undefined && { username: this.options.username }),
      ...(this.options.password !== undefined && { password: this.options.password }),
      reconnectPeriod: this.options.reconnectMs ?? 5000,
      will: {
        topic: z2mTopics.bridgeState,
        payload: Buffer.from(this.availability(false)),
        qos: 1,
        retain: true,
      },
    });
  }

  /** Zigbee2MQTT stopping: the bridge says offline, the feeder's availability stays as it was. */
  stop(): Promise<void> {
    return this.connection.stop({
      topic: z2mTopics.bridgeState,
      payload: this.availability(false),
      options: { qos: 1, retain: true },
    });
  }

  /** Zigbee2MQTT dies: no DISCONNECT, so the broker publishes the will on the bridge state. */
  kill(): void {
    this.connection.kill();
  }

  /** The feeder loses power or comes back: Zigbee2MQTT's availability check says so. */
  async setAvailable(available: boolean): Promise<void> {
    await this.connection
      .requireClient()
      .publishAsync(z2mTopics.availability(this.friendlyName), this.availability(available), {
        qos: 1,
        retain: true,
      });
  }

  /** Food stuck: the next meals report `error: true` instead of coming out; freed, the feeder reports false. */
  async setJammed(jammed: boolean): Promise<void> {
    const freed = this.jammed && !jammed;
    this.jammed = jammed;
    if (freed) await this.report({ error: false });
  }

  /** The link quality of the feeder's next messages. */
  setLinkQuality(lqi: number): void {
    this.linkQuality = lqi;
  }

  /**
   * Zigbee2MQTT publishes the cached state again, as at its start and when Home Assistant comes online: a
   * repeated state, never a meal.
   */
  republish(): Promise<void> {
    return this.report({});
  }

  /** The feed button: one serving. Resolves once the feeder has reported the meal. */
  pressButton(): Promise<void> {
    return this.runMeal("manual", this.servingSize());
  }

  /** The feeder runs one of the entries of its schedule now (its clock is not simulated). */
  runScheduledMeal(entry = 0): Promise<void> {
    const planned = this.schedule[entry];
    if (!planned) return Promise.reject(new Error(`${this.friendlyName} holds no schedule entry ${entry}`));
    return this.runMeal("schedule", planned.size);
  }

  private servingSize(): number {
    return typeof this.cache.serving_size === "number" ? this.cache.serving_size : 1;
  }

  private availability(online: boolean): string {
    const state = online ? "online" : "offline";
    return this.style === "json" ? JSON.stringify({ state }) : state;
  }

  /** Zigbee2MQTT's start: bridge state, subscriptions, then the feeder's availability and cached state. */
  private async announce(client: MqttClient): Promise<void> {
    await client.publishAsync(z2mTopics.bridgeState, this.availability(true), { qos: 1, retain: true });
    if (this.connection.everReady) return;
    await client.subscribeAsync(z2mTopics.set(this.friendlyName), { qos: 1 });
    await this.setAvailable(true);
    await this.republish();
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic !== z2mTopics.set(this.friendlyName)) return;
    let body: unknown;
    try {
      body = JSON.parse(payload.toString("utf8"));
    } catch {
      this.log.warn({ feeder: this.friendlyName, payload: payload.toString() }, "invalid message, skipping");
      return;
    }
    if (!body || typeof body !== "object") return;
    const keys = Object.entries(body);
    for (const [key] of keys) {
      if (!CONVERTER_KEYS.has(key))
        this.log.warn({ feeder: this.friendlyName, key }, "no converter available");
    }
    const applied = keys.find(([key]) => CONVERTER_KEYS.has(key));
    if (!applied) return;
    const [key, value] = applied;
    this.connection.background(this.apply(key, value), "set failed", { key });
  }

  private async apply(key: string, value: unknown): Promise<void> {
    let held: Z2mScheduleEntry[] | undefined;
    if (key === "schedule") {
      const parsed = scheduleValue.safeParse(value);
      if (!parsed.success) {
        this.log.warn({ feeder: this.friendlyName, value }, "schedule is not a list of entries");
        return;
      }
      held = parsed.data.map((e) => ({ ...e, days: knownDays(e.days) }));
    }
    this.emit("command", key, value);
    await this.report({ [key]: value });
    if (key === "feed") {
      await this.runMeal("remote", this.servingSize());
    } else if (held) {
      this.schedule = held;
      await sleep(this.reportDelayMs, undefined, { signal: this.connection.signal });
      await this.report({ schedule: held });
    }
  }

  private runMeal(source: Z2mFeedingSource, portions: number): Promise<void> {
    const run = this.motor.then(() => this.meal({ source, portions }));
    this.motor = run.catch(ignore);
    return run;
  }

  private async meal(meal: Z2mMeal): Promise<void> {
    const signal = this.connection.signal;
    if (this.jammed) {
      await sleep(this.msPerPortion, undefined, { signal });
      await this.report({ error: true });
      this.emit("failed", meal);
      return;
    }
    await sleep(meal.portions * this.msPerPortion, undefined, { signal });
    await this.report({ feed: "" });
    await this.report({ feeding_source: meal.source, feeding_size: meal.portions });
    const grams = typeof this.cache.portion_weight === "number" ? this.cache.portion_weight : 0;
    await this.report({
      portions_per_day: Number(this.cache.portions_per_day) + meal.portions,
      weight_per_day: Number(this.cache.weight_per_day) + meal.portions * grams,
    });
    this.dispensed.push(meal);
    this.emit("dispensed", meal);
  }

  /** One message of Zigbee2MQTT for one report: the cache with the new values, and the link quality. */
  private async report(update: Record<string, unknown>): Promise<void> {
    const message = { ...this.cache, ...update, linkquality: this.linkQuality };
    for (const [key, value] of Object.entries(update)) {
      if (!(this.filteredCache && UNCACHED.has(key))) this.cache[key] = value;
    }
    await this.connection.publishIfConnected(
      z2mTopics.state(this.friendlyName),
      sortedJson(message),
      { qos: 0, retain: this.retain },
      "state not published",
    );
  }
}
