/**
 * What happened lately between devices and the broker: connects and
 * disconnects, refusals with their reason, messages dropped as unreadable.
 * It answers "why is my feeder not talking?" without reading server logs.
 * Kept in memory and bounded; a device repeating the same mistake adds to
 * one entry's count instead of pushing everything else out.
 */
import type { Clock } from "../clock.js";

export const CONNECTION_EVENTS = [
  "connected",
  "disconnected",
  "refused",
  "publish_refused",
  "subscribe_refused",
  "dropped",
  "pending",
] as const;
export type ConnectionEvent = (typeof CONNECTION_EVENTS)[number];

export interface ConnectionLogEntry {
  kind: ConnectionEvent;
  /** The MQTT client id the device used (for a refusal, possibly not a feeder id at all). */
  clientId: string;
  /** The feeder it belongs to, when known (vendor firmware uses its own client id). */
  feederId: string | null;
  detail: string;
  address: string | null;
  firstAt: Date;
  lastAt: Date;
  count: number;
}

export const CONNECTION_LOG_CAPACITY = 500;

export class ConnectionLog {
  private entries: ConnectionLogEntry[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly isFeeder: (clientId: string) => boolean,
    private readonly capacity = CONNECTION_LOG_CAPACITY,
  ) {}

  record(
    kind: ConnectionEvent,
    clientId: string,
    detail: string,
    address?: string | undefined,
    feederId?: string | undefined,
  ): void {
    const now = new Date(this.clock.now());
    const last = this.entries.at(-1);
    if (last && last.kind === kind && last.clientId === clientId && last.detail === detail) {
      last.count += 1;
      last.lastAt = now;
      return;
    }
    this.entries.push({
      kind,
      clientId,
      feederId: feederId ?? (this.isFeeder(clientId) ? clientId : null),
      detail,
      address: address ?? null,
      firstAt: now,
      lastAt: now,
      count: 1,
    });
    if (this.entries.length > this.capacity) this.entries = this.entries.slice(-this.capacity);
  }

  /**
   * Newest first; `feederId` narrows to one feeder, `unknownOnly` to devices that are no feeder, `feeders`
   * to these feeders' entries and those of devices that are no feeder (one household's view).
   */
  list(options: {
    limit: number;
    feederId?: string | undefined;
    unknownOnly?: boolean | undefined;
    feeders?: ReadonlySet<string> | undefined;
  }): ConnectionLogEntry[] {
    const out: ConnectionLogEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < options.limit; i--) {
      const e = this.entries[i] as ConnectionLogEntry;
      if (options.feederId !== undefined && e.feederId !== options.feederId) continue;
      if (options.feeders && e.feederId !== null && !options.feeders.has(e.feederId)) continue;
      if (options.unknownOnly && e.feederId !== null) continue;
      out.push({ ...e });
    }
    return out;
  }

  /** A deleted feeder's entries go with it. */
  forget(feederId: string): void {
    this.entries = this.entries.filter((e) => e.feederId !== feederId);
  }
}
