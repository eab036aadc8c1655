import { describe, expect, it } from "vitest";
import { FakeClock } from "../testing/fake-clock.js";
import { AttemptThrottle, loginKeys, mqttKeys, sourceOf, type ThrottleKey } from "./attempt-throttle.js";

const key = (name: string, limit = 5): ThrottleKey[] => [{ key: name, limit }];

/** What a caller does: check, and count the attempt only when it was checked and wrong. */
function tryWrong(throttle: AttemptThrottle, keys: ThrottleKey[]): boolean {
  if (throttle.check(keys).throttled) return false;
  throttle.failed(keys);
  return true;
}

describe("AttemptThrottle", () => {
  it("lets `limit` failures through, then refuses until the delay has passed", () => {
    const clock = new FakeClock();
    const throttle = new AttemptThrottle(clock);
    const k = key("account:owner@10.0.0.9");
    for (let i = 0; i < 5; i++) expect(tryWrong(throttle, k)).toBe(true);
    expect(throttle.check(k)).toEqual({ throttled: true, key: k[0]?.key, retryAfterMs: 1000 });
    // Refused attempts are not counted: hammering does not lengthen the lock.
    for (let i = 0; i < 50; i++) expect(tryWrong(throttle, k)).toBe(false);
    clock.advance(999);
    expect(throttle.check(k).throttled).toBe(true);
    clock.advance(1);
    expect(throttle.check(k).throttled).toBe(false);
  });

  it("doubles the delay per further failure, up to 15 minutes", () => {
    const clock = new FakeClock();
    const throttle = new AttemptThrottle(clock);
    const k = key("a");
    const waits: number[] = [];
    for (let i = 0; i < 20; i++) {
      throttle.failed(k);
      const verdict = throttle.check(k);
      if (verdict.throttled) {
        waits.push(verdict.retryAfterMs / 1000);
        clock.advance(verdict.retryAfterMs);
      }
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900, 900, 900]);
  });

  it("forgets a key's failures after a whole window without one", () => {
    const clock = new FakeClock();
    const throttle = new AttemptThrottle(clock, { windowMs: 60_000 });
    const k = key("a");
    for (let i = 0; i < 4; i++) throttle.failed(k);
    clock.advance(60_000);
    throttle.failed(k);
    expect(throttle.check(k).throttled).toBe(true);
    clock.advance(60_001);
    throttle.failed(k);
    expect(throttle.check(k).throttled).toBe(false);
  });

  it("on success starts the specific key afresh and takes the up-front count back from the address", () => {
    const clock = new FakeClock();
    const throttle = new AttemptThrottle(clock);
    const keys = loginKeys("owner", "10.0.0.9");
    for (let i = 0; i < 4; i++) throttle.failed(keys);
    // The fifth attempt is counted before the password is checked, and turns out right.
    throttle.failed(keys);
    expect(throttle.check(keys).throttled).toBe(true);
    throttle.succeeded(keys);
    expect(throttle.check(keys).throttled).toBe(false);
    // The address still remembers the four wrong ones.
    expect(throttle.size).toBe(1);
  });

  it("never locks an account as such: the owner from a clean address is not affected", () => {
    const clock = new FakeClock();
    const throttle = new AttemptThrottle(clock);
    for (let i = 0; i < 50; i++) tryWrong(throttle, loginKeys("owner", "203.0.113.7"));
    expect(throttle.check(loginKeys("owner", "203.0.113.7")).throttled).toBe(true);
    expect(throttle.check(loginKeys("owner", "192.168.1.20")).throttled).toBe(false);
    expect(throttle.check(mqttKeys("owner", "203.0.113.7")).throttled).toBe(false);
  });

  it("refuses everything from an address that tried too many accounts, and only from it", () => {
    const clock = new FakeClock();
    const throttle = new AttemptThrottle(clock);
    let letThrough = 0;
    for (let i = 0; i < 100; i++) if (tryWrong(throttle, loginKeys(`user${i}`, "203.0.113.7"))) letThrough++;
    expect(letThrough).toBe(20);
    expect(throttle.check(loginKeys("owner", "203.0.113.7")).throttled).toBe(true);
    expect(throttle.check(loginKeys("owner", "192.168.1.20")).throttled).toBe(false);
    // A locked address adds no keys: 20 accounts and the address itself.
    expect(throttle.size).toBe(21);
  });

  it("does not let one device retrying an old password lock out the others at its address", () => {
    const clock = new FakeClock();
    const throttle = new AttemptThrottle(clock);
    const address = "172.17.0.1"; // a container port proxy: every feeder seems to come from here
    for (let i = 0; i < 24 * 60; i++) {
      tryWrong(throttle, mqttKeys("stale-feeder", address));
      tryWrong(throttle, mqttKeys("other-stale-feeder", address));
      clock.advance(60_000);
    }
    expect(throttle.check(mqttKeys("stale-feeder", address)).throttled).toBe(true);
    expect(throttle.check(mqttKeys("good-feeder", address)).throttled).toBe(false);
  });

  it("holds at most maxKeys keys", () => {
    const throttle = new AttemptThrottle(new FakeClock(), { maxKeys: 100 });
    for (let i = 0; i < 1000; i++) throttle.failed(key(`k${i}`));
    expect(throttle.size).toBe(100);
  });

  it("logs one warning per lock, naming the key but no secret", () => {
    const lines: unknown[] = [];
    const logger = { warn: (obj: unknown) => lines.push(obj) } as never;
    const throttle = new AttemptThrottle(new FakeClock(), {}, logger);
    const k = key("account:owner@10.0.0.9");
    for (let i = 0; i < 30; i++) tryWrong(throttle, k);
    expect(lines).toEqual([{ key: "account:owner@10.0.0.9", failures: 5, retryAfterSeconds: 1 }]);
  });
});

describe("sourceOf", () => {
  it("keys IPv4 as is (also mapped into IPv6) and IPv6 by its /64", () => {
    expect(sourceOf("192.168.1.5")).toBe("192.168.1.5");
    expect(sourceOf("::ffff:192.168.1.5")).toBe("192.168.1.5");
    expect(sourceOf("2001:db8:aa:bb:1:2:3:4")).toBe("2001:db8:aa:bb::/64");
    expect(sourceOf("2001:db8:aa:bb::99")).toBe("2001:db8:aa:bb::/64");
    expect(sourceOf("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(sourceOf("::1")).toBe("0:0:0:0::/64");
    expect(sourceOf(undefined)).toBe("unknown");
  });
});
