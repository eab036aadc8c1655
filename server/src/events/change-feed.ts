/**
 * What changed, for the live web UI (server-sent events): which feeder changed (its connection, readings,
 * settings, a feed's status), that the list of feeders changed, or that alerts did. It carries no data, only
 * what to fetch again, so it can never show anyone more than the API would, and a slow or stale browser just
 * fetches the newest state.
 *
 * Changes are gathered and delivered once per turn of the event loop: a burst (a fleet's meals falling due,
 * a transaction touching many feeds) becomes one message per household, and it goes out after the
 * transaction that caused it has committed.
 */

export type LiveChange = { kind: "feeder"; feederId: string } | { kind: "feeders" } | { kind: "alerts" };

type Listener = (changes: LiveChange[]) => void;

const keyOf = (change: LiveChange) => (change.kind === "feeder" ? `feeder:${change.feederId}` : change.kind);

export class ChangeFeed {
  private readonly listeners = new Map<string, Set<Listener>>();
  /** Subscriptions per subscriber (a user id), for limits on open streams. */
  private readonly perSubscriber = new Map<string, number>();
  /** Per household (null: every household), the changes of this turn, without repeats. */
  private pending = new Map<string | null, Map<string, LiveChange>>();
  private flushScheduled = false;

  /** `householdOf` tells whose a feeder is; asked only while someone is listening. */
  constructor(private readonly householdOf: (feederId: string) => string | undefined) {}

  /** The feeder's view changed; a feeder that no longer exists has no one to tell. */
  feederChanged(feederId: string): void {
    if (this.listeners.size === 0) return;
    const householdId = this.householdOf(feederId);
    if (householdId !== undefined) this.publish(householdId, { kind: "feeder", feederId });
  }

  /** `householdId` null: a change for everyone (e.g. an alert about the server itself). */
  publish(householdId: string | null, change: LiveChange): void {
    if (this.listeners.size === 0) return;
    let changes = this.pending.get(householdId);
    if (!changes) {
      changes = new Map();
      this.pending.set(householdId, changes);
    }
    changes.set(keyOf(change), change);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Alerts changed: those of a feeder tell its household, those about the server itself (null) everyone. */
  alertsChanged(feederId: string | null): void {
    if (this.listeners.size === 0) return;
    const householdId = feederId === null ? null : this.householdOf(feederId);
    if (householdId !== undefined) this.publish(householdId, { kind: "alerts" });
  }

  /** `subscriber` (e.g. a user id) is counted for subscriptionCount(). Returns the unsubscribe function. */
  subscribe(householdId: string, subscriber: string, listener: Listener): () => void {
    let set = this.listeners.get(householdId);
    if (!set) {
      set = new Set();
      this.listeners.set(householdId, set);
    }
    set.add(listener);
    this.perSubscriber.set(subscriber, (this.perSubscriber.get(subscriber) ?? 0) + 1);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(householdId);
      const left = (this.perSubscriber.get(subscriber) ?? 1) - 1;
      if (left > 0) this.perSubscriber.set(subscriber, left);
      else this.perSubscriber.delete(subscriber);
    };
  }

  /** Open subscriptions: of one subscriber, or of everyone. */
  subscriptionCount(subscriber?: string): number {
    if (subscriber !== undefined) return this.perSubscriber.get(subscriber) ?? 0;
    let n = 0;
    for (const count of this.perSubscriber.values()) n += count;
    return n;
  }

  private flush(): void {
    this.flushScheduled = false;
    const pending = this.pending;
    this.pending = new Map();
    const everyone = [...(pending.get(null)?.values() ?? [])];
    for (const [householdId, listeners] of this.listeners) {
      const own = [...(pending.get(householdId)?.values() ?? [])];
      const changes = own.concat(everyone);
      if (changes.length === 0) continue;
      for (const listener of listeners) listener(changes);
    }
  }
}
