/**
 * Where notifications may go. ntfy servers, webhook receivers and mail servers usually live on the home
 * network, so private and loopback targets are allowed (the guard's `allowPrivate`); only an owner can
 * set a channel up. What is never allowed: cloud metadata services and every other special address the
 * guard refuses, and link-local addresses (169.254.0.0/16, fe80::/10), which no notifier has a reason to
 * use and which is where metadata-like services answer.
 */
import {
  checkOutboundTarget,
  classifyAddress,
  type OutboundCheck,
  type OutboundLookup,
  type OutboundRefused,
  type OutboundUrlRules,
  parseOutboundUrl,
} from "../net/outbound-url.js";

export const NOTIFY_URL_RULES: OutboundUrlRules = { allowPrivate: true };
/** The SMTP host is checked as `smtp://host:port`, by the same rules. */
const SMTP_RULES: OutboundUrlRules = { allowPrivate: true, protocols: ["smtp:"] };

function linkLocal(address: string, host: string, literal: boolean): OutboundRefused {
  const verdict = classifyAddress(address);
  const where = literal
    ? `The address ${verdict.address}`
    : `"${host}" resolves to ${verdict.address}, which`;
  return {
    ok: false,
    reason: "blocked_address",
    message: `${where} is a link-local address. The server never sends notifications there.`,
    address: verdict,
  };
}

/** What can be decided when the URL is saved; `undefined` when it is fine. */
export function refuseNotifyUrl(url: string, smtp = false): OutboundRefused | undefined {
  const parsed = parseOutboundUrl(url, smtp ? SMTP_RULES : NOTIFY_URL_RULES);
  if (!parsed.ok) return parsed;
  const host = parsed.url.hostname.replace(/^\[|\]$/g, "");
  const verdict = classifyAddress(host);
  if (verdict.class === "link-local") return linkLocal(host, host, true);
  return undefined;
}

/** Right before connecting: every address the host resolves to must be allowed and not link-local. */
export async function checkNotifyTarget(
  url: string,
  options: { smtp?: boolean; lookup?: OutboundLookup | undefined } = {},
): Promise<OutboundCheck> {
  const checked = await checkOutboundTarget(url, {
    ...(options.smtp ? SMTP_RULES : NOTIFY_URL_RULES),
    allowPrivate: true,
    ...(options.lookup && { lookup: options.lookup }),
  });
  if (!checked.ok) return checked;
  const literal = checked.addresses.length === 1 && checked.addresses[0]?.address === checked.hostname;
  for (const a of checked.addresses) {
    if (classifyAddress(a.address).class === "link-local")
      return linkLocal(a.address, checked.hostname, literal);
  }
  return checked;
}
