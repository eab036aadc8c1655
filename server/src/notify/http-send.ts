/**
 * An outgoing POST for ntfy and webhooks: the target is checked and its addresses pinned (targets.ts,
 * net/outbound-url.ts) so a host name cannot be re-pointed between the check and the connection; redirects
 * are not followed (each would need checking again, and a receiver has no reason to redirect); a bounded
 * time; the error says what went wrong in words an owner can act on.
 */
import http from "node:http";
import https from "node:https";
import { type OutboundLookup, pinnedLookup } from "../net/outbound-url.js";
import { checkNotifyTarget } from "./targets.js";

export const SEND_TIMEOUT_MS = 15_000;
const ERROR_BODY_CHARS = 200;

/** A delivery that did not arrive; `message` is shown to the owner as is. */
export class DeliveryError extends Error {
  override name = "DeliveryError";
}

export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  /** DNS for tests; the system's otherwise. */
  lookup?: OutboundLookup | undefined;
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: "refused the connection (is the service running, and is the port right?)",
  ECONNRESET: "closed the connection",
  EHOSTUNREACH: "is unreachable",
  ENETUNREACH: "is unreachable (no route)",
  ETIMEDOUT: "did not answer in time",
  CERT_HAS_EXPIRED: "has an expired TLS certificate",
  DEPTH_ZERO_SELF_SIGNED_CERT: "has a self-signed TLS certificate",
  SELF_SIGNED_CERT_IN_CHAIN: "has a TLS certificate from an untrusted authority",
  ERR_TLS_CERT_ALTNAME_INVALID: "has a TLS certificate for a different name",
};

export function networkErrorText(host: string, err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const known = typeof code === "string" ? NETWORK_ERRORS[code] : undefined;
  if (known) return `${host} ${known}.`;
  const detail = err instanceof Error ? err.message : String(err);
  return `Could not reach ${host}: ${detail}`;
}

/** Sends; resolves when the receiver answered 2xx, throws DeliveryError otherwise. */
export async function postGuarded(url: string, options: PostOptions): Promise<void> {
  const target = await checkNotifyTarget(url, { lookup: options.lookup });
  if (!target.ok) throw new DeliveryError(target.message);
  const host = target.url.host;
  const client = target.url.protocol === "https:" ? https : http;
  const timeoutMs = options.timeoutMs ?? SEND_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    const fail = (message: string) => reject(new DeliveryError(message));
    const req = client.request(
      target.url,
      {
        method: "POST",
        headers: { ...options.headers, "content-length": String(Buffer.byteLength(options.body)) },
        lookup: pinnedLookup(target),
        timeout: timeoutMs,
        ...(options.signal && { signal: options.signal }),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          // Only the start of an error page is worth showing; the rest is read and dropped.
          if (size < ERROR_BODY_CHARS) chunks.push(chunk);
          size += chunk.length;
        });
        res.on("error", (err) => fail(networkErrorText(host, err)));
        res.on("end", () => {
          if (status >= 200 && status < 300) return resolve();
          if (status >= 300 && status < 400) {
            return fail(
              `${host} answered HTTP ${status} (a redirect to ${res.headers.location ?? "somewhere else"}); redirects are not followed, enter the final URL.`,
            );
          }
          const text = Buffer.concat(chunks)
            .toString("utf8")
            .slice(0, ERROR_BODY_CHARS)
            .replace(/\s+/g, " ")
            .trim();
          fail(`${host} answered HTTP ${status}${text ? `: ${text}` : ""}.`);
        });
      },
    );
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    req.on("error", (err) => fail(networkErrorText(host, err)));
    req.end(options.body);
  });
}
