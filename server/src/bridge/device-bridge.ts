/**
 * Connects devices to the feeding core. What a device sends is decoded by the
 * codec its feeder's profile names into canonical events; commands from the
 * core are encoded by the same codec. A message the codec refuses is logged
 * with the feeder id (throttled) and dropped, and never reaches the core.
 *
 * The bridge never sees its own publishes: device messages arrive through the
 * broker's per-client hook, which server publishes do not pass through.
 */

import { AttemptThrottle } from "../auth/attempt-throttle.js";
import type { PublishDecision } from "../broker/acl.js";
import type { Admission, BrokerHooks, PublishOptions, Session } from "../broker/embedded-broker.js";
import { DEFAULT_FLAPPING } from "../broker/flapping.js";
import type { Clock } from "../clock.js";
import type { DeviceSchedule, DeviceScheduleSync, ScheduleSender } from "../feeding/device-schedule-sync.js";
import type { DeviceHello, FeederService } from "../feeding/feeders.js";
import type { Delivery, FeedCommand, FeedCommandSender, FeedService } from "../feeding/feeds.js";
import { LogThrottle } from "../log-throttle.js";
import type { Logger } from "../logger.js";
import type { CanonicalEvent, Codec, DeviceTarget, WireMessage } from "../profiles/codecs/codec.js";
import { isRejection } from "../profiles/codecs/codec.js";
import type { ProfileRegistry } from "../profiles/profile-registry.js";
import type { CanonicalFault } from "../profiles/profile-schema.js";
import { CAPABILITY_SCHEDULE, SERVER_STATUS_TOPIC } from "../protocol/native-v1.js";
import { ConnectionLog } from "./connection-log.js";
import { DeviceAccess } from "./device-access.js";
import type { PendingDevices } from "./pending-devices.js";

/** Faults that stop a meal; the others (food low, battery low…) are standing problems only. */
const MEAL_STOPPING_FAULTS: ReadonlySet<CanonicalFault> = new Set(["jam", "empty", "blocked"]);

/** How to talk to one feeder: its profile's codec and who the device is on the wire. */
interface Route {
  codec: Codec;
  target: DeviceTarget;
  /** Reached through the external broker rather than the embedded one. */
  external: boolean;
}

export interface Publisher {
  publish(topic: string, payload: string, options: PublishOptions): Promise<void>;
}

export class DeviceBridge implements BrokerHooks, FeedCommandSender, ScheduleSender {
  private publisher: Publisher | undefined;
  private external: Publisher | undefined;
  private readonly dropLogs: LogThrottle;
  private readonly routes = new Map<string, Route>();
  /** The tail of each device's queue of outgoing messages. */
  private readonly outboxes = new Map<string, Promise<void>>();
  private readonly access: DeviceAccess;

  constructor(
    private readonly feeders: FeederService,
    private readonly feeds: FeedService,
    private readonly schedules: DeviceScheduleSync,
    private readonly profiles: ProfileRegistry,
    private readonly logger: Logger,
    clock: Clock,
    pending: PendingDevices,
  ) {
    this.dropLogs = new LogThrottle(clock);
    this.connections = new ConnectionLog(clock, (id) => feeders.find(id) !== undefined);
    this.access = new DeviceAccess(feeders, profiles, pending, this.connections, new AttemptThrottle(clock));
    feeders.onRemoved((id) => {
      this.dropLogs.forget(id);
      this.connections.forget(id);
      this.routes.delete(id);
    });
  }

  /** Recent connects, refusals and dropped messages, for owners finding out why a device is not talking. */
  readonly connections: ConnectionLog;

  /** The client of an external broker (FEEDKEEPER_MQTT_URL), for feeders whose profile lives there. */
  attachExternal(publisher: Publisher): void {
    this.external = publisher;
  }

  attach(publisher: Publisher): Promise<void> {
    this.publisher = publisher;
    return publisher.publish(SERVER_STATUS_TOPIC, "online", { qos: 1, retain: true });
  }

  /** Announces the server going away; devices keep their own schedules meanwhile. */
  async detach(): Promise<void> {
    await this.publisher?.publish(SERVER_STATUS_TOPIC, "offline", { qos: 1, retain: true });
    this.publisher = undefined;
  }

  admit(
    clientId: string,
    username: string | undefined,
    password: Buffer | undefined,
    address: string | undefined,
  ): Admission {
    return this.access.admit(clientId, username, password, address);
  }

  authorizePublish(session: Session, topic: string): PublishDecision {
    return this.access.authorizePublish(session, topic);
  }

  authorizeSubscribe(session: Session, filter: string): boolean {
    return this.access.authorizeSubscribe(session, filter);
  }

  mayDeliver(session: Session, topic: string, retain: boolean): boolean {
    return this.access.mayDeliver(session, topic, retain);
  }

  onConnected({ feederId }: Session, address: string | undefined): boolean {
    // A pending device is recorded by the admission already.
    if (feederId === undefined) return true;
    if (!this.feeders.find(feederId)) {
      this.logger.warn({ feederId }, "cut the session of a feeder deleted while it connected");
      this.connections.record("refused", feederId, "the feeder was deleted", address);
      return false;
    }
    this.feeders.connected(feederId);
    this.connections.record("connected", feederId, "", address);
    this.logger.info({ feederId }, "feeder connected");
    return true;
  }

  onDisconnected({ feederId }: Session): void {
    if (feederId === undefined) return;
    this.feeders.disconnected(feederId);
    this.connections.record("disconnected", feederId, "");
    this.logger.info({ feederId }, "feeder disconnected");
  }

  onPublishRefused({ feederId }: Session, topic: string, reason: string): void {
    if (feederId === undefined) return;
    this.connections.record("publish_refused", feederId, `${topic}: ${reason} (the connection was closed)`);
  }

  onFlapping(
    { feederId }: Session,
    clientId: string,
    address: string | undefined,
    bannedForMs: number,
  ): void {
    this.connections.record(
      "refused",
      clientId,
      `connected over ${DEFAULT_FLAPPING.maxConnects} times in a minute (a reconnect loop, or two devices sharing its credentials): refused for ${Math.round(bannedForMs / 60_000)} min`,
      address,
      feederId,
    );
  }

  onSubscribeRefused({ feederId }: Session, filter: string): void {
    if (feederId === undefined) return;
    this.connections.record(
      "subscribe_refused",
      feederId,
      `${filter}: only its own commands and the server status`,
    );
  }

  onCommandsSubscribed(feederId: string, filters: string[]): void {
    if (this.access.coversCommands(feederId, filters)) this.feeders.commandsSubscribed(feederId);
  }

  onMessage({ feederId }: Session, topic: string, payload: Buffer, retain: boolean): void {
    // What a pending device says is not used (the access check kept its topic name).
    if (feederId !== undefined) this.deviceMessage(feederId, topic, payload, retain);
  }

  /** A message from a feeder's device, from the embedded broker or an external one. */
  deviceMessage(feederId: string, topic: string, payload: Buffer, retain: boolean): void {
    const route = this.routeOf(feederId);
    if (!route) return;
    const decoded = route.codec.decode({ ...route.target, topic, payload, retain });
    if (isRejection(decoded)) {
      this.drop(feederId, topic, decoded.reason);
      return;
    }
    const replies: WireMessage[] = [];
    for (const event of decoded) {
      if (event.kind === "reply") replies.push(event.message);
      else if (event.kind === "scheduleHeld") this.scheduleHeld(route, event.fingerprint);
      else if (event.kind === "scheduleRequested") this.schedules.resend(feederId);
      else this.apply(feederId, event);
    }
    if (replies.length > 0) {
      this.publishAll(route, replies).catch((err: unknown) =>
        this.logger.warn({ err, feederId }, "could not send the device the reply it expects"),
      );
    }
  }

  async sendFeed(feederId: string, command: FeedCommand): Promise<Delivery> {
    const route = this.routeOf(feederId);
    if (!route) throw new Error(`no codec for feeder ${feederId}`);
    await this.publishAll(route, route.codec.encodeFeed(route.target, command));
    return route.codec.acknowledgesCommands ? "sent" : "started";
  }

  sendsPlanInUtc(feederId: string): boolean {
    return this.routeOf(feederId)?.codec.planInUtc === true;
  }

  async sendSchedule(feederId: string, schedule: DeviceSchedule): Promise<void> {
    const route = this.routeOf(feederId);
    if (route) await this.publishAll(route, route.codec.encodeSchedule(route.target, schedule));
  }

  /**
   * A profile whose devices store their plan says so for all of them: vendor firmware announces nothing
   * like Feedkeeper's "schedule" capability, yet its plan must go to the device.
   */
  private withProfileCapabilities(feederId: string, hello: DeviceHello): DeviceHello {
    const feeder = this.feeders.find(feederId);
    const storage = feeder && this.profiles.find(feeder.profile)?.capabilities.schedule.storage;
    if (storage !== "device" || hello.capabilities.includes(CAPABILITY_SCHEDULE)) return hello;
    return { ...hello, capabilities: [...hello.capabilities, CAPABILITY_SCHEDULE] };
  }

  private scheduleHeld({ codec, target }: Route, fingerprint: string): void {
    const fingerprintOf = codec.scheduleFingerprint?.bind(codec);
    if (!fingerprintOf) {
      this.drop(target.feederId, "schedule", `codec ${codec.name} reports a held plan it cannot compare`);
      return;
    }
    this.schedules.scheduleHeld(target.feederId, (desired) => fingerprintOf(target, desired) === fingerprint);
  }

  private apply(
    feederId: string,
    event: Exclude<CanonicalEvent, { kind: "reply" | "scheduleHeld" | "scheduleRequested" }>,
  ): void {
    switch (event.kind) {
      case "status":
        this.feeders.statusReported(feederId, event.online ? "online" : "offline");
        return;
      case "hello": {
        this.feeders.helloReceived(feederId, this.withProfileCapabilities(feederId, event.hello));
        // A device that echoes its plan has no version to compare: its echo (scheduleHeld) is checked instead.
        const versioned = this.routes.get(feederId)?.codec.scheduleFingerprint === undefined;
        this.schedules.helloReceived(
          feederId,
          versioned ? event.hello : { deviceTime: event.hello.deviceTime, scheduleVersion: undefined },
          versioned,
        );
        return;
      }
      case "feed":
        this.feeds.deviceReported(feederId, event.report);
        return;
      case "telemetry":
        this.feeders.telemetryReceived(feederId, event.telemetry, { partial: event.partial === true });
        return;
      case "schedule":
        this.schedules.scheduleReported(feederId, event.report);
        return;
      case "dispensed":
        this.feeds.deviceResultWithoutId(
          feederId,
          { status: "dispensed", portions: event.portions },
          event.source,
        );
        return;
      case "fault":
        // A fault is also a standing problem worth showing until the device says it cleared.
        this.feeders.telemetryReceived(
          feederId,
          { error: event.fault === "ok" ? undefined : event.fault },
          { partial: true },
        );
        if (MEAL_STOPPING_FAULTS.has(event.fault)) {
          this.feeds.deviceResultWithoutId(feederId, { status: "failed", error: event.fault });
        }
        return;
    }
  }

  /** Every device message needs its feeder's codec: looked up once per feeder (a profile never changes). */
  private routeOf(feederId: string): Route | undefined {
    const cached = this.routes.get(feederId);
    if (cached) return cached;
    const feeder = this.feeders.find(feederId);
    if (!feeder) return undefined;
    try {
      const route: Route = {
        codec: this.profiles.codecOf(feeder.profile),
        external: this.profiles.require(feeder.profile).transport.broker === "external",
        target: {
          feederId,
          deviceKey: feeder.deviceKey ?? feederId,
          model: feeder.profileModel ?? undefined,
        },
      };
      this.routes.set(feederId, route);
      return route;
    } catch {
      // A profile file removed or broken since the feeder was added: the feeder is unreachable until it is back.
      this.drop(feederId, feeder.profile, `profile "${feeder.profile}" is not loaded`);
      return undefined;
    }
  }

  /**
   * Messages to one device go out one after another, replies and commands alike: aedes (1.2) mixes up the
   * packet ids of two QoS 2 messages in flight to one persistent session and one of them is lost.
   */
  private publishAll(route: Route, messages: WireMessage[]): Promise<void> {
    const feederId = route.target.feederId;
    const before = this.outboxes.get(feederId) ?? Promise.resolve();
    const mine = before.then(async () => {
      const publisher = route.external ? this.external : this.publisher;
      if (!publisher)
        throw new Error(route.external ? "no external broker configured" : "broker not attached");
      for (const m of messages) await publisher.publish(m.topic, m.payload, { qos: m.qos, retain: m.retain });
    });
    // The next message waits for this one whether it went out or not; the caller hears how it went.
    const settled = mine.catch(() => undefined);
    this.outboxes.set(feederId, settled);
    void settled.then(() => {
      if (this.outboxes.get(feederId) === settled) this.outboxes.delete(feederId);
    });
    return mine;
  }

  private drop(feederId: string, topic: string, reason: string): void {
    this.connections.record("dropped", feederId, `${topic}: ${reason}`);
    const { log, suppressed } = this.dropLogs.admit(feederId);
    if (!log) return;
    this.logger.warn(
      { feederId, topic, reason, ...(suppressed > 0 && { suppressedSinceLastLog: suppressed }) },
      "dropped device message",
    );
  }
}
