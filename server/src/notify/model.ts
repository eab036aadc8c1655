/**
 * The notification channel model: each type's settings (validated with zod when saved), which of them is
 * the type's one secret, and the channel as stored. The secret is sent in clear by the server, so it is
 * kept in the database (0600, the owner's) and never returned by the API: answers say `{ "set": true }`.
 */
import { z } from "@hono/zod-openapi";
import { ALERT_KINDS, type NotificationChannelType, type notificationChannels } from "../store/schema.js";
import { HH_MM } from "./quiet-hours.js";
import { refuseNotifyUrl } from "./targets.js";

export type ChannelRecord = typeof notificationChannels.$inferSelect;

export const MAX_CHANNEL_NAME_LENGTH = 80;
export const MAX_RECIPIENTS = 10;
const MAX_SECRET_LENGTH = 512;

/** A URL field for ntfy and webhooks: http(s), and no target the server refuses (targets.ts). */
const notifyUrl = (what: string) =>
  z
    .string()
    .trim()
    .min(1, `${what} is required`)
    .superRefine((value, ctx) => {
      const refused = refuseNotifyUrl(value);
      if (refused)
        ctx.addIssue({ code: "custom", message: refused.message, params: { reason: refused.reason } });
    })
    .openapi({ example: "http://192.168.1.20:8080" });

const HOST_PATTERN = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$/;

export const NtfySettings = z
  .object({
    serverUrl: notifyUrl("serverUrl").openapi({
      description: "The ntfy server, e.g. your own `http://ntfy.lan` or `https://ntfy.sh`",
    }),
    topic: z
      .string()
      .trim()
      .regex(/^[-_A-Za-z0-9]{1,64}$/, "topic must be 1-64 letters, digits, - or _")
      .openapi({ example: "feeder-alerts" }),
  })
  .strict();

export const WebhookSettings = z
  .object({
    url: notifyUrl("url").openapi({ description: "Receives a JSON POST per alert" }),
  })
  .strict();

export const EmailSettings = z
  .object({
    host: z
      .string()
      .trim()
      .max(253, "host must be at most 253 characters")
      .regex(HOST_PATTERN, "host must be a host name or IP address, without port or scheme")
      .superRefine((value, ctx) => {
        const refused = refuseNotifyUrl(`smtp://${value}`, true);
        if (refused)
          ctx.addIssue({ code: "custom", message: refused.message, params: { reason: refused.reason } });
      })
      .openapi({ description: "The SMTP server", example: "smtp.example.com" }),
    port: z
      .number()
      .int("port must be a whole number")
      .min(1, "port must be 1-65535")
      .max(65535, "port must be 1-65535"),
    security: z.enum(["tls", "starttls", "none"]).openapi({
      description:
        "tls: TLS from the start (port 465); starttls: upgrade required (port 587); none: plain text, only for a relay on your own network",
    }),
    username: z
      .string()
      .trim()
      .max(256)
      .nullable()
      .optional()
      .openapi({ description: "Sign in as; null: no sign-in" }),
    from: z.email("from must be an e-mail address").max(254),
    to: z
      .array(z.email("to must hold e-mail addresses").max(254))
      .min(1, "to needs at least one address")
      .max(MAX_RECIPIENTS, `to may hold at most ${MAX_RECIPIENTS} addresses`),
  })
  .strict();

export type NtfyConfig = z.infer<typeof NtfySettings>;
export type WebhookConfig = z.infer<typeof WebhookSettings>;
export type EmailConfig = z.infer<typeof EmailSettings>;

/** Each type's one secret, by the name the API uses for it. */
export const SECRET_FIELD = {
  ntfy: "token",
  webhook: "signingSecret",
  email: "password",
} as const satisfies Record<NotificationChannelType, string>;

/**
 * A secret on write: a string sets it, null removes it, and absent or `{ "set": … }` (what a read gave)
 * keeps it, so a client may send back what it read.
 */
export const SecretInput = z
  .union([
    z.string().min(1, "must not be empty (null removes it)").max(MAX_SECRET_LENGTH),
    z.null(),
    z.object({ set: z.boolean() }).strict(),
  ])
  .optional()
  .openapi({ description: 'A new value; null removes it; absent or `{"set": …}` keeps the stored one' });
export type SecretInput = z.infer<typeof SecretInput>;

export const SecretState = z
  .object({ set: z.boolean() })
  .openapi("SecretState", { description: "Whether a secret is stored; its value is never shown" });

export const SETTINGS = { ntfy: NtfySettings, webhook: WebhookSettings, email: EmailSettings } as const;

export const QuietHoursSchema = z
  .object({
    start: z.string().regex(HH_MM, "start must be HH:MM (00:00-23:59)"),
    end: z.string().regex(HH_MM, "end must be HH:MM (00:00-23:59)"),
  })
  .strict()
  .refine((q) => q.start !== q.end, { message: "quiet hours must not start and end at the same time" })
  .openapi("QuietHours", {
    description:
      "Local wall-clock time in the server's time zone; an end before the start spans midnight (22:00-07:00)",
  });

export const KindsSchema = z
  .array(z.enum(ALERT_KINDS))
  .max(ALERT_KINDS.length)
  .openapi({ description: "The alert kinds this channel gets; all of them when absent on creation" });
