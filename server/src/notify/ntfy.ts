/**
 * ntfy: POST the text to <server>/<topic> with Title, Priority and Tags headers, and the access token as
 * `Authorization: Bearer` when one is set. HTTP header values are Latin-1 on the wire, so a title with
 * other characters (Japanese) goes as an RFC 2047 encoded word, which ntfy decodes.
 */
import { postGuarded } from "./http-send.js";
import type { Outgoing, SendContext } from "./message.js";
import type { NtfyConfig } from "./model.js";

export function encodeHeaderText(value: string): string {
  return /^[\x20-\x7e]*$/.test(value)
    ? value
    : `=?UTF-8?B?${Buffer.from(value, "utf8").toString("base64")}?=`;
}

export function ntfyUrl(config: NtfyConfig): string {
  return `${config.serverUrl.replace(/\/+$/, "")}/${encodeURIComponent(config.topic)}`;
}

export async function sendNtfy(
  config: NtfyConfig,
  token: string | null,
  out: Outgoing,
  ctx: SendContext,
): Promise<void> {
  await postGuarded(ntfyUrl(config), {
    headers: {
      "content-type": "text/plain; charset=utf-8",
      title: encodeHeaderText(out.text.title),
      priority: String(out.text.priority),
      tags: out.text.tags.join(","),
      ...(token && { authorization: `Bearer ${token}` }),
    },
    body: out.text.body,
    lookup: ctx.lookup,
    signal: ctx.signal,
  });
}
