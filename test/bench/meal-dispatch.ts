/**
 * The meal-dispatch benchmark: N feeders × M meals due in the same minute, through the real scheduler and
 * feed path (FeederService, FeedService, MealPlanService, MealScheduler over a real SQLite store), in this
 * process and without MQTT: thousands of sockets would measure the broker, not the scheduler. A counting
 * sender stands in for the bridge and notes when each command was handed over.
 *
 * Time: the services run on a FakeClock, so the tick happens exactly at the due instant; what is measured is
 * real time (performance.now()) from the start of that tick to each sendFeed call. On a real clock the scheduler
 * also times its tick to the next due instant, so tick start and due instant coincide there too.
 *
 * Exactly once is checked, not assumed: the sender's command ids, the ledger's rows, later ticks of the same
 * scheduler, and a restart (fresh services over the reopened database, within the grace window, as after a
 * crash right after the tick) that must dispatch nothing.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import pino from "pino";
import { FeederService } from "../../server/src/feeding/feeders.js";
import {
  type Delivery,
  type FeedCommand,
  type FeedCommandSender,
  FeedService,
} from "../../server/src/feeding/feeds.js";
import { MealPlanService } from "../../server/src/feeding/meal-plans.js";
import { MealScheduler } from "../../server/src/feeding/meal-scheduler.js";
import { localDateAt, occurrenceId, WEEKDAYS } from "../../server/src/feeding/meal-time.js";
import { openStore, type Store } from "../../server/src/store/db.js";
import { FIRST_HOUSEHOLD } from "../../server/src/store/schema.js";
import { FakeClock } from "../../server/src/testing/fake-clock.js";
import { shippedProfiles } from "../../server/src/testing/profiles.js";
import { type Summary, summarize } from "./stats.js";
import { sleep } from "./util.js";

export interface MealDispatchOptions {
  feeders: number;
  mealsPerFeeder: number;
  progress: (message: string) => void;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface MealDispatchResult {
  feeders: number;
  mealsPerFeeder: number;
  occurrences: number;
  setupMs: number;
  schedulerStartMs: number;
  /** The synchronous tick, from its start until it returned (decisions, transaction, every hand-over). */
  tickMs: number;
  /** The tick's one write transaction (occurrences and their feeds). */
  transactionMs: number;
  sent: number;
  /** ms from the start of the tick to each sendFeed call. */
  spread: Summary | null;
  /** ms from the start of the tick until the ledger had every feed as `sent` (after the sender's promises). */
  ledgerSentMs: number | null;
  restartStartMs: number;
  checks: Check[];
}

const SETTINGS = { defaultExpirySeconds: 60, maxExpirySeconds: 900, resultTimeoutSeconds: 120 };
const TIME_ZONE = "Europe/Berlin";
const MEAL_TIME = "07:30";
/** 07:30 in Berlin on a November Thursday (UTC+1). */
const DUE_AT = Date.parse("2026-11-26T06:30:00Z");
/** The restart comes this long after the due instant: inside the default 15-minute grace window. */
const RESTART_AFTER_MS = 30_000;
/** Bounds the wait for the sender's promises and the ledger's `sent` updates. */
const SETTLE_TIMEOUT_MS = 60_000;

interface Sent {
  feederId: string;
  commandId: string;
  at: number;
}

class CountingSender implements FeedCommandSender {
  readonly sent: Sent[] = [];

  sendFeed(feederId: string, command: FeedCommand): Promise<Delivery> {
    this.sent.push({ feederId, commandId: command.id, at: performance.now() });
    return Promise.resolve("sent");
  }
}

/** The store the services see, with the duration of each transaction noted while `timing` is on. */
function timedStore(store: Store): Store & { timing: boolean; transactionMs: number[] } {
  const timed = {
    ...store,
    timing: false,
    transactionMs: [] as number[],
    transaction<T>(fn: () => T): T {
      if (!timed.timing) return store.transaction(fn);
      const start = performance.now();
      try {
        return store.transaction(fn);
      } finally {
        timed.transactionMs.push(performance.now() - start);
      }
    },
  };
  return timed;
}

/** One server lifetime's feeding services, as main.ts wires them (without the broker). */
function boot(store: Store, clock: FakeClock, sender: FeedCommandSender) {
  // The server logs at info by default, one line per dispatched meal: that cost belongs in the figure.
  const logger = pino({ level: "info" }, pino.destination({ dest: os.devNull, sync: true }));
  const feeders = new FeederService(store, clock, logger, shippedProfiles());
  const feeds = new FeedService(store, feeders, clock, SETTINGS, logger, "UTC");
  const plans = new MealPlanService(store, feeders, clock, "UTC");
  const scheduler = new MealScheduler(store, plans, feeds, clock, logger);
  feeds.start(sender);
  return { feeders, feeds, plans, scheduler };
}

export async function mealDispatchBench({
  feeders: feederCount,
  mealsPerFeeder,
  progress,
}: MealDispatchOptions): Promise<MealDispatchResult> {
  const expected = feederCount * mealsPerFeeder;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "feedkeeper-bench-meals-"));
  let store = openStore(dir);
  // The ledger, read over a connection of its own (WAL lets it in beside the services' writes).
  const reader = new Database(store.file, { readonly: true });
  const count = (query: string) => reader.prepare(query).pluck().get() as number;
  try {
    // --- Setup, through the services, in one transaction (not measured) ---------------------------------------
    const clock = new FakeClock(DUE_AT - 1000);
    const sender = new CountingSender();
    const timed = timedStore(store);
    const first = boot(timed, clock, sender);
    let t = performance.now();
    const mealIds = Array.from({ length: mealsPerFeeder }, (_, i) => `meal${i + 1}`);
    const feederIds = store.transaction(() =>
      Array.from({ length: feederCount }, (_, i) => {
        const id = first.feeders.create({
          householdId: FIRST_HOUSEHOLD,
          name: `Bench ${i + 1}`,
          profile: "feedkeeper",
        }).feeder.id;
        first.plans.replace(id, {
          timezone: TIME_ZONE,
          meals: mealIds.map((mealId) => ({ id: mealId, time: MEAL_TIME, days: WEEKDAYS, portions: 1 })),
        });
        return id;
      }),
    );
    // Ready for commands, as on subscribing to them; the last-seen batch is written now, not during the tick.
    for (const id of feederIds) first.feeders.commandsSubscribed(id);
    first.feeders.telemetryWriter.flush();
    const setupMs = performance.now() - t;
    progress(
      `meals: ${feederCount} feeders × ${mealsPerFeeder} meals at ${MEAL_TIME} ${TIME_ZONE} set up in ${setupMs.toFixed(0)} ms`,
    );

    t = performance.now();
    first.scheduler.start();
    const schedulerStartMs = performance.now() - t;
    progress(`meals: scheduler started in ${schedulerStartMs.toFixed(0)} ms, 1 s before the meals are due`);

    // --- The tick at the due instant ------------------------------------------------------------------------
    // Up to the last millisecond before it first, so nothing else due earlier runs inside the measured step.
    clock.advance(DUE_AT - 1 - clock.now());
    timed.timing = true;
    const tickStart = performance.now();
    clock.advance(1);
    const tickMs = performance.now() - tickStart;
    timed.timing = false;
    const transactionMs = timed.transactionMs.reduce((a, b) => a + b, 0);
    progress(
      `meals: tick ${tickMs.toFixed(0)} ms (transaction ${transactionMs.toFixed(0)} ms), ${sender.sent.length} commands handed over`,
    );

    // The sender's promises resolve after the tick; each feed is then marked sent in the ledger.
    const countSent = reader.prepare("select count(*) from feeds where status = 'sent'").pluck();
    let ledgerSentMs: number | null = null;
    const settleDeadline = performance.now() + SETTLE_TIMEOUT_MS;
    while (performance.now() < settleDeadline) {
      await sleep(0);
      if ((countSent.get() as number) >= sender.sent.length) {
        ledgerSentMs = performance.now() - tickStart;
        break;
      }
      await sleep(5);
    }
    progress(
      ledgerSentMs === null
        ? `meals: the ledger did not show every feed sent within ${SETTLE_TIMEOUT_MS / 1000} s`
        : `meals: every feed marked sent in the ledger ${ledgerSentMs.toFixed(0)} ms after the tick began`,
    );

    // --- Exactly once -----------------------------------------------------------------------------------------
    const checks: Check[] = [];
    const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
    const localDate = localDateAt(new Date(DUE_AT), TIME_ZONE);
    const expectedIds = new Set(
      feederIds.flatMap((feederId) => mealIds.map((mealId) => occurrenceId(feederId, localDate, mealId))),
    );
    const seen = new Set<string>();
    let duplicates = 0;
    let unexpected = 0;
    for (const s of sender.sent) {
      if (seen.has(s.commandId)) duplicates++;
      seen.add(s.commandId);
      if (!expectedIds.has(s.commandId) || !s.commandId.startsWith(`${s.feederId}/`)) unexpected++;
    }
    check(
      "sender: every occurrence handed over once",
      sender.sent.length === expected && seen.size === expected && duplicates === 0 && unexpected === 0,
      `${sender.sent.length} sends, ${seen.size} distinct command ids of ${expected} occurrences, ${duplicates} repeated, ${unexpected} not an occurrence of its feeder`,
    );

    const ledger = () => ({
      feeds: count("select count(*) from feeds"),
      scheduled: count("select count(*) from feeds where source = 'schedule'"),
      distinctCommands: count("select count(distinct command_id) from feeds"),
      occurrences: count("select count(*) from occurrences"),
      dispatched: count("select count(*) from occurrences where status = 'dispatched'"),
      sent: count("select count(*) from feeds where status = 'sent'"),
      linked: count(
        "select count(*) from occurrences o join feeds f on f.id = o.feed_id and f.command_id = o.id and f.feeder_id = o.feeder_id",
      ),
    });
    const after = ledger();
    check(
      "ledger: one scheduled feed per occurrence, unique command ids",
      after.feeds === expected && after.scheduled === expected && after.distinctCommands === expected,
      `${after.feeds} feeds (${after.scheduled} from the schedule), ${after.distinctCommands} distinct command ids`,
    );
    check(
      "ledger: every occurrence dispatched and linked to its feed",
      after.occurrences === expected && after.dispatched === expected && after.linked === expected,
      `${after.occurrences} occurrences, ${after.dispatched} dispatched, ${after.linked} linked to the feed with their id`,
    );
    check(
      "ledger: every feed marked sent once the sender took it",
      after.sent === expected,
      `${after.sent} of ${after.feeds} feeds sent (so a restart has nothing pending to deliver again)`,
    );
    const sameLedger = (a: ReturnType<typeof ledger>, b: ReturnType<typeof ledger>) =>
      a.feeds === b.feeds && a.occurrences === b.occurrences && a.dispatched === b.dispatched;

    // The same scheduler, a few ticks later: nothing is due any more.
    const sentBefore = sender.sent.length;
    clock.advance(5000);
    const later = ledger();
    check(
      "later ticks: nothing dispatched again",
      sender.sent.length === sentBefore && sameLedger(later, after),
      `${sender.sent.length - sentBefore} sends, ${later.feeds - after.feeds} new feeds in 5 more ticks`,
    );

    // --- Restart: the process dies right after the tick (no stop(), so no fresh checkpoint) -------------------
    store.close();
    store = openStore(dir);
    const restartClock = new FakeClock(DUE_AT + RESTART_AFTER_MS);
    const restartSender = new CountingSender();
    const second = boot(store, restartClock, restartSender);
    for (const id of feederIds) second.feeders.commandsSubscribed(id);
    t = performance.now();
    second.scheduler.start();
    const restartStartMs = performance.now() - t;
    restartClock.advance(3000);
    await sleep(0);
    const restarted = ledger();
    check(
      `restart ${RESTART_AFTER_MS / 1000} s later, within the grace window: nothing dispatched again`,
      restartSender.sent.length === 0 && sameLedger(restarted, after),
      `${restartSender.sent.length} sends, ${restarted.feeds - after.feeds} new feeds, ${restarted.occurrences - after.occurrences} new occurrences (scheduler start ${restartStartMs.toFixed(0)} ms, re-deciding since its last checkpoint)`,
    );
    second.scheduler.stop();
    second.feeds.stop();

    return {
      feeders: feederCount,
      mealsPerFeeder,
      occurrences: expected,
      setupMs,
      schedulerStartMs,
      tickMs,
      transactionMs,
      sent: sender.sent.length,
      spread: sender.sent.length > 0 ? summarize(sender.sent.map((s) => s.at - tickStart)) : null,
      ledgerSentMs,
      restartStartMs,
      checks,
    };
  } finally {
    reader.close();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
