/**
 * An Arlec 5L feeder (a Tuya Wi-Fi feeder) whose Wi-Fi module runs Tasmota as TuyaMCU, set up as in
 * docs/devices/tasmota-tuyamcu.md (profile `tasmota-tuyamcu`, model `arlec-5l`). Tests and the simulator
 * use it in place of the device. Two halves, as in the real thing:
 *
 * - Tasmota (xdrv_02_9_mqtt.ino, xdrv_16_tuyamcu.ino): after every CONNACK it publishes its LWT `Online`,
 *   then subscribes to its command topic, its group topic and its fallback topic without waiting for the
 *   SUBACKs. Commands arrive on feedkeeper/<id>/cmd/<Command> and are answered on stat/RESULT. Each frame
 *   from the MCU is published on tele/RESULT as `TuyaReceived` (SetOption66 1), the answers to its
 *   heartbeat every 10 s included. Only after booting (the first connection) it publishes INFO1 and asks
 *   the MCU for all its DP states. Nothing is queued while disconnected.
 * - The MCU (protocol-facts §2.2, Arlec 5L): manual_feed on DP 3 (1-12), feed_state on DP 4 (standby,
 *   feeding, done), battery on DP 11, a fault bitmap on DP 14 (1 jam, 2 low, 4 empty, 8 desiccant,
 *   16 battery low), feed_report on DP 15, and the meal plan on DP 1, which it reports back when set.
 */
import { createHash } from "node:crypto";
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

export const tasmotaTopics = {
  lwt: (id: string) => `${topics.root(id)}/tele/LWT`,
  teleResult: (id: string) => `${topics.root(id)}/tele/RESULT`,
  statResult: (id: string) => `${topics.root(id)}/stat/RESULT`,
  state: (id: string) => `${topics.root(id)}/tele/STATE`,
  info1: (id: string) => `${topics.root(id)}/tele/INFO1`,
  command: (id: string, command: string) => `${topics.root(id)}/cmd/${command}`,
  /** FullTopic feedkeeper/%topic%/%prefix%/ with GroupTopic1 `tasmotas`: refused by Feedkeeper's broker. */
  group: "feedkeeper/tasmotas/cmd/#",
  /** The fallback topic, `cmnd/<MqttClient>_fb/` whatever the FullTopic: refused too. */
  fallback: (id: string) => `cmnd/${id}_fb/#`,
  /** Tasmota discovery, published by every build with USE_TASMOTA_DISCOVERY whatever SetOption19 says. */
  discovery: (mac: string) => `tasmota/discovery/${mac}/config`,
};

/** The Arlec 5L's data points. */
export const ARLEC_5L_DPS = {
  mealPlan: 1,
  manualFeed: 3,
  feedState: 4,
  battery: 11,
  fault: 14,
  feedReport: 15,
};
export const FEED_STATE = { standby: 0, feeding: 1, done: 2 } as const;
export const FAULT_BITS = { jam: 1, low: 2, empty: 4, desiccant: 8, batteryLow: 16 } as const;
/** manual_feed's range. */
export const MANUAL_FEED_MIN = 1;
export const MANUAL_FEED_MAX = 12;

/** Tuya's DP types on the serial line. */
export const DP_TYPE = { raw: 0, bool: 1, value: 2, string: 3, enum: 4, bitmap: 5 } as const;

export interface TuyaDp {
  id: number;
  type: number;
  data: Buffer;
}

export const dp = {
  raw: (id: number, data: Buffer): TuyaDp => ({ id, type: DP_TYPE.raw, data }),
  bool: (id: number, value: boolean): TuyaDp => ({
    id,
    type: DP_TYPE.bool,
    data: Buffer.from([value ? 1 : 0]),
  }),
  value: (id: number, value: number): TuyaDp => {
    const data = Buffer.alloc(4);
    data.writeInt32BE(value);
    return { id, type: DP_TYPE.value, data };
  },
  enum: (id: number, value: number): TuyaDp => ({ id, type: DP_TYPE.enum, data: Buffer.from([value]) }),
  bitmap: (id: number, value: number): TuyaDp => ({ id, type: DP_TYPE.bitmap, data: Buffer.from([value]) }),
};

/** A serial frame from the MCU: 55 AA, protocol version 3, command, length (2 bytes), data, checksum. */
export function mcuFrame(command: number, data: Buffer): Buffer {
  const head = Buffer.from([0x55, 0xaa, 0x03, command, 0, 0]);
  head.writeUInt16BE(data.length, 4);
  const frame = Buffer.concat([head, data]);
  const checksum = frame.reduce((sum, byte) => (sum + byte) & 0xff, 0);
  return Buffer.concat([frame, Buffer.from([checksum])]);
}

/** The frame an MCU sends to report DP states (command 7): each DP as id, type, length, data. */
export function stateReportFrame(dps: readonly TuyaDp[]): Buffer {
  const data = dps.map((d) => {
    const header = Buffer.from([d.id, d.type, 0, 0]);
    header.writeUInt16BE(d.data.length, 2);
    return Buffer.concat([header, d.data]);
  });
  return mcuFrame(0x07, Buffer.concat(data));
}

/** The MCU's answer to Tasmota's heartbeat (every 10 s): 0 the first time after it started, then 1. */
export function heartbeatFrame(first: boolean): Buffer {
  return mcuFrame(0x00, Buffer.from([first ? 0 : 1]));
}

const upperHex = (bytes: Buffer) => bytes.toString("hex").toUpperCase();

/** Tasmota's TuyaReceived JSON for a state report (TuyaSerialInput in xdrv_16_tuyamcu.ino). */
export function tuyaReceivedJson(frame: Buffer): string {
  const data = frame.subarray(6, frame.length - 1);
  let json = `{"TuyaReceived":{"Data":"${upperHex(frame)}","Cmnd":${frame[3]}`;
  if (data.length > 0) json += `,"CmndData":"${upperHex(data)}"`;
  for (let at = 0; frame[3] === 0x07 && at + 4 <= data.length; ) {
    const id = data.readUInt8(at);
    const type = data.readUInt8(at + 1);
    const length = data.readUInt16BE(at + 2);
    const value = data.subarray(at + 4, at + 4 + length);
    json += `,"DpType${type}Id${id}":`;
    if ((type === DP_TYPE.bool || type === DP_TYPE.enum) && length === 1) json += `${value[0]}`;
    else if (type === DP_TYPE.value && length === 4) json += `${value.readUInt32BE(0)}`;
    else if (type === DP_TYPE.string) json += `"${value.toString("latin1")}"`;
    else json += `"0x${upperHex(value)}"`;
    json += `,"${id}":{"DpId":${id},"DpIdType":${type},"DpIdData":"${upperHex(value)}"`;
    if (type === DP_TYPE.string) json += `,"Type3Data":"${value.toString("latin1")}"`;
    json += "}";
    at += 4 + length;
  }
  return `${json}}}`;
}

export interface TasmotaTuyaFeederOptions {
  url: string;
  id: string;
  password: string;
  /** How long the auger turns for one portion. */
  msPerPortion?: number;
  jammed?: boolean;
  batteryPercent?: number;
  /** How often Tasmota sends the MCU a heartbeat, whose answer it publishes (SetOption137 0). */
  heartbeatMs?: number;
  /** Tasmota waits MqttRetry (10 s) before it tries again after losing the broker. */
  reconnectMs?: number;
  /**
   * SetOption90 0, Tasmota's default: an empty message on cmd/POWER after every connect, which
   * Feedkeeper's broker answers by closing the connection (the guide sets SetOption90 1).
   */
  publishesEmptyPower?: boolean;
  /** A stock build (USE_TASMOTA_DISCOVERY): its discovery message goes out this long after the first connect. */
  discoveryAfterMs?: number;
  logger?: SimLogger;
}

export type TasmotaMealSource = "remote" | "button";

export interface TasmotaMeal {
  portions: number;
  source: TasmotaMealSource;
}

export interface TasmotaTuyaFeederEvents {
  /** After every (re)connection: LWT out and every subscription answered. */
  ready: [];
  disconnected: [];
  refused: [error: ConnectionRefusedError];
  /** A command Tasmota received, as its topic's last level and payload. */
  command: [name: string, payload: string];
  dispensed: [meal: TasmotaMeal];
  failed: [meal: TasmotaMeal & { error: "jam" }];
  /** The MCU stored a new meal plan (DP 1). */
  plan: [bytes: Buffer];
}

export class TasmotaTuyaFeeder extends EventEmitter<TasmotaTuyaFeederEvents> {
  readonly id: string;
  /** The MAC address, 12 hex digits: in the discovery topic. */
  readonly mac: string;
  readonly dispensed: TasmotaMeal[] = [];

  private readonly msPerPortion: number;
  private readonly log: SimLogger;
  private readonly connection: SimConnection;
  private booted = false;
  private firstHeartbeat = true;
  private motor: Promise<void> = Promise.resolve();
  // The MCU's DP states.
  private mealPlan: Buffer = Buffer.alloc(0);
  private manualFeed = MANUAL_FEED_MIN;
  private feedState: number = FEED_STATE.standby;
  private faults = 0;
  private lastReport = 0;
  private battery: number;
  private jammed: boolean;

  constructor(private readonly options: TasmotaTuyaFeederOptions) {
    super();
    this.id = options.id;
    this.mac = createHash("sha256").update(options.id).digest("hex").slice(0, 12).toUpperCase();
    this.msPerPortion = options.msPerPortion ?? 200;
    this.jammed = options.jammed ?? false;
    this.battery = options.batteryPercent ?? 100;
    this.log = options.logger ?? silentLogger;
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

  /** The meal plan the MCU holds (DP 1). */
  get plan(): Buffer {
    return Buffer.from(this.mealPlan);
  }

  /** Connects; rejects if the first attempt fails, then reconnects on its own like Tasmota. */
  start(): Promise<void> {
    return this.connection.start(
      {
        ...feedkeeperLogin(this.id, this.options.password),
        clean: true, // MQTT_CLEAN_SESSION
        keepalive: 30, // MQTT_KEEPALIVE
        resubscribe: false, // Tasmota subscribes again itself
        reconnectPeriod: this.options.reconnectMs ?? 10_000,
        will: { topic: tasmotaTopics.lwt(this.id), payload: Buffer.from("Offline"), qos: 1, retain: true },
      },
      () => this.connection.every(this.options.heartbeatMs ?? 10_000, () => this.heartbeat()),
    );
  }

  /** Tasmota's restart: LWT `Offline`, then a clean DISCONNECT. */
  stop(): Promise<void> {
    return this.connection.stop({
      topic: tasmotaTopics.lwt(this.id),
      payload: "Offline",
      options: { qos: 0, retain: true },
    });
  }

  /** Pulls the plug: the broker publishes the will. */
  kill(): void {
    this.connection.kill();
  }

  /** The Wi-Fi drops: the connection breaks without a DISCONNECT, and Tasmota reconnects later. */
  dropConnection(): void {
    this.connection.client?.stream.destroy();
  }

  /** The auger jams on the next meals; clearing it reports the fault bit cleared. */
  setJammed(jammed: boolean): void {
    const cleared = this.jammed && !jammed;
    this.jammed = jammed;
    if (cleared) {
      this.faults &= ~FAULT_BITS.jam;
      this.report([dp.bitmap(ARLEC_5L_DPS.fault, this.faults)]);
    }
  }

  setBattery(percent: number): void {
    this.battery = percent;
    this.report([dp.value(ARLEC_5L_DPS.battery, percent)]);
  }

  /** Tasmota's TelePeriod message, with the Wi-Fi signal in dBm. */
  async sendState(signal: number): Promise<void> {
    const state = {
      Time: new Date().toISOString().slice(0, 19),
      Uptime: "0T00:05:00",
      UptimeSec: 300,
      Heap: 25,
      SleepMode: "Dynamic",
      Sleep: 50,
      LoadAvg: 19,
      MqttCount: 1,
      Wifi: {
        AP: 1,
        SSId: "MyHomeWifi",
        BSSId: "AA:BB:CC:DD:EE:FF",
        Channel: 6,
        Mode: "11n",
        RSSI: Math.max(0, Math.min(100, 2 * (signal + 100))),
        Signal: signal,
        LinkCount: 1,
        Downtime: "0T00:00:03",
      },
    };
    await this.publish(tasmotaTopics.state(this.id), JSON.stringify(state));
  }

  /** The feed button: one meal, without a command. Resolves once its outcome is reported. */
  pressButton(portions = 1): Promise<void> {
    return this.runMeal({ portions, source: "button" });
  }

  /** MqttConnected(): LWT, subscriptions, and after booting INFO1 and the MCU's state. */
  private async announce(client: MqttClient): Promise<void> {
    await client.publishAsync(tasmotaTopics.lwt(this.id), "Online", { qos: 0, retain: true });
    if (this.options.publishesEmptyPower) {
      await client.publishAsync(tasmotaTopics.command(this.id, "POWER"), "", { qos: 0 });
    }
    // Sent one after another without waiting for a SUBACK; the broker refuses the last two, and Tasmota
    // never looks at the answers.
    const filters = [`${topics.root(this.id)}/cmd/#`, tasmotaTopics.group, tasmotaTopics.fallback(this.id)];
    const refused = await Promise.all(
      filters.map((filter) =>
        client.subscribeAsync(filter, { qos: 0 }).then(
          () => undefined,
          () => filter,
        ),
      ),
    );
    this.log.debug({ feeder: this.id, refused: refused.filter(Boolean) }, "subscribed");
    if (this.booted) return;
    this.booted = true;
    await this.publish(
      tasmotaTopics.info1(this.id),
      JSON.stringify({
        Info1: {
          Module: "TuyaMCU",
          Version: "14.4.1(release-tasmota)",
          FallbackTopic: `cmnd/${this.id}_fb/`,
          GroupTopic: "feedkeeper/tasmotas/cmd/",
        },
      }),
    );
    if (this.options.discoveryAfterMs !== undefined) {
      setTimeout(() => {
        client
          .publishAsync(tasmotaTopics.discovery(this.mac), JSON.stringify({ t: this.id, md: "TuyaMCU" }), {
            qos: 0,
            retain: true,
          })
          .catch(ignore);
      }, this.options.discoveryAfterMs);
    }
    // At boot Tasmota asks the MCU for its product, configuration and state.
    this.reportAll();
  }

  private onMessage(topic: string, payload: Buffer): void {
    const prefix = `${topics.root(this.id)}/cmd/`;
    if (!topic.startsWith(prefix)) return;
    const name = topic.slice(prefix.length);
    const text = payload.toString("utf8");
    this.emit("command", name, text);
    // Tasmota's commands are case-insensitive; TuyaSend takes "dpId,data" split at commas or spaces.
    const [dpText, data] = text.split(/[, ]+/);
    const dpId = Number(dpText);
    switch (name.toLowerCase()) {
      case "tuyasend0":
        this.respond(name, "Done");
        this.reportAll();
        return;
      case "tuyasend2":
        if (data === undefined) return;
        this.respond(name, "Done");
        if (dpId === ARLEC_5L_DPS.manualFeed) this.manualFeedSet(Number(data));
        return;
      case "tuyasend6":
        if (data === undefined) return;
        this.respond(name, "Done");
        if (dpId === ARLEC_5L_DPS.mealPlan) this.mealPlanSet(Buffer.from(data.replace(/^0x/i, ""), "hex"));
        return;
      default:
        this.respond("Command", "Unknown");
    }
  }

  private manualFeedSet(portions: number): void {
    if (!Number.isInteger(portions) || portions < MANUAL_FEED_MIN || portions > MANUAL_FEED_MAX) {
      this.log.warn({ feeder: this.id, portions }, "manual_feed out of range, ignored by the MCU");
      return;
    }
    this.manualFeed = portions;
    this.report([dp.value(ARLEC_5L_DPS.manualFeed, portions)]);
    this.connection.background(this.runMeal({ portions, source: "remote" }), "meal failed");
  }

  private mealPlanSet(bytes: Buffer): void {
    this.mealPlan = bytes;
    this.report([dp.raw(ARLEC_5L_DPS.mealPlan, bytes)]);
    this.emit("plan", Buffer.from(bytes));
  }

  /** One meal at a time, in arrival order. */
  private runMeal(meal: TasmotaMeal): Promise<void> {
    const run = this.motor.then(() => this.meal(meal));
    this.motor = run.catch(ignore);
    return run;
  }

  private async meal(meal: TasmotaMeal): Promise<void> {
    const signal = this.connection.signal;
    this.feedState = FEED_STATE.feeding;
    this.report([dp.enum(ARLEC_5L_DPS.feedState, this.feedState)]);
    if (this.jammed) {
      await sleep(this.msPerPortion, undefined, { signal });
      this.faults |= FAULT_BITS.jam;
      this.feedState = FEED_STATE.standby;
      this.report([dp.bitmap(ARLEC_5L_DPS.fault, this.faults)]);
      this.report([dp.enum(ARLEC_5L_DPS.feedState, this.feedState)]);
      this.emit("failed", { ...meal, error: "jam" });
      return;
    }
    await sleep(meal.portions * this.msPerPortion, undefined, { signal });
    this.lastReport = meal.portions;
    this.feedState = FEED_STATE.done;
    this.report([dp.value(ARLEC_5L_DPS.feedReport, meal.portions)]);
    this.report([dp.enum(ARLEC_5L_DPS.feedState, this.feedState)]);
    this.dispensed.push(meal);
    this.emit("dispensed", meal);
  }

  /** The MCU's answer to a state query: every DP, each in a frame of its own. */
  private reportAll(): void {
    const d = ARLEC_5L_DPS;
    this.report([dp.raw(d.mealPlan, this.mealPlan)]);
    this.report([dp.value(d.manualFeed, this.manualFeed)]);
    this.report([dp.enum(d.feedState, this.feedState)]);
    this.report([dp.value(d.battery, this.battery)]);
    this.report([dp.bitmap(d.fault, this.faults)]);
    this.report([dp.value(d.feedReport, this.lastReport)]);
  }

  private heartbeat(): void {
    const frame = heartbeatFrame(this.firstHeartbeat);
    this.firstHeartbeat = false;
    this.publish(tasmotaTopics.teleResult(this.id), tuyaReceivedJson(frame)).catch(ignore);
  }

  /** A frame from the MCU, as Tasmota publishes it; lost if Tasmota is not connected. */
  private report(dps: TuyaDp[]): void {
    this.publish(tasmotaTopics.teleResult(this.id), tuyaReceivedJson(stateReportFrame(dps))).catch(ignore);
  }

  private respond(command: string, result: string): void {
    this.publish(tasmotaTopics.statResult(this.id), JSON.stringify({ [command]: result })).catch(ignore);
  }

  private publish(topic: string, payload: string): Promise<void> {
    return this.connection.publishIfConnected(topic, payload, { qos: 0, retain: false });
  }
}
