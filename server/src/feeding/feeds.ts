/**
 * Feed commands and their outcomes: the ledger. Every feed is a row before
 * anything is sent, every row ends in a recorded outcome, and no command id
 * can produce a second row. Transport-neutral: commands leave through a
 * FeedCommandSender and device reports come back through deviceReported().
 */

import { randomUUID } from "node:crypto";
import { and, asc, desc, eq, getTableName, gt, gte, inArray, isNotNull, lt, or, sql } from "drizzle-orm";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { AppError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/db.js";
import { type FeedStatus, feeds } from "../store/schema.js";
import { TERMINAL_STATUSES, transitionForReport } from "./feed-lifecycle.js";
import type { FeederRecord, FeederService } from "./feeders.js";
import { localDayContaining } from "./meal-time.js";

export type FeedRecord = typeof feeds.$inferSelect;
export type FeedSource = FeedRecord["source"];

/** What a feeder is told to do; encoded for the wire by the bridge. */
export interface FeedCommand {
  id: string;
  portions: number;
  expiresAt: Date;
}

/**
 * How a command was delivered: `sent` and the device will acknowledge it, or `started`: the device has no
 * acknowledgement in its protocol and acts on delivery, so the feed waits for its result as `accepted`.
 */
export type Delivery = "sent" | "started";

export interface FeedCommandSender {
  sendFeed(feederId: string, command: FeedCommand): Promise<Delivery | undefined>;
}

/** What a feeder says about a feed, already validated and decoded by the bridge. */
export interface FeedReport {
  id: string;
  status: "accepted" | "dispensed" | "failed" | "rejected";
  portions: number;
  source: FeedSource;
  at: Date;
  error?: string | undefined;
  grams?: number | undefined;
  /** For meals from the device's own schedule: which meal of the plan it ran. */
  mealId?: string | undefined;
}

export interface FeedRequest {
  feederId: string;
  portions: number;
  expiresInSeconds?: number | undefined;
  idempotencyKey?: string | undefined;
  requestedBy?: string | undefined;
  /** Feed even beyond the feeder's safety limits (an owner's explicit decision). */
  override?: boolean | undefined;
  /** Where the request came from: the API (`remote`, the default) or a press in Home Assistant. */
  source?: RemoteSource | undefined;
}

/** Feeds someone asked for from afar: the minimum interval between them holds across all of these. */
const REMOTE_SOURCES = ["remote", "home_assistant"] as const;
export type RemoteSource = (typeof REMOTE_SOURCES)[number];

const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
const OPEN_STATUSES: FeedStatus[] = ["pending", "sent", "accepted"];
/**
 * Feeds that dispensed or still may, for the safety limits: a timed-out feed's outcome is unknown, and a feed
 * that expired after it reached the device may have been started there (its report can still come late).
 * Failed feeds and feeds that expired before they were sent did not feed.
 */
const MAY_HAVE_FED_STATUSES: FeedStatus[] = ["pending", "sent", "accepted", "dispensed", "timed_out"];
const mayHaveFed = () =>
  or(inArray(feeds.status, MAY_HAVE_FED_STATUSES), and(eq(feeds.status, "expired"), isNotNull(feeds.sentAt)));

/**
 * A planned meal's feed, written for a whole fleet in one tick: a plain statement, its column names taken
 * from the schema so a renamed column cannot leave it behind.
 */
function prepareInsertScheduled(store: Store) {
  const f = feeds;
  const columns = [f.id, f.feederId, f.commandId, f.portions, f.requestedAt, f.expiresAt].map((c) => c.name);
  return store.statement(
    `insert into ${getTableName(f)} (${columns.join(", ")}, ${f.source.name}, ${f.status.name}) values (${columns.map(() => "?").join(", ")}, 'schedule', 'pending')`,
  );
}

/** The queries on the feed and report paths, prepared once: building them per call costs more than running them. */
function prepareStatements(store: Store) {
  const p = sql.placeholder;
  return {
    byId: store.db
      .select()
      .from(feeds)
      .where(eq(feeds.id, p("id")))
      .prepare(),
    byCommand: store.db
      .select()
      .from(feeds)
      .where(and(eq(feeds.feederId, p("feederId")), eq(feeds.commandId, p("commandId"))))
      .prepare(),
    oldestAwaitingResult: store.db
      .select()
      .from(feeds)
      .where(and(eq(feeds.feederId, p("feederId")), inArray(feeds.status, ["sent", "accepted"])))
      .orderBy(asc(feeds.sentAt))
      .limit(1)
      .prepare(),
    byIdempotencyKey: store.db
      .select()
      .from(feeds)
      .where(and(eq(feeds.feederId, p("feederId")), eq(feeds.idempotencyKey, p("key"))))
      .prepare(),
    portionsBetween: store.db
      .select({ total: sql<number>`coalesce(sum(${feeds.portions}), 0)` })
      .from(feeds)
      .where(
        and(
          eq(feeds.feederId, p("feederId")),
          gte(feeds.requestedAt, p("from")),
          lt(feeds.requestedAt, p("to")),
          mayHaveFed(),
        ),
      )
      .prepare(),
    lastRemoteSince: store.db
      .select({ requestedAt: feeds.requestedAt })
      .from(feeds)
      .where(
        and(
          eq(feeds.feederId, p("feederId")),
          gt(feeds.requestedAt, p("since")),
          inArray(feeds.source, [...REMOTE_SOURCES]),
          mayHaveFed(),
        ),
      )
      .orderBy(desc(feeds.requestedAt))
      .limit(1)
      .prepare(),
    markSent: store.db
      .update(feeds)
      // Epoch ms, as the column stores it: drizzle types no placeholder in set().
      .set({ status: "sent", sentAt: sql`${p("sentAt")}` })
      .where(and(eq(feeds.id, p("id")), eq(feeds.status, "pending")))
      .prepare(),
    insertScheduled: prepareInsertScheduled(store),
    latestOfEachFeeder: store.db
      .select()
      .from(feeds)
      .where(
        sql`${feeds.id} in (select (select f.id from feeds f where f.feeder_id = feeders.id order by f.requested_at desc limit 1) from feeders)`,
      )
      .prepare(),
  };
}

export class FeedService {
  private readonly timers = new Map<string, { cancel(): void }>();
  private readonly deviceFeedListeners: Array<(feed: FeedRecord, mealId: string | undefined) => void> = [];
  private readonly changeListeners: Array<(feederId: string) => void> = [];
  private readonly statements: ReturnType<typeof prepareStatements>;
  private sender: FeedCommandSender | undefined;
  /** Feeds the sender has taken, to be marked sent together: one commit, not one fsync per feed. */
  private sentMarks: Array<{ id: string; feederId: string; sentAt: number }> = [];
  /** Feeds whose command is being handed to the broker (between send and its outcome). */
  private readonly inFlight = new Map<string, FeedRecord>();

  constructor(
    private readonly store: Store,
    private readonly feeders: FeederService,
    private readonly clock: Clock,
    private readonly settings: Config["feeds"],
    private readonly logger: Logger,
    /** The zone a feeder's day is counted in when it has none of its own (as for its meal plan). */
    private readonly serverTimeZone: string,
  ) {
    this.statements = prepareStatements(store);
    feeders.onReady((feederId) => this.dispatchPending(feederId));
  }

  /**
   * Resolves what was open when the server last stopped, then starts sending.
   * A feed whose expiry passed while we were down is expired, never sent late.
   */
  start(sender: FeedCommandSender): void {
    this.sender = sender;
    const open = this.store.db.select().from(feeds).where(inArray(feeds.status, OPEN_STATUSES)).all();
    for (const feed of open) this.arm(feed);
    if (open.length > 0) this.logger.info({ open: open.length }, "resumed open feeds from the ledger");
  }

  stop(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    this.sender = undefined;
  }

  request(input: FeedRequest): { feed: FeedRecord; replayed: boolean } {
    const feeder = this.feeders.require(input.feederId);
    if (!Number.isInteger(input.portions) || input.portions < 1 || input.portions > feeder.maxPortions) {
      throw new AppError(
        "portions_out_of_range",
        `Portions must be a whole number from 1 to ${feeder.maxPortions} for this feeder.`,
      );
    }
    const expiresIn = input.expiresInSeconds ?? this.settings.defaultExpirySeconds;
    if (expiresIn > this.settings.maxExpirySeconds) {
      throw new AppError(
        "validation_failed",
        `expiresInSeconds must be at most ${this.settings.maxExpirySeconds}.`,
      );
    }
    const now = this.clock.now();
    let overridden: string | undefined;
    const result = this.store.transaction(() => {
      if (input.idempotencyKey !== undefined) {
        const previous = this.statements.byIdempotencyKey.get({
          feederId: feeder.id,
          key: input.idempotencyKey,
        });
        if (previous && previous.requestedAt.getTime() > now - IDEMPOTENCY_WINDOW_MS) {
          if (previous.portions !== input.portions) throw new AppError("idempotency_conflict");
          return { feed: previous, replayed: true };
        }
        // The key is free again after the window; the old feed keeps its history without it.
        if (previous) {
          this.store.db.update(feeds).set({ idempotencyKey: null }).where(eq(feeds.id, previous.id)).run();
        }
      }
      // Checked in the transaction that inserts, so two concurrent requests cannot both fit under a limit.
      const beyond = this.beyondSafetyLimits(feeder, input.portions, now);
      if (beyond !== undefined) {
        if (!input.override)
          throw new AppError("safety_limit", `${beyond} Send override: true to feed anyway.`);
        overridden = beyond;
      }
      const id = randomUUID();
      const feed = this.store.db
        .insert(feeds)
        .values({
          id,
          feederId: feeder.id,
          commandId: id,
          source: input.source ?? "remote",
          portions: input.portions,
          status: "pending",
          requestedBy: input.requestedBy ?? null,
          idempotencyKey: input.idempotencyKey ?? null,
          requestedAt: new Date(now),
          expiresAt: new Date(now + expiresIn * 1000),
        })
        .returning()
        .get();
      return { feed, replayed: false };
    });
    if (overridden !== undefined) {
      this.logger.warn(
        { feedId: result.feed.id, feederId: feeder.id, requestedBy: input.requestedBy, limit: overridden },
        "safety limit overridden",
      );
    }
    if (!result.replayed) {
      this.logger.info(
        { feedId: result.feed.id, feederId: feeder.id, portions: input.portions },
        "feed requested",
      );
      this.changed(feeder.id);
      this.arm(result.feed);
    }
    return result;
  }

  /** Why a new remote feed of `portions` would break the feeder's safety limits, or undefined if it would not. */
  private beyondSafetyLimits(feeder: FeederRecord, portions: number, now: number): string | undefined {
    const day = localDayContaining(new Date(now), feeder.timezone ?? this.serverTimeZone);
    const today = this.statements.portionsBetween.get({
      feederId: feeder.id,
      from: day.start.getTime(),
      to: day.end.getTime(),
    });
    const total = (today?.total ?? 0) + portions;
    if (total > feeder.dailyMaxPortions) {
      return `This feed would bring today's total to ${total} portions; the daily limit for this feeder is ${feeder.dailyMaxPortions}.`;
    }
    const interval = feeder.minFeedIntervalSeconds;
    if (interval > 0) {
      const last = this.statements.lastRemoteSince.get({ feederId: feeder.id, since: now - interval * 1000 });
      if (last) {
        const ago = Math.max(0, Math.floor((now - last.requestedAt.getTime()) / 1000));
        return `The last remote feed was ${ago} s ago; this feeder allows one every ${interval} s.`;
      }
    }
    return undefined;
  }

  /**
   * A planned meal's feed, keyed by its occurrence id. Call inside the
   * transaction that records the occurrence (both rows exist, or neither),
   * then hand the feed to track() once that transaction has committed.
   */
  recordScheduled(input: {
    /** The feed's id, when the caller must know it before the row exists; a new UUID otherwise. */
    id?: string | undefined;
    feederId: string;
    occurrenceId: string;
    portions: number;
    expiresAt: Date;
  }): FeedRecord {
    // A whole fleet's meals can fall due in one tick: the insert is prepared, and without RETURNING, which
    // made each insert several times slower. The record is the row as written; the type lists every column.
    const feed: FeedRecord = {
      id: input.id ?? randomUUID(),
      feederId: input.feederId,
      commandId: input.occurrenceId,
      source: "schedule",
      portions: input.portions,
      status: "pending",
      error: null,
      grams: null,
      requestedBy: null,
      idempotencyKey: null,
      requestedAt: new Date(this.clock.now()),
      expiresAt: new Date(input.expiresAt.getTime()),
      sentAt: null,
      acceptedAt: null,
      completedAt: null,
    };
    this.statements.insertScheduled.run(
      feed.id,
      feed.feederId,
      feed.commandId,
      feed.portions,
      feed.requestedAt.getTime(),
      feed.expiresAt?.getTime(),
    );
    return feed;
  }

  /**
   * Called for every meal a device started itself, inside the transaction that
   * records it, so matching it to a planned meal is never lost to a crash.
   */
  onDeviceFeed(listener: (feed: FeedRecord, mealId: string | undefined) => void): void {
    this.deviceFeedListeners.push(listener);
  }

  /** After any feed of the feeder was recorded or changed status (for the live UI; never inside a transaction's work). */
  onChange(listener: (feederId: string) => void): void {
    this.changeListeners.push(listener);
  }

  private changed(feederId: string): void {
    for (const listener of this.changeListeners) listener(feederId);
  }

  /** Starts delivering a committed feed (sends it now or when the feeder is ready) and watches its deadline. */
  track(feed: FeedRecord): void {
    this.changed(feed.feederId);
    this.arm(feed);
  }

  find(id: string): FeedRecord | undefined {
    return this.statements.byId.get({ id });
  }

  require(id: string): FeedRecord {
    const feed = this.find(id);
    if (!feed) throw new AppError("feed_not_found");
    return feed;
  }

  listForFeeder(feederId: string, options: { limit: number; before?: Date | undefined }): FeedRecord[] {
    return this.store.db
      .select()
      .from(feeds)
      .where(
        options.before
          ? and(eq(feeds.feederId, feederId), lt(feeds.requestedAt, options.before))
          : eq(feeds.feederId, feederId),
      )
      .orderBy(desc(feeds.requestedAt))
      .limit(options.limit)
      .all();
  }

  latestForFeeder(feederId: string): FeedRecord | undefined {
    return this.listForFeeder(feederId, { limit: 1 })[0];
  }

  /** The newest feed of every feeder, in one query (the feeder list shows them all). */
  latestOfEachFeeder(): Map<string, FeedRecord> {
    return new Map(this.statements.latestOfEachFeeder.all().map((f) => [f.feederId, f]));
  }

  /**
   * A result from a device whose protocol carries no command ids (ESPHome entities and the like). It belongs
   * to the oldest feed the device was sent and has not answered, as a feeder runs meals in order; with none
   * waiting, a dispensed meal was started on the device, and a fault is only a standing problem.
   */
  deviceResultWithoutId(
    feederId: string,
    result: { status: "dispensed"; portions: number } | { status: "failed"; error: string },
    /**
     * What started the meal, when the device says: a meal from its own plan or its button is never the
     * result of a remote feed waiting for one.
     */
    startedBy?: "schedule" | "button" | "remote",
  ): void {
    const at = new Date(this.clock.now());
    const fromDevice = startedBy === "schedule" || startedBy === "button";
    const waiting = fromDevice
      ? undefined
      : (this.statements.oldestAwaitingResult.get({ feederId }) ?? this.oldestInFlight(feederId));
    if (waiting) {
      this.deviceReported(feederId, {
        id: waiting.commandId,
        status: result.status,
        portions: waiting.portions,
        source: waiting.source,
        at,
        error: result.status === "failed" ? result.error : undefined,
      });
    } else if (result.status === "dispensed") {
      this.deviceReported(feederId, {
        id: `device-${randomUUID()}`,
        status: "dispensed",
        portions: result.portions,
        source: startedBy === "schedule" ? "schedule" : "button",
        at,
      });
    }
  }

  /** Applies what a device said about a feed. Idempotent: repeated reports change nothing. */
  deviceReported(feederId: string, report: FeedReport): void {
    const now = this.clock.now();
    const existing = this.statements.byCommand.get({ feederId, commandId: report.id });
    if (!existing) {
      this.recordDeviceFeed(feederId, report, now);
      return;
    }
    const t = transitionForReport(existing.status, report);
    if (t.kind === "ignore") {
      this.logger.debug(
        { feedId: existing.id, report: report.status, reason: t.reason },
        "feed report ignored",
      );
      return;
    }
    const terminal = TERMINAL_STATUSES.has(t.status);
    const updated = this.store.db
      .update(feeds)
      .set({
        status: t.status,
        error: t.error,
        ...(t.status === "accepted" && { acceptedAt: new Date(now) }),
        ...(terminal && { completedAt: report.at }),
        ...(report.grams !== undefined && { grams: report.grams }),
      })
      .where(and(eq(feeds.id, existing.id), eq(feeds.status, existing.status)))
      .returning()
      .get();
    if (!updated) return;
    const log = { feedId: existing.id, feederId, from: existing.status, to: t.status, error: t.error };
    if (t.late) this.logger.warn(log, "device reported a result after the server had given up on the feed");
    else this.logger.info(log, "feed updated by device");
    this.changed(feederId);
    this.arm(updated);
  }

  /** Meals the device started itself, or commands we no longer know: recorded once, keyed by the device's id. */
  private recordDeviceFeed(feederId: string, report: FeedReport, now: number): void {
    const status: FeedStatus =
      report.status === "rejected" ? "failed" : report.status === "accepted" ? "accepted" : report.status;
    const inserted = this.store.transaction(() => {
      const row = this.insertDeviceFeed(feederId, report, status, now);
      if (row) for (const listener of this.deviceFeedListeners) listener(row, report.mealId);
      return row;
    });
    if (!inserted) return;
    this.logger.info(
      { feedId: inserted.id, feederId, source: report.source, status, portions: report.portions },
      report.source === "remote"
        ? "device reported a command the ledger does not know"
        : "device-started feed recorded",
    );
    this.changed(feederId);
    this.arm(inserted);
  }

  private insertDeviceFeed(
    feederId: string,
    report: FeedReport,
    status: FeedStatus,
    now: number,
  ): FeedRecord | undefined {
    return this.store.db
      .insert(feeds)
      .values({
        id: randomUUID(),
        feederId,
        commandId: report.id,
        source: report.source,
        portions: report.portions,
        status,
        error:
          report.status === "failed" || report.status === "rejected" ? (report.error ?? report.status) : null,
        grams: report.grams ?? null,
        requestedAt: report.at,
        acceptedAt: status === "accepted" ? new Date(now) : null,
        completedAt: TERMINAL_STATUSES.has(status) ? report.at : null,
      })
      .onConflictDoNothing()
      .returning()
      .get();
  }

  /** Sets the one timer an open feed needs (expiry or result timeout), or settles it if that moment has passed. */
  private arm(feed: FeedRecord): void {
    this.timers.get(feed.id)?.cancel();
    this.timers.delete(feed.id);
    const now = this.clock.now();
    if (feed.status === "pending" || feed.status === "sent") {
      const expiresAt = feed.expiresAt?.getTime() ?? now;
      if (expiresAt <= now) {
        this.settle(feed, "expired");
        return;
      }
      this.timers.set(
        feed.id,
        this.clock.setTimeout(() => this.settle(feed, "expired"), expiresAt - now),
      );
      if (feed.status === "pending" && this.feeders.isReady(feed.feederId)) this.send(feed);
    } else if (feed.status === "accepted") {
      const deadline = (feed.acceptedAt?.getTime() ?? now) + this.settings.resultTimeoutSeconds * 1000;
      if (deadline <= now) {
        this.settle(feed, "timed_out");
        return;
      }
      this.timers.set(
        feed.id,
        this.clock.setTimeout(() => this.settle(feed, "timed_out"), deadline - now),
      );
    }
  }

  private settle(feed: FeedRecord, status: "expired" | "timed_out"): void {
    this.timers.delete(feed.id);
    const from: FeedStatus[] = status === "expired" ? ["pending", "sent"] : ["accepted"];
    const updated = this.store.db
      .update(feeds)
      .set({ status, completedAt: new Date(this.clock.now()) })
      .where(and(eq(feeds.id, feed.id), inArray(feeds.status, from)))
      .returning()
      .get();
    if (updated) {
      const level = status === "timed_out" ? "warn" : "info";
      this.logger[level](
        { feedId: feed.id, feederId: feed.feederId, status },
        "feed ended without a device result",
      );
      this.changed(feed.feederId);
    }
  }

  private send(feed: FeedRecord): void {
    const sender = this.sender;
    if (!sender || !feed.expiresAt) return;
    this.inFlight.set(feed.id, feed);
    sender
      .sendFeed(feed.feederId, { id: feed.commandId, portions: feed.portions, expiresAt: feed.expiresAt })
      .then((delivery) => (delivery === "started" ? this.markStarted(feed) : this.markSent(feed)))
      .catch((err: unknown) => {
        // Still pending: the next ready event retries it until it expires.
        this.logger.error({ err, feedId: feed.id }, "could not hand the feed command to the broker");
      })
      .finally(() => this.inFlight.delete(feed.id));
  }

  /**
   * A feed being handed to the broker right now: a fast device without command ids can report its meal
   * before the hand-over completes, and that report is this feed's result, not a meal of its own.
   */
  private oldestInFlight(feederId: string): FeedRecord | undefined {
    let oldest: FeedRecord | undefined;
    for (const feed of this.inFlight.values()) {
      if (feed.feederId === feederId && (!oldest || feed.requestedAt < oldest.requestedAt)) oldest = feed;
    }
    return oldest;
  }

  /** Delivered to a device that never acknowledges: it is dispensing now, and its result is due. */
  private markStarted(feed: FeedRecord): void {
    const started = this.store.db
      .update(feeds)
      .set({ status: "accepted", sentAt: new Date(this.clock.now()), acceptedAt: new Date(this.clock.now()) })
      .where(and(eq(feeds.id, feed.id), eq(feeds.status, "pending")))
      .returning()
      .get();
    if (started) {
      this.changed(started.feederId);
      this.arm(started);
    }
  }

  /**
   * Marks a feed sent once the sender has taken it. A fleet's meals are handed over in one go, so the marks
   * are gathered until the current batch of callbacks has run and written in one transaction: thousands of
   * commits, an fsync each, would hold up the event loop for many seconds.
   */
  private markSent(feed: FeedRecord): void {
    this.sentMarks.push({ id: feed.id, feederId: feed.feederId, sentAt: this.clock.now() });
    if (this.sentMarks.length === 1) queueMicrotask(() => this.writeSentMarks());
  }

  private writeSentMarks(): void {
    const marks = this.sentMarks;
    this.sentMarks = [];
    try {
      this.store.transaction(() => {
        // Only from pending: a device report that came first has already moved the feed on.
        for (const mark of marks) this.statements.markSent.run({ id: mark.id, sentAt: mark.sentAt });
      });
      for (const feederId of new Set(marks.map((m) => m.feederId))) this.changed(feederId);
    } catch (err) {
      // They stay pending: the next ready event sends them again (same command ids) until they expire.
      this.logger.error({ err, feeds: marks.length }, "could not mark feeds as sent");
    }
  }

  private dispatchPending(feederId: string): void {
    const now = new Date(this.clock.now());
    const pending = this.store.db
      .select()
      .from(feeds)
      .where(and(eq(feeds.feederId, feederId), eq(feeds.status, "pending"), gt(feeds.expiresAt, now)))
      .orderBy(feeds.requestedAt)
      .all();
    for (const feed of pending) this.send(feed);
  }
}
