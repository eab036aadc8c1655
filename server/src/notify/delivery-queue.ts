/**
 * The delivery queue: each new alert becomes one delivery per enabled channel of its household that wants
 * its kind, written to the database before anything is sent, so a restart loses none (a delivery cut off
 * mid-send by a shutdown goes out again: at least once, rarely twice). One timer, on the injected clock,
 * wakes for the earliest delivery due. A failed send is retried after RETRY_DELAYS_MS and given up after
 * MAX_ATTEMPTS; a delivery falling due in the channel's quiet hours is held until they end.
 */
import { randomUUID } from "node:crypto";
import { and, asc, eq, inArray, lte } from "drizzle-orm";
import type { Clock } from "../clock.js";
import type { Alert, Notifier } from "../feeding/alerts.js";
import type { Logger } from "../logger.js";
import type { OutboundLookup } from "../net/outbound-url.js";
import type { Store } from "../store/db.js";
import { alerts, feeders, notificationDeliveries } from "../store/schema.js";
import { retryDelay } from "./backoff.js";
import type { NotificationChannelService } from "./channels.js";
import { sendEmail } from "./email.js";
import { DeliveryError } from "./http-send.js";
import type { Outgoing, SendContext } from "./message.js";
import type { ChannelRecord } from "./model.js";
import { sendNtfy } from "./ntfy.js";
import { isQuiet, type QuietHours, quietEndsAt } from "./quiet-hours.js";
import { alertText, type NotificationText, testText } from "./texts.js";
import { sendWebhook } from "./webhook.js";

type Delivery = typeof notificationDeliveries.$inferSelect;

/** Deliveries sent at once; more due wait for the next round. */
const BATCH = 10;
/** The longest the timer sleeps; it re-reads the queue then (a clock jump, a timer lost). */
const MAX_SLEEP_MS = 6 * 3_600_000;
const STOP_WAIT_MS = 3_000;

export type TestResult = { ok: true; sentAt: Date } | { ok: false; error: string };

export interface QueueOptions {
  /** Quiet hours and the times in texts are read in this zone: the server's. */
  timeZone: string;
  /** DNS for tests; the system's otherwise. */
  lookup?: OutboundLookup | undefined;
}

function quietHoursOf(channel: ChannelRecord): QuietHours | undefined {
  return channel.quietStart && channel.quietEnd
    ? { start: channel.quietStart, end: channel.quietEnd }
    : undefined;
}

function errorText(err: unknown): string {
  if (err instanceof DeliveryError) return err.message;
  return `Sending failed: ${err instanceof Error ? err.message : String(err)}`;
}

export class NotificationQueue implements Notifier {
  readonly name = "notifications";
  private timer: { cancel(): void } | undefined;
  private timerAt: number | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private running = false;
  private stopped = true;
  private readonly inFlight = new Set<Promise<unknown>>();
  private abort = new AbortController();

  constructor(
    private readonly store: Store,
    private readonly channels: NotificationChannelService,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: QueueOptions,
  ) {}

  /** Queues the alert for every channel that wants it; sending happens on the queue's own turn. */
  async notify(alert: Alert): Promise<void> {
    const household = alert.feederId === null ? null : this.feeder(alert.feederId)?.householdId;
    // A feeder deleted in the meantime: its alert is gone too (cascade), nobody to tell.
    if (household === undefined) return;
    const subscribers = this.channels.subscribers(alert.kind, household);
    if (subscribers.length === 0) return;
    const now = new Date(this.clock.now());
    this.store.db
      .insert(notificationDeliveries)
      .values(
        subscribers.map((channel) => ({
          id: randomUUID(),
          channelId: channel.id,
          alertId: alert.id,
          status: "pending" as const,
          nextAttemptAt: now,
          createdAt: now,
        })),
      )
      .onConflictDoNothing()
      .run();
    this.wake();
  }

  start(): void {
    this.stopped = false;
    this.abort = new AbortController();
    this.wake();
  }

  /** Stops the timer and cuts sends in flight (they go out again after a restart). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.timerAt = undefined;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    this.abort.abort();
    if (this.inFlight.size === 0) return;
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((resolve) => {
        waited = setTimeout(resolve, STOP_WAIT_MS);
        waited.unref();
      }),
    ]);
    clearTimeout(waited);
  }

  /** Sends a test message through the channel now, whatever its kinds and quiet hours. */
  async sendTest(channelId: string): Promise<TestResult> {
    const channel = this.channels.require(channelId);
    const now = this.clock.now();
    const text = testText(channel.name, channel.language, new Date(now), this.options.timeZone);
    const out: Outgoing = {
      text,
      event: {
        id: `test-${randomUUID()}`,
        kind: "test",
        feeder: null,
        message: "This is a test message from Feedkeeper.",
        occurrenceId: null,
        createdAt: new Date(now).toISOString(),
        language: channel.language,
        title: text.title,
        text: text.body,
        heldDuringQuietHours: false,
        test: true,
      },
    };
    try {
      await this.track(this.send(channel, out));
      this.channels.recordResult(channel.id, { ok: true });
      return { ok: true, sentAt: new Date(this.clock.now()) };
    } catch (err) {
      const error = errorText(err);
      this.channels.recordResult(channel.id, { ok: false, error });
      return { ok: false, error };
    }
  }

  /** Runs the queue soon: now when something is due, else when the earliest delivery falls due. */
  private wake(): void {
    if (this.stopped) return;
    // A round in progress wakes the queue again when it ends.
    if (this.running) return;
    const next = this.store.db
      .select({ at: notificationDeliveries.nextAttemptAt })
      .from(notificationDeliveries)
      .where(inArray(notificationDeliveries.status, ["pending", "held"]))
      .orderBy(asc(notificationDeliveries.nextAttemptAt))
      .limit(1)
      .get();
    if (!next?.at) return;
    const delay = next.at.getTime() - this.clock.now();
    if (delay <= 0) {
      // Due now: on the event loop's next turn, not the clock's (a test's fake clock may stand still).
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        void this.run();
      });
      return;
    }
    const at = this.clock.now() + Math.min(delay, MAX_SLEEP_MS);
    if (this.timer && this.timerAt !== undefined && this.timerAt <= at) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = undefined;
      void this.run();
    }, at - this.clock.now());
  }

  private async run(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    try {
      const due = this.store.db
        .select()
        .from(notificationDeliveries)
        .where(
          and(
            inArray(notificationDeliveries.status, ["pending", "held"]),
            lte(notificationDeliveries.nextAttemptAt, new Date(this.clock.now())),
          ),
        )
        .orderBy(asc(notificationDeliveries.nextAttemptAt))
        .limit(BATCH)
        .all();
      await Promise.allSettled(
        due.map((delivery) =>
          this.track(this.deliver(delivery)).catch((err) => this.deferBroken(delivery, err)),
        ),
      );
    } catch (err) {
      this.logger.error({ err }, "notification queue failed a round");
    } finally {
      this.running = false;
    }
    if (!this.stopped) this.wake();
  }

  private async deliver(delivery: Delivery): Promise<void> {
    const channel = this.channels.find(delivery.channelId);
    const alert = this.store.db.select().from(alerts).where(eq(alerts.id, delivery.alertId)).get();
    if (!channel || !alert) return;
    const now = this.clock.now();
    if (!channel.enabled) {
      this.update(delivery.id, {
        status: "failed",
        nextAttemptAt: null,
        lastError: "The channel was turned off before this could be sent.",
      });
      return;
    }
    const quiet = quietHoursOf(channel);
    if (quiet && isQuiet(quiet, now, this.options.timeZone)) {
      this.update(delivery.id, {
        status: "held",
        wasHeld: true,
        nextAttemptAt: new Date(quietEndsAt(quiet, now, this.options.timeZone)),
      });
      return;
    }
    const feeder = alert.feederId ? this.feeder(alert.feederId) : undefined;
    const text = alertText(
      {
        kind: alert.kind,
        feederName: feeder?.name ?? null,
        createdAt: alert.createdAt,
        message: alert.message,
      },
      channel.language,
      this.options.timeZone,
      { held: delivery.wasHeld },
    );
    const out = this.outgoing(alert, feeder, channel, text, delivery.wasHeld);
    const attempts = delivery.attempts + 1;
    try {
      await this.send(channel, out);
    } catch (err) {
      // Cut off by a shutdown: left as it was, to go out after the restart.
      if (this.stopped) return;
      const error = errorText(err);
      const delay = retryDelay(attempts);
      this.update(delivery.id, {
        status: delay === undefined ? "failed" : "pending",
        attempts,
        lastError: error,
        nextAttemptAt: delay === undefined ? null : new Date(this.clock.now() + delay),
      });
      this.channels.recordResult(channel.id, { ok: false, error });
      this.logger.warn(
        { channelId: channel.id, alertId: alert.id, attempts, giveUp: delay === undefined, error },
        "notification not delivered",
      );
      return;
    }
    if (this.stopped) return;
    this.update(delivery.id, {
      status: "sent",
      attempts,
      lastError: null,
      nextAttemptAt: null,
      sentAt: new Date(this.clock.now()),
    });
    this.channels.recordResult(channel.id, { ok: true });
  }

  /**
   * A delivery that failed for a reason of the server's own (not the receiver's) waits like a failed send,
   * so it can never keep the queue busy retrying at once.
   */
  private deferBroken(delivery: Delivery, err: unknown): void {
    this.logger.error({ err, deliveryId: delivery.id }, "notification delivery broke");
    const attempts = delivery.attempts + 1;
    const delay = retryDelay(attempts);
    try {
      this.update(delivery.id, {
        status: delay === undefined ? "failed" : "pending",
        attempts,
        lastError: errorText(err),
        nextAttemptAt: delay === undefined ? null : new Date(this.clock.now() + delay),
      });
    } catch (again) {
      this.logger.error({ err: again, deliveryId: delivery.id }, "could not defer a notification delivery");
    }
  }

  private outgoing(
    alert: Alert,
    feeder: { id: string; name: string } | undefined,
    channel: ChannelRecord,
    text: NotificationText,
    held: boolean,
  ): Outgoing {
    return {
      text,
      event: {
        id: alert.id,
        kind: alert.kind,
        feeder: feeder ? { id: feeder.id, name: feeder.name } : null,
        message: alert.message,
        occurrenceId: alert.occurrenceId,
        createdAt: alert.createdAt.toISOString(),
        language: channel.language,
        title: text.title,
        text: text.body,
        heldDuringQuietHours: held,
        test: false,
      },
    };
  }

  private send(channel: ChannelRecord, out: Outgoing): Promise<void> {
    const ctx: SendContext = {
      now: this.clock.now(),
      lookup: this.options.lookup,
      signal: this.abort.signal,
    };
    const settings = this.channels.settings(channel);
    switch (settings.type) {
      case "ntfy":
        return sendNtfy(settings.config, channel.secret, out, ctx);
      case "webhook":
        return sendWebhook(settings.config, channel.secret, out, ctx);
      case "email":
        return sendEmail(settings.config, channel.secret, out, ctx);
    }
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const done = () => this.inFlight.delete(work);
    work.then(done, done);
    return work;
  }

  private update(id: string, values: Partial<Omit<Delivery, "id">>): void {
    this.store.db.update(notificationDeliveries).set(values).where(eq(notificationDeliveries.id, id)).run();
  }

  private feeder(id: string): { id: string; name: string; householdId: string } | undefined {
    return this.store.db
      .select({ id: feeders.id, name: feeders.name, householdId: feeders.householdId })
      .from(feeders)
      .where(eq(feeders.id, id))
      .get();
  }
}
