import { describe, expect, it } from "vitest";
import { profileSchema } from "../profile-schema.js";
import { createMappingCodec } from "./mapping.js";

// A bitmask fault map as the iPettie W5 / Petlibro PLAF101 uses it (protocol-facts §2.2).
const profile = profileSchema.parse({
  id: "bitmask-test",
  name: "Bitmask test",
  vendor: "Test",
  status: "experimental",
  models: [{ id: "t", name: "T" }],
  transport: {
    protocol: "mqtt",
    broker: "external",
    identify: { by: "topic" },
    topics: { fromDevice: ["devices/{deviceKey}/#"], toDevice: ["devices/{deviceKey}/cmnd/#"] },
  },
  codec: "mapping",
  capabilities: {
    feed: { min: 1, max: 12 },
    faults: { encoding: "bitmask", map: { "1": "empty", "2": "jam", "4": "blocked", "8": "battery_low" } },
  },
  mapping: {
    status: { topic: "devices/{deviceKey}/LWT", online: "Online", offline: "Offline" },
    fault: { topic: "devices/{deviceKey}/fault" },
    commands: { feed: { topic: "devices/{deviceKey}/cmnd/feed", payload: '{"id":"{id}","n":{portions}}' } },
  },
});
const codec = createMappingCodec(profile);
const target = { feederId: "abc", deviceKey: "abc", model: undefined };
const fault = (value: string) =>
  codec.decode({ ...target, topic: "devices/abc/fault", payload: Buffer.from(value), retain: false });

describe("mapping codec", () => {
  it("reads a fault bitmask: no bit is ok, the lowest known bit names the fault, unknown bits say so", () => {
    expect(fault("0")).toEqual([{ kind: "fault", fault: "ok" }]);
    expect(fault("2")).toEqual([{ kind: "fault", fault: "jam" }]);
    expect(fault("6")).toEqual([{ kind: "fault", fault: "jam" }]);
    expect(fault("16")).toEqual([{ kind: "fault", fault: "unknown" }]);
    expect(fault("-1")).toEqual({ reason: 'fault: unknown code "-1"' });
  });

  it("expands {deviceKey} in topics and {id} and {portions} in payloads", () => {
    const online = codec.decode({
      ...target,
      topic: "devices/abc/LWT",
      payload: Buffer.from("Online"),
      retain: true,
    });
    expect(online).toEqual([{ kind: "status", online: true }]);
    expect(
      codec.encodeFeed(target, { id: "c1", portions: 2, expiresAt: new Date("2026-11-26T07:00:00Z") }),
    ).toEqual([{ topic: "devices/abc/cmnd/feed", payload: '{"id":"c1","n":2}', qos: 1, retain: false }]);
  });

  it("keeps a device on the embedded broker to its own topics", () => {
    const embedded = {
      ...profile,
      transport: { protocol: "mqtt", broker: "embedded", identify: { by: "credentials" } },
    };
    const paths = profileSchema.safeParse(embedded).error?.issues.map((i) => i.path.join("."));
    expect(paths).toEqual(["mapping.status.topic", "mapping.fault.topic", "mapping.commands.feed.topic"]);
  });

  it("keeps the mapping inside the topic space a vendor device's profile declares", () => {
    const narrow = {
      ...profile,
      transport: {
        ...profile.transport,
        topics: { fromDevice: ["devices/{deviceKey}/LWT"], toDevice: ["devices/{deviceKey}/cmnd/+"] },
      },
    };
    const issues = profileSchema
      .safeParse(narrow)
      .error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(issues).toEqual([
      "mapping.fault.topic: not one of the topics the device publishes (transport.topics.fromDevice)",
    ]);
  });

  it("refuses a profile whose codec and mapping section do not go together", () => {
    const { mapping: _, ...withoutMapping } = profile;
    expect(profileSchema.safeParse(withoutMapping).error?.issues[0]?.message).toBe(
      "codec mapping needs a mapping section, and only it has one",
    );
  });
});
