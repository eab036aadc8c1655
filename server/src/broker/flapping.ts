/**
 * Flapping detection per MQTT client id, after EMQX's: a client id that connects more than `maxConnects`
 * times within `windowMs` is refused for a while. Only accepted connects count, so nobody can get a
 * feeder banned without its credentials (failed logins are the attempt throttle's business). Every
 * accepted connect costs the server a connection-log entry and a database write, and each one kicks the
 * previous session of that id: two devices sharing one id kick each other in a loop and look exactly like
 * this, which is worth stopping and telling the owner about.
 *
 * A ban lasts `firstBanMs`; a client id banned again within `forgiveAfterMs` of its last ban ending gets
 * twice the last one, up to `maxBanMs`. At most `maxTracked` client ids are tracked, the least recently
 * connected forgotten first. When the owner acts on the device (rotates its credentials, deletes or adopts
 * it) its bans are lifted: the loop may be what they just fixed.
 */
import type { Clock } from "../clock.js";

export interface FlappingOptions {
  /** Connects within the window that are still fine; one more starts a ban. */
  maxConnects: number;
  windowMs: number;
  firstBanMs: number;
  maxBanMs: number;
  forgiveAfterMs: number;
  maxTracked: number;
}

/**
 * EMQX's defaults for the window (15 within a minute). A feeder after a Wi-Fi blip or a reboot connects a
 * few times a minute at worst; 16 accepted connects in a minute means a session lasting under 4 s for a
 * whole minute, which serves no one.
 */
export const DEFAULT_FLAPPING: FlappingOptions = {
  maxConnects: 15,
  windowMs: 60_000,
  firstBanMs: 60_000,
  maxBanMs: 15 * 60_000,
  forgiveAfterMs: 60 * 60_000,
  maxTracked: 10_000,
};

interface Entry {
  /** Times of accepted connects within the window, oldest first; at most maxConnects + 1. */
  connects: number[];
  bannedUntil: number;
  lastBanMs: number;
  /** The device the client id last connected as; its bans go when the owner acts on that device. */
  device: string;
}

export class FlappingDetector {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly options: FlappingOptions = DEFAULT_FLAPPING,
  ) {}

  /** Milliseconds left of the ban on this client id; 0 when there is none. */
  bannedFor(clientId: string): number {
    const entry = this.entries.get(clientId);
    return entry ? Math.max(0, entry.bannedUntil - this.clock.now()) : 0;
  }

  /** Lifts the bans of every client id that connected as `device`, and forgets their connects. */
  forgive(device: string): void {
    for (const [clientId, entry] of this.entries) {
      if (entry.device === device) this.entries.delete(clientId);
    }
  }

  /** Records an accepted connect as `device`; returns the length of the ban it starts, or 0 when it is fine. */
  connected(clientId: string, device: string): number {
    const { maxConnects, windowMs, firstBanMs, maxBanMs, forgiveAfterMs, maxTracked } = this.options;
    const now = this.clock.now();
    const entry = this.entries.get(clientId) ?? { connects: [], bannedUntil: 0, lastBanMs: 0, device };
    entry.device = device;
    // Re-inserted so the map's order is least recently connected first.
    this.entries.delete(clientId);
    this.entries.set(clientId, entry);
    if (this.entries.size > maxTracked) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    entry.connects = entry.connects.filter((t) => now - t < windowMs);
    entry.connects.push(now);
    if (entry.connects.length <= maxConnects) return 0;
    const repeat = entry.lastBanMs > 0 && now - entry.bannedUntil < forgiveAfterMs;
    const banMs = repeat ? Math.min(entry.lastBanMs * 2, maxBanMs) : firstBanMs;
    entry.connects = [];
    entry.bannedUntil = now + banMs;
    entry.lastBanMs = banMs;
    return banMs;
  }
}
