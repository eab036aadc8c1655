/**
 * Outbound URLs a user types in (webhooks, ntfy, firmware downloads): the server will connect to them, so a
 * URL must not become a way into the server's own network (SSRF, OWASP API7). Three layers:
 *
 * 1. `outboundUrlSchema()` / `parseOutboundUrl()`: what can be decided from the text alone, when the URL is
 *    saved. http(s) only, no `user:pass@`, a length cap, and, unless private targets are allowed, no IP
 *    literal outside the public internet and no `localhost`. The WHATWG URL parser turns odd IPv4 spellings
 *    (`2130706433`, `0177.0.0.1`, `0x7f.1`) into dotted quads first, so they are judged as what they mean.
 * 2. `checkOutboundTarget()`: right before connecting, resolve the host and refuse it if ANY address it
 *    resolves to is not allowed (a client may pick any of them).
 * 3. `pinnedLookup()`: connect only to the addresses step 2 approved. A DNS answer that changes between the
 *    check and the connection (DNS rebinding) is never asked for.
 *
 * Address classes come from ipaddr.js (its special-range tables track the IANA registries); the wrappers that
 * hide an IPv4 address inside IPv6 (mapped, NAT64, 6to4, SIIT) are judged by the IPv4 address they carry.
 * Whatever the library cannot name is refused: a new special range must fail closed.
 */

import type { LookupAddress, LookupOptions } from "node:dns";
import dns from "node:dns/promises";
import net, { type LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";
import { z } from "zod";

export const DEFAULT_MAX_URL_LENGTH = 2048;
export const DEFAULT_PROTOCOLS: readonly string[] = ["http:", "https:"];
export const DEFAULT_LOOKUP_TIMEOUT_MS = 5000;

/** What an address is, as far as outbound connections care. */
export type AddressClass =
  | "public"
  | "loopback"
  | "private"
  | "link-local"
  | "carrier-grade-nat"
  | "unique-local"
  | "cloud-metadata"
  | "unspecified"
  | "multicast"
  | "broadcast"
  | "reserved"
  | "not-an-ip";

/** Reachable only with `allowPrivate`: the home network and this machine. */
const PRIVATE_CLASSES: ReadonlySet<AddressClass> = new Set([
  "loopback",
  "private",
  "link-local",
  "carrier-grade-nat",
  "unique-local",
]);

/**
 * Instance-metadata services of cloud hosts hand out credentials to whoever asks from the machine: never a
 * webhook target, so refused even when private targets are allowed.
 */
const CLOUD_METADATA = new Set(["169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254"]);

const DESCRIPTIONS: Record<AddressClass, string> = {
  public: "a public internet address",
  loopback: "a loopback address (this machine)",
  private: "a private network address",
  "link-local": "a link-local address",
  "carrier-grade-nat": "a carrier-grade NAT address (your provider's network)",
  "unique-local": "a private (unique local) IPv6 address",
  "cloud-metadata": "a cloud instance metadata service",
  unspecified: 'an unspecified address ("this host")',
  multicast: "a multicast address",
  broadcast: "a broadcast address",
  reserved: "a reserved or special-purpose address",
  "not-an-ip": "not an IP address",
};

export interface AddressVerdict {
  /** The address in canonical form (dotted quad, or compressed IPv6). */
  address: string;
  family: 4 | 6;
  class: AddressClass;
  /** For an IPv4 address carried inside IPv6: how (`IPv4-mapped`, `NAT64`, …) and which IPv4 address. */
  embedded?: { via: string; ipv4: string };
}

function classifyIPv4(ip: ipaddr.IPv4): AddressClass {
  if (CLOUD_METADATA.has(ip.toString())) return "cloud-metadata";
  switch (ip.range()) {
    case "unicast":
      return "public";
    case "loopback":
      return "loopback";
    case "private":
      return "private";
    case "linkLocal":
      return "link-local";
    case "carrierGradeNat":
      return "carrier-grade-nat";
    case "unspecified":
      return "unspecified";
    case "multicast":
      return "multicast";
    case "broadcast":
      return "broadcast";
    default:
      return "reserved";
  }
}

/** The IPv4 address an IPv6 address carries in its last 32 bits, or at bits 16–47 for 6to4. */
function ipv4At(parts: number[], high: number): ipaddr.IPv4 {
  const a = parts[high] ?? 0;
  const b = parts[high + 1] ?? 0;
  return new ipaddr.IPv4([a >> 8, a & 0xff, b >> 8, b & 0xff]);
}

function classifyIPv6(ip: ipaddr.IPv6): Pick<AddressVerdict, "class" | "embedded"> {
  const plain = ip.toString().split("%")[0] ?? "";
  if (CLOUD_METADATA.has(plain)) return { class: "cloud-metadata" };
  const carried = (via: string, v4: ipaddr.IPv4) => ({
    class: classifyIPv4(v4),
    embedded: { via, ipv4: v4.toString() },
  });
  const range = ip.range();
  switch (range) {
    case "unicast": {
      // ::a.b.c.d, the deprecated IPv4-compatible form: ipaddr.js calls it unicast, but nothing public is there.
      if (ip.parts.slice(0, 6).every((p) => p === 0)) return { class: "reserved" };
      return { class: "public" };
    }
    case "loopback":
      return { class: "loopback" };
    case "linkLocal":
      return { class: "link-local" };
    case "uniqueLocal":
      return { class: "unique-local" };
    case "unspecified":
      return { class: "unspecified" };
    case "multicast":
      return { class: "multicast" };
    case "ipv4Mapped":
      return carried("IPv4-mapped", ip.toIPv4Address());
    case "rfc6145":
      return carried("IPv4-translated (SIIT)", ipv4At(ip.parts, 6));
    case "rfc6052":
      // 64:ff9b::/96 is the well-known NAT64 prefix; 64:ff9b:1::/48 is for a network's own translator.
      if (ip.parts[2] === 0 && ip.parts[3] === 0 && ip.parts[4] === 0 && ip.parts[5] === 0) {
        return carried("NAT64", ipv4At(ip.parts, 6));
      }
      return { class: "private" };
    case "6to4":
      return carried("6to4", ipv4At(ip.parts, 1));
    default: {
      // Deprecated site-local fec0::/10 was the private range of its day; everything else named here
      // (Teredo, documentation, benchmarking, ORCHID, …) is special-purpose.
      if ((range as string) === "deprecatedSiteLocal") return { class: "private" };
      return { class: "reserved" };
    }
  }
}

/** Classifies an IP address string as a resolver or a URL gives it (odd IPv4 spellings included). */
export function classifyAddress(address: string): AddressVerdict {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(bare);
  } catch {
    return { address, family: bare.includes(":") ? 6 : 4, class: "not-an-ip" };
  }
  if (ip.kind() === "ipv4") {
    const v4 = ip as ipaddr.IPv4;
    return { address: v4.toString(), family: 4, class: classifyIPv4(v4) };
  }
  const v6 = ip as ipaddr.IPv6;
  return { address: v6.toString(), family: 6, ...classifyIPv6(v6) };
}

/** Whether a connection to an address of this class may be made. */
export function isAllowedClass(addressClass: AddressClass, allowPrivate: boolean): boolean {
  return addressClass === "public" || (allowPrivate && PRIVATE_CLASSES.has(addressClass));
}

function describe(verdict: AddressVerdict): string {
  const what = DESCRIPTIONS[verdict.class];
  return verdict.embedded
    ? `${verdict.address} (${verdict.embedded.via} ${verdict.embedded.ipv4}), ${what}`
    : `${verdict.address}, ${what}`;
}

export type OutboundRefusal =
  | "too_long"
  | "invalid_url"
  | "unsupported_protocol"
  | "credentials_in_url"
  | "local_hostname"
  | "blocked_address"
  | "dns_failed"
  | "dns_timeout"
  | "no_addresses";

/** A refusal the UI can show as is: `message` is a whole sentence for the person who typed the URL. */
export interface OutboundRefused {
  ok: false;
  reason: OutboundRefusal;
  message: string;
  /** The offending address, for `blocked_address`. */
  address?: AddressVerdict;
}

export interface OutboundUrlRules {
  /** Lower-case with the colon, as `URL.protocol` gives it. Default http: and https:. */
  protocols?: readonly string[];
  maxLength?: number;
  /** Let loopback, private, link-local, CGNAT and unique-local targets through (a notifier on the LAN). */
  allowPrivate?: boolean;
}

const strip = (hostname: string) => hostname.replace(/^\[|\]$/g, "");
/** Host names compared without case and without the root dot (`localhost.` is `localhost`). */
const canonicalHost = (hostname: string) => strip(hostname).toLowerCase().replace(/\.$/, "");

function protocolList(protocols: readonly string[], conjunction: "and" | "or"): string {
  const names = protocols.map((p) => `${p}//`);
  return names.length <= 1
    ? (names[0] ?? "")
    : `${names.slice(0, -1).join(", ")} ${conjunction} ${names.at(-1)}`;
}

function refused(reason: OutboundRefusal, message: string, address?: AddressVerdict): OutboundRefused {
  return { ok: false, reason, message, ...(address && { address }) };
}

function blockedMessage(host: string, verdict: AddressVerdict, allowPrivate: boolean, literal: boolean) {
  const target = literal
    ? `The URL points to ${describe(verdict)}`
    : `"${host}" resolves to ${describe(verdict)}`;
  const hint =
    !allowPrivate && PRIVATE_CLASSES.has(verdict.class)
      ? " Only public internet addresses are allowed unless local network targets are enabled."
      : " The server never connects there.";
  return `${target}.${hint}`;
}

/**
 * Everything that can be decided from the URL's text, without DNS. Trims the input; the URL in the answer is
 * the parsed one (host in canonical form).
 */
export function parseOutboundUrl(
  input: string,
  rules: OutboundUrlRules = {},
): { ok: true; url: URL } | OutboundRefused {
  const text = input.trim();
  const maxLength = rules.maxLength ?? DEFAULT_MAX_URL_LENGTH;
  const protocols = rules.protocols ?? DEFAULT_PROTOCOLS;
  const allowPrivate = rules.allowPrivate ?? false;
  if (text.length > maxLength) {
    return refused(
      "too_long",
      `The URL is ${text.length} characters long; at most ${maxLength} are allowed.`,
    );
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return refused(
      "invalid_url",
      `This is not a valid URL; write it in full, starting with ${protocolList(protocols, "or")}.`,
    );
  }
  if (!protocols.includes(url.protocol)) {
    return refused(
      "unsupported_protocol",
      `Only ${protocolList(protocols, "and")} URLs are allowed, not ${url.protocol}//.`,
    );
  }
  if (url.username !== "" || url.password !== "") {
    return refused(
      "credentials_in_url",
      "The URL must not contain a user name or password (user:password@…); they would be stored and logged with it.",
    );
  }
  const host = canonicalHost(url.hostname);
  if (host === "") return refused("invalid_url", "The URL has no host name.");
  if (net.isIP(host) !== 0) {
    const verdict = classifyAddress(host);
    if (!isAllowedClass(verdict.class, allowPrivate)) {
      return refused("blocked_address", blockedMessage(host, verdict, allowPrivate, true), verdict);
    }
  } else if (!allowPrivate && (host === "localhost" || host.endsWith(".localhost"))) {
    return refused(
      "local_hostname",
      `"${host}" is this machine. Only public internet addresses are allowed unless local network targets are enabled.`,
    );
  }
  return { ok: true, url };
}

/**
 * A zod refinement for a string field holding an outbound URL, for schemas that build their own string
 * (`z.string().superRefine(outboundUrlRefinement({ allowPrivate }))`). Each issue carries the refusal's
 * reason in `params.reason`.
 */
export function outboundUrlRefinement(rules: OutboundUrlRules = {}) {
  return (value: string, ctx: z.RefinementCtx) => {
    const parsed = parseOutboundUrl(value, rules);
    if (!parsed.ok) {
      ctx.addIssue({ code: "custom", message: parsed.message, params: { reason: parsed.reason } });
    }
  };
}

/** A request-body field for an outbound URL: trimmed, then checked as `parseOutboundUrl` does. */
export function outboundUrlSchema(rules: OutboundUrlRules = {}) {
  return z.string().trim().superRefine(outboundUrlRefinement(rules));
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses: `dns.promises.lookup` with `all: true`, or a test's stand-in. */
export type OutboundLookup = (hostname: string, options: { all: true }) => Promise<LookupAddress[]>;

const systemLookup: OutboundLookup = (hostname) => dns.lookup(hostname, { all: true });

export interface OutboundCheckOptions extends OutboundUrlRules {
  allowPrivate: boolean;
  lookup?: OutboundLookup;
  /** How long DNS may take before the target counts as unreachable. */
  timeoutMs?: number;
}

/** A target that passed: connect to `hostname` only through `pinnedLookup(target)`. */
export interface OutboundTarget {
  ok: true;
  url: URL;
  /** Canonical host name (lower case, no brackets or root dot); an IP literal for IP URLs. */
  hostname: string;
  /** Every address the host resolved to, all allowed; the IP itself for an IP literal. */
  addresses: ResolvedAddress[];
}

export type OutboundCheck = OutboundTarget | OutboundRefused;

async function resolveWithin(lookup: OutboundLookup, host: string, timeoutMs: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([lookup(host, { all: true }), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Decides whether the server may connect to `url` now: the text rules, then every address its host resolves
 * to. Never throws for a bad URL or DNS failure; the refusal says why in words the UI can show.
 */
export async function checkOutboundTarget(
  url: string | URL,
  options: OutboundCheckOptions,
): Promise<OutboundCheck> {
  const parsed = parseOutboundUrl(typeof url === "string" ? url : url.href, options);
  if (!parsed.ok) return parsed;
  const host = canonicalHost(parsed.url.hostname);
  if (net.isIP(host) !== 0) {
    const verdict = classifyAddress(host);
    return {
      ok: true,
      url: parsed.url,
      hostname: host,
      addresses: [{ address: verdict.address, family: verdict.family }],
    };
  }
  let answers: LookupAddress[] | "timeout";
  try {
    answers = await resolveWithin(
      options.lookup ?? systemLookup,
      host,
      options.timeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS,
    );
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return refused(
      "dns_failed",
      `"${host}" could not be resolved${typeof code === "string" ? ` (${code})` : ""}; check the host name.`,
    );
  }
  if (answers === "timeout") {
    return refused("dns_timeout", `Resolving "${host}" took too long; check the host name and DNS.`);
  }
  if (answers.length === 0) return refused("no_addresses", `"${host}" has no addresses.`);
  const addresses: ResolvedAddress[] = [];
  for (const answer of answers) {
    const verdict = classifyAddress(answer.address);
    if (!isAllowedClass(verdict.class, options.allowPrivate)) {
      return refused("blocked_address", blockedMessage(host, verdict, options.allowPrivate, false), verdict);
    }
    if (!addresses.some((a) => a.address === verdict.address)) {
      addresses.push({ address: verdict.address, family: verdict.family });
    }
  }
  return { ok: true, url: parsed.url, hostname: host, addresses };
}

function lookupError(hostname: string, why: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${why}: ${hostname}`), {
    code: "ENOTFOUND",
    errno: -3008,
    syscall: "getaddrinfo",
    hostname,
  });
}

function wantedFamily(options: LookupOptions | number | undefined): 0 | 4 | 6 {
  const family = typeof options === "number" ? options : options?.family;
  if (family === 4 || family === "IPv4") return 4;
  if (family === 6 || family === "IPv6") return 6;
  return 0;
}

/**
 * A `lookup` for `http.request`, `net.connect`, `tls.connect` or an undici `Agent`'s `connect` options that
 * answers the checked host with the checked addresses only, and every other host with ENOTFOUND (a redirect
 * to another host must be checked again). DNS is not asked a second time, so what it says after the check
 * cannot change where the connection goes.
 */
export function pinnedLookup(target: Pick<OutboundTarget, "hostname" | "addresses">): LookupFunction {
  const addresses = target.addresses.map((a) => ({ address: a.address, family: a.family }));
  return ((hostname: string, options: LookupOptions | number, callback: (...args: unknown[]) => void) => {
    const done = typeof options === "function" ? (options as typeof callback) : callback;
    const opts = typeof options === "function" ? undefined : options;
    process.nextTick(() => {
      if (canonicalHost(hostname) !== target.hostname) {
        return done(lookupError(hostname, "not the host that was checked"));
      }
      const family = wantedFamily(opts);
      const matching = addresses.filter((a) => family === 0 || a.family === family);
      const first = matching[0];
      if (!first) return done(lookupError(hostname, `no checked IPv${family} address`));
      if (typeof opts === "object" && opts?.all) return done(null, matching);
      return done(null, first.address, first.family);
    });
  }) as LookupFunction;
}
