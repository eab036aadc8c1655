/**
 * A Petnet SmartFeeder V2 re-pointed to Feedkeeper (profile `petnet-smartfeeder-v2`), after it has registered
 * over HTTP and fetched its apiKey (docs/devices/petnet-kronos-http.md). Tests use it in place of the feeder.
 * It does what FeederNet's server (feedernet/petnet-feeder-service) and Arrow's C SDK the firmware is built on
 * (konexios/konexios-sdk-c) show; where they are silent, the choice is named here:
 *
 * - It logs in with client id <gateway hid>, username `/pegasus:<gateway hid>` and its apiKey as password,
 *   keeps a persistent session (the SDK's clean session 0) and subscribes to `krs/cmd/stg/<hid>` and
 *   `krs/api/stg/<hid>` with QoS 2. Its telemetry goes to `krs.tel.gts.<hid>` with QoS 1 (the SDK's MQTT_QOS).
 *   What it sends first after connecting is in no source: here a heartbeat, then one every `heartbeatMs`.
 * - Every `SendCommand` is answered with API calls over MQTT on `krs.api.gts.<hid>`: PUT
 *   /api/v1/core/events/<hid>/received, then `succeeded`, or `failed` with {"error": …} in the SDK's words. The
 *   calls go one at a time; each waits for the ack naming its requestId (the SDK waits twice its 10 s API
 *   timeout) and is sent again when none comes (how often is a build setting of the SDK; here `apiAttempts`).
 * - A feed is handled at once (succeeded) and dispensed in the background; its outcome is a `feed_result`
 *   (i|src 4; the button is 5, a stored meal 6). A result made while offline is sent after reconnecting;
 *   `replayResultsOnConnect` sends the latest ones again after each connect, as FeederNet saw feeders do.
 * - Firmware below 2.5 stores its plan from `schedule`; 2.5 and later from schedule_clear, schedule_mod_start,
 *   schedule_add and schedule_mod_end. Either has no handler for the other's commands. The plan runs by the
 *   feeder's clock plus the `utc_offset` it was told, whether or not the broker is reachable.
 * - The `s|err` texts of real failures are not known: a failing meal carries whatever `setFault` was given.
 */
import { createHmac } from "node:crypto";
import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { MqttClient } from "mqtt";
import { z } from "zod";
import {
  API_REQUEST_EVENT,
  petnetDeviceHid,
  petnetTopics,
  SEND_COMMAND,
} from "../profiles/codecs/petnet-kronos.js";
import {
  type ConnectionRefusedError,
  ignore,
  SimConnection,
  type SimLogger,
  silentLogger,
} from "./sim-connection.js";

/** Which schedule commands the firmware has handlers for (FeederNet switches at 2.5.0). */
export type PetnetFirmware = "legacy" | "2.5";

export type PetnetMealSource = "remote" | "button" | "schedule";

export interface PetnetMeal {
  cups: number;
  source: PetnetMealSource;
  /** i|stime: when it started, seconds since 1970 by the feeder's clock. */
  start: number;
}

export interface PetnetCommand {
  hid: string;
  deviceHid: string;
  command: string;
  payload: string;
}

export interface PetnetSensorReading {
  voltageMv: number;
  /** On USB (mains) power. */
  usb: boolean;
  charging: boolean;
  ir?: boolean;
  rssi: number;
}

export interface PetnetFeederOptions {
  url: string;
  gatewayHid: string;
  apiKey: string;
  /** The hid its device registration was answered with; Feedkeeper answers petnetDeviceHid(gateway hid). */
  deviceHid?: string;
  firmware?: PetnetFirmware;
  /** How long the auger turns for 1/16 cup. */
  msPerSixteenth?: number;
  /** For the expected and weighed grams of a result. */
  gramsPerCup?: number;
  apiAckTimeoutMs?: number;
  apiAttempts?: number;
  /** Between attempts of an API call (the SDK's ARROW_RETRY_DELAY). */
  apiRetryDelayMs?: number;
  heartbeatMs?: number;
  /** How often the stored plan is checked against the clock (real time). */
  scheduleCheckMs?: number;
  /** After losing the broker (the SDK's MQTT_RETRY_DELAY). */
  reconnectMs?: number;
  /** How many of the latest feed results are sent again after each connect. */
  replayResultsOnConnect?: number;
  now?: () => Date;
  logger?: SimLogger;
}

export interface PetnetFeederEvents {
  /** After every (re)connection, once subscribed and the heartbeat is out. */
  ready: [];
  disconnected: [];
  /** A reconnect was refused (new apiKey, feeder removed): the simulator gives up. */
  refused: [error: ConnectionRefusedError];
  command: [command: PetnetCommand];
  dispensed: [meal: PetnetMeal];
  failed: [meal: PetnetMeal & { error: string }];
  /** A plan was stored, replacing the one before. */
  scheduleStored: [entries: PetnetStoredMeal[]];
  /** An API call got no ack in any of its attempts. */
  apiUnacknowledged: [uri: string];
}

const storedMeal = z.object({
  active: z.boolean(),
  automatic: z.boolean(),
  feeding_id: z.string(),
  name: z.string(),
  portion: z.number().positive(),
  reminder: z.boolean(),
  time: z
    .number()
    .int()
    .min(0)
    .max(24 * 3600 - 1),
});
export type PetnetStoredMeal = z.infer<typeof storedMeal>;

const envelope = z.object({
  hid: z.string().min(1),
  name: z.string(),
  encrypted: z.boolean().optional(),
  parameters: z.record(z.string(), z.unknown()),
});

const ack = z.object({
  requestId: z.union([z.string(), z.number()]),
  parameters: z.object({ status: z.string() }),
});

const COMMAND_ARGS = {
  feed: z.object({ portion: z.number().positive() }),
  utc_offset: z.object({ utc_offset: z.number().int() }),
  schedule: z.array(storedMeal),
  schedule_clear: z.object({}),
  schedule_mod_start: z.object({ size: z.number().int().min(0) }),
  schedule_add: z.array(z.object({ index: z.number().int().min(0), data: storedMeal })),
  schedule_mod_end: z.object({}),
};
type CommandName = keyof typeof COMMAND_ARGS;
const HANDLERS: Record<PetnetFirmware, ReadonlySet<CommandName>> = {
  legacy: new Set(["feed", "utc_offset", "schedule"]),
  "2.5": new Set([
    "feed",
    "utc_offset",
    "schedule_clear",
    "schedule_mod_start",
    "schedule_add",
    "schedule_mod_end",
  ]),
};

/** The SDK's own error texts (device_command.c). */
const NO_HANDLER = "There is no a command handler";
const HANDLER_FAILED = "Something went wrong";

const SIXTEENTH = 0.0625;
const DAY_SECONDS = 24 * 3600;

/** The SDK's x-arrow-date and request ids: whole seconds. */
function arrowTime(at: Date): string {
  return `${at.toISOString().slice(0, 19)}.000Z`;
}

export class PetnetFeeder extends EventEmitter<PetnetFeederEvents> {
  readonly gatewayHid: string;
  readonly deviceHid: string;
  /** Meals that came out, whatever started them. */
  readonly dispensed: PetnetMeal[] = [];
  /** Every envelope as it was delivered. */
  readonly commands: PetnetCommand[] = [];

  private readonly options: Required<Omit<PetnetFeederOptions, "logger" | "now" | "deviceHid">>;
  private readonly now: () => Date;
  private readonly log: SimLogger;
  private readonly connection: SimConnection;
  private fault: string | undefined;
  /** The stored plan, kept in "flash" across reconnects. */
  private plan: PetnetStoredMeal[] = [];
  /** What schedule_mod_start … schedule_mod_end are building. */
  private staged: { size: number; meals: PetnetStoredMeal[] } | undefined;
  private utcOffset = 0;
  /** Up to when (epoch ms) the plan has been run. */
  private planCheckedUntil = 0;
  private lastStart = 0;
  /** Results not yet published (made while offline), oldest first. */
  private readonly unsent: string[] = [];
  /** The latest results that reached the broker, for replayResultsOnConnect. */
  private readonly sentResults: string[] = [];
  /** One motor: meals one after another in arrival order. */
  private motor: Promise<void> = Promise.resolve();
  /** Commands and their API calls are handled one at a time, as the SDK's event loop does. */
  private work: Promise<void> = Promise.resolve();
  private pendingAck: { requestId: string; done: (acked: boolean) => void } | undefined;

  constructor(options: PetnetFeederOptions) {
    super();
    this.gatewayHid = options.gatewayHid;
    this.deviceHid = options.deviceHid ?? petnetDeviceHid(options.gatewayHid);
    this.options = {
      url: options.url,
      gatewayHid: options.gatewayHid,
      apiKey: options.apiKey,
      firmware: options.firmware ?? "2.5",
      msPerSixteenth: options.msPerSixteenth ?? 250,
      gramsPerCup: options.gramsPerCup ?? 110,
      apiAckTimeoutMs: options.apiAckTimeoutMs ?? 20_000,
      apiAttempts: options.apiAttempts ?? 3,
      apiRetryDelayMs: options.apiRetryDelayMs ?? 3000,
      heartbeatMs: options.heartbeatMs ?? 60_000,
      scheduleCheckMs: options.scheduleCheckMs ?? 1000,
      reconnectMs: options.reconnectMs ?? 6000,
      replayResultsOnConnect: options.replayResultsOnConnect ?? 0,
    };
    this.now = options.now ?? (() => new Date());
    this.log = options.logger ?? silentLogger;
    this.connection = new SimConnection(this, {
      url: options.url,
      deviceId: this.gatewayHid,
      logger: this.log,
      announce: (client) => this.announce(client),
      onMessage: (topic, payload) => this.onMessage(topic, payload),
      onRefused: (error) => this.emit("refused", error),
    });
  }

  get connected(): boolean {
    return this.connection.connected;
  }

  /** The plan the feeder holds. */
  get storedPlan(): readonly PetnetStoredMeal[] {
    return this.plan;
  }

  /** Seconds east of UTC, as the last utc_offset command said. */
  get utcOffsetSeconds(): number {
    return this.utcOffset;
  }

  /** Connects; rejects if the first attempt fails, then reconnects on its own like the device. */
  start(): Promise<void> {
    return this.connection.start(
      {
        protocolVersion: 4,
        clientId: this.gatewayHid,
        username: `/pegasus:${this.gatewayHid}`,
        password: this.options.apiKey,
        clean: false,
        keepalive: 60,
        resubscribe: false,
        reconnectPeriod: this.options.reconnectMs,
        // FeederNet's self-signed certificate names no arrowconnect.io host: the firmware does not check it.
        rejectUnauthorized: false,
      },
      () => {
        this.planCheckedUntil = this.now().getTime();
        this.connection.every(this.options.scheduleCheckMs, () => this.runSchedule());
        this.connection.every(this.options.heartbeatMs, () => this.telemetry({ "s|msg_type": "hb" }));
      },
    );
  }

  /** A clean DISCONNECT (the SDK sets no will). */
  async stop(): Promise<void> {
    const stopped = this.connection.stop();
    this.pendingAck?.done(false);
    await stopped;
  }

  /** Pulls the plug: no DISCONNECT. */
  kill(): void {
    this.connection.kill();
    this.pendingAck?.done(false);
  }

  /** Makes the following meals fail with this s|err; undefined: they succeed again. */
  setFault(error: string | undefined): void {
    this.fault = error;
  }

  /** The button on the feeder. Resolves once the meal is over and its result sent (or queued). */
  pressButton(cups = SIXTEENTH): Promise<void> {
    return this.runMeal(cups, "button");
  }

  async sendSensors(reading: PetnetSensorReading): Promise<void> {
    await this.telemetry({
      "s|msg_type": "sensor",
      "f|voltage": reading.voltageMv,
      "i|usb": reading.usb ? 1 : 0,
      "i|chg": reading.charging ? 1 : 0,
      "i|ir": reading.ir ? 1 : 0,
      "i|rssi": reading.rssi,
    });
  }

  /** Feeds every active stored meal whose time passed since the last check, by the feeder's local clock. */
  runSchedule(): void {
    const now = this.now().getTime();
    const from = this.planCheckedUntil;
    this.planCheckedUntil = now;
    if (now <= from) return;
    const local = (ms: number) => Math.floor(ms / 1000) + this.utcOffset;
    const [start, end] = [local(from), local(now)];
    for (const meal of this.plan) {
      if (!meal.active) continue;
      // The meal's latest time of day at or before `end`.
      const due = end - ((((end - meal.time) % DAY_SECONDS) + DAY_SECONDS) % DAY_SECONDS);
      if (due > start) {
        this.connection.background(this.runMeal(meal.portion, "schedule"), "failed");
      }
    }
  }

  /** After every CONNACK: both subscriptions, a heartbeat, then what could not be sent while offline. */
  private async announce(client: MqttClient): Promise<void> {
    await client.subscribeAsync(
      [petnetTopics.command(this.gatewayHid), petnetTopics.apiReply(this.gatewayHid)],
      { qos: 2 },
    );
    await this.telemetry({ "s|msg_type": "hb" });
    const replays = this.options.replayResultsOnConnect;
    for (const result of replays > 0 ? this.sentResults.slice(-replays) : [])
      await this.publishResult(result);
    for (const result of this.unsent.splice(0)) await this.publishResult(result);
  }

  private onMessage(topic: string, payload: Buffer): void {
    let json: unknown;
    try {
      json = JSON.parse(payload.toString("utf8"));
    } catch {
      this.log.warn({ feeder: this.gatewayHid, topic }, "payload is not JSON");
      return;
    }
    if (topic === petnetTopics.apiReply(this.gatewayHid)) {
      const reply = ack.safeParse(json);
      const pending = this.pendingAck;
      if (reply.success && pending && String(reply.data.requestId) === pending.requestId) {
        pending.done(reply.data.parameters.status === "OK");
      }
      return;
    }
    if (topic !== petnetTopics.command(this.gatewayHid)) return;
    const parsed = envelope.safeParse(json);
    // The SDK drops an event without a hid or one it has no processor for.
    if (!parsed.success || parsed.data.name !== SEND_COMMAND) {
      this.log.warn({ feeder: this.gatewayHid }, "not a SendCommand event, dropped");
      return;
    }
    const run = this.work.then(() => this.handle(parsed.data.hid, parsed.data.parameters));
    this.work = this.connection.background(run, "failed");
  }

  /** ev_DeviceCommand: received, the handler, then succeeded or failed. Without an ack for received, nothing runs. */
  private async handle(hid: string, parameters: Record<string, unknown>): Promise<void> {
    if (!(await this.apiCall(`/api/v1/core/events/${hid}/received`))) return;
    const { deviceHid, command, payload } = parameters;
    let error: string | undefined;
    if (typeof deviceHid !== "string") error = "There is no device HID";
    else if (typeof command !== "string") error = "There is no command";
    else if (typeof payload !== "string") error = "There is no payload";
    else {
      const received = { hid, deviceHid, command, payload };
      this.commands.push(received);
      this.emit("command", received);
      error = this.dispatch(command, payload);
    }
    if (error === undefined) await this.apiCall(`/api/v1/core/events/${hid}/succeeded`);
    else await this.apiCall(`/api/v1/core/events/${hid}/failed`, JSON.stringify({ error }));
  }

  /** The command's handler; returns the SDK's error text when it has none or it fails. */
  private dispatch(command: string, payload: string): string | undefined {
    if (!(command in COMMAND_ARGS) || !HANDLERS[this.options.firmware].has(command as CommandName)) {
      return NO_HANDLER;
    }
    try {
      this.apply(command as CommandName, JSON.parse(payload));
      return undefined;
    } catch (error) {
      this.log.warn({ feeder: this.gatewayHid, command, err: error }, "command failed");
      return HANDLER_FAILED;
    }
  }

  private apply(command: CommandName, json: unknown): void {
    switch (command) {
      case "feed": {
        const { portion } = COMMAND_ARGS.feed.parse(json);
        this.connection.background(this.runMeal(portion, "remote"), "failed");
        return;
      }
      case "utc_offset":
        this.utcOffset = COMMAND_ARGS.utc_offset.parse(json).utc_offset;
        return;
      case "schedule":
        this.store(COMMAND_ARGS.schedule.parse(json));
        return;
      case "schedule_clear":
        COMMAND_ARGS.schedule_clear.parse(json);
        this.staged = undefined;
        this.store([]);
        return;
      case "schedule_mod_start":
        this.staged = { size: COMMAND_ARGS.schedule_mod_start.parse(json).size, meals: [] };
        return;
      case "schedule_add": {
        const staged = this.staged;
        if (!staged) throw new Error("schedule_add before schedule_mod_start");
        for (const { index, data } of COMMAND_ARGS.schedule_add.parse(json)) staged.meals[index] = data;
        return;
      }
      case "schedule_mod_end": {
        COMMAND_ARGS.schedule_mod_end.parse(json);
        const staged = this.staged;
        this.staged = undefined;
        const meals = staged?.meals.filter((meal) => meal !== undefined) ?? [];
        if (!staged || meals.length !== staged.size) {
          throw new Error(`schedule_mod_end: ${meals.length} meals added, ${staged?.size ?? 0} announced`);
        }
        this.store(meals);
        return;
      }
    }
  }

  private store(meals: PetnetStoredMeal[]): void {
    this.plan = meals;
    this.emit("scheduleStored", meals);
  }

  /**
   * One API call over MQTT, as the SDK's http client_mqtt makes it, sent until an ack names it; false when none
   * did. The signature fields stand in for Arrow's (FeederNet checks none of them).
   */
  private async apiCall(uri: string, body?: string): Promise<boolean> {
    const signal = this.connection.signal;
    for (let attempt = 1; attempt <= this.options.apiAttempts && !signal.aborted; attempt++) {
      if (attempt > 1) await sleep(this.options.apiRetryDelayMs, undefined, { signal }).catch(ignore);
      const timestamp = arrowTime(this.now());
      const requestId = `GS-${timestamp}`;
      const parameters = {
        uri,
        method: "PUT",
        apiKey: this.options.apiKey,
        ...(body !== undefined && { body }),
        apiRequestSignature: createHmac("sha256", this.options.apiKey)
          .update(`PUT${uri}${timestamp}`)
          .digest("hex"),
        apiRequestSignatureVersion: "1",
        timestamp,
      };
      const request = {
        requestId,
        eventName: API_REQUEST_EVENT,
        encrypted: false,
        parameters,
        signature: createHmac("sha256", this.options.apiKey).update(requestId).digest("hex"),
        signatureVersion: "1",
      };
      const acked = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => done(false), this.options.apiAckTimeoutMs);
        const done = (value: boolean) => {
          clearTimeout(timer);
          if (this.pendingAck?.requestId === requestId) this.pendingAck = undefined;
          resolve(value);
        };
        this.pendingAck = { requestId, done };
      });
      await this.connection.publishIfConnected(
        petnetTopics.api(this.gatewayHid),
        JSON.stringify(request),
        { qos: 1 },
        "API call not sent",
      );
      if (await acked) return true;
      this.log.warn({ feeder: this.gatewayHid, uri, attempt }, "API call not acknowledged");
    }
    if (!signal.aborted) this.emit("apiUnacknowledged", uri);
    return false;
  }

  private runMeal(cups: number, source: PetnetMealSource): Promise<void> {
    const run = this.motor.then(() => this.meal(cups, source));
    this.motor = run.catch(ignore);
    return run;
  }

  private async meal(cups: number, source: PetnetMealSource): Promise<void> {
    // A real meal takes seconds, so start times never repeat; the simulator keeps that true when it is faster.
    const start = Math.max(Math.floor(this.now().getTime() / 1000), this.lastStart + 1);
    this.lastStart = start;
    const error = this.fault;
    await sleep((cups / SIXTEENTH) * this.options.msPerSixteenth, undefined, {
      signal: this.connection.signal,
    });
    const grams = Math.round(cups * this.options.gramsPerCup * 10) / 10;
    const meal: PetnetMeal = { cups, source, start };
    await this.result({
      "_|deviceHid": this.deviceHid,
      "s|msg_type": "feed_result",
      "i|stime": start,
      "i|etime": Math.max(start, Math.floor(this.now().getTime() / 1000)),
      "f|e_g": grams,
      "f|a_g": error === undefined ? grams : 0,
      "i|src": { remote: 4, button: 5, schedule: 6 }[source],
      "b|fail": error !== undefined,
      "s|err": error ?? "",
    });
    if (error !== undefined) {
      this.emit("failed", { ...meal, error });
      return;
    }
    this.dispensed.push(meal);
    this.emit("dispensed", meal);
  }

  private async result(fields: Record<string, unknown>): Promise<void> {
    const payload = JSON.stringify(fields);
    if (this.connection.connected) await this.publishResult(payload);
    else this.unsent.push(payload);
  }

  private async publishResult(payload: string): Promise<void> {
    try {
      await this.connection
        .requireClient()
        .publishAsync(petnetTopics.telemetry(this.gatewayHid), payload, { qos: 1 });
    } catch (error) {
      this.log.warn({ feeder: this.gatewayHid, err: error }, "feed result not sent, kept");
      this.unsent.push(payload);
      return;
    }
    this.sentResults.push(payload);
    this.sentResults.splice(0, this.sentResults.length - 10);
  }

  /** A heartbeat or sensor reading: lost when the broker is not reachable. */
  private telemetry(fields: Record<string, unknown>): Promise<void> {
    return this.connection.publishIfConnected(
      petnetTopics.telemetry(this.gatewayHid),
      JSON.stringify({ "_|deviceHid": this.deviceHid, ...fields }),
      { qos: 1 },
      "telemetry not sent",
    );
  }
}
