import { describe, expect, it } from "vitest";
import { FakeClock } from "../testing/fake-clock.js";
import { ConnectionLog } from "./connection-log.js";

describe("ConnectionLog", () => {
  it("keeps entries newest first, folds a repeated mistake into one entry with a count, and stays bounded", () => {
    const clock = new FakeClock();
    const log = new ConnectionLog(clock, (id) => id === "kitchen", 3);
    log.record("connected", "kitchen", "MQTT over TCP", "10.0.0.5");
    log.record("refused", "stranger", "bad username or password", "10.0.0.9");
    clock.advance(1000);
    log.record("refused", "stranger", "bad username or password", "10.0.0.9");
    expect(log.list({ limit: 10 })).toMatchObject([
      { kind: "refused", clientId: "stranger", feederId: null, count: 2, address: "10.0.0.9" },
      { kind: "connected", clientId: "kitchen", feederId: "kitchen", count: 1 },
    ]);
    const [refusal] = log.list({ limit: 1 });
    expect(refusal && refusal.lastAt.getTime() - refusal.firstAt.getTime()).toBe(1000);
    expect(log.list({ limit: 10, feederId: "kitchen" })).toHaveLength(1);
    expect(log.list({ limit: 10, unknownOnly: true })).toHaveLength(1);
    log.record("dropped", "kitchen", "feed: payload is not JSON");
    log.record("disconnected", "kitchen", "");
    expect(log.list({ limit: 10 }).map((e) => e.kind)).toEqual(["disconnected", "dropped", "refused"]);
    log.forget("kitchen");
    expect(log.list({ limit: 10 }).map((e) => e.clientId)).toEqual(["stranger"]);
  });
});
