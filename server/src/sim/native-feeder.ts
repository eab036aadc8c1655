/**
 * A software feeder speaking the native protocol v1 exactly as firmware should. It is the reference
 * implementation behind `npm run simulate`, and integration tests and the benchmark drive the server with it.
 */
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { IClientPublishOptions, MqttClient } from "mqtt";
import { occurrencesBetween } from "../feeding/meal-time.js";
import {
  CAPABILITY_SCHEDULE,
  FEED_ERROR_EXPIRED,
  type FeedCommandPayload,
  type FeedReportPayload,
  feedCommandPayload,
  type HelloPayload,
  PROTOCOL_VERSION,
  type ScheduleCommandPayload,
  type ScheduleReportPayload,
  scheduleCommandPayload,
  type TelemetryPayload,
  telemetryPayload,
  topics,
} from "../protocol/native-v1.js";
import {
  type ConnectionRefusedError,
  feedkeeperLogin,
  SimConnection,
  type SimLogger,
  silentLogger,
} from "./sim-connection.js";

// Exported from here since before every simulator shared them; callers import them from here.
export { ConnectionRefusedError, isConnackRefusal, type SimLogger } from "./sim-connection.js";

export interface SimulatedFeederOptions {
  url: string;
  id: string;
  password: string;
  model?: string;
  firmware?: string;
  capabilities?: string[];
  portionGrams?: number;
  dispenseMsPerPortion?: number;
  jammed?: boolean;
  clean?: boolean;
  keepalive?: number;
  /** How often a feeder with the `schedule` capability checks its own schedule (real time). */
  scheduleCheckMs?: number;
  now?: () => Date;
  logger?: SimLogger;
}

export type FeedSource = FeedReportPayload["source"];

export interface DispensedMeal {
  id: string;
  portions: number;
  source: FeedSource;
  at: string;
  grams: number;
}

export interface ReceivedCommand {
  receivedAt: number;
  command: FeedCommandPayload;
}

export interface FeedProblem {
  id: string;
  portions: number;
  source: FeedSource;
  error: string;
}

export interface SimulatedFeederEvents {
  /** Emitted after every (re)connection once the device has subscribed and said hello. */
  ready: [];
  disconnected: [];
  /**
   * A reconnect was refused, e.g. the feeder was deleted or its secret rotated. The feeder gives up rather than
   * hammering the broker with credentials that will not work.
   */
  refused: [error: ConnectionRefusedError];
  /** `receivedAt` is `performance.now()` when the message arrived, for latency measurements. */
  command: [command: FeedCommandPayload, receivedAt: number];
  dispensed: [meal: DispensedMeal];
  /** A schedule from the server was stored and confirmed. */
  scheduleApplied: [version: number];
  failed: [problem: FeedProblem];
  rejected: [problem: FeedProblem];
}

export const DEFAULT_CAPABILITIES = ["feed"];

/** Enough to recognise redeliveries: a broker redelivers recent commands, not ones from thousands of meals ago. */
const DEDUP_CAPACITY = 1000;

export class SimulatedFeeder extends EventEmitter<SimulatedFeederEvents> {
  readonly id: string;
  /** Meals that came out of the feeder, whatever started them. */
  readonly dispensed: DispensedMeal[] = [];
  /** Every valid command as it was delivered, redeliveries included. */
  readonly commandsReceived: ReceivedCommand[] = [];

  private readonly options: Required<Omit<SimulatedFeederOptions, "logger" | "now">>;
  /** The stored schedule, for feeders with the `schedule` capability: kept in "flash" across reconnects. */
  private schedule: ScheduleCommandPayload | undefined;
  /** Up to when the stored schedule has been run. */
  private scheduleCheckedUntil = 0;
  private readonly scheduleRuns = new Set<string>();
  private readonly now: () => Date;
  private readonly log: SimLogger;
  private jammed: boolean;
  private readonly connection: SimConnection;
  /** Insertion-ordered, so the oldest id is the first to be forgotten. */
  private readonly seenCommandIds = new Set<string>();
  /** One motor: meals run one after another in arrival order. */
  private motor: Promise<void> = Promise.resolve();

  constructor(options: SimulatedFeederOptions) {
    super();
    this.id = options.id;
    this.options = {
      url: options.url,
      id: options.id,
      password: options.password,
      model: options.model ?? "feedkeeper-sim",
      firmware: options.firmware ?? "sim-1.0.0",
      capabilities: options.capabilities ?? DEFAULT_CAPABILITIES,
      portionGrams: options.portionGrams ?? 10,
      dispenseMsPerPortion: options.dispenseMsPerPortion ?? 200,
      jammed: options.jammed ?? false,
      clean: options.clean ?? false,
      keepalive: options.keepalive ?? 30,
      scheduleCheckMs: options.scheduleCheckMs ?? 1000,
    };
    this.jammed = this.options.jammed;
    this.now = options.now ?? (() => new Date());
    this.log = options.logger ?? silentLogger;
    this.connection = new SimConnection(this, {
      url: this.options.url,
      deviceId: this.id,
      logger: this.log,
      announce: (client) => this.handshake(client),
      onMessage: (topic, payload, packet) => this.onMessage(topic, payload, packet.retain),
      onRefused: (error) => this.emit("refused", error),
    });
  }

  get connected(): boolean {
    return this.connection.connected;
  }

  /**
   * Connects and performs the handshake. Rejects if the first attempt fails for any reason (refused credentials,
   * unreachable broker), so callers see configuration mistakes at once; after that the feeder reconnects on its
   * own like real hardware.
   */
  start(): Promise<void> {
    return this.connection.start(
      {
        ...feedkeeperLogin(this.id, this.options.password),
        clean: this.options.clean,
        keepalive: this.options.keepalive,
        // The handshake below subscribes on every connection, in the order the protocol requires.
        resubscribe: false,
        reconnectPeriod: 1000,
        will: { topic: topics.status(this.id), payload: Buffer.from("offline"), qos: 1, retain: true },
      },
      () => {
        // Runs whether or not the server is reachable: that is the point of a device-side schedule.
        if (this.storesSchedule)
          this.connection.every(this.options.scheduleCheckMs, () => this.runSchedule());
      },
    );
  }

  /** Switches off properly: `offline` first, then DISCONNECT, which makes the broker discard the will. */
  stop(): Promise<void> {
    return this.connection.stop({
      topic: topics.status(this.id),
      payload: "offline",
      options: { qos: 1, retain: true },
    });
  }

  /** Drops the TCP connection without DISCONNECT, like a power cut, so the broker publishes the will. */
  kill(): void {
    this.connection.kill();
  }

  get storesSchedule(): boolean {
    return this.options.capabilities.includes(CAPABILITY_SCHEDULE);
  }

  /** The version of the stored schedule; 0 when there is none. */
  get scheduleVersion(): number {
    return this.schedule?.version ?? 0;
  }

  /**
   * Feeds every meal of the stored schedule that fell due since the last run, by the feeder's own clock,
   * each occurrence once. Reports are queued while the server is unreachable and sent after reconnecting.
   */
  runSchedule(): void {
    const schedule = this.schedule;
    const now = this.now().getTime();
    const from = this.scheduleCheckedUntil;
    this.scheduleCheckedUntil = now;
    if (!schedule || from === 0 || now <= from) return;
    const slots = [...schedule.meals, ...schedule.oneOffs.map((o) => ({ ...o, days: [], enabled: true }))];
    const due = occurrencesBetween(slots, schedule.timezone, new Date(from + 1), new Date(now + 1));
    for (const occurrence of due) {
      const key = `${occurrence.localDate}/${occurrence.mealId}`;
      const paused =
        schedule.pause !== null &&
        schedule.pause.from <= occurrence.localDate &&
        occurrence.localDate <= schedule.pause.until;
      if (paused || schedule.skips.includes(key) || this.scheduleRuns.has(key)) continue;
      this.scheduleRuns.add(key);
      const meal = slots.find((m) => m.id === occurrence.mealId);
      if (!meal) continue;
      // The protocol's recommended id for a scheduled meal: the occurrence id the server would use.
      const id = `${this.id}/${key}`;
      const run = this.runOnMotor(() =>
        this.dispense({ id, portions: meal.portions, source: "schedule", mealId: occurrence.mealId }),
      );
      this.connection.background(run, "meal failed");
    }
  }

  setJammed(jammed: boolean): void {
    this.jammed = jammed;
  }

  /** A meal started on the device itself. Resolves with the meal's id once its outcome has been reported. */
  async pressButton(portions: number): Promise<string> {
    const id = `btn-${randomUUID()}`;
    await this.runOnMotor(() => this.dispense({ id, portions, source: "button" }));
    return id;
  }

  async sendTelemetry(telemetry: TelemetryPayload, qos: 0 | 1 = 0): Promise<void> {
    await this.connection
      .requireClient()
      .publishAsync(topics.telemetry(this.id), JSON.stringify(telemetryPayload.parse(telemetry)), { qos });
  }

  /** Bypasses all validation, for tests that check how the server copes with misbehaving devices. */
  async publishRaw(topic: string, payload: string | Buffer, opts: IClientPublishOptions = {}): Promise<void> {
    await this.connection.requireClient().publishAsync(topic, payload, opts);
  }

  /** The protocol's ready sequence: subscribe first so no command published after `online` can be missed. */
  private async handshake(client: MqttClient): Promise<void> {
    const filter = topics.commandFilter(this.id);
    const granted = await client.subscribeAsync(filter, { qos: 1 });
    if (granted.some((grant) => grant.qos === 128)) {
      throw new Error(`broker refused subscription to ${filter}`);
    }
    await client.publishAsync(topics.status(this.id), "online", { qos: 1, retain: true });
    const hello: HelloPayload = {
      protocol: PROTOCOL_VERSION,
      model: this.options.model,
      firmware: this.options.firmware,
      capabilities: this.options.capabilities,
      portionGrams: this.options.portionGrams,
      time: this.now().toISOString(),
      ...(this.storesSchedule && { scheduleVersion: this.scheduleVersion }),
    };
    await client.publishAsync(topics.hello(this.id), JSON.stringify(hello), { qos: 1 });
  }

  private onMessage(topic: string, payload: Buffer, retained: boolean): void {
    const receivedAt = performance.now();
    if (retained) {
      // A retained command would fire again on every reconnect, long after anyone wanted it.
      this.log.warn({ feeder: this.id, topic }, "ignoring retained command");
      return;
    }
    if (topic === topics.commandSchedule(this.id) && this.storesSchedule) {
      this.applySchedule(payload);
      return;
    }
    if (topic !== topics.commandFeed(this.id)) {
      // Later protocol revisions may add commands; old firmware must tolerate them.
      this.log.info({ feeder: this.id, topic }, "ignoring unknown command");
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(payload.toString("utf8"));
    } catch {
      this.log.warn({ feeder: this.id, topic }, "ignoring command that is not JSON");
      return;
    }
    const parsed = feedCommandPayload.safeParse(json);
    if (!parsed.success) {
      this.log.warn({ feeder: this.id, topic, issues: parsed.error.issues }, "ignoring invalid command");
      return;
    }
    const command = parsed.data;
    this.commandsReceived.push({ receivedAt, command });
    this.emit("command", command, receivedAt);

    if (this.seenCommandIds.has(command.id)) {
      this.log.info({ feeder: this.id, command: command.id }, "ignoring redelivered command");
      return;
    }
    this.rememberCommandId(command.id);
    if (this.isExpired(command)) {
      this.reject(command, FEED_ERROR_EXPIRED);
      return;
    }
    const run = this.runOnMotor(async () => {
      // A command may expire while an earlier meal is still running.
      if (this.isExpired(command)) {
        this.reject(command, FEED_ERROR_EXPIRED);
        return;
      }
      await this.dispense({ id: command.id, portions: command.portions, source: "remote" });
    });
    this.connection.background(run, "meal failed");
  }

  /** Replaces the stored schedule with the server's and confirms the version; meals already due are not re-run. */
  private applySchedule(payload: Buffer): void {
    let json: unknown;
    try {
      json = JSON.parse(payload.toString("utf8"));
    } catch {
      json = undefined;
    }
    const parsed = scheduleCommandPayload.safeParse(json);
    if (!parsed.success) {
      const version =
        typeof (json as { version?: unknown })?.version === "number"
          ? (json as { version: number }).version
          : 0;
      this.publishScheduleReport({ version, status: "rejected", error: "invalid_schedule" });
      return;
    }
    if (this.scheduleCheckedUntil === 0) this.scheduleCheckedUntil = this.now().getTime();
    this.schedule = parsed.data;
    this.log.info({ feeder: this.id, version: parsed.data.version }, "schedule applied");
    this.publishScheduleReport({ version: parsed.data.version, status: "applied" });
    this.emit("scheduleApplied", parsed.data.version);
  }

  private publishScheduleReport(report: ScheduleReportPayload): void {
    this.connection
      .requireClient()
      .publish(topics.schedule(this.id), JSON.stringify(report), { qos: 1 }, (error) => {
        if (error) this.log.warn({ feeder: this.id, err: error }, "schedule report not delivered");
      });
  }

  private rememberCommandId(id: string): void {
    this.seenCommandIds.add(id);
    if (this.seenCommandIds.size > DEDUP_CAPACITY) {
      const oldest = this.seenCommandIds.values().next().value;
      if (oldest !== undefined) this.seenCommandIds.delete(oldest);
    }
  }

  private isExpired(command: FeedCommandPayload): boolean {
    return this.now().getTime() >= Date.parse(command.expiresAt);
  }

  /** The returned promise carries the job's own outcome; the queue carries on regardless. */
  private runOnMotor(job: () => Promise<void>): Promise<void> {
    const run = this.motor.then(job);
    this.motor = run.catch(() => {});
    return run;
  }

  private async dispense(meal: {
    id: string;
    portions: number;
    source: FeedSource;
    mealId?: string;
  }): Promise<void> {
    const { dispenseMsPerPortion, portionGrams } = this.options;
    const signal = this.connection.signal;
    // Device-started meals are reported only when done; remote ones are acknowledged first so the server
    // knows the command arrived even if the meal takes a while.
    if (meal.source === "remote") this.report({ ...meal, status: "accepted" });
    if (this.jammed) {
      // The motor stalls on the first portion.
      await sleep(dispenseMsPerPortion, undefined, { signal });
      this.report({ ...meal, status: "failed", error: "jam" });
      this.log.info({ feeder: this.id, meal: meal.id }, "jammed");
      this.emit("failed", { ...meal, error: "jam" });
      return;
    }
    await sleep(meal.portions * dispenseMsPerPortion, undefined, { signal });
    const grams = meal.portions * portionGrams;
    const at = this.report({ ...meal, status: "dispensed", grams });
    const dispensed: DispensedMeal = { ...meal, at, grams };
    this.dispensed.push(dispensed);
    this.log.info({ feeder: this.id, meal: meal.id, portions: meal.portions }, "dispensed");
    this.emit("dispensed", dispensed);
  }

  private reject(command: FeedCommandPayload, error: string): void {
    const problem: FeedProblem = { id: command.id, portions: command.portions, source: "remote", error };
    this.report({ ...problem, status: "rejected" });
    this.log.info({ feeder: this.id, command: command.id, error }, "rejected command");
    this.emit("rejected", problem);
  }

  /**
   * Fire and forget: QoS 1 and the client's offline queue take care of delivery, and a meal must not wait for
   * the server. Returns the report's timestamp.
   */
  private report(report: Omit<FeedReportPayload, "at">): string {
    const at = this.now().toISOString();
    const full: FeedReportPayload = { ...report, at };
    this.connection
      .requireClient()
      .publish(topics.feed(this.id), JSON.stringify(full), { qos: 1 }, (error) => {
        if (error) this.log.warn({ feeder: this.id, err: error, report: full }, "feed report not delivered");
      });
    return at;
  }
}
