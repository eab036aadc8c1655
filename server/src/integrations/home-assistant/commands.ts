/**
 * What Home Assistant asks of a feeder: Feed (a press) and the portions one press feeds. A press is a feed
 * request like one from the API: a ledger row with its command id and expiry, the feeder's safety limits
 * (never overridden from here), an outcome the history shows, and an audit entry naming Home Assistant.
 *
 * A retained or duplicate-flagged press never feeds: a retained one would replay on every reconnect, and a
 * redelivered one may be a press that already fed.
 */
import type { Role } from "../../auth/accounts.js";
import type { AuditLog } from "../../auth/audit-log.js";
import { AppError } from "../../errors.js";
import type { FeederService } from "../../feeding/feeders.js";
import type { FeedService } from "../../feeding/feeds.js";
import { PERMISSIONS } from "../../http/middleware/authorize.js";
import type { Logger } from "../../logger.js";
import { PAYLOAD_PRESS, parseCommandTopic } from "./topics.js";

/** Who sent a command: a Home Assistant client on the embedded broker (an API token), or the external broker. */
export interface Actor {
  /** As the audit log shows it. */
  name: string;
  userId: string | null;
  /** The household it may act for; null on the external broker, whose own ACL decides who may publish. */
  householdId: string | null;
  role: Role | null;
}

export type CommandOutcome =
  | { kind: "ignored"; reason: string }
  | { kind: "portions"; feederId: string; portions: number }
  | { kind: "feed"; feederId: string; result: string };

export const HA_FEED_ACTION = "feed (home_assistant)";

/** A press is feeding now: whoever may feed now through the API may press (the same table decides). */
const MAY_FEED = PERMISSIONS["POST /api/feeders/{id}/feeds"] ?? [];

export class HomeAssistantCommands {
  constructor(
    private readonly feeders: FeederService,
    private readonly feeds: FeedService,
    private readonly audit: AuditLog,
    private readonly logger: Logger,
    /** Portions per press, as the portions number last set them. */
    private readonly portionsOf: (feederId: string) => number,
  ) {}

  handle(
    topic: string,
    payload: Buffer,
    flags: { retain: boolean; dup: boolean },
    actor: Actor,
  ): CommandOutcome {
    const command = parseCommandTopic(topic);
    if (!command) return { kind: "ignored", reason: "not a command topic" };
    if (flags.retain) return { kind: "ignored", reason: "retained commands are never carried out" };
    if (flags.dup)
      return { kind: "ignored", reason: "a redelivered command may have been carried out already" };
    const feeder = this.feeders.find(command.feederId);
    // Another household's feeder is as unknown as one that does not exist.
    if (!feeder || (actor.householdId !== null && feeder.householdId !== actor.householdId)) {
      return { kind: "ignored", reason: "no such feeder" };
    }
    if (actor.role !== null && !MAY_FEED.includes(actor.role)) {
      return { kind: "ignored", reason: `a ${actor.role} may not feed` };
    }
    const text = payload.toString("utf8").trim();
    if (command.command === "portions") {
      const portions = Number(text);
      if (!Number.isInteger(portions) || portions < 1 || portions > feeder.maxPortions) {
        return { kind: "ignored", reason: `portions must be a whole number from 1 to ${feeder.maxPortions}` };
      }
      return { kind: "portions", feederId: feeder.id, portions };
    }
    if (text !== PAYLOAD_PRESS) return { kind: "ignored", reason: `a press is "${PAYLOAD_PRESS}"` };
    // The number may have been set before the feeder's limit was lowered.
    const portions = Math.min(this.portionsOf(feeder.id), feeder.maxPortions);
    let outcome: string;
    let feedId: string | undefined;
    try {
      const { feed } = this.feeds.request({
        feederId: feeder.id,
        portions,
        requestedBy: actor.userId ?? undefined,
        source: "home_assistant",
      });
      feedId = feed.id;
      outcome = "202";
      this.logger.info(
        { feederId: feeder.id, feedId, portions, actor: actor.name },
        "feed from Home Assistant",
      );
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      outcome = String(err.status);
      this.logger.warn(
        { feederId: feeder.id, portions, actor: actor.name, code: err.code, reason: err.message },
        "refused a feed from Home Assistant",
      );
      this.record(feeder.householdId, feeder.id, undefined, actor, outcome);
      return { kind: "feed", feederId: feeder.id, result: `refused: ${err.message}` };
    }
    this.record(feeder.householdId, feeder.id, feedId, actor, outcome);
    return { kind: "feed", feederId: feeder.id, result: `requested ${portions}` };
  }

  private record(
    householdId: string,
    feederId: string,
    feedId: string | undefined,
    actor: Actor,
    outcome: string,
  ): void {
    this.audit.record({
      householdId,
      actor: actor.name,
      userId: actor.userId,
      action: HA_FEED_ACTION,
      target: JSON.stringify(feedId ? { feederId, feedId } : { feederId }),
      outcome,
    });
  }
}
