import { describe, expect, it } from "vitest";
import { verifySecret } from "../auth/secrets.js";
import { FakeClock } from "../testing/fake-clock.js";
import {
  NEW_PENDING_WINDOW_MS,
  PENDING_EXPIRES_MS,
  PENDING_RECONNECT_MS,
  PendingDevices,
} from "./pending-devices.js";

const device = (deviceKey: string, password = "vendor-secret") => ({
  profile: "acme",
  deviceKey,
  clientId: `ACME-${deviceKey}`,
  password,
  address: "192.168.1.20",
});

describe("PendingDevices", () => {
  it("holds a stranger once, keeps only the hash of its password and the names of its topics", () => {
    const clock = new FakeClock();
    const pending = new PendingDevices(clock);
    const first = pending.admit(device("A1"));
    if (!first.admitted) throw new Error("refused");
    expect(verifySecret("vendor-secret", first.pending.secretHash)).toBe(true);
    expect(JSON.stringify(pending.list())).not.toContain("vendor-secret");
    pending.published(first.pending.id, "acme/AF2/A1/up/status", ["AF1", "AF2"]);
    expect(pending.get(first.pending.id)).toMatchObject({
      topics: ["acme/AF2/A1/up/status"],
      suggestedModel: "AF2",
    });

    clock.advance(PENDING_RECONNECT_MS - 1);
    expect(pending.admit(device("A1"))).toEqual({
      admitted: false,
      reason: "pending device reconnecting too often",
    });
    clock.advance(1);
    const again = pending.admit(device("A1", "changed"));
    expect(again.admitted && again.pending.id).toBe(first.pending.id);
    expect(again.admitted && verifySecret("changed", again.pending.secretHash)).toBe(true);
    expect(pending.list()).toHaveLength(1);
  });

  it("forgets a device an hour after it was last seen, and admits only so many new ones per window", () => {
    const clock = new FakeClock();
    const pending = new PendingDevices(clock);
    for (let i = 0; i < 10; i++) expect(pending.admit(device(`K${i}`)).admitted).toBe(true);
    expect(pending.admit(device("K10"))).toEqual({
      admitted: false,
      reason: "too many unknown devices connecting; try again later",
    });
    clock.advance(NEW_PENDING_WINDOW_MS);
    expect(pending.admit(device("K10")).admitted).toBe(true);
    clock.advance(PENDING_EXPIRES_MS + 1);
    expect(pending.list()).toEqual([]);
  });
});
