/**
 * Brute-force throttling for web sign-ins and MQTT CONNECTs.
 *
 * Failures are counted per key, and forgotten once a key has had none for a window (an hour): the window
 * slides with each failure, so an attacker who keeps trying at the slowest pace stays at the longest
 * delay. Once a key has `limit` failures, every further
 * attempt on it is refused, without checking the password (that CPU is what the throttle saves), until a
 * delay has passed: `baseDelayMs` after the limit-th failure, doubling with each failure after that, at
 * most `maxDelayMs`. Refused attempts are not counted, so hammering a locked key does not lengthen the
 * lock: a lock always ends at most `maxDelayMs` after the last failure that was actually checked.
 *
 * Keys always include the source address (`account:<name>@<address>`, `address:<address>`): there is no
 * key for an account alone, so an attacker elsewhere can never lock the owner out of their own account.
 * The map holds at most `maxKeys` keys, dropping the least recently touched; a locked address adds no
 * keys, so one address cannot flush the map by trying new usernames.
 */
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";

export interface ThrottleKey {
  key: string;
  /** Failures within the window before attempts on this key are refused. */
  limit: number;
}

export interface ThrottleOptions {
  windowMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxKeys: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = {
  windowMs: 60 * 60 * 1000,
  baseDelayMs: 1000,
  maxDelayMs: 15 * 60 * 1000,
  maxKeys: 10_000,
};

/** Per account (or MQTT client id) from one address, and per address for everything it tries. */
export const WEB_LIMITS = { perAccount: 5, perAddress: 20 } as const;
/** Higher per address: behind NAT or a container's port proxy every feeder may share one. */
export const MQTT_LIMITS = { perClient: 5, perAddress: 50 } as const;

export type ThrottleVerdict = { throttled: false } | { throttled: true; key: string; retryAfterMs: number };

interface Entry {
  /** Failures since the key was last quiet for a whole window. */
  failures: number;
  lastFailure: number;
  lockedUntil: number;
  /** Whether this lock was already logged. */
  warned: boolean;
}

/**
 * The part of a source address that identifies one attacker: IPv4 (also when mapped into IPv6) as is,
 * IPv6 by its /64, since anyone holding one address holds the whole /64.
 */
export function sourceOf(address: string | undefined): string {
  if (!address) return "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (!address.includes(":")) return address;
  const bare = address.split("%")[0] ?? address;
  const [head = "", tail] = bare.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => (Number.parseInt(g, 16) || 0).toString(16))
    .join(":")}::/64`;
}

export function loginKeys(username: string, address: string | undefined): ThrottleKey[] {
  const source = sourceOf(address);
  return [
    { key: `account:${username.toLowerCase()}@${source}`, limit: WEB_LIMITS.perAccount },
    { key: `address:${source}`, limit: WEB_LIMITS.perAddress },
  ];
}

export function mqttKeys(clientId: string, address: string | undefined): ThrottleKey[] {
  const source = sourceOf(address);
  return [
    { key: `client:${clientId}@${source}`, limit: MQTT_LIMITS.perClient },
    { key: `address:${source}`, limit: MQTT_LIMITS.perAddress },
  ];
}

export class AttemptThrottle {
  private readonly entries = new Map<string, Entry>();
  private readonly options: ThrottleOptions;

  constructor(
    private readonly clock: Clock,
    options: Partial<ThrottleOptions> = {},
    private readonly logger?: Logger,
  ) {
    this.options = { ...DEFAULT_THROTTLE, ...options };
  }

  /** Whether an attempt on these keys may go ahead; when not, the longest of their waits. Counts nothing. */
  check(keys: readonly ThrottleKey[]): ThrottleVerdict {
    const now = this.clock.now();
    let verdict: ThrottleVerdict = { throttled: false };
    for (const { key } of keys) {
      const entry = this.entries.get(key);
      if (!entry || entry.lockedUntil <= now) continue;
      const retryAfterMs = entry.lockedUntil - now;
      if (!entry.warned) {
        entry.warned = true;
        this.logger?.warn(
          { key, failures: entry.failures, retryAfterSeconds: Math.ceil(retryAfterMs / 1000) },
          "too many failed logins: refusing further attempts for a while",
        );
      }
      if (!verdict.throttled || retryAfterMs > verdict.retryAfterMs) {
        verdict = { throttled: true, key, retryAfterMs };
      }
    }
    return verdict;
  }

  /**
   * Counts a failed attempt. `keys` go from the most specific (account or client at an address) to the
   * broadest (the address): the broader keys count only the first `limit` failures of the specific one,
   * so they measure how many different things an address guesses at, and one device retrying an old
   * password forever cannot lock out every other device behind the same address.
   */
  failed(keys: readonly ThrottleKey[]): void {
    const now = this.clock.now();
    const [first, ...broader] = keys;
    if (!first) return;
    const specific = this.count(first, now);
    if (specific <= first.limit) for (const k of broader) this.count(k, now);
  }

  /**
   * A right password after `failed()` counted the attempt up front (so parallel attempts cannot all slip
   * in under the limit): the specific key starts afresh and the broader ones take the attempt back.
   */
  succeeded(keys: readonly ThrottleKey[]): void {
    const [first, ...broader] = keys;
    if (!first) return;
    const specific = this.entries.get(first.key);
    this.entries.delete(first.key);
    if (!specific || specific.failures > first.limit) return;
    for (const { key, limit } of broader) {
      const entry = this.entries.get(key);
      if (!entry) continue;
      entry.failures--;
      if (entry.failures <= 0) this.entries.delete(key);
      else this.relock(entry, limit);
    }
  }

  /** A right password whose attempt was not counted up front: the specific key starts afresh. */
  clear(keys: readonly ThrottleKey[]): void {
    if (keys[0]) this.entries.delete(keys[0].key);
  }

  get size(): number {
    return this.entries.size;
  }

  private count({ key, limit }: ThrottleKey, now: number): number {
    let entry = this.entries.get(key);
    if (entry) {
      // Re-inserted so the map's order is least recently touched first.
      this.entries.delete(key);
      if (now - entry.lastFailure > this.options.windowMs) entry = undefined;
    }
    if (!entry) {
      this.evict();
      entry = { failures: 0, lastFailure: now, lockedUntil: 0, warned: false };
    }
    entry.failures++;
    entry.lastFailure = now;
    this.relock(entry, limit);
    this.entries.set(key, entry);
    return entry.failures;
  }

  private relock(entry: Entry, limit: number): void {
    const over = entry.failures - limit;
    const lockedUntil =
      over < 0
        ? 0
        : entry.lastFailure +
          Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** Math.min(over, 30));
    if (lockedUntil > entry.lockedUntil) entry.warned = false;
    entry.lockedUntil = lockedUntil;
  }

  /** Makes room for one more key by dropping the least recently touched. */
  private evict(): void {
    while (this.entries.size >= this.options.maxKeys) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) return;
      this.entries.delete(oldest);
    }
  }
}
