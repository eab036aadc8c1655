/**
 * A Petlibro feeder on the vendor's "dl" MQTT platform (profile `petlibro-dl`), as the public captures and
 * reimplementations the profile lists describe its firmware. Tests and the simulator CLI use it in place of
 * a re-pointed PLAF103/PLAF203/…; what the firmware does beyond those sources is marked as the simulator's own
 * choice.
 *
 * - It connects with MQTT 3.1, client id = serial, username/password = the product key and secret, clean
 *   session off, keepalive 90 s; after every CONNACK it subscribes to its sub topics one by one, in the
 *   captured order, then asks for the time, beats once, says it started, pushes all its attributes and asks
 *   for its plan.
 * - It publishes at QoS 1 and repeats every event until it is acknowledged on event/sub (and again after a
 *   reconnect): meal events wait in a queue until then. It repeats its NTP question until it is answered.
 * - It answers every command on service/post with the command's msgId and a code.
 * - It runs the stored plan by its own clock, in the time zone the NTP answer gave it.
 */
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { MqttClient } from "mqtt";
import { z } from "zod";
import { CMD, GRAIN_TYPE, type PetlibroChannel, petlibroTopic } from "../profiles/codecs/petlibro-dl.js";
import {
  type ConnectionRefusedError,
  ignore,
  SimConnection,
  type SimLogger,
  silentLogger,
} from "./sim-connection.js";

/** The order the PLAF203 subscribed in, in the 3.1.48 capture. */
export const SUBSCRIBE_ORDER: readonly PetlibroChannel[] = [
  "ntp",
  "ota",
  "broadcast",
  "config",
  "event",
  "service",
  "system",
];

/** The most portions the simulator feeds at once (its own choice: the Petlibro cloud allows 48). */
export const SIM_MAX_GRAIN = 48;

export interface PetlibroAttributes {
  /** 1 USB, 2 batteries. */
  powerMode: number;
  /** 1 USB only, 2 batteries only, 3 both. */
  powerType: number;
  /** Battery, percent. */
  electricQuantity: number;
  /** false: the food is low. */
  surplusGrain: boolean;
  /** false: the outlet is blocked. */
  grainOutletState: boolean;
  /** 1 running, 2 idle. */
  motorState: number;
}

export interface PetlibroFeederOptions {
  url: string;
  serial: string;
  /** The product code in its topics (default PLAF103). */
  model?: string;
  productKey: string;
  productSecret: string;
  msPerPortion?: number;
  jammed?: boolean;
  reconnectMs?: number;
  /** How long an event waits for its acknowledgement before it is sent again (the simulator's choice). */
  retryMs?: number;
  /** Heartbeat period (about 70 s in the capture); 0: only the one after each connect. */
  heartbeatMs?: number;
  /** How often the stored plan is checked against the clock. */
  planCheckMs?: number;
  /** How far the feeder's clock is off until an NTP answer sets it. */
  clockErrorMs?: number;
  rssi?: number;
  attributes?: Partial<PetlibroAttributes>;
  softwareVersion?: string;
  logger?: SimLogger;
}

export interface PetlibroStoredPlan {
  planId: number;
  executionTime: string;
  repeatDay: number[];
  grainNum: number;
  syncTime: number;
}

export interface PetlibroMeal {
  msgId: string;
  /** GRAIN_TYPE: 1 plan, 2 remote, 3 button. */
  type: number;
  portions: number;
  planId?: number | undefined;
}

export interface PetlibroFeederEvents {
  /** After every (re)connection, once subscribed and the start-up messages are out. */
  ready: [];
  disconnected: [];
  refused: [error: ConnectionRefusedError];
  /** A MANUAL_FEEDING_SERVICE it accepted. */
  command: [grainNum: number, msgId: string];
  dispensed: [meal: PetlibroMeal];
  failed: [meal: PetlibroMeal & { error: string }];
  /** A FEEDING_PLAN_SERVICE it stored. */
  plans: [plans: PetlibroStoredPlan[]];
  /** An NTP answer set its clock and time zone. */
  time: [at: number, utcOffsetSeconds: number];
}

const newMsgId = () => randomUUID().replaceAll("-", "");

const envelope = z.object({ cmd: z.string() });
const manualFeeding = z.object({
  msgId: z.string().min(1),
  grainNum: z.number().int().min(1).max(SIM_MAX_GRAIN),
});
const feedingPlan = z.object({
  msgId: z.string().min(1),
  plans: z
    .array(
      z.object({
        planId: z.number().int().nonnegative(),
        executionTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/),
        // The vendor app sends the days only; a reimplementation pads the list with 0s to seven.
        repeatDay: z.array(z.number().int().min(0).max(7)).max(7),
        grainNum: z.number().int().min(1).max(SIM_MAX_GRAIN),
        syncTime: z.number().int().nonnegative(),
      }),
    )
    .max(100),
});
const eventAck = z.object({
  cmd: z.string(),
  msgId: z.string(),
  code: z.number().int(),
  execStep: z.string().optional(),
  plans: z.array(z.unknown()).optional(),
});
const ntpAnswer = z.object({
  ts: z.number().int().nonnegative(),
  calibrationTag: z.boolean().optional(),
  timezone: z.number().optional(),
  timezoneOffsetSeconds: z.number().int().optional(),
});

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "payload"}: ${i.message}`).join("; ");
}

/** An event waiting for its acknowledgement, sent again as it was. */
interface Pending {
  topic: string;
  payload: string;
}

export class PetlibroFeeder extends EventEmitter<PetlibroFeederEvents> {
  readonly serial: string;
  readonly model: string;
  /** Meals that came out, whatever started them. */
  readonly dispensed: PetlibroMeal[] = [];

  private readonly msPerPortion: number;
  private readonly retryMs: number;
  private readonly log: SimLogger;
  private jammed: boolean;
  private readonly attributes: PetlibroAttributes;
  private plans: PetlibroStoredPlan[] = [];
  /** Events by cmd/msgId/execStep until acknowledged; a Map keeps them in the order they happened. */
  private readonly pending = new Map<string, Pending>();
  private clockErrorMs: number;
  private utcOffsetSeconds = 0;
  private timeAnswered = false;
  private heartbeats = 0;
  /** The minute each plan last ran, so it runs once however often the plan is checked. */
  private readonly planRuns = new Map<number, string>();
  private readonly connection: SimConnection;
  /** One meal at a time, in the order they were asked for (the simulator's choice). */
  private motor: Promise<void> = Promise.resolve();

  constructor(private readonly options: PetlibroFeederOptions) {
    super();
    this.serial = options.serial;
    this.model = options.model ?? "PLAF103";
    this.msPerPortion = options.msPerPortion ?? 200;
    this.retryMs = options.retryMs ?? 10_000;
    this.jammed = options.jammed ?? false;
    this.clockErrorMs = options.clockErrorMs ?? 0;
    this.log = options.logger ?? silentLogger;
    this.attributes = {
      powerMode: 1,
      powerType: 3,
      electricQuantity: 100,
      surplusGrain: true,
      grainOutletState: !this.jammed,
      motorState: 2,
      ...options.attributes,
    };
    this.connection = new SimConnection(this, {
      url: options.url,
      deviceId: this.serial,
      logger: this.log,
      announce: (client) => this.announce(client),
      onMessage: (topic, payload) => this.onMessage(topic, payload),
      onRefused: (error) => {
        // Refused, it stops altogether: no more repeats, heartbeats or plan.
        this.connection.kill();
        this.emit("refused", error);
      },
    });
  }

  get connected(): boolean {
    return this.connection.connected;
  }

  /** The plan it holds. */
  get storedPlans(): readonly PetlibroStoredPlan[] {
    return this.plans;
  }

  /** Events still waiting for their acknowledgement. */
  get unacknowledged(): number {
    return this.pending.size;
  }

  /** The feeder's own clock. */
  now(): number {
    return Date.now() + this.clockErrorMs;
  }

  start(): Promise<void> {
    return this.connection.start(
      {
        protocolId: "MQIsdp",
        protocolVersion: 3,
        clientId: this.serial,
        username: this.options.productKey,
        password: this.options.productSecret,
        clean: false,
        keepalive: 90,
        resubscribe: false,
        reconnectPeriod: this.options.reconnectMs ?? 5000,
      },
      () => {
        this.connection.every(this.retryMs, () => this.repeat());
        const { heartbeatMs } = this.options;
        if (heartbeatMs) this.connection.every(heartbeatMs, () => void this.heartbeat());
        this.connection.every(this.options.planCheckMs ?? 15_000, () => this.runDuePlans());
      },
    );
  }

  /** A clean DISCONNECT. */
  stop(): Promise<void> {
    return this.connection.stop();
  }

  /** Pulls the plug. */
  kill(): void {
    this.connection.kill();
  }

  /** A jam makes the next meals stop at once; clearing it pushes the outlet's state. */
  setJammed(jammed: boolean): Promise<void> {
    this.jammed = jammed;
    return this.pushAttributes({ grainOutletState: !jammed });
  }

  /** New attribute values (battery, food, power …), pushed as ATTR_PUSH_EVENT. */
  pushAttributes(changes: Partial<PetlibroAttributes>): Promise<void> {
    Object.assign(this.attributes, changes);
    return this.event(CMD.attrPush, changes);
  }

  /** The feed button: one meal, type 3. Resolves once its end is reported. */
  pressButton(portions = 1): Promise<void> {
    return this.runMeal({ msgId: newMsgId(), type: GRAIN_TYPE.button, portions });
  }

  /** Runs one stored plan now, as its time would. */
  runPlan(planId: number): Promise<void> {
    const plan = this.plans.find((p) => p.planId === planId);
    if (!plan) return Promise.reject(new Error(`feeder ${this.serial} holds no plan ${planId}`));
    return this.runMeal({ msgId: newMsgId(), type: GRAIN_TYPE.plan, portions: plan.grainNum, planId });
  }

  /** HEARTBEAT on heart/post; it waits for no answer. */
  async heartbeat(): Promise<void> {
    this.heartbeats += 1;
    await this.publish("heart", {
      cmd: CMD.heartbeat,
      count: this.heartbeats,
      rssi: this.options.rssi ?? -61,
      wifiType: 2,
      ts: this.now(),
    });
  }

  private topic(channel: PetlibroChannel, direction: "post" | "sub"): string {
    return petlibroTopic(this.model, this.serial, channel, direction);
  }

  private async announce(client: MqttClient): Promise<void> {
    this.timeAnswered = false;
    for (const channel of SUBSCRIBE_ORDER) {
      const granted = await client.subscribeAsync(this.topic(channel, "sub"), { qos: 1 });
      if (granted.some((grant) => grant.qos === 128)) {
        this.log.warn({ feeder: this.serial, channel }, "the broker refused a subscription");
      }
    }
    await this.askTime();
    await this.heartbeat();
    await this.event(CMD.deviceStart, {
      success: true,
      pid: this.model,
      hardwareVersion: "1.0.7",
      softwareVersion: this.options.softwareVersion ?? "3.1.48",
      restartReason: "powerCycle",
    });
    await this.event(CMD.attrPush, { ...this.attributes });
    await this.event(CMD.getFeedingPlan, {});
    this.repeat();
  }

  private askTime(): Promise<void> {
    return this.publish("ntp", { cmd: CMD.ntp, ts: this.now() });
  }

  /** Sends again what is still unanswered. */
  private repeat(): void {
    if (!this.connected) return;
    if (!this.timeAnswered) void this.askTime();
    for (const { topic, payload } of this.pending.values()) void this.send(topic, payload);
  }

  /** An event on event/post, kept until it is acknowledged. */
  private async event(cmd: string, body: object, key = ""): Promise<void> {
    const msgId = "msgId" in body && typeof body.msgId === "string" ? body.msgId : newMsgId();
    const payload = JSON.stringify({ cmd, msgId, ...body, ts: this.now() });
    const pending = { topic: this.topic("event", "post"), payload };
    this.pending.set(`${cmd}/${msgId}/${key}`, pending);
    await this.send(pending.topic, pending.payload);
  }

  private publish(channel: PetlibroChannel, body: object): Promise<void> {
    return this.send(this.topic(channel, "post"), JSON.stringify(body));
  }

  private send(topic: string, payload: string): Promise<void> {
    return this.connection.publishIfConnected(topic, payload, { qos: 1, retain: false });
  }

  private onMessage(topic: string, payload: Buffer): void {
    let json: unknown;
    try {
      json = JSON.parse(payload.toString("utf8"));
    } catch {
      this.log.warn({ feeder: this.serial, topic }, "not JSON, ignored");
      return;
    }
    const head = envelope.safeParse(json);
    if (!head.success) {
      this.log.warn({ feeder: this.serial, topic, reason: issues(head.error) }, "no cmd, ignored");
      return;
    }
    const { cmd } = head.data;
    if (topic === this.topic("service", "sub")) this.service(cmd, json);
    else if (topic === this.topic("event", "sub")) this.acknowledged(json);
    else if (topic === this.topic("ntp", "sub") && cmd === CMD.ntp) this.setTime(json);
    else this.log.debug({ feeder: this.serial, topic, cmd }, "not handled by the simulator");
  }

  private service(cmd: string, json: unknown): void {
    const msgId = z.object({ msgId: z.string() }).safeParse(json).data?.msgId ?? "";
    const answer = (code: number, extra: object = {}) =>
      this.publish("service", { cmd, msgId, code, ...extra, ts: this.now() });
    if (cmd === CMD.manualFeeding) {
      const parsed = manualFeeding.safeParse(json);
      if (!parsed.success) {
        this.log.warn({ feeder: this.serial, reason: issues(parsed.error) }, "feed refused");
        void answer(1);
        return;
      }
      const { grainNum } = parsed.data;
      void answer(0);
      this.emit("command", grainNum, msgId);
      const meal = this.runMeal({ msgId, type: GRAIN_TYPE.manual, portions: grainNum });
      this.connection.background(meal, "meal failed");
      return;
    }
    if (cmd === CMD.feedingPlan) {
      const parsed = feedingPlan.safeParse(json);
      if (!parsed.success) {
        this.log.warn({ feeder: this.serial, reason: issues(parsed.error) }, "plan refused");
        void answer(1, { msg: "FeedPlanErro", plans: [] });
        return;
      }
      this.store(parsed.data.plans);
      void answer(0, { plans: this.plans.map(({ planId, syncTime }) => ({ planId, syncTime })) });
      return;
    }
    this.log.debug({ feeder: this.serial, cmd }, "command not simulated");
  }

  private acknowledged(json: unknown): void {
    const parsed = eventAck.safeParse(json);
    if (!parsed.success) {
      this.log.warn({ feeder: this.serial, reason: issues(parsed.error) }, "acknowledgement ignored");
      return;
    }
    const { cmd, msgId, code, execStep, plans } = parsed.data;
    if (code !== 0) return;
    this.pending.delete(`${cmd}/${msgId}/${execStep ?? ""}`);
    // An answer to GET_FEEDING_PLAN_EVENT with a plan list replaces the plan; a bare one leaves it.
    if (cmd === CMD.getFeedingPlan && plans !== undefined) {
      const parsedPlans = feedingPlan.shape.plans.safeParse(plans);
      if (parsedPlans.success) this.store(parsedPlans.data);
    }
  }

  private store(plans: z.infer<typeof feedingPlan>["plans"]): void {
    this.plans = plans.map(({ planId, executionTime, repeatDay, grainNum, syncTime }) => ({
      planId,
      executionTime,
      repeatDay: repeatDay.filter((day) => day > 0),
      grainNum,
      syncTime,
    }));
    this.emit("plans", this.plans);
  }

  private setTime(json: unknown): void {
    const parsed = ntpAnswer.safeParse(json);
    if (!parsed.success) {
      this.log.warn({ feeder: this.serial, reason: issues(parsed.error) }, "time answer ignored");
      return;
    }
    const { ts, calibrationTag, timezone, timezoneOffsetSeconds } = parsed.data;
    this.timeAnswered = true;
    if (!calibrationTag) return;
    this.clockErrorMs = ts - Date.now();
    this.utcOffsetSeconds = timezoneOffsetSeconds ?? Math.round((timezone ?? 0) * 3600);
    this.emit("time", ts, this.utcOffsetSeconds);
  }

  private runDuePlans(): void {
    const local = new Date(this.now() + this.utcOffsetSeconds * 1000);
    const minute = local.toISOString().slice(0, 16);
    const time = minute.slice(11);
    const day = local.getUTCDay() === 0 ? 7 : local.getUTCDay();
    for (const plan of this.plans) {
      if (plan.executionTime !== time || !plan.repeatDay.includes(day)) continue;
      if (this.planRuns.get(plan.planId) === minute) continue;
      this.planRuns.set(plan.planId, minute);
      this.connection.background(this.runPlan(plan.planId), "plan failed");
    }
  }

  private runMeal(meal: PetlibroMeal): Promise<void> {
    const run = this.motor.then(() => this.meal(meal));
    this.motor = run.catch(ignore);
    return run;
  }

  private async meal(meal: PetlibroMeal): Promise<void> {
    const signal = this.connection.signal;
    const step = (execStep: string, actual: number) => {
      const body = {
        msgId: meal.msgId,
        finished: execStep === "GRAIN_END",
        type: meal.type,
        ...(meal.planId !== undefined && { planId: meal.planId }),
        actualGrainNum: actual,
        expectGrainNum: meal.portions,
        execTime: this.now(),
        execStep,
      };
      return this.event(CMD.grainOutput, body, execStep);
    };
    this.attributes.motorState = 1;
    await step("GRAIN_START", 0);
    if (this.jammed) {
      // The simulator's choice: the outlet blocks during the first portion and nothing comes out.
      await sleep(this.msPerPortion, undefined, { signal });
      await step("GRAIN_BLOCKING", 0);
      await step("GRAIN_END", 0);
      await this.pushAttributes({ motorState: 2, grainOutletState: false });
      this.emit("failed", { ...meal, error: "jam" });
      return;
    }
    await sleep(meal.portions * this.msPerPortion, undefined, { signal });
    await step("GRAIN_END", meal.portions);
    const { surplusGrain, powerMode } = this.attributes;
    await this.pushAttributes({ motorState: 2, grainOutletState: true, surplusGrain, powerMode });
    this.dispensed.push(meal);
    this.emit("dispensed", meal);
  }
}
