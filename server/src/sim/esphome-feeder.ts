/**
 * A DIY feeder running ESPHome's MQTT component, behaving exactly like the example configuration in
 * docs/devices/esphome-mqtt.md (profile `esphome-mqtt`). Tests and `npm run simulate -- --profile esphome-mqtt`
 * use it in place of that firmware; read it next to the guide's YAML. What is not a line of that YAML is how
 * ESPHome's MQTT component behaves (esphome/components/mqtt, see ../shared/reference/protocol-facts.md §3):
 *
 * - after every CONNACK it subscribes again (QoS 0), publishes its birth message, then publishes the last
 *   state of every entity once more;
 * - a number command is parsed as a float and dropped when outside min_value..max_value;
 * - states are published with QoS 0; a state published while disconnected is lost, not queued.
 */
import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { MqttClient } from "mqtt";
import { topics } from "../protocol/native-v1.js";
import {
  type ConnectionRefusedError,
  feedkeeperLogin,
  ignore,
  SimConnection,
  type SimLogger,
  silentLogger,
} from "./sim-connection.js";

/** The YAML's topics: topic_prefix `feedkeeper/<id>` and the entities' state and command topics. */
export const esphomeTopics = {
  status: (id: string) => `${topics.root(id)}/status`,
  feedPortions: (id: string) => `${topics.root(id)}/cmd/feed_portions`,
  /** The number's own state, which ESPHome publishes whatever the YAML says; Feedkeeper does not read it. */
  feedPortionsState: (id: string) => `${topics.root(id)}/number/feed_portions/state`,
  sensor: (id: string, objectId: string) => `${topics.root(id)}/sensor/${objectId}/state`,
  feederError: (id: string) => `${topics.root(id)}/text_sensor/feeder_error/state`,
};

/** The number's min_value and max_value. */
export const FEED_PORTIONS_MIN = 1;
export const FEED_PORTIONS_MAX = 20;

export interface EspHomeSensorReadings {
  foodLevelPercent?: number;
  weightGrams?: number;
  batteryPercent?: number;
  /** dBm */
  rssi?: number;
}

/** Each sensor's object id and accuracy_decimals, as in the YAML. */
const SENSORS: Record<keyof EspHomeSensorReadings, { objectId: string; decimals: number }> = {
  foodLevelPercent: { objectId: "food_level", decimals: 0 },
  weightGrams: { objectId: "weight", decimals: 1 },
  batteryPercent: { objectId: "battery_level", decimals: 0 },
  rssi: { objectId: "wifi_signal", decimals: 0 },
};
const DISPENSED_PORTIONS = "dispensed_portions";

export interface EspHomeFeederOptions {
  url: string;
  id: string;
  password: string;
  /** `portion_ms` in the YAML: how long the auger turns for one portion. */
  msPerPortion?: number;
  /** The jam switch is closed from the start. */
  jammed?: boolean;
  /** ESPHome waits 5 s before it tries again after losing the broker. */
  reconnectMs?: number;
  logger?: SimLogger;
}

export type EspHomeMealSource = "remote" | "button";

export interface EspHomeMeal {
  portions: number;
  source: EspHomeMealSource;
}

export interface EspHomeFeederEvents {
  /** After every (re)connection, once subscribed and the birth message is out. */
  ready: [];
  disconnected: [];
  /** A reconnect was refused (feeder deleted, new credentials): the simulator gives up. */
  refused: [error: ConnectionRefusedError];
  /** The number accepted a command. */
  command: [portions: number];
  dispensed: [meal: EspHomeMeal];
  failed: [meal: EspHomeMeal & { error: string }];
}

/** What strtof accepts as a whole string (ESPHome's parse_number<float>), less inf/nan/hex: never in range. */
const FLOAT = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export function parseEspHomeFloat(text: string): number | undefined {
  return FLOAT.test(text) ? Number(text) : undefined;
}

/** A sensor state as ESPHome writes it: printf("%.*f", accuracy_decimals), which breaks exact ties to even. */
export function formatAccuracy(value: number, decimals: number): string {
  const rounded = value.toFixed(decimals);
  // toFixed breaks an exact tie away from zero; the exact expansion of the double tells a real tie.
  const exact = Math.abs(value).toFixed(100);
  const cut = exact.indexOf(".") + (decimals > 0 ? decimals + 1 : 0);
  if (!/^\.?50*$/.test(exact.slice(cut))) return rounded;
  const truncated = exact.slice(0, cut);
  return Number(truncated.at(-1)) % 2 === 0 ? `${value < 0 ? "-" : ""}${truncated}` : rounded;
}

export class EspHomeFeeder extends EventEmitter<EspHomeFeederEvents> {
  readonly id: string;
  /** Meals that came out, whatever started them. */
  readonly dispensed: EspHomeMeal[] = [];

  private readonly msPerPortion: number;
  private readonly log: SimLogger;
  private jammed: boolean;
  /** Last state of every entity by topic: ESPHome publishes them all again after each (re)connect. */
  private readonly states = new Map<string, string>();
  private readonly connection: SimConnection;
  /** `script: mode: queued`: one meal at a time, in arrival order. */
  private motor: Promise<void> = Promise.resolve();

  constructor(private readonly options: EspHomeFeederOptions) {
    super();
    this.id = options.id;
    this.msPerPortion = options.msPerPortion ?? 200;
    this.jammed = options.jammed ?? false;
    this.log = options.logger ?? silentLogger;
    // A template number without a lambda starts at its initial_value (default min_value), written with %f.
    this.states.set(esphomeTopics.feedPortionsState(this.id), FEED_PORTIONS_MIN.toFixed(6));
    this.connection = new SimConnection(this, {
      url: options.url,
      deviceId: this.id,
      logger: this.log,
      announce: (client) => this.announce(client),
      onMessage: (topic, payload) => this.onMessage(topic, payload),
      onRefused: (error) => this.emit("refused", error),
    });
  }

  get connected(): boolean {
    return this.connection.connected;
  }

  /** Connects; rejects if the first attempt fails, then reconnects on its own like the device. */
  start(): Promise<void> {
    return this.connection.start({
      ...feedkeeperLogin(this.id, this.options.password),
      clean: false, // ESPHome's clean_session default (U: older releases may differ)
      keepalive: 15, // ESPHome's default
      resubscribe: false, // ESPHome subscribes again itself, see announce()
      reconnectPeriod: this.options.reconnectMs ?? 5000,
      will: { topic: esphomeTopics.status(this.id), payload: Buffer.from("offline"), qos: 0, retain: true },
    });
  }

  /** ESPHome's shutdown_message (`offline`, retained), then a clean DISCONNECT so the will is dropped. */
  stop(): Promise<void> {
    return this.connection.stop({
      topic: esphomeTopics.status(this.id),
      payload: "offline",
      options: { qos: 0, retain: true },
    });
  }

  /** Pulls the plug: no DISCONNECT, so the broker publishes the will. */
  kill(): void {
    this.connection.kill();
  }

  /** The jam switch: closing it makes the next meals fail with `jam`; opening it publishes `ok` (on_release). */
  setJammed(jammed: boolean): void {
    const released = this.jammed && !jammed;
    this.jammed = jammed;
    if (released) this.publishState(esphomeTopics.feederError(this.id), "ok");
  }

  /** The feed button: runs the same script as a command. Resolves once the meal's outcome is published. */
  pressButton(portions = 1): Promise<void> {
    return this.runMeal(portions, "button");
  }

  /** New readings from the hopper, scale, battery and Wi-Fi sensors, each published as its own state. */
  async sendSensors(readings: EspHomeSensorReadings): Promise<void> {
    for (const [key, { objectId, decimals }] of Object.entries(SENSORS)) {
      const value = readings[key as keyof EspHomeSensorReadings];
      if (value === undefined) continue;
      await this.publishState(esphomeTopics.sensor(this.id, objectId), formatAccuracy(value, decimals));
    }
  }

  /** After every CONNACK: subscribe, birth message, then every entity's last state again. */
  private async announce(client: MqttClient): Promise<void> {
    const command = esphomeTopics.feedPortions(this.id);
    // ESPHome subscribes to command topics with QoS 0 and never looks at the SUBACK.
    const granted = await client.subscribeAsync(command, { qos: 0 });
    if (granted.some((grant) => grant.qos === 128)) {
      this.log.warn({ feeder: this.id, topic: command }, "the broker refused the command subscription");
    }
    await client.publishAsync(esphomeTopics.status(this.id), "online", { qos: 0, retain: true });
    for (const [topic, payload] of this.states) await this.publishState(topic, payload);
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic !== esphomeTopics.feedPortions(this.id)) return;
    const text = payload.toString("utf8");
    const value = parseEspHomeFloat(text);
    if (value === undefined) {
      this.log.warn({ feeder: this.id, payload: text }, "can't convert to number");
      return;
    }
    if (value < FEED_PORTIONS_MIN || value > FEED_PORTIONS_MAX) {
      this.log.warn({ feeder: this.id, value }, "value outside min_value..max_value, ignored");
      return;
    }
    // set_action: portions = lroundf(x)
    const portions = Math.round(value);
    this.emit("command", portions);
    this.connection.background(this.runMeal(portions, "remote"), "meal failed");
  }

  private runMeal(portions: number, source: EspHomeMealSource): Promise<void> {
    const run = this.motor.then(() => this.meal({ portions, source }));
    this.motor = run.catch(ignore);
    return run;
  }

  /** The YAML's `run_meal` script. */
  private async meal(meal: EspHomeMeal): Promise<void> {
    const signal = this.connection.signal;
    if (this.jammed) {
      // The jam switch closes during the first portion: the auger stops and the meal ends as `jam`.
      await sleep(this.msPerPortion, undefined, { signal });
      await this.publishState(esphomeTopics.feederError(this.id), "jam");
      this.emit("failed", { ...meal, error: "jam" });
      return;
    }
    await sleep(meal.portions * this.msPerPortion, undefined, { signal });
    const dispensed = esphomeTopics.sensor(this.id, DISPENSED_PORTIONS);
    await this.publishState(dispensed, formatAccuracy(meal.portions, 0));
    // Back to 0 at once, so the state ESPHome publishes again after a reconnect is never an old meal.
    await this.publishState(dispensed, "0");
    await this.publishState(esphomeTopics.feederError(this.id), "ok");
    this.dispensed.push(meal);
    this.emit("dispensed", meal);
  }

  /** Bypasses the entities, for tests of how the server copes with a misconfigured device. */
  async publishRaw(topic: string, payload: string): Promise<void> {
    const client = this.connection.client;
    if (!client?.connected) throw new Error(`feeder ${this.id} is not connected`);
    await client.publishAsync(topic, payload, { qos: 1 });
  }

  /** An entity's new state: remembered, and published now if connected (retain: false in the YAML). */
  private async publishState(topic: string, payload: string): Promise<void> {
    this.states.set(topic, payload);
    await this.connection.publishIfConnected(
      topic,
      payload,
      { qos: 0, retain: false },
      "state not published",
    );
  }
}
