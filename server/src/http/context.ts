/** What every HTTP handler can reach: the services (injected, never imported) and who is asking. */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Registry } from "prom-client";
import type { AccountService, User } from "../auth/accounts.js";
import type { AttemptThrottle } from "../auth/attempt-throttle.js";
import type { AuditLog } from "../auth/audit-log.js";
import type { BackupService } from "../backup/backup-service.js";
import type { ConnectionLog } from "../bridge/connection-log.js";
import type { PendingDevices } from "../bridge/pending-devices.js";
import type { Session } from "../broker/embedded-broker.js";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import type { ChangeFeed } from "../events/change-feed.js";
import type { AlertService } from "../feeding/alerts.js";
import type { FeederHistoryService } from "../feeding/feeder-history.js";
import type { FeederService } from "../feeding/feeders.js";
import type { FeedService } from "../feeding/feeds.js";
import type { MealCalendar } from "../feeding/meal-calendar.js";
import type { MealPlanService } from "../feeding/meal-plans.js";
import type { PetService } from "../feeding/pets.js";
import type { Logger, LogLevelControl } from "../logger.js";
import type { NotificationChannelService } from "../notify/channels.js";
import type { NotificationQueue } from "../notify/delivery-queue.js";
import type { ProfileRegistry } from "../profiles/profile-registry.js";
import { errorBody } from "./error-response.js";

export interface Services {
  config: Config;
  logger: Logger;
  accounts: AccountService;
  /** Counts failed sign-ins per account and address; POST /api/session answers 429 while one is locked. */
  loginThrottle: AttemptThrottle;
  audit: AuditLog;
  feeders: FeederService;
  feeds: FeedService;
  plans: MealPlanService;
  pets: PetService;
  /** A feeder's grams per day and food level, for charts. */
  history: FeederHistoryService;
  alerts: AlertService;
  /** What changed, for the live UI's event stream. */
  changes: ChangeFeed;
  profiles: ProfileRegistry;
  connections: ConnectionLog;
  calendar: MealCalendar;
  clock: Clock;
  /** Devices held until an owner adopts them. */
  pending: PendingDevices;
  /** Cuts an MQTT session, e.g. after a feeder's credentials changed or a pending device was adopted. */
  disconnect(session: Session): void;
  /** Where alerts are sent (ntfy, webhooks, e-mail), and the queue that sends them. */
  notificationChannels: NotificationChannelService;
  notifications: NotificationQueue;
  /** Backups for download, the local ones, and restoring an uploaded one. */
  backups: BackupService;
  /** What GET /api/metrics reports: the one registry, made by the composition root. */
  metrics: Registry;
  /** The server's log level, which an owner may change until the next restart. */
  logLevel: LogLevelControl;
  version: string;
}

export interface AppEnv {
  Variables: {
    services: Services;
    user: User | undefined;
    authVia: "session" | "token" | undefined;
    /** The name of the API token the request came with, for the audit log. */
    tokenName: string | undefined;
    /** Who a request acts as before anyone is signed in: the username a sign-in attempt names. */
    auditActor: string | undefined;
  };
}

export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const details = result.error.issues.map((issue) => ({
        path: issue.path.join("."),
        message: issue.message,
      }));
      const message = details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join("; ");
      return c.json(errorBody("validation_failed", message, details), 400);
    },
  });
}

/** The signed-in user; only called on routes behind requireUser. */
export function currentUser(c: { get(key: "user"): User | undefined }): User {
  const user = c.get("user");
  if (!user) throw new Error("currentUser() on a public route");
  return user;
}
