/** The household's notification channels: saved settings, their secret, and how sending went lately. */
import { randomUUID } from "node:crypto";
import type { z } from "@hono/zod-openapi";
import { and, count, desc, eq, inArray } from "drizzle-orm";
import type { Clock } from "../clock.js";
import { AppError } from "../errors.js";
import type { Store } from "../store/db.js";
import {
  ALERT_KINDS,
  type AlertKind,
  alerts,
  type NotificationChannelType,
  notificationChannels,
  notificationDeliveries,
} from "../store/schema.js";
import {
  type ChannelRecord,
  type EmailConfig,
  type NtfyConfig,
  SECRET_FIELD,
  SETTINGS,
  SecretInput,
  type WebhookConfig,
} from "./model.js";
import type { QuietHours } from "./quiet-hours.js";
import type { Language } from "./texts.js";

export interface NewChannel {
  name: string;
  type: NotificationChannelType;
  /** The type's settings with its secret under SECRET_FIELD[type]. */
  config: Record<string, unknown>;
  kinds?: AlertKind[] | undefined;
  quietHours?: QuietHours | null | undefined;
  language?: Language | undefined;
  enabled?: boolean | undefined;
}

export interface ChannelChanges {
  name?: string | undefined;
  /** Merged over the stored settings: only the fields given change. */
  config?: Record<string, unknown> | undefined;
  kinds?: AlertKind[] | undefined;
  quietHours?: QuietHours | null | undefined;
  language?: Language | undefined;
  enabled?: boolean | undefined;
}

export type ChannelSettings =
  | { type: "ntfy"; config: NtfyConfig }
  | { type: "webhook"; config: WebhookConfig }
  | { type: "email"; config: EmailConfig };

export type DeliveryRecord = typeof notificationDeliveries.$inferSelect & {
  alertKind: AlertKind;
  feederId: string | null;
};

export const MAX_CHANNELS_PER_HOUSEHOLD = 20;

function invalid(issues: z.core.$ZodIssue[], prefix: string): AppError {
  const details = issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
  return new AppError("validation_failed", details.map((d) => `${d.path}: ${d.message}`).join("; "), details);
}

/**
 * Splits a type's settings from its secret and validates both. `secret` is what to store: the value kept
 * (`keep`), or the new one (a string, or null to remove it).
 */
function parseConfig(
  type: NotificationChannelType,
  raw: Record<string, unknown>,
): { config: Record<string, unknown>; secret: string | null | "keep" } {
  const field = SECRET_FIELD[type];
  const { [field]: secretValue, ...rest } = raw;
  const settings = SETTINGS[type].safeParse(rest);
  if (!settings.success) throw invalid(settings.error.issues, "config");
  const secret = SecretInput.safeParse(secretValue);
  if (!secret.success) throw invalid(secret.error.issues, `config.${field}`);
  const value = secret.data;
  return {
    config: settings.data,
    secret: value === undefined || (typeof value === "object" && value !== null) ? "keep" : value,
  };
}

export class NotificationChannelService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Oldest first. */
  list(householdId: string): ChannelRecord[] {
    return this.store.db
      .select()
      .from(notificationChannels)
      .where(eq(notificationChannels.householdId, householdId))
      .orderBy(notificationChannels.createdAt, notificationChannels.id)
      .all();
  }

  find(id: string): ChannelRecord | undefined {
    return this.store.db.select().from(notificationChannels).where(eq(notificationChannels.id, id)).get();
  }

  require(id: string): ChannelRecord {
    const channel = this.find(id);
    if (!channel) throw new AppError("notification_channel_not_found");
    return channel;
  }

  /** The enabled channels that want this kind, of the given households (all when null). */
  subscribers(kind: AlertKind, householdId: string | null): ChannelRecord[] {
    const rows = this.store.db
      .select()
      .from(notificationChannels)
      .where(
        and(
          eq(notificationChannels.enabled, true),
          householdId === null ? undefined : eq(notificationChannels.householdId, householdId),
        ),
      )
      .all();
    return rows.filter((c) => c.kinds.includes(kind));
  }

  create(householdId: string, input: NewChannel): ChannelRecord {
    const { config, secret } = parseConfig(input.type, input.config);
    const existing = this.store.db
      .select({ n: count() })
      .from(notificationChannels)
      .where(eq(notificationChannels.householdId, householdId))
      .get();
    if ((existing?.n ?? 0) >= MAX_CHANNELS_PER_HOUSEHOLD)
      throw new AppError("too_many_notification_channels");
    return this.store.db
      .insert(notificationChannels)
      .values({
        id: randomUUID(),
        householdId,
        name: input.name,
        type: input.type,
        config,
        secret: secret === "keep" ? null : secret,
        kinds: dedupe(input.kinds ?? [...ALERT_KINDS]),
        quietStart: input.quietHours?.start ?? null,
        quietEnd: input.quietHours?.end ?? null,
        language: input.language ?? "en",
        enabled: input.enabled ?? true,
        createdAt: new Date(this.clock.now()),
      })
      .returning()
      .get();
  }

  update(id: string, changes: ChannelChanges): ChannelRecord {
    const channel = this.require(id);
    const parsed =
      changes.config === undefined
        ? undefined
        : parseConfig(channel.type, { ...channel.config, ...changes.config });
    return this.store.db
      .update(notificationChannels)
      .set({
        ...(changes.name !== undefined && { name: changes.name }),
        ...(parsed && { config: parsed.config }),
        ...(parsed && parsed.secret !== "keep" && { secret: parsed.secret }),
        ...(changes.kinds !== undefined && { kinds: dedupe(changes.kinds) }),
        ...(changes.quietHours !== undefined && {
          quietStart: changes.quietHours?.start ?? null,
          quietEnd: changes.quietHours?.end ?? null,
        }),
        ...(changes.language !== undefined && { language: changes.language }),
        ...(changes.enabled !== undefined && { enabled: changes.enabled }),
      })
      .where(eq(notificationChannels.id, id))
      .returning()
      .get() as ChannelRecord;
  }

  remove(id: string): void {
    this.require(id);
    this.store.db.delete(notificationChannels).where(eq(notificationChannels.id, id)).run();
  }

  /** The stored settings, typed by the channel's type. */
  settings(channel: ChannelRecord): ChannelSettings {
    return { type: channel.type, config: channel.config } as ChannelSettings;
  }

  recordResult(id: string, result: { ok: true } | { ok: false; error: string }): void {
    const at = new Date(this.clock.now());
    this.store.db
      .update(notificationChannels)
      .set(result.ok ? { lastSuccessAt: at } : { lastFailureAt: at, lastError: result.error })
      .where(eq(notificationChannels.id, id))
      .run();
  }

  /** Deliveries still to go out (pending or held), per channel. */
  queuedCounts(channelIds: string[]): Map<string, number> {
    if (channelIds.length === 0) return new Map();
    const rows = this.store.db
      .select({ channelId: notificationDeliveries.channelId, n: count() })
      .from(notificationDeliveries)
      .where(
        and(
          inArray(notificationDeliveries.channelId, channelIds),
          inArray(notificationDeliveries.status, ["pending", "held"]),
        ),
      )
      .groupBy(notificationDeliveries.channelId)
      .all();
    return new Map(rows.map((r) => [r.channelId, r.n]));
  }

  /** Newest first. */
  deliveries(channelId: string, limit: number): DeliveryRecord[] {
    return this.store.db
      .select({ delivery: notificationDeliveries, alertKind: alerts.kind, feederId: alerts.feederId })
      .from(notificationDeliveries)
      .innerJoin(alerts, eq(alerts.id, notificationDeliveries.alertId))
      .where(eq(notificationDeliveries.channelId, channelId))
      .orderBy(desc(notificationDeliveries.createdAt), desc(notificationDeliveries.id))
      .limit(limit)
      .all()
      .map((r) => ({ ...r.delivery, alertKind: r.alertKind, feederId: r.feederId }));
  }
}

function dedupe(kinds: AlertKind[]): AlertKind[] {
  return ALERT_KINDS.filter((k) => kinds.includes(k));
}
