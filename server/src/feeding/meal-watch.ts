/**
 * Watches every decided occurrence until its outcome is known, and alerts the
 * owner when a planned meal failed, or was not dispensed a few minutes after
 * its time (feeder offline, jammed without a report, server down past grace,
 * a device-side schedule that did not run). Each occurrence is alerted once.
 */
import { and, eq, lte, sql } from "drizzle-orm";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/db.js";
import { feeders, feeds, occurrences } from "../store/schema.js";
import type { AlertService } from "./alerts.js";

/** A meal not dispensed this long after its time is alerted: inside the 5 minutes owners were promised. */
export const MISSED_AFTER_MS = 4 * 60_000;
const CHECK_EVERY_MS = 15_000;

type Row = {
  occurrence: typeof occurrences.$inferSelect;
  feed: typeof feeds.$inferSelect | null;
  feederName: string;
  graceMinutes: number;
};

export class MealWatch {
  private timer: { cancel(): void } | undefined;
  /** Reports that were waiting for the server get a fair chance to arrive after a restart. */
  private watchingSince = 0;
  private readonly unchecked;

  constructor(
    private readonly store: Store,
    private readonly alerts: AlertService,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.unchecked = store.db
      .select({
        occurrence: occurrences,
        feed: feeds,
        feederName: feeders.name,
        graceMinutes: feeders.graceMinutes,
      })
      .from(occurrences)
      .innerJoin(feeders, eq(feeders.id, occurrences.feederId))
      .leftJoin(feeds, eq(feeds.id, occurrences.feedId))
      .where(and(eq(occurrences.checked, false), lte(occurrences.dueAt, sql.placeholder("now"))))
      .prepare();
  }

  start(): void {
    this.watchingSince = this.clock.now();
    this.schedule();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  check(): void {
    const now = this.clock.now();
    const rows = this.unchecked.all({ now });
    if (rows.length === 0) return;
    this.store.transaction(() => {
      for (const row of rows) this.judge(row, now);
    });
  }

  private judge(row: Row, now: number): void {
    const { occurrence, feed } = row;
    const meal = `${occurrence.mealId} (${occurrence.localDate}) on ${row.feederName}`;
    const alert = (kind: "meal_missed" | "meal_failed", message: string) => {
      this.alerts.raise({
        kind,
        feederId: occurrence.feederId,
        key: `meal:${occurrence.id}`,
        occurrenceId: occurrence.id,
        message,
      });
      this.done(occurrence.id);
    };
    if (feed?.status === "dispensed" || occurrence.status === "skipped" || occurrence.status === "paused") {
      this.done(occurrence.id);
      return;
    }
    if (feed?.status === "failed" || feed?.status === "timed_out") {
      const why =
        feed.status === "timed_out" ? "the feeder never reported the result" : (feed.error ?? "failed");
      alert("meal_failed", `${meal} failed: ${why}.`);
      return;
    }
    if (feed?.status === "expired") {
      alert("meal_missed", `${meal} was not fed: the feeder did not take the command before it expired.`);
      return;
    }
    if (occurrence.status === "missed") {
      alert(
        "meal_missed",
        `${meal} was missed: it was due while the server was down, past its grace window.`,
      );
      return;
    }
    const deadline = Math.max(occurrence.dueAt.getTime(), this.watchingSince) + MISSED_AFTER_MS;
    if (now < deadline) return;
    if (occurrence.status === "expected" && !feed) {
      // The device feeds from its own schedule; no report means we cannot vouch for the meal.
      this.store.db
        .update(occurrences)
        .set({ status: "missed" })
        .where(eq(occurrences.id, occurrence.id))
        .run();
      alert("meal_missed", `${meal}: the feeder has not reported this meal from its own schedule.`);
      return;
    }
    const until = new Date(occurrence.dueAt.getTime() + row.graceMinutes * 60_000).toISOString();
    alert(
      "meal_missed",
      `${meal} is not dispensed yet (feed ${feed?.status ?? "not sent"}; is the feeder offline?). It may still be fed until ${until}.`,
    );
  }

  private done(id: string): void {
    this.store.db.update(occurrences).set({ checked: true }).where(eq(occurrences.id, id)).run();
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      try {
        this.check();
      } catch (err) {
        this.logger.error({ err }, "meal watch failed");
      }
      this.schedule();
    }, CHECK_EVERY_MS);
  }
}
