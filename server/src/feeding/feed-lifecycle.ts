/**
 * The feed state machine. A feed only moves forward:
 *
 *   pending → sent → accepted → dispensed | failed
 *   pending | sent → expired      (the device never started it and never will: expiresAt passed)
 *   accepted → timed_out          (it started, but no result came in time: outcome unknown)
 *
 * The device is the authority on what physically happened, so a late
 * `dispensed`/`failed` replaces `expired`/`timed_out` (and is logged); any
 * other report that would move a feed backwards, or repeat a result, is a
 * duplicate and changes nothing.
 */
import { FEED_ERROR_EXPIRED, type FeedReportPayload } from "../protocol/native-v1.js";
import type { FeedStatus } from "../store/schema.js";

export const TERMINAL_STATUSES: ReadonlySet<FeedStatus> = new Set([
  "dispensed",
  "failed",
  "expired",
  "timed_out",
]);
const UNRESOLVED_END: ReadonlySet<FeedStatus> = new Set(["expired", "timed_out"]);

export type Transition =
  | { kind: "ignore"; reason: string }
  | { kind: "move"; status: FeedStatus; error: string | null; late: boolean };

export function transitionForReport(
  current: FeedStatus,
  report: Pick<FeedReportPayload, "status" | "error">,
): Transition {
  switch (report.status) {
    case "accepted":
      return current === "pending" || current === "sent"
        ? { kind: "move", status: "accepted", error: null, late: false }
        : { kind: "ignore", reason: `already ${current}` };
    case "dispensed":
    case "failed": {
      const error = report.status === "failed" ? (report.error ?? "failed without a reason") : null;
      if (!TERMINAL_STATUSES.has(current)) return { kind: "move", status: report.status, error, late: false };
      if (UNRESOLVED_END.has(current)) return { kind: "move", status: report.status, error, late: true };
      return { kind: "ignore", reason: `already ${current}` };
    }
    case "rejected": {
      // A device that refuses because the command expired confirms our own reading of it.
      const status: FeedStatus = report.error === FEED_ERROR_EXPIRED ? "expired" : "failed";
      const error = status === "expired" ? null : `rejected: ${report.error ?? "no reason given"}`;
      if (!TERMINAL_STATUSES.has(current)) return { kind: "move", status, error, late: false };
      if (current === "timed_out") return { kind: "move", status, error, late: true };
      return { kind: "ignore", reason: `already ${current}` };
    }
  }
}
