import { describe, expect, it } from "vitest";
import { HalfOpenLimit } from "./half-open.js";

describe("HalfOpenLimit", () => {
  it("gives each source its share and no more, and a released slot back", () => {
    const limit = new HalfOpenLimit({ perSource: 2, total: 10 });
    const first = limit.take("10.0.0.1");
    expect(first).toBeDefined();
    expect(limit.take("10.0.0.1")).toBeDefined();
    expect(limit.take("10.0.0.1")).toBeUndefined();
    expect(limit.take("10.0.0.2")).toBeDefined();
    first?.();
    expect(limit.take("10.0.0.1")).toBeDefined();
  });

  it("stops at the total whatever the sources", () => {
    const limit = new HalfOpenLimit({ perSource: 5, total: 3 });
    expect(["10.0.0.1", "10.0.0.2", "10.0.0.3"].map((s) => limit.take(s))).not.toContain(undefined);
    expect(limit.take("10.0.1.1")).toBeUndefined();
    expect(limit.held).toBe(3);
  });

  it("counts a release once, however often it is called", () => {
    const limit = new HalfOpenLimit({ perSource: 1, total: 1 });
    const release = limit.take("10.0.0.1");
    release?.();
    release?.();
    expect(limit.held).toBe(0);
    expect(limit.take("10.0.0.1")).toBeDefined();
    expect(limit.take("10.0.0.2")).toBeUndefined();
  });

  it("counts an IPv4 address the same mapped into IPv6, and a whole IPv6 /64 as one source", () => {
    const limit = new HalfOpenLimit({ perSource: 1, total: 10 });
    expect(limit.take("192.168.1.5")).toBeDefined();
    expect(limit.take("::ffff:192.168.1.5")).toBeUndefined();
    expect(limit.take("2001:db8:0:1::1")).toBeDefined();
    expect(limit.take("2001:db8:0:1::2")).toBeUndefined();
    expect(limit.take("2001:db8:0:2::1")).toBeDefined();
  });
});
