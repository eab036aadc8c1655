/**
 * Keeps Home Assistant's picture of every feeder current on one broker (the external one, or the embedded
 * one): the discovery config, the feeder's availability and its state, all retained, plus the server's own
 * availability. What did not change is not published again; a burst of changes becomes one message.
 *
 * - Home Assistant coming online (`<prefix>/status` = `online`) gets everything again after a random delay,
 *   so a fleet of publishers does not answer its birth all at once.
 * - A new broker connection gets everything again at once (a restarted broker may have lost it).
 * - A deleted feeder's config and state are cleared (empty retained payloads): Home Assistant removes the
 *   device.
 * - On a clean stop the server's availability goes `offline` (on the external broker that is also its last
 *   will, for an unclean one).
 * - States are also looked at every minute: the next meal moves on, alerts are acknowledged.
 */
import type { AuditLog } from "../../auth/audit-log.js";
import type { PublishOptions } from "../../broker/embedded-broker.js";
import type { Clock } from "../../clock.js";
import type { AlertService } from "../../feeding/alerts.js";
import type { FeederRecord, FeederService } from "../../feeding/feeders.js";
import type { FeedService } from "../../feeding/feeds.js";
import type { MealCalendar } from "../../feeding/meal-calendar.js";
import type { Logger } from "../../logger.js";
import type { ProfileRegistry } from "../../profiles/profile-registry.js";
import type { Store } from "../../store/db.js";
import { deleteServerState, readServerStates, writeServerState } from "../../store/server-state.js";
import { type Actor, type CommandOutcome, HomeAssistantCommands } from "./commands.js";
import { buildDiscovery } from "./discovery.js";
import { buildState } from "./state.js";
import { HA_SERVER_STATUS_TOPIC, haTopics, PAYLOAD_OFFLINE, PAYLOAD_ONLINE } from "./topics.js";

export interface HaTransport {
  /** Rejects when the broker cannot take the message now (disconnected). */
  publish(topic: string, payload: string, options: PublishOptions): Promise<void>;
}

/** Timers in real time: publishing is about sockets, not about the meal clock a test may move. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): { cancel(): void };
  setInterval(fn: () => void, ms: number): { cancel(): void };
}

const realTimers: Timers = {
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
  setInterval(fn, ms) {
    const handle = setInterval(fn, ms);
    handle.unref();
    return { cancel: () => clearInterval(handle) };
  },
};

export interface HomeAssistantOptions {
  prefix: string;
  version: string;
  /** Wait before answering Home Assistant's birth; 1–5 s at random unless given. */
  birthDelayMs?: (() => number) | undefined;
  /** Changes within this are published together. */
  debounceMs?: number | undefined;
  refreshMs?: number | undefined;
  timers?: Timers | undefined;
}

export interface HomeAssistantDeps {
  /** Keeps each feeder's portions per press across restarts. */
  store: Store;
  feeders: FeederService;
  feeds: FeedService;
  /** Meal plan changes move the next meal. */
  plans: { onChange(listener: (feederId: string) => void): void };
  calendar: MealCalendar;
  alerts: AlertService;
  profiles: ProfileRegistry;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
}

/** server_state keys of the portions Home Assistant set per feeder, so a restart does not reset them. */
const PORTIONS_KEY = "ha-portions:";
const RETAINED: PublishOptions = { qos: 1, retain: true };
/** How far back the last meal is looked for among a feeder's newest feeds. */
const LAST_MEAL_LOOKBACK = 20;

export class HomeAssistantDiscovery {
  private transport: HaTransport | undefined;
  /** Each feeder's household, kept until its removal has been published (the embedded broker's ACL asks). */
  private readonly households = new Map<string, string>();
  /** What was last published per topic, so unchanged messages are not sent again. */
  private readonly published = new Map<string, string>();
  private readonly portions = new Map<string, number>();
  private readonly lastPress = new Map<string, { at: Date; result: string }>();
  private readonly dirty = new Set<string>();
  /** Deleted feeders whose removal has not reached the broker yet (it was away). */
  private readonly removals = new Set<string>();
  /** Publishing goes one message after another, so a config never overtakes the state it belongs to. */
  private queue: Promise<void> = Promise.resolve();
  private flushTimer: { cancel(): void } | undefined;
  private birthTimer: { cancel(): void } | undefined;
  private refreshTimer: { cancel(): void } | undefined;
  private readonly timers: Timers;
  private readonly log: Logger;
  readonly commands: HomeAssistantCommands;

  constructor(
    private readonly deps: HomeAssistantDeps,
    private readonly options: HomeAssistantOptions,
  ) {
    this.timers = options.timers ?? realTimers;
    this.log = deps.logger.child({ component: "home-assistant" });
    this.commands = new HomeAssistantCommands(deps.feeders, deps.feeds, deps.audit, this.log, (id) =>
      this.portionsOf(id),
    );
    for (const feeder of deps.feeders.listAll()) this.households.set(feeder.id, feeder.householdId);
    for (const { name, value } of readServerStates(deps.store, PORTIONS_KEY)) {
      const portions = Number(value);
      if (Number.isInteger(portions) && portions > 0) this.portions.set(name, portions);
    }
    deps.feeders.onAdded((feeder: FeederRecord) => {
      this.households.set(feeder.id, feeder.householdId);
      this.changed(feeder.id);
    });
    deps.feeders.onChange((id) => this.changed(id));
    deps.feeds.onChange((id) => this.changed(id));
    deps.plans.onChange((id) => this.changed(id));
    deps.feeders.onRemoved((id) => this.removed(id));
  }

  get prefix(): string {
    return this.options.prefix;
  }

  /** The household of a feeder Home Assistant knows (including one whose removal is being published). */
  householdOf(feederId: string): string | undefined {
    return this.households.get(feederId);
  }

  /** Starts publishing through this broker connection: everything, now. */
  attach(transport: HaTransport): Promise<void> {
    this.transport = transport;
    this.refreshTimer ??= this.timers.setInterval(() => this.refresh(), this.options.refreshMs ?? 60_000);
    return this.connected();
  }

  /** A (new) connection to the broker: it may have lost every retained message. */
  connected(): Promise<void> {
    return this.enqueue(async () => {
      this.published.clear();
      await this.publishAll();
    });
  }

  /** Says the server is going away, and stops. */
  async stop(): Promise<void> {
    for (const timer of [this.flushTimer, this.birthTimer, this.refreshTimer]) timer?.cancel();
    this.flushTimer = this.birthTimer = this.refreshTimer = undefined;
    await this.queue;
    const transport = this.transport;
    this.transport = undefined;
    await transport?.publish(HA_SERVER_STATUS_TOPIC, PAYLOAD_OFFLINE, RETAINED);
  }

  /** Home Assistant's birth or last will, on `<prefix>/status`. */
  homeAssistantStatus(payload: Buffer): void {
    if (payload.toString("utf8").trim() !== PAYLOAD_ONLINE || this.birthTimer) return;
    const delay = this.options.birthDelayMs?.() ?? 1_000 + Math.random() * 4_000;
    this.log.info({ delayMs: Math.round(delay) }, "Home Assistant came online: publishing discovery again");
    this.birthTimer = this.timers.setTimeout(() => {
      this.birthTimer = undefined;
      this.connected().catch((err: unknown) => this.log.warn({ err }, "could not publish discovery"));
    }, delay);
  }

  /** A message on a command topic, from whoever the broker says sent it. */
  command(
    topic: string,
    payload: Buffer,
    flags: { retain: boolean; dup: boolean },
    actor: Actor,
  ): CommandOutcome {
    const outcome = this.commands.handle(topic, payload, flags, actor);
    if (outcome.kind === "ignored") {
      this.log.warn({ topic, actor: actor.name, reason: outcome.reason }, "ignored a Home Assistant command");
    } else if (outcome.kind === "portions") {
      this.portions.set(outcome.feederId, outcome.portions);
      writeServerState(this.deps.store, PORTIONS_KEY + outcome.feederId, String(outcome.portions));
      this.changed(outcome.feederId);
    } else {
      this.lastPress.set(outcome.feederId, { at: new Date(this.deps.clock.now()), result: outcome.result });
      this.changed(outcome.feederId);
    }
    return outcome;
  }

  private portionsOf(feederId: string): number {
    return this.portions.get(feederId) ?? 1;
  }

  private changed(feederId: string): void {
    // A feeder added by another process (`feedkeeper create-feeder` while the server runs) is learnt on
    // its first change, e.g. when it connects.
    if (!this.households.has(feederId)) {
      const feeder = this.deps.feeders.find(feederId);
      if (feeder) this.households.set(feederId, feeder.householdId);
    }
    this.dirty.add(feederId);
    this.flushTimer ??= this.timers.setTimeout(() => {
      this.flushTimer = undefined;
      const ids = [...this.dirty];
      this.dirty.clear();
      this.publishEach(ids);
    }, this.options.debounceMs ?? 250);
  }

  private refresh(): void {
    for (const feeder of this.deps.feeders.listAll()) {
      if (!this.removals.has(feeder.id)) this.households.set(feeder.id, feeder.householdId);
    }
    this.publishEach([...this.households.keys()]);
  }

  private publishEach(ids: string[]): void {
    this.enqueue(async () => {
      for (const id of ids) {
        if (this.removals.has(id)) continue;
        // The broker is away: its next connection publishes everything again.
        await this.publishFeeder(id).catch((err: unknown) =>
          this.log.debug({ err, feederId: id }, "could not publish to Home Assistant"),
        );
      }
    }).catch(() => undefined);
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async publishAll(): Promise<void> {
    await this.send(HA_SERVER_STATUS_TOPIC, PAYLOAD_ONLINE);
    await this.publishRemovals();
    for (const id of this.households.keys()) {
      if (!this.removals.has(id)) await this.publishFeeder(id);
    }
  }

  /** Config first, then availability and state: Home Assistant reads a state only for entities it knows. */
  private async publishFeeder(feederId: string): Promise<void> {
    const feeder = this.deps.feeders.find(feederId);
    const profile = feeder && this.deps.profiles.find(feeder.profile);
    if (!feeder || !profile) return;
    const view = this.deps.feeders.view(feederId);
    const { topic, payload } = buildDiscovery(feeder, profile, {
      prefix: this.options.prefix,
      origin: { name: "Feedkeeper", sw: this.options.version },
    });
    await this.send(topic, JSON.stringify(payload));
    await this.send(haTopics.availability(feederId), view.online ? PAYLOAD_ONLINE : PAYLOAD_OFFLINE);
    await this.send(haTopics.state(feederId), JSON.stringify(this.stateOf(feeder, view.online)));
  }

  private stateOf(feeder: FeederRecord, online: boolean) {
    const { feeds, calendar, alerts, clock } = this.deps;
    const lastMeal = feeds
      .listForFeeder(feeder.id, { limit: LAST_MEAL_LOOKBACK })
      .find((f) => f.status === "dispensed");
    return buildState({
      online,
      telemetry: this.deps.feeders.view(feeder.id).telemetry,
      portions: Math.min(this.portionsOf(feeder.id), feeder.maxPortions),
      lastMeal,
      nextMeal: calendar.next(feeder.id, new Date(clock.now())),
      openAlerts: alerts.openByFeeder(feeder.householdId).get(feeder.id) ?? 0,
      lastPress: this.lastPress.get(feeder.id),
    });
  }

  private async send(topic: string, payload: string): Promise<void> {
    if (this.published.get(topic) === payload) return;
    const transport = this.transport;
    if (!transport) return;
    await transport.publish(topic, payload, RETAINED);
    this.published.set(topic, payload);
  }

  private removed(feederId: string): void {
    this.dirty.delete(feederId);
    this.portions.delete(feederId);
    deleteServerState(this.deps.store, PORTIONS_KEY + feederId);
    this.lastPress.delete(feederId);
    this.removals.add(feederId);
    this.enqueue(() => this.publishRemovals()).catch((err: unknown) =>
      this.log.warn({ err, feederId }, "could not remove a deleted feeder from Home Assistant yet"),
    );
  }

  /** Empty retained payloads: Home Assistant removes the device, and the broker forgets its messages. */
  private async publishRemovals(): Promise<void> {
    const transport = this.transport;
    if (!transport) return;
    for (const feederId of [...this.removals]) {
      for (const topic of [
        haTopics.discovery(this.options.prefix, feederId),
        haTopics.availability(feederId),
        haTopics.state(feederId),
      ]) {
        await transport.publish(topic, "", RETAINED);
        this.published.delete(topic);
      }
      this.removals.delete(feederId);
      this.households.delete(feederId);
    }
  }

  /**
   * A retained config of a feeder that no longer exists (deleted while the server was down): cleared, so
   * Home Assistant does not keep a device nobody can feed with.
   */
  orphanSeen(feederId: string): void {
    if (this.households.has(feederId) || this.removals.has(feederId) || this.deps.feeders.find(feederId))
      return;
    this.log.info({ feederId }, "clearing the Home Assistant discovery of a feeder that no longer exists");
    this.removed(feederId);
  }
}
