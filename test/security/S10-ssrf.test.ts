/**
 * S10 (SSRF, OWASP API7): the outbound-URL guard that webhooks and notifiers will use, against a real HTTP
 * server on 127.0.0.1 that counts the TCP connections it gets. "Refused" must mean no connection at all, not
 * a request that fails later; so each refusal is paired with a control showing the same spelling of the
 * address does reach the server when nothing guards it.
 *
 * `deliver` is the pattern a sender follows: check the URL, then connect through the pinned lookup.
 */
import type { LookupAddress } from "node:dns";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  checkOutboundTarget,
  type OutboundCheck,
  type OutboundCheckOptions,
  type OutboundLookup,
  pinnedLookup,
} from "../../server/src/net/outbound-url.js";

let server: http.Server;
let port: number;
let connections = 0;
const requests: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.end("ok");
  });
  server.on("connection", () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  connections = 0;
  requests.length = 0;
});

/** Long enough for a connection that was started to be accepted: the server is on this machine. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

/** POST with no guard at all: what a sender without the check would do with the URL. */
function unguardedPost(url: string, lookup?: net.LookupFunction): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", agent: false, timeout: 2000, lookup }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.end("{}");
  });
}

/** Check, then POST through the pinned lookup. */
async function deliver(
  url: string,
  options: OutboundCheckOptions,
): Promise<{ check: OutboundCheck; status?: number }> {
  const check = await checkOutboundTarget(url, options);
  if (!check.ok) return { check };
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request(
      check.url,
      { method: "POST", agent: false, timeout: 2000, lookup: pinnedLookup(check) },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.end("{}");
  });
  return { check, status };
}

function lookupFrom(table: Record<string, string[]>): OutboundLookup {
  return async (hostname) =>
    (table[hostname] ?? []).map(
      (address): LookupAddress => ({ address, family: net.isIP(address) as 4 | 6 }),
    );
}

/** Answers `first` the first time it is asked, `then` every time after: a DNS rebinding attacker's server. */
function rebindingLookup(first: string, then: string) {
  const calls: string[] = [];
  const lookup: OutboundLookup = async () => {
    const address = calls.length === 0 ? first : then;
    calls.push(address);
    return [{ address, family: net.isIP(address) as 4 | 6 }];
  };
  /** The same resolver, shaped as the callback `lookup` option of http.request. */
  const asCallback = ((
    hostname: string,
    options: { all?: boolean },
    callback: (...args: unknown[]) => void,
  ) => {
    lookup(hostname, { all: true }).then((answers) => {
      const [a] = answers;
      if (options?.all) callback(null, answers);
      else callback(null, a?.address, a?.family);
    }, callback);
  }) as net.LookupFunction;
  return { lookup, asCallback, calls };
}

describe("S10: URLs that point into the server's own network", () => {
  const spellings = () => [
    `http://127.0.0.1:${port}/hook`,
    `http://2130706433:${port}/hook`,
    `http://0177.0.0.1:${port}/hook`,
    `http://0x7f.1:${port}/hook`,
    `http://127.1:${port}/hook`,
    `http://0.0.0.0:${port}/hook`,
  ];

  it("reach the test server when nothing guards them (the control)", async () => {
    for (const url of spellings()) expect(await unguardedPost(url), url).toBe(200);
    expect(connections).toBe(spellings().length);
  });

  it("are refused before any connection, however the address is spelled", async () => {
    for (const url of [
      ...spellings(),
      `http://[::ffff:127.0.0.1]:${port}/hook`,
      `http://[::ffff:7f00:1]:${port}/hook`,
      `http://[64:ff9b::7f00:1]:${port}/hook`,
      `http://[::1]:${port}/hook`,
      `http://localhost:${port}/hook`,
      "http://127.0.0.1:1883/",
      "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    ]) {
      const { check, status } = await deliver(url, { allowPrivate: false });
      expect(check.ok, url).toBe(false);
      expect(status).toBeUndefined();
      if (!check.ok) expect(["blocked_address", "local_hostname"]).toContain(check.reason);
    }
    await settle();
    expect(connections).toBe(0);
    expect(requests).toEqual([]);
  });

  it("refuses a host name that resolves to 127.0.0.1, without connecting", async () => {
    const lookup = lookupFrom({ "hooks.attacker.example": ["127.0.0.1"] });
    const { check } = await deliver(`http://hooks.attacker.example:${port}/hook`, {
      allowPrivate: false,
      lookup,
    });
    expect(check).toMatchObject({
      ok: false,
      reason: "blocked_address",
      message:
        '"hooks.attacker.example" resolves to 127.0.0.1, a loopback address (this machine). Only public internet addresses are allowed unless local network targets are enabled.',
    });
    await settle();
    expect(connections).toBe(0);
  });

  it("refuses a host name with one public and one loopback address, without connecting", async () => {
    const lookup = lookupFrom({ "hooks.attacker.example": ["93.184.216.34", "::ffff:127.0.0.1"] });
    const { check } = await deliver(`http://hooks.attacker.example:${port}/`, {
      allowPrivate: false,
      lookup,
    });
    expect(check).toMatchObject({ ok: false, reason: "blocked_address", address: { class: "loopback" } });
    await settle();
    expect(connections).toBe(0);
  });

  it("lets a local target through with allowPrivate, and the request arrives", async () => {
    const lookup = lookupFrom({ "ntfy.home.arpa": ["127.0.0.1"] });
    const { check, status } = await deliver(`http://ntfy.home.arpa:${port}/feeder`, {
      allowPrivate: true,
      lookup,
    });
    expect(check.ok).toBe(true);
    expect(status).toBe(200);
    expect(requests).toEqual(["POST /feeder"]);
    expect(connections).toBe(1);
    // An IP literal needs no lookup at all.
    expect((await deliver(`http://127.0.0.1:${port}/direct`, { allowPrivate: true })).status).toBe(200);
  });

  it("still refuses the metadata service and 0.0.0.0 with allowPrivate", async () => {
    for (const url of [`http://0.0.0.0:${port}/`, "http://169.254.169.254/"]) {
      expect((await deliver(url, { allowPrivate: true })).check.ok, url).toBe(false);
    }
    const lookup = lookupFrom({ "meta.example": ["169.254.169.254"] });
    expect((await deliver("http://meta.example/", { allowPrivate: true, lookup })).check.ok).toBe(false);
    await settle();
    expect(connections).toBe(0);
  });
});

describe("S10: DNS rebinding between the check and the connection", () => {
  it("is a real attack without pinning: the second answer reaches 127.0.0.1", async () => {
    const dns = rebindingLookup("93.184.216.34", "127.0.0.1");
    const url = `http://rebind.attacker.example:${port}/steal`;
    const check = await checkOutboundTarget(url, { allowPrivate: false, lookup: dns.lookup });
    expect(check.ok).toBe(true);
    // A sender that resolves again when connecting gets the attacker's second answer.
    expect(await unguardedPost(url, dns.asCallback)).toBe(200);
    expect(requests).toEqual(["POST /steal"]);
    expect(dns.calls).toEqual(["93.184.216.34", "127.0.0.1"]);
  });

  /**
   * Sends a request through http.request with `lookup`, and records what the lookup answered: that is the
   * address the socket would connect to. The answer is then turned into an error, so no connection is made:
   * the pinned address is a public one, and a test must not reach out to the internet.
   */
  function whereWouldItConnect(url: URL, lookup: net.LookupFunction): Promise<unknown[]> {
    return new Promise((resolve) => {
      const answers: unknown[] = [];
      const recording = ((hostname: string, options: object, callback: (...args: unknown[]) => void) =>
        lookup(hostname, options as never, (_err, address) => {
          // With all: true (Node's happy eyeballs) the answer is the list of addresses it would try.
          const list = Array.isArray(address)
            ? address.map((a: { address: string }) => a.address)
            : [address];
          answers.push(...list);
          callback(Object.assign(new Error("stopped before connecting"), { code: "ESTOPPED" }));
        })) as net.LookupFunction;
      const req = http.request(url, { method: "POST", agent: false, lookup: recording });
      req.on("error", () => resolve(answers));
      req.end();
    });
  }

  it("is defeated by the pinned lookup: DNS is not asked again and 127.0.0.1 is never used", async () => {
    const dns = rebindingLookup("93.184.216.34", "127.0.0.1");
    const target = await checkOutboundTarget(`http://rebind.attacker.example:${port}/steal`, {
      allowPrivate: false,
      lookup: dns.lookup,
    });
    if (!target.ok) throw new Error(target.message);
    const pinned = pinnedLookup(target);
    for (let i = 0; i < 3; i++) {
      expect(await whereWouldItConnect(target.url, pinned)).toEqual(["93.184.216.34"]);
    }
    expect(dns.calls).toEqual(["93.184.216.34"]);
    await settle();
    expect(connections).toBe(0);
    expect(requests).toEqual([]);
  });

  it("refuses to resolve any other host, so a redirect elsewhere cannot ride on the first check", async () => {
    const target = await checkOutboundTarget(`http://ntfy.home.arpa:${port}/`, {
      allowPrivate: true,
      lookup: lookupFrom({ "ntfy.home.arpa": ["127.0.0.1"] }),
    });
    if (!target.ok) throw new Error(target.message);
    const err = await unguardedPost(`http://metadata.internal:${port}/`, pinnedLookup(target)).catch(
      (e) => e,
    );
    expect(err).toMatchObject({ code: "ENOTFOUND" });
    await settle();
    expect(connections).toBe(0);
  });
});
