/**
 * Matches meals a device ran from its own schedule to the planned occurrences,
 * so each planned meal is counted once. A device report names its meal (the
 * occurrence id as its report id, or `mealId`); without that, the planned meal
 * nearest in time is taken. A report that matches nothing stays an extra meal
 * in the ledger; a second dispensed meal for one occurrence raises an alert.
 * Button presses are always extra meals: the owner fed on purpose.
 */
import { eq } from "drizzle-orm";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/db.js";
import { feeds, occurrences } from "../store/schema.js";
import type { AlertService } from "./alerts.js";
import type { FeedRecord, FeedService } from "./feeds.js";
import { type MealPlanService, plannedSlots } from "./meal-plans.js";
import { type Occurrence, occurrenceId, occurrencesBetween } from "./meal-time.js";

/** How far from its planned time a device's schedule run may be and still count as that meal. */
const MIN_MATCH_WINDOW_MS = 15 * 60_000;

export class MealReconciler {
  constructor(
    private readonly store: Store,
    private readonly plans: MealPlanService,
    private readonly alerts: AlertService,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Subscribes to device-started feeds; runs inside the transaction that records each one. */
  attach(feedService: FeedService): void {
    feedService.onDeviceFeed((feed, mealId) => this.deviceFeed(feed, mealId));
  }

  deviceFeed(feed: FeedRecord, mealId: string | undefined): void {
    if (feed.source !== "schedule") return;
    const match = this.match(feed, mealId);
    if (!match) {
      this.logger.info(
        { feedId: feed.id, feederId: feed.feederId, mealId },
        "device schedule meal matches no planned meal: recorded as an extra meal",
      );
      return;
    }
    const id = occurrenceId(feed.feederId, match.localDate, match.mealId);
    const row = this.store.db.select().from(occurrences).where(eq(occurrences.id, id)).get();
    if (!row) {
      this.store.db
        .insert(occurrences)
        .values({
          id,
          feederId: feed.feederId,
          mealId: match.mealId,
          localDate: match.localDate,
          dueAt: match.dueAt,
          status: "expected",
          feedId: feed.id,
          decidedAt: new Date(this.clock.now()),
        })
        .run();
      return;
    }
    const linked = row.feedId
      ? this.store.db.select().from(feeds).where(eq(feeds.id, row.feedId)).get()
      : undefined;
    if (!linked || (linked.status !== "dispensed" && feed.status === "dispensed")) {
      this.store.db.update(occurrences).set({ feedId: feed.id }).where(eq(occurrences.id, id)).run();
      return;
    }
    if (linked.status === "dispensed" && feed.status === "dispensed") {
      this.alerts.raise({
        kind: "meal_doubled",
        feederId: feed.feederId,
        key: `meal_doubled:${feed.id}`,
        occurrenceId: id,
        message: `${match.mealId} on ${match.localDate} was dispensed twice: ${linked.portions} portion(s) at ${linked.completedAt?.toISOString() ?? linked.requestedAt.toISOString()} and ${feed.portions} more at ${feed.requestedAt.toISOString()}.`,
      });
    }
  }

  private match(feed: FeedRecord, mealId: string | undefined): Occurrence | undefined {
    const plan = this.plans.get(feed.feederId);
    const slots = plannedSlots(plan);
    // The protocol asks devices to report a scheduled meal under its occurrence id.
    const [feederPart, datePart, mealPart] = feed.commandId.split("/");
    const named = feederPart === feed.feederId && mealPart ? mealPart : mealId;
    const candidates =
      named && slots.some((s) => s.id === named) ? slots.filter((s) => s.id === named) : slots;
    const window = Math.max(plan.graceMinutes * 60_000, MIN_MATCH_WINDOW_MS);
    const at = feed.requestedAt.getTime();
    const near = occurrencesBetween(
      candidates,
      plan.effectiveTimezone,
      new Date(at - window),
      new Date(at + window),
    );
    const onNamedDate = datePart ? near.filter((o) => o.localDate === datePart) : [];
    const pool = onNamedDate.length > 0 ? onNamedDate : near;
    return pool.sort((a, b) => Math.abs(a.dueAt.getTime() - at) - Math.abs(b.dueAt.getTime() - at))[0];
  }
}
