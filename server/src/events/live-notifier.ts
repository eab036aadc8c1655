/** Tells the live UI of the alert's household (every household for an alert about the server) that alerts changed. */
import type { Alert, Notifier } from "../feeding/alerts.js";
import type { ChangeFeed } from "./change-feed.js";

export class LiveNotifier implements Notifier {
  readonly name = "live";

  constructor(
    private readonly changes: ChangeFeed,
    private readonly householdOf: (feederId: string) => string | undefined,
  ) {}

  async notify(alert: Alert): Promise<void> {
    if (alert.feederId === null) return this.changes.publish(null, { kind: "alerts" });
    const householdId = this.householdOf(alert.feederId);
    if (householdId !== undefined) this.changes.publish(householdId, { kind: "alerts" });
  }
}
