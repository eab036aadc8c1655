import type { RouteHandler, z } from "@hono/zod-openapi";
import type { DeliveryRecord } from "../../../notify/channels.js";
import { type ChannelRecord, SECRET_FIELD } from "../../../notify/model.js";
import { type AppEnv, currentUser, type Services } from "../../context.js";
import type {
  deleteChannel,
  listChannels,
  listDeliveries,
  NotificationChannelSchema,
  NotificationDeliverySchema,
  patchChannel,
  postChannel,
  postTest,
} from "./notification-channels.routes.js";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The channel as the API shows it: the secret only as whether it is set. */
function present(channel: ChannelRecord, queued: number): z.infer<typeof NotificationChannelSchema> {
  return {
    id: channel.id,
    name: channel.name,
    type: channel.type,
    enabled: channel.enabled,
    kinds: channel.kinds,
    quietHours:
      channel.quietStart && channel.quietEnd ? { start: channel.quietStart, end: channel.quietEnd } : null,
    language: channel.language,
    createdAt: channel.createdAt.toISOString(),
    config: { ...channel.config, [SECRET_FIELD[channel.type]]: { set: channel.secret !== null } },
    status: {
      lastSuccessAt: iso(channel.lastSuccessAt),
      lastFailureAt: iso(channel.lastFailureAt),
      lastError: channel.lastError,
      queued,
    },
  } as z.infer<typeof NotificationChannelSchema>;
}

function presentOne(services: Services, channel: ChannelRecord) {
  return present(channel, services.notificationChannels.queuedCounts([channel.id]).get(channel.id) ?? 0);
}

function presentDelivery(d: DeliveryRecord): z.infer<typeof NotificationDeliverySchema> {
  return {
    id: d.id,
    alertId: d.alertId,
    kind: d.alertKind,
    feederId: d.feederId,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: iso(d.nextAttemptAt),
    lastError: d.lastError,
    heldDuringQuietHours: d.wasHeld,
    createdAt: d.createdAt.toISOString(),
    sentAt: iso(d.sentAt),
  };
}

export const allChannels: RouteHandler<typeof listChannels, AppEnv> = (c) => {
  const { notificationChannels } = c.get("services");
  const channels = notificationChannels.list(currentUser(c).householdId);
  const queued = notificationChannels.queuedCounts(channels.map((ch) => ch.id));
  return c.json({ channels: channels.map((ch) => present(ch, queued.get(ch.id) ?? 0)) }, 200);
};

export const createChannel: RouteHandler<typeof postChannel, AppEnv> = (c) => {
  const services = c.get("services");
  const channel = services.notificationChannels.create(currentUser(c).householdId, c.req.valid("json"));
  return c.json({ channel: presentOne(services, channel) }, 201);
};

export const changeChannel: RouteHandler<typeof patchChannel, AppEnv> = (c) => {
  const services = c.get("services");
  const channel = services.notificationChannels.update(c.req.valid("param").id, c.req.valid("json"));
  return c.json({ channel: presentOne(services, channel) }, 200);
};

export const removeChannel: RouteHandler<typeof deleteChannel, AppEnv> = (c) => {
  c.get("services").notificationChannels.remove(c.req.valid("param").id);
  return c.body(null, 204);
};

export const testChannel: RouteHandler<typeof postTest, AppEnv> = async (c) => {
  const result = await c.get("services").notifications.sendTest(c.req.valid("param").id);
  return c.json(
    result.ok
      ? { ok: true, sentAt: result.sentAt.toISOString(), error: null }
      : { ok: false, sentAt: null, error: result.error },
    200,
  );
};

export const channelDeliveries: RouteHandler<typeof listDeliveries, AppEnv> = (c) => {
  const { notificationChannels } = c.get("services");
  const { id } = c.req.valid("param");
  notificationChannels.require(id);
  const deliveries = notificationChannels.deliveries(id, c.req.valid("query").limit);
  return c.json({ deliveries: deliveries.map(presentDelivery) }, 200);
};
