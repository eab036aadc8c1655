/**
 * The bridge as a client of an existing broker (FEEDKEEPER_MQTT_URL): the
 * Mosquitto next to Home Assistant and Zigbee2MQTT. Feeders whose profile says
 * `broker: external` are reached here, by the topics their profile declares
 * with the feeder's device key in them; what they publish goes through the
 * same codecs and core as devices on the embedded broker.
 *
 * Nothing is queued while the broker is away: a feed command for a device
 * without command expiry (Zigbee2MQTT's `feed: START`) delivered hours late
 * would be a meal nobody asked for. A feed sent while disconnected fails and
 * stays pending until the device is back or it expires. After every
 * (re)connect the plan is sent again to each feeder that stores one: a broker
 * or Zigbee2MQTT restart may have lost it.
 */
import fs from "node:fs";
import type { IClientOptions, MqttClient } from "mqtt";
import { topicMatches } from "../broker/acl.js";
import type { PublishOptions } from "../broker/embedded-broker.js";
import { type ExternalBrokerConfig, redactUrl } from "../config.js";
import type { DeviceScheduleSync } from "../feeding/device-schedule-sync.js";
import type { FeederRecord, FeederService } from "../feeding/feeders.js";
import type { Logger } from "../logger.js";
import type { ProfileRegistry } from "../profiles/profile-registry.js";
import { expandTopics } from "./device-access.js";
import type { DeviceBridge, Publisher } from "./device-bridge.js";

/** Reconnect delays double from the first to the last, and start again after a connection held. */
export const RECONNECT_MIN_MS = 1_000;
export const RECONNECT_MAX_MS = 30_000;

/**
 * Another user of this connection besides the devices' bridge (Home Assistant discovery): its own
 * subscriptions, the messages on them, a last will, and a word after every (re)connect.
 */
export interface ExternalBrokerGuest {
  will: { topic: string; payload: string };
  filters: string[];
  owns(topic: string): boolean;
  message(topic: string, payload: Buffer, flags: { retain: boolean; dup: boolean }): void;
  connected(): void;
}

export class ExternalBroker implements Publisher {
  private client: MqttClient | undefined;
  private guest: ExternalBrokerGuest | undefined;
  /** The topic filters each external feeder's device publishes on. */
  private readonly filters = new Map<string, string[]>();
  /** Gateway status topics (Zigbee2MQTT's bridge state), with the profile whose feeders go offline with it. */
  private readonly gateways = new Map<string, string>();
  private readonly log: Logger;

  constructor(
    private readonly config: ExternalBrokerConfig,
    private readonly bridge: DeviceBridge,
    private readonly feeders: FeederService,
    private readonly profiles: ProfileRegistry,
    private readonly schedules: DeviceScheduleSync,
    logger: Logger,
  ) {
    this.log = logger.child({ component: "external-broker", url: redactUrl(config.url) });
    feeders.onAdded((feeder) => this.add(feeder));
    feeders.onRemoved((feederId) => this.remove(feederId));
  }

  /** Before start(): the connection carries the guest's last will from its first CONNECT. */
  attachGuest(guest: ExternalBrokerGuest): void {
    this.guest = guest;
  }

  /** Starts connecting and returns at once: the server serves everything else while the broker is away. */
  async start(): Promise<void> {
    for (const { profile } of this.profiles.list()) {
      const gateway = profile.transport.broker === "external" ? profile.transport.topics?.gateway : undefined;
      if (gateway) this.gateways.set(gateway, profile.id);
    }
    for (const feeder of this.feeders.listAll()) this.add(feeder);
    const options: IClientOptions = {
      clientId: this.config.clientId,
      clean: true,
      reconnectPeriod: RECONNECT_MIN_MS,
      connectTimeout: 10_000,
      queueQoSZero: false,
      // Subscriptions are made again on every connect from the current feeders, not replayed from memory.
      resubscribe: false,
      ...(this.config.username !== undefined && { username: this.config.username }),
      ...(this.config.password !== undefined && { password: this.config.password }),
      ...(this.config.caFile !== undefined && { ca: fs.readFileSync(this.config.caFile) }),
      ...(this.guest && { will: { ...this.guest.will, qos: 1, retain: true } }),
    };
    // Loaded here, not with the server: most servers have no external broker, and the client library
    // weighs megabytes of memory.
    const { default: mqtt } = await import("mqtt");
    const client = mqtt.connect(this.config.url, options);
    this.client = client;
    client.on("connect", () => {
      client.options.reconnectPeriod = RECONNECT_MIN_MS;
      this.log.info({ feeders: this.filters.size }, "connected to the external broker");
      for (const feederId of this.filters.keys()) this.subscribe(feederId);
      if (this.gateways.size > 0) this.subscribeTo("gateways", [...this.gateways.keys()]);
      for (const feederId of this.filters.keys()) this.schedules.forgetDeviceState(feederId);
      if (this.guest) {
        this.subscribeTo("guest", this.guest.filters);
        this.guest.connected();
      }
    });
    client.on("close", () => {
      for (const feederId of this.filters.keys()) this.feeders.disconnected(feederId);
      const next = Math.min((client.options.reconnectPeriod ?? RECONNECT_MIN_MS) * 2, RECONNECT_MAX_MS);
      client.options.reconnectPeriod = next;
    });
    client.on("error", (err) => this.log.warn({ err: err.message }, "external broker connection failed"));
    client.on("message", (topic, payload, packet) => {
      if (this.guest?.owns(topic))
        this.guest.message(topic, payload, { retain: packet.retain, dup: packet.dup });
      else this.route(topic, payload, packet.retain);
    });
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  async publish(topic: string, payload: string, { qos, retain }: PublishOptions): Promise<void> {
    const client = this.client;
    if (!client?.connected) throw new Error("the external MQTT broker is not connected");
    await client.publishAsync(topic, payload, { qos, retain });
  }

  async stop(): Promise<void> {
    await this.client?.endAsync();
    this.client = undefined;
  }

  private add(feeder: Pick<FeederRecord, "id" | "profile" | "deviceKey">): void {
    const profile = this.profiles.find(feeder.profile);
    if (profile?.transport.broker !== "external" || !profile.transport.topics || !feeder.deviceKey) return;
    this.filters.set(feeder.id, expandTopics(profile.transport.topics, feeder.deviceKey).fromDevice);
    if (this.client?.connected) this.subscribe(feeder.id);
  }

  private remove(feederId: string): void {
    const filters = this.filters.get(feederId);
    if (!filters) return;
    this.filters.delete(feederId);
    if (this.client?.connected) {
      this.client
        .unsubscribeAsync(filters)
        .catch((err: unknown) => this.log.warn({ err, feederId }, "unsubscribe failed"));
    }
  }

  private subscribe(feederId: string): void {
    const filters = this.filters.get(feederId);
    if (filters) this.subscribeTo(feederId, filters);
  }

  private subscribeTo(what: string, filters: string[]): void {
    this.client
      ?.subscribeAsync(filters, { qos: 1 })
      .then((granted) => {
        const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
        if (refused.length > 0) {
          this.log.error({ what, refused }, "the external broker refused subscriptions (check its ACL)");
        }
      })
      .catch((err: unknown) => this.log.warn({ err, what }, "subscribe failed"));
  }

  /** The gateway stopped: its devices cannot be reached, whatever their own retained status says. */
  private gatewayStatus(profileId: string, payload: Buffer): void {
    const online = this.profiles.codecOf(profileId).gatewayOnline?.(payload);
    if (online !== false) return;
    this.log.warn({ profile: profileId }, "the gateway of these feeders went offline");
    for (const feederId of this.filters.keys()) {
      if (this.feeders.find(feederId)?.profile === profileId)
        this.feeders.statusReported(feederId, "offline");
    }
  }

  private route(topic: string, payload: Buffer, retain: boolean): void {
    const gatewayOf = this.gateways.get(topic);
    if (gatewayOf) {
      this.gatewayStatus(gatewayOf, payload);
      return;
    }
    for (const [feederId, filters] of this.filters) {
      if (filters.some((f) => topicMatches(f, topic))) {
        this.bridge.deviceMessage(feederId, topic, payload, retain);
        return;
      }
    }
  }
}
