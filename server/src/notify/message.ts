/** One notification as every channel type needs it: the text for people, the event for machines. */
import type { OutboundLookup } from "../net/outbound-url.js";
import type { AlertKind } from "../store/schema.js";
import type { Language, NotificationText } from "./texts.js";

/** The webhook's JSON body; documented in docs/notifications.md. */
export interface WebhookEvent {
  /** The alert's id ("test-…" for a test message): the same alert sent again keeps its id. */
  id: string;
  kind: AlertKind | "test";
  feeder: { id: string; name: string } | null;
  /** The alert's English message. */
  message: string;
  occurrenceId: string | null;
  createdAt: string;
  /** The text in the channel's language, as the other channel types show it. */
  language: Language;
  title: string;
  text: string;
  heldDuringQuietHours: boolean;
  test: boolean;
}

export interface Outgoing {
  text: NotificationText;
  event: WebhookEvent;
}

export interface SendContext {
  /** DNS for tests; the system's otherwise. */
  lookup?: OutboundLookup | undefined;
  /** Epoch ms, for the webhook's signature timestamp. */
  now: number;
  signal?: AbortSignal | undefined;
}
