/**
 * Webhooks: the event as JSON. With a signing secret, the receiver can tell the request came from this
 * server and was not replayed: `X-Feedkeeper-Timestamp` is the Unix time in seconds and
 * `X-Feedkeeper-Signature` is `sha256=` + hex HMAC-SHA256(secret, `<timestamp>.<raw body>`). A receiver
 * recomputes it over the bytes it got, compares in constant time, and refuses timestamps older than a few
 * minutes (docs/notifications.md has an example).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { postGuarded } from "./http-send.js";
import type { Outgoing, SendContext } from "./message.js";
import type { WebhookConfig } from "./model.js";

export const SIGNATURE_HEADER = "x-feedkeeper-signature";
export const TIMESTAMP_HEADER = "x-feedkeeper-timestamp";

export function signWebhook(secret: string, timestamp: number, rawBody: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${rawBody}`).digest("hex")}`;
}

/** What a receiver does; here for the tests and as the reference for the docs' example. */
export function verifyWebhook(
  secret: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  rawBody: string,
  nowMs: number,
  toleranceSeconds = 300,
): boolean {
  const timestamp = Number(headers.timestamp);
  if (!Number.isInteger(timestamp) || !headers.signature) return false;
  if (Math.abs(nowMs / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, rawBody));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export async function sendWebhook(
  config: WebhookConfig,
  secret: string | null,
  out: Outgoing,
  ctx: SendContext,
): Promise<void> {
  const body = JSON.stringify(out.event);
  const timestamp = Math.floor(ctx.now / 1000);
  await postGuarded(config.url, {
    headers: {
      "content-type": "application/json",
      "user-agent": "Feedkeeper",
      [TIMESTAMP_HEADER]: String(timestamp),
      ...(secret && { [SIGNATURE_HEADER]: signWebhook(secret, timestamp, body) }),
    },
    body,
    lookup: ctx.lookup,
    signal: ctx.signal,
  });
}
