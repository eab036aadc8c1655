/**
 * Devices that connected with credentials the server does not know (vendor
 * firmware brings its own) and that a profile recognises. They are held here,
 * in memory, until an owner adopts one: nothing is sent to them and nothing
 * they say is kept beyond who they are and which topics they used. Entries
 * expire; new ones are rate-limited, so a flood of strangers costs little.
 */
import { hashSecret, randomId } from "../auth/secrets.js";
import type { Clock } from "../clock.js";

/** An unadopted device is forgotten this long after it was last seen. */
export const PENDING_EXPIRES_MS = 60 * 60_000;
/** At most this many strangers are held at once. */
export const MAX_PENDING = 50;
/** New strangers admitted per window; more are refused until it passes. */
export const NEW_PENDING_PER_WINDOW = 10;
export const NEW_PENDING_WINDOW_MS = 10 * 60_000;
/** A known pending device may reconnect at most this often (firmware retrying in a tight loop). */
export const PENDING_RECONNECT_MS = 5_000;
/** Topic names kept per device, to help the owner recognise it (a model code in the topic, say). */
const TOPICS_KEPT = 5;

export interface PendingDevice {
  id: string;
  profile: string;
  deviceKey: string;
  clientId: string;
  address: string | undefined;
  firstSeenAt: number;
  lastSeenAt: number;
  connections: number;
  /** Topics it published to, newest last; payloads are never kept. */
  topics: string[];
  /** The profile model named in one of its topics, when there is one. */
  suggestedModel: string | undefined;
  /** Hash of the password it logged in with last: adopting it makes this the feeder's secret. */
  secretHash: string;
}

export type PendingAdmission =
  | { admitted: true; pending: PendingDevice }
  | { admitted: false; reason: string };

export class PendingDevices {
  private readonly byKey = new Map<string, PendingDevice>();
  /** Models learnt before a device connects (a registration call naming its firmware), by profile and key. */
  private readonly modelHints = new Map<string, string>();
  private recentNew: number[] = [];

  constructor(private readonly clock: Clock) {}

  /** A stranger a profile recognises connects: held (new or again), or refused for now with why. */
  admit(input: {
    profile: string;
    deviceKey: string;
    clientId: string;
    password: string;
    address: string | undefined;
  }): PendingAdmission {
    const now = this.clock.now();
    this.expire(now);
    const key = `${input.profile}\u0000${input.deviceKey}`;
    const known = this.byKey.get(key);
    if (known) {
      if (now - known.lastSeenAt < PENDING_RECONNECT_MS) {
        return { admitted: false, reason: "pending device reconnecting too often" };
      }
      Object.assign(known, {
        lastSeenAt: now,
        address: input.address,
        clientId: input.clientId,
        connections: known.connections + 1,
        secretHash: hashSecret(input.password),
      });
      return { admitted: true, pending: known };
    }
    this.recentNew = this.recentNew.filter((t) => now - t < NEW_PENDING_WINDOW_MS);
    if (this.byKey.size >= MAX_PENDING || this.recentNew.length >= NEW_PENDING_PER_WINDOW) {
      return { admitted: false, reason: "too many unknown devices connecting; try again later" };
    }
    this.recentNew.push(now);
    const pending: PendingDevice = {
      id: randomId(),
      profile: input.profile,
      deviceKey: input.deviceKey,
      clientId: input.clientId,
      address: input.address,
      firstSeenAt: now,
      lastSeenAt: now,
      connections: 1,
      topics: [],
      suggestedModel: this.modelHints.get(key),
      secretHash: hashSecret(input.password),
    };
    this.byKey.set(key, pending);
    return { admitted: true, pending };
  }

  /** What model a device that may connect soon is, learnt elsewhere (its registration over HTTP). */
  hint(profile: string, deviceKey: string, model: string): void {
    if (this.modelHints.size >= MAX_PENDING * 2) this.modelHints.clear();
    this.modelHints.set(`${profile}\u0000${deviceKey}`, model);
  }

  /**
   * It published (or subscribed): the topic or filter is kept (never a payload), and a model id found in
   * it is suggested.
   */
  published(id: string, topic: string, modelIds: readonly string[]): void {
    const pending = this.get(id);
    if (!pending) return;
    pending.lastSeenAt = this.clock.now();
    if (!pending.topics.includes(topic)) {
      pending.topics.push(topic);
      if (pending.topics.length > TOPICS_KEPT) pending.topics.shift();
    }
    pending.suggestedModel ??= topic.split("/").find((level) => modelIds.includes(level));
  }

  list(): PendingDevice[] {
    this.expire(this.clock.now());
    return [...this.byKey.values()].sort((a, b) => b.lastSeenAt - a.lastSeenAt);
  }

  get(id: string): PendingDevice | undefined {
    return [...this.byKey.values()].find((p) => p.id === id);
  }

  remove(id: string): PendingDevice | undefined {
    const pending = this.get(id);
    if (pending) this.byKey.delete(`${pending.profile}\u0000${pending.deviceKey}`);
    return pending;
  }

  private expire(now: number): void {
    for (const [key, pending] of this.byKey) {
      if (now - pending.lastSeenAt > PENDING_EXPIRES_MS) this.byKey.delete(key);
    }
  }
}
