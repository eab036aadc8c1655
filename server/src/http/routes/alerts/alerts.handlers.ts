import type { RouteHandler } from "@hono/zod-openapi";
import type { Alert } from "../../../feeding/alerts.js";
import { type AppEnv, currentUser } from "../../context.js";
import type { acknowledgeAlert, listAlerts } from "./alerts.routes.js";

const presentAlert = (alert: Alert) => ({
  id: alert.id,
  feederId: alert.feederId,
  kind: alert.kind,
  message: alert.message,
  occurrenceId: alert.occurrenceId,
  createdAt: alert.createdAt.toISOString(),
  acknowledgedAt: alert.acknowledgedAt?.toISOString() ?? null,
});

export const list: RouteHandler<typeof listAlerts, AppEnv> = (c) => {
  const { limit, unacknowledged, feederId } = c.req.valid("query");
  const { alerts } = c.get("services");
  const { householdId } = currentUser(c);
  return c.json(
    {
      alerts: alerts
        .list({ householdId, limit, unacknowledgedOnly: unacknowledged === "true", feederId })
        .map(presentAlert),
      unacknowledged: alerts.countUnacknowledged(householdId),
    },
    200,
  );
};

export const acknowledge: RouteHandler<typeof acknowledgeAlert, AppEnv> = (c) => {
  const { alerts, changes } = c.get("services");
  const alert = alerts.acknowledge(c.req.valid("param").id);
  changes.publish(currentUser(c).householdId, { kind: "alerts" });
  return c.json({ alert: presentAlert(alert) }, 200);
};
