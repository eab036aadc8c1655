import { createRoute, z } from "@hono/zod-openapi";
import { MAX_ATTEMPTS, RETRY_DELAYS_MS } from "../../../notify/backoff.js";
import { MAX_CHANNELS_PER_HOUSEHOLD } from "../../../notify/channels.js";
import {
  EmailSettings,
  KindsSchema,
  MAX_CHANNEL_NAME_LENGTH,
  NtfySettings,
  QuietHoursSchema,
  SecretInput,
  SecretState,
  WebhookSettings,
} from "../../../notify/model.js";
import { ALERT_KINDS, DELIVERY_STATUSES, NOTIFICATION_LANGUAGES } from "../../../store/schema.js";
import { errorResponses } from "../../schemas.js";

const isoTime = z.string().openapi({ example: "2026-11-26T07:30:00.000Z" });
const TAG = "Notifications";

const ChannelIdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
});

const name = z
  .string()
  .trim()
  .min(1, "name is required")
  .max(MAX_CHANNEL_NAME_LENGTH, `name must be at most ${MAX_CHANNEL_NAME_LENGTH} characters`);
const language = z
  .enum(NOTIFICATION_LANGUAGES)
  .openapi({ description: "The language of the messages: en (English) or ja (Japanese)" });

const ChannelStatusSchema = z
  .object({
    lastSuccessAt: isoTime.nullable(),
    lastFailureAt: isoTime.nullable(),
    lastError: z.string().nullable().openapi({ description: "Why the last failed send failed" }),
    queued: z.number().int().openapi({ description: "Deliveries waiting to go out (retrying or held)" }),
  })
  .openapi("NotificationChannelStatus");

const viewBase = {
  id: z.string(),
  name: z.string(),
  enabled: z.boolean(),
  kinds: z.array(z.enum(ALERT_KINDS)),
  quietHours: QuietHoursSchema.nullable(),
  language,
  createdAt: isoTime,
  status: ChannelStatusSchema,
};

export const NotificationChannelSchema = z
  .discriminatedUnion("type", [
    z.object({ ...viewBase, type: z.literal("ntfy"), config: NtfySettings.extend({ token: SecretState }) }),
    z.object({
      ...viewBase,
      type: z.literal("webhook"),
      config: WebhookSettings.extend({ signingSecret: SecretState }),
    }),
    z.object({
      ...viewBase,
      type: z.literal("email"),
      config: EmailSettings.extend({ password: SecretState }),
    }),
  ])
  .openapi("NotificationChannel");

const newBase = {
  name,
  kinds: KindsSchema.optional(),
  quietHours: QuietHoursSchema.nullable().optional(),
  language: language.optional(),
  enabled: z.boolean().optional(),
};

export const NewNotificationChannelSchema = z
  .discriminatedUnion("type", [
    z
      .object({
        ...newBase,
        type: z.literal("ntfy"),
        config: NtfySettings.extend({ token: SecretInput.openapi({ description: "ntfy access token" }) }),
      })
      .strict(),
    z
      .object({
        ...newBase,
        type: z.literal("webhook"),
        config: WebhookSettings.extend({
          signingSecret: SecretInput.openapi({ description: "Key of the HMAC-SHA256 signature header" }),
        }),
      })
      .strict(),
    z
      .object({
        ...newBase,
        type: z.literal("email"),
        config: EmailSettings.extend({ password: SecretInput.openapi({ description: "SMTP password" }) }),
      })
      .strict(),
  ])
  .openapi("NewNotificationChannel");

export const NotificationChannelChangesSchema = z
  .object({
    name: name.optional(),
    config: z.record(z.string(), z.unknown()).optional().openapi({
      description:
        "Settings of the channel's type, merged over the stored ones (only the fields given change); the secret as on creation",
    }),
    kinds: KindsSchema.optional(),
    quietHours: QuietHoursSchema.nullable().optional(),
    language: language.optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .openapi("NotificationChannelChanges");

export const NotificationDeliverySchema = z
  .object({
    id: z.string(),
    alertId: z.string(),
    kind: z.enum(ALERT_KINDS),
    feederId: z.string().nullable(),
    status: z.enum(DELIVERY_STATUSES).openapi({
      description:
        "pending: to be sent (again) at nextAttemptAt; held: quiet hours, sent when they end; sent; failed: given up",
    }),
    attempts: z.number().int(),
    nextAttemptAt: isoTime.nullable(),
    lastError: z.string().nullable(),
    heldDuringQuietHours: z.boolean(),
    createdAt: isoTime,
    sentAt: isoTime.nullable(),
  })
  .openapi("NotificationDelivery");

export const TestResultSchema = z
  .object({
    ok: z.boolean(),
    sentAt: isoTime.nullable(),
    error: z.string().nullable().openapi({ description: "Why it could not be sent, in words to act on" }),
  })
  .openapi("NotificationTestResult");

const oneChannel = {
  description: "The channel",
  content: { "application/json": { schema: z.object({ channel: NotificationChannelSchema }) } },
};
const SECRETS =
  'Secrets (ntfy `token`, webhook `signingSecret`, SMTP `password`) are stored for sending and never returned: answers show `{"set": true|false}`.';

export const listChannels = createRoute({
  method: "get",
  path: "/api/notification-channels",
  tags: [TAG],
  summary: "The household's notification channels, with how sending went lately",
  description: `Owners only. ${SECRETS}`,
  responses: {
    200: {
      description: "Channels, oldest first",
      content: {
        "application/json": { schema: z.object({ channels: z.array(NotificationChannelSchema) }) },
      },
    },
    ...errorResponses(401, 403),
  },
});

export const postChannel = createRoute({
  method: "post",
  path: "/api/notification-channels",
  tags: [TAG],
  summary: "Add an ntfy, webhook or e-mail channel",
  description: `Owners only; at most ${MAX_CHANNELS_PER_HOUSEHOLD} per household. URLs and the SMTP host may be on the local network, never link-local or a cloud metadata service. ${SECRETS}`,
  request: {
    body: { required: true, content: { "application/json": { schema: NewNotificationChannelSchema } } },
  },
  responses: { 201: { ...oneChannel, description: "Created" }, ...errorResponses(400, 401, 403, 409) },
});

export const patchChannel = createRoute({
  method: "patch",
  path: "/api/notification-channels/{id}",
  tags: [TAG],
  summary: "Change a channel",
  description: `Owners only. A secret left out or sent back as read (\`{"set": true}\`) is kept; null removes it. ${SECRETS}`,
  request: {
    params: ChannelIdParam,
    body: { required: true, content: { "application/json": { schema: NotificationChannelChangesSchema } } },
  },
  responses: { 200: oneChannel, ...errorResponses(400, 401, 403, 404) },
});

export const deleteChannel = createRoute({
  method: "delete",
  path: "/api/notification-channels/{id}",
  tags: [TAG],
  summary: "Delete a channel and its deliveries",
  request: { params: ChannelIdParam },
  responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404) },
});

export const postTest = createRoute({
  method: "post",
  path: "/api/notification-channels/{id}/test",
  tags: [TAG],
  summary: "Send a test message through the channel now",
  description:
    "Ignores the channel's alert kinds, quiet hours and whether it is enabled, and answers when the receiver did (at most about 15 s). `ok: false` says why it failed; the channel's status records the result.",
  request: { params: ChannelIdParam },
  responses: {
    200: { description: "What happened", content: { "application/json": { schema: TestResultSchema } } },
    ...errorResponses(401, 403, 404),
  },
});

export const listDeliveries = createRoute({
  method: "get",
  path: "/api/notification-channels/{id}/deliveries",
  tags: [TAG],
  summary: "Alerts sent (or being sent) through the channel, newest first",
  description: `A failed send is tried again after ${RETRY_DELAYS_MS.map((ms) => (ms < 3_600_000 ? `${ms / 60_000} min` : `${ms / 3_600_000} h`)).join(", ")}; after ${MAX_ATTEMPTS} tries it is \`failed\`.`,
  request: {
    params: ChannelIdParam,
    query: z.object({
      limit: z.coerce
        .number()
        .int("limit must be a whole number")
        .min(1, "limit must be 1-200")
        .max(200, "limit must be 1-200")
        .default(50),
    }),
  },
  responses: {
    200: {
      description: "Deliveries",
      content: {
        "application/json": { schema: z.object({ deliveries: z.array(NotificationDeliverySchema) }) },
      },
    },
    ...errorResponses(400, 401, 403, 404),
  },
});
