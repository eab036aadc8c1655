/**
 * Who may connect to the embedded broker, and what each connection may do.
 *
 * - A device using the credentials Feedkeeper issued logs in as its feeder (client id = username = feeder
 *   id) and lives under feedkeeper/<id>/ (acl.ts).
 * - Vendor firmware brings its own identity: a profile whose `identify` pattern matches its client id or
 *   username names the device's key. An adopted one logs in with the password it was adopted with and is
 *   kept to the topics its profile declares; an unknown one is held as pending (pending-devices.ts).
 */
import { type AttemptThrottle, mqttKeys } from "../auth/attempt-throttle.js";
import { verifySecret } from "../auth/secrets.js";
import {
  authorizeFeederPublish,
  authorizeFeederSubscribe,
  authorizeVendorPublish,
  authorizeVendorSubscribe,
  isFeederIdentity,
  mayDeliverToFeeder,
  mayDeliverToVendor,
  type PublishDecision,
  topicMatches,
  type VendorTopics,
} from "../broker/acl.js";
import type { Admission, Session } from "../broker/embedded-broker.js";
import type { FeederRecord, FeederService } from "../feeding/feeders.js";
import type { ProfileRegistry } from "../profiles/profile-registry.js";
import type { DeviceProfile } from "../profiles/profile-schema.js";
import type { ConnectionLog } from "./connection-log.js";
import type { PendingDevices } from "./pending-devices.js";

/** A vendor profile that recognises devices by their client id or username on the embedded broker. */
interface Recogniser {
  profile: DeviceProfile;
  by: "clientId" | "username";
  pattern: RegExp;
}

/** A device's key as its profile picks it out of the client id or username, or undefined when it is not one. */
function keyOf(recogniser: Recogniser, clientId: string, username: string | undefined): string | undefined {
  const value = recogniser.by === "clientId" ? clientId : username;
  if (value === undefined) return undefined;
  const match = recogniser.pattern.exec(value);
  if (!match) return undefined;
  const key = match.groups?.deviceKey ?? match[0];
  // A key ends up in topics: it may not hold MQTT wildcards or separators.
  return key.length > 0 && key.length <= 128 && !/[#+/\p{Cc}]/u.test(key) ? key : undefined;
}

export function expandTopics(space: VendorTopics, deviceKey: string): VendorTopics {
  const expand = (t: string) => t.replaceAll("{deviceKey}", deviceKey);
  return {
    fromDevice: space.fromDevice.map(expand),
    toDevice: space.toDevice.map(expand),
    ...(space.commands !== undefined && { commands: expand(space.commands) }),
  };
}

export class DeviceAccess {
  private readonly recognisers: Recogniser[];
  /** Each vendor feeder's topic space, worked out once per feeder. */
  private readonly spaces = new Map<string, VendorTopics | null>();

  constructor(
    private readonly feeders: FeederService,
    private readonly profiles: ProfileRegistry,
    private readonly pending: PendingDevices,
    private readonly connections: ConnectionLog,
    /** Failed CONNECTs per client id and address; while one is locked, its CONNECTs are refused unchecked. */
    private readonly throttle: AttemptThrottle,
  ) {
    this.recognisers = profiles.list().flatMap(({ profile }): Recogniser[] => {
      const { identify, broker } = profile.transport;
      if (broker !== "embedded" || (identify.by !== "clientId" && identify.by !== "username")) return [];
      return [{ profile, by: identify.by, pattern: new RegExp(identify.pattern) }];
    });
    feeders.onRemoved((id) => this.spaces.delete(id));
  }

  admit(
    clientId: string,
    username: string | undefined,
    password: Buffer | undefined,
    address: string | undefined,
  ): Admission {
    const refuse = (code: 2 | 3 | 4 | 5, reason: string, who = clientId): Admission => {
      this.connections.record("refused", who, reason, address);
      return { refused: code, reason };
    };
    if (username === undefined || password === undefined) return refuse(5, "credentials required");
    const keys = mqttKeys(clientId, address);
    const verdict = this.throttle.check(keys);
    if (verdict.throttled) {
      // 3 (server unavailable), not 4: firmware retries later instead of giving up on its password.
      const seconds = Math.ceil(verdict.retryAfterMs / 1000);
      return refuse(
        3,
        `too many failed logins from ${address ?? "an unknown address"}; try again in ${seconds} s`,
      );
    }
    // Only wrong credentials count; a device held as pending or a malformed identity does not.
    const wrong = (reason: string, who = clientId): Admission => {
      this.throttle.failed(keys);
      return refuse(4, reason, who);
    };
    const right = (feederId: string): Admission => {
      this.throttle.clear(keys);
      return { feederId };
    };
    const secret = password.toString("utf8");

    if (clientId === username && isFeederIdentity(username)) {
      const feeder = this.feeders.find(username);
      if (feeder && feeder.deviceKey === null) {
        return verifySecret(secret, feeder.secretHash)
          ? right(feeder.id)
          : wrong("bad username or password (wrong secret, or rotated credentials)");
      }
    }

    for (const recogniser of this.recognisers) {
      const deviceKey = keyOf(recogniser, clientId, username);
      if (deviceKey === undefined) continue;
      const profile = recogniser.profile.id;
      const feeder = this.feeders.findByDeviceKey(profile, deviceKey);
      if (feeder) {
        return verifySecret(secret, feeder.secretHash)
          ? right(feeder.id)
          : wrong(
              `the ${profile} device "${deviceKey}" logged in with another password than when it was adopted`,
              feeder.id,
            );
      }
      const held = this.pending.admit({ profile, deviceKey, clientId, password: secret, address });
      if (!held.admitted) return refuse(3, held.reason);
      this.connections.record(
        "pending",
        clientId,
        `unknown ${profile} device "${deviceKey}": held as pending until an owner adopts it`,
        address,
      );
      return { pendingId: held.pending.id };
    }

    if (!isFeederIdentity(username) || clientId !== username) {
      return refuse(2, "client id must equal username (the feeder id), or be a device a profile recognises");
    }
    return wrong("bad username or password (unknown feeder, wrong secret, or rotated credentials)");
  }

  authorizePublish(session: Session, topic: string): PublishDecision {
    // Integration clients (Home Assistant) are never devices: the hooks that admitted them decide.
    if (session.integration) return { allow: false, reason: "not a device" };
    if (session.pendingId !== undefined) {
      // A pending device may talk (so its firmware does not give up), but nothing it says is used.
      const profile = this.pendingProfile(session.pendingId);
      this.pending.published(session.pendingId, topic, profile?.models.map((m) => m.id) ?? []);
      return { allow: true };
    }
    const space = this.vendorSpace(session.feederId);
    const decision = space
      ? authorizeVendorPublish(space, topic)
      : authorizeFeederPublish(session.feederId, topic);
    if (!decision.allow && this.discarded(session.feederId).some((f) => topicMatches(f, topic))) {
      return { allow: true, discard: true };
    }
    return decision;
  }

  /** Topics the feeder's profile says its firmware publishes to anyway, to be thrown away. */
  private discarded(feederId: string): string[] {
    const feeder = this.feeders.find(feederId);
    return (feeder && this.profiles.find(feeder.profile)?.transport.discard) ?? [];
  }

  authorizeSubscribe(session: Session, filter: string): boolean {
    // Granted so the firmware carries on, but nothing is ever delivered to a pending device. Its filters
    // name its topics (and maybe its model) as well as its publishes do.
    if (session.integration) return false;
    if (session.pendingId !== undefined) {
      const profile = this.pendingProfile(session.pendingId);
      this.pending.published(session.pendingId, filter, profile?.models.map((m) => m.id) ?? []);
      return true;
    }
    const space = this.vendorSpace(session.feederId);
    return space
      ? authorizeVendorSubscribe(space, filter)
      : authorizeFeederSubscribe(session.feederId, filter);
  }

  mayDeliver(session: Session, topic: string, retain: boolean): boolean {
    if (session.pendingId !== undefined || session.integration) return false;
    const space = this.vendorSpace(session.feederId);
    return space
      ? mayDeliverToVendor(space, topic, retain)
      : mayDeliverToFeeder(session.feederId, topic, retain);
  }

  /**
   * Whether these granted subscriptions reach where the feeder's commands go. Firmware that subscribes one
   * channel at a time (Petlibro) is ready only once it holds the one its profile names for commands.
   */
  coversCommands(feederId: string, filters: string[]): boolean {
    const commands = this.vendorSpace(feederId)?.commands;
    if (commands === undefined) return filters.length > 0;
    return filters.some((f) => topicMatches(f, commands) || topicMatches(commands, f));
  }

  /** The topics a vendor feeder's profile declares, or null for Feedkeeper's own topic layout. */
  private vendorSpace(feederId: string): VendorTopics | null {
    const cached = this.spaces.get(feederId);
    if (cached !== undefined) return cached;
    const feeder: FeederRecord | undefined = this.feeders.find(feederId);
    const topics = feeder ? this.profiles.find(feeder.profile)?.transport.topics : undefined;
    const space = feeder?.deviceKey && topics ? expandTopics(topics, feeder.deviceKey) : null;
    this.spaces.set(feederId, space);
    return space;
  }

  private pendingProfile(pendingId: string): DeviceProfile | undefined {
    const held = this.pending.get(pendingId);
    return held ? this.profiles.find(held.profile) : undefined;
  }
}
