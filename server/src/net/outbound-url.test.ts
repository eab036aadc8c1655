import type { LookupAddress } from "node:dns";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  type AddressClass,
  checkOutboundTarget,
  classifyAddress,
  type OutboundLookup,
  outboundUrlSchema,
  parseOutboundUrl,
  pinnedLookup,
} from "./outbound-url.js";

/** A resolver that answers from a table, as `dns.promises.lookup({ all: true })` would. */
function tableLookup(table: Record<string, string[]>): OutboundLookup {
  return async (hostname) => {
    const addresses = table[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return addresses.map((address): LookupAddress => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
}

describe("classifyAddress", () => {
  it.each<[string, AddressClass]>([
    ["8.8.8.8", "public"],
    ["2606:4700:4700::1111", "public"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["::1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.10", "private"],
    ["fc00::1", "unique-local"],
    ["fd12:3456::1", "unique-local"],
    ["fec0::1", "private"],
    ["169.254.1.1", "link-local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["169.254.169.254", "cloud-metadata"],
    ["fd00:ec2::254", "cloud-metadata"],
    ["100.100.100.200", "cloud-metadata"],
    ["100.64.0.1", "carrier-grade-nat"],
    ["100.127.255.255", "carrier-grade-nat"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["::", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["ff02::1", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["192.0.2.1", "reserved"],
    ["198.18.0.1", "reserved"],
    ["2001:db8::1", "reserved"],
    // Teredo tunnels reach whatever the obfuscated client address says.
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "reserved"],
    // The deprecated IPv4-compatible form, which ipaddr.js itself calls unicast.
    ["::7f00:1", "reserved"],
    ["not an address", "not-an-ip"],
  ])("%s is %s", (address, expected) => {
    expect(classifyAddress(address).class).toBe(expected);
  });

  it.each<[string, AddressClass, string]>([
    ["::ffff:127.0.0.1", "loopback", "IPv4-mapped"],
    ["::ffff:7f00:1", "loopback", "IPv4-mapped"],
    ["::ffff:169.254.169.254", "cloud-metadata", "IPv4-mapped"],
    ["::ffff:10.0.0.1", "private", "IPv4-mapped"],
    ["::ffff:8.8.8.8", "public", "IPv4-mapped"],
    ["64:ff9b::127.0.0.1", "loopback", "NAT64"],
    ["64:ff9b::a9fe:a9fe", "cloud-metadata", "NAT64"],
    ["64:ff9b::192.168.0.1", "private", "NAT64"],
    // On an IPv6-only network DNS64 answers public hosts like this: they must keep working.
    ["64:ff9b::8.8.8.8", "public", "NAT64"],
    ["2002:7f00:1::1", "loopback", "6to4"],
    ["2002:c0a8:101::1", "private", "6to4"],
    ["::ffff:0:127.0.0.1", "loopback", "IPv4-translated (SIIT)"],
  ])("judges %s by the IPv4 address it carries (%s)", (address, expected, via) => {
    const verdict = classifyAddress(address);
    expect(verdict.class).toBe(expected);
    expect(verdict.family).toBe(6);
    expect(verdict.embedded?.via).toBe(via);
  });

  it("judges a network's own NAT64 prefix (64:ff9b:1::/48) as private: its translator is local", () => {
    expect(classifyAddress("64:ff9b:1::7f00:1").class).toBe("private");
    expect(classifyAddress("64:ff9b:1::808:808").class).toBe("private");
  });

  it.each([
    ["2130706433", "127.0.0.1"],
    ["0177.0.0.1", "127.0.0.1"],
    ["0x7f.1", "127.0.0.1"],
    ["0x7f000001", "127.0.0.1"],
    ["127.1", "127.0.0.1"],
    ["017700000001", "127.0.0.1"],
    ["[::1]", "::1"],
  ])("reads the odd spelling %s as %s", (spelling, canonical) => {
    const verdict = classifyAddress(spelling);
    expect(verdict.address).toBe(canonical);
    expect(verdict.class).toBe("loopback");
  });
});

describe("parseOutboundUrl and outboundUrlSchema", () => {
  it("accepts a public https URL and keeps its path, port and query", () => {
    const parsed = parseOutboundUrl("  https://ntfy.example.com:8443/feeder-alerts?x=1  ");
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.url.href).toBe("https://ntfy.example.com:8443/feeder-alerts?x=1");
    expect(outboundUrlSchema().parse(" http://8.8.8.8/hook ")).toBe("http://8.8.8.8/hook");
  });

  it.each([
    [
      "ftp://example.com/x",
      "unsupported_protocol",
      "Only http:// and https:// URLs are allowed, not ftp://.",
    ],
    [
      "file:///etc/passwd",
      "unsupported_protocol",
      "Only http:// and https:// URLs are allowed, not file://.",
    ],
    ["gopher://127.0.0.1:6379/_", "unsupported_protocol", "not gopher://"],
    ["javascript:alert(1)", "unsupported_protocol", "not javascript://"],
    ["example.com/hook", "invalid_url", "write it in full, starting with http:// or https://"],
    ["http://", "invalid_url", "not a valid URL"],
    ["https://user:secret@example.com/", "credentials_in_url", "must not contain a user name or password"],
    ["https://user@example.com/", "credentials_in_url", "must not contain a user name or password"],
    ["http://127.0.0.1:1883/", "blocked_address", "127.0.0.1, a loopback address (this machine)"],
    ["http://[::1]/", "blocked_address", "::1, a loopback address"],
    ["http://169.254.169.254/latest/meta-data/", "blocked_address", "cloud instance metadata service"],
    ["http://2130706433/", "blocked_address", "127.0.0.1, a loopback address"],
    ["http://0177.0.0.1/", "blocked_address", "127.0.0.1, a loopback address"],
    ["http://0x7f.1/", "blocked_address", "127.0.0.1, a loopback address"],
    ["http://[::ffff:127.0.0.1]/", "blocked_address", "(IPv4-mapped 127.0.0.1), a loopback address"],
    ["http://[64:ff9b::7f00:1]/", "blocked_address", "(NAT64 127.0.0.1)"],
    ["http://0.0.0.0:8080/", "blocked_address", "an unspecified address"],
    ["http://0/", "blocked_address", "an unspecified address"],
    ["http://10.0.0.5/", "blocked_address", "unless local network targets are enabled"],
    ["http://100.64.1.1/", "blocked_address", "carrier-grade NAT"],
    ["http://224.0.0.1/", "blocked_address", "multicast"],
    ["http://255.255.255.255/", "blocked_address", "broadcast"],
    ["http://localhost:8080/", "local_hostname", '"localhost" is this machine'],
    ["http://LOCALHOST./", "local_hostname", '"localhost" is this machine'],
    ["http://api.localhost/", "local_hostname", '"api.localhost" is this machine'],
  ])("refuses %s (%s) with a clear message", (url, reason, message) => {
    const parsed = parseOutboundUrl(url);
    expect(parsed).toMatchObject({ ok: false, reason });
    if (!parsed.ok) expect(parsed.message).toContain(message);
    const viaSchema = outboundUrlSchema().safeParse(url);
    expect(viaSchema.success).toBe(false);
    expect(viaSchema.error?.issues[0]?.message).toContain(message);
  });

  it("caps the length", () => {
    const url = `https://example.com/${"a".repeat(100)}`;
    expect(parseOutboundUrl(url, { maxLength: 50 })).toMatchObject({
      ok: false,
      reason: "too_long",
      message: `The URL is ${url.length} characters long; at most 50 are allowed.`,
    });
    expect(parseOutboundUrl(`https://example.com/${"a".repeat(3000)}`)).toMatchObject({ reason: "too_long" });
  });

  it("lets local targets through with allowPrivate, but never the unspecified, multicast or metadata ones", () => {
    const rules = { allowPrivate: true };
    for (const url of [
      "http://127.0.0.1:1883/",
      "http://[::1]/",
      "http://192.168.1.2/",
      "http://localhost/",
      "http://[fd00::1]/",
    ]) {
      expect(parseOutboundUrl(url, rules).ok, url).toBe(true);
    }
    for (const url of [
      "http://0.0.0.0/",
      "http://224.0.0.1/",
      "http://169.254.169.254/",
      "http://[ff02::1]/",
    ]) {
      expect(parseOutboundUrl(url, rules), url).toMatchObject({ ok: false, reason: "blocked_address" });
    }
  });

  it("takes other protocols only when told", () => {
    expect(parseOutboundUrl("mqtts://broker.example.com", { protocols: ["mqtts:"] }).ok).toBe(true);
    expect(parseOutboundUrl("https://example.com", { protocols: ["mqtts:"] })).toMatchObject({
      reason: "unsupported_protocol",
      message: "Only mqtts:// URLs are allowed, not https://.",
    });
  });

  it("reports the reason in the zod issue and composes into an object schema", () => {
    const Webhook = z.object({ url: outboundUrlSchema() }).strict();
    const result = Webhook.safeParse({ url: "http://127.0.0.1/" });
    expect(result.success).toBe(false);
    const issue = result.error?.issues[0];
    expect(issue?.path).toEqual(["url"]);
    expect((issue as { params?: { reason?: string } }).params?.reason).toBe("blocked_address");
  });
});

describe("checkOutboundTarget", () => {
  it("passes a host whose every address is public, with those addresses", async () => {
    const lookup = tableLookup({ "hooks.example.com": ["93.184.216.34", "2606:2800:220:1::1"] });
    const check = await checkOutboundTarget("https://hooks.example.com/x", { allowPrivate: false, lookup });
    expect(check).toMatchObject({
      ok: true,
      hostname: "hooks.example.com",
      addresses: [
        { address: "93.184.216.34", family: 4 },
        { address: "2606:2800:220:1::1", family: 6 },
      ],
    });
  });

  it("refuses a host if any one of its addresses is not public", async () => {
    const lookup = tableLookup({ "mixed.example.com": ["93.184.216.34", "10.0.0.7"] });
    const check = await checkOutboundTarget("https://mixed.example.com/", { allowPrivate: false, lookup });
    expect(check).toMatchObject({
      ok: false,
      reason: "blocked_address",
      message:
        '"mixed.example.com" resolves to 10.0.0.7, a private network address. Only public internet addresses are allowed unless local network targets are enabled.',
      address: { address: "10.0.0.7", class: "private" },
    });
  });

  it.each([
    ["127.0.0.1", "loopback"],
    ["::1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["64:ff9b::a9fe:a9fe", "cloud-metadata"],
    ["0x7f.1", "loopback"],
    ["169.254.169.254", "cloud-metadata"],
    ["fe80::1%eth0", "link-local"],
    ["192.168.0.1", "private"],
  ])("refuses a name resolving to %s (%s)", async (address, addressClass) => {
    const lookup = tableLookup({ "evil.example.com": [address] });
    const check = await checkOutboundTarget("http://evil.example.com/", { allowPrivate: false, lookup });
    expect(check).toMatchObject({ ok: false, reason: "blocked_address", address: { class: addressClass } });
  });

  it("hands the resolver the canonical host name", async () => {
    const asked: string[] = [];
    const lookup: OutboundLookup = async (hostname) => {
      asked.push(hostname);
      return [{ address: "93.184.216.34", family: 4 }];
    };
    await checkOutboundTarget("https://Hooks.Example.COM./x", { allowPrivate: false, lookup });
    expect(asked).toEqual(["hooks.example.com"]);
  });

  it("does not ask DNS about an IP literal", async () => {
    const lookup: OutboundLookup = async () => {
      throw new Error("DNS must not be asked");
    };
    expect(await checkOutboundTarget("http://8.8.8.8/", { allowPrivate: false, lookup })).toMatchObject({
      ok: true,
      addresses: [{ address: "8.8.8.8", family: 4 }],
    });
    expect(await checkOutboundTarget("http://[::1]:8080/", { allowPrivate: true, lookup })).toMatchObject({
      ok: true,
      hostname: "::1",
      addresses: [{ address: "::1", family: 6 }],
    });
  });

  it("lets private targets through with allowPrivate", async () => {
    const lookup = tableLookup({ "nas.home": ["192.168.1.20", "fd00::20"] });
    expect(await checkOutboundTarget("http://nas.home:2586/", { allowPrivate: true, lookup })).toMatchObject({
      ok: true,
      addresses: [{ address: "192.168.1.20" }, { address: "fd00::20" }],
    });
    const metadata = tableLookup({ "meta.home": ["169.254.169.254"] });
    expect(
      await checkOutboundTarget("http://meta.home/", { allowPrivate: true, lookup: metadata }),
    ).toMatchObject({ ok: false, reason: "blocked_address", message: expect.stringContaining("never") });
  });

  it("turns DNS failures, empty answers and a slow resolver into refusals", async () => {
    const none = tableLookup({ "empty.example.com": [] });
    expect(
      await checkOutboundTarget("http://nope.example.com/", { allowPrivate: false, lookup: none }),
    ).toEqual({
      ok: false,
      reason: "dns_failed",
      message: '"nope.example.com" could not be resolved (ENOTFOUND); check the host name.',
    });
    expect(
      await checkOutboundTarget("http://empty.example.com/", { allowPrivate: false, lookup: none }),
    ).toMatchObject({ ok: false, reason: "no_addresses" });
    const never: OutboundLookup = () => new Promise(() => {});
    const started = Date.now();
    expect(
      await checkOutboundTarget("http://slow.example.com/", {
        allowPrivate: false,
        lookup: never,
        timeoutMs: 50,
      }),
    ).toMatchObject({ ok: false, reason: "dns_timeout" });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("resolves localhost through the system resolver and refuses it", async () => {
    // allowPrivate skips the name rule, so this exercises the real lookup path; without it, the name
    // alone is refused.
    const viaDns = await checkOutboundTarget("http://localhost/", { allowPrivate: true });
    expect(viaDns.ok).toBe(true);
    if (viaDns.ok) {
      expect(viaDns.addresses.every((a) => classifyAddress(a.address).class === "loopback")).toBe(true);
    }
    expect(await checkOutboundTarget("http://localhost/", { allowPrivate: false })).toMatchObject({
      ok: false,
      reason: "local_hostname",
    });
  });
});

describe("pinnedLookup", () => {
  const target = {
    hostname: "hooks.example.com",
    addresses: [
      { address: "93.184.216.34", family: 4 as const },
      { address: "2606:2800:220:1::1", family: 6 as const },
    ],
  };

  function ask(host: string, options: object): Promise<{ err: any; address: unknown; family: unknown }> {
    return new Promise((resolve) => {
      pinnedLookup(target)(host, options, (err, address, family) => resolve({ err, address, family }));
    });
  }

  it("answers the checked host with the checked addresses, by family and with all", async () => {
    expect(await ask("hooks.example.com", {})).toEqual({ err: null, address: "93.184.216.34", family: 4 });
    expect(await ask("hooks.example.com", { family: 6 })).toEqual({
      err: null,
      address: "2606:2800:220:1::1",
      family: 6,
    });
    expect(await ask("HOOKS.example.com.", { all: true })).toEqual({
      err: null,
      address: target.addresses,
      family: undefined,
    });
    expect((await ask("hooks.example.com", { all: true, family: 4 })).address).toEqual([target.addresses[0]]);
  });

  it("refuses any other host, and a family that was not checked", async () => {
    const other = await ask("internal.example.com", {});
    expect(other.err?.code).toBe("ENOTFOUND");
    expect(other.err?.message).toContain("not the host that was checked");
    const v4only = await new Promise<any>((resolve) =>
      pinnedLookup({ hostname: "a.example", addresses: [{ address: "8.8.8.8", family: 4 }] })(
        "a.example",
        { family: 6 },
        (err) => resolve(err),
      ),
    );
    expect(v4only?.code).toBe("ENOTFOUND");
  });

  it("answers asynchronously, as DNS does", () => {
    let answered = false;
    pinnedLookup(target)("hooks.example.com", {}, () => {
      answered = true;
    });
    expect(answered).toBe(false);
  });
});
