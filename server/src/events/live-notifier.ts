/** Tells the live UI that alerts changed, as each new alert is raised. */
import type { Alert, Notifier } from "../feeding/alerts.js";
import type { ChangeFeed } from "./change-feed.js";

export class LiveNotifier implements Notifier {
  readonly name = "live";

  constructor(private readonly changes: ChangeFeed) {}

  async notify(alert: Alert): Promise<void> {
    this.changes.alertsChanged(alert.feederId);
  }
}
