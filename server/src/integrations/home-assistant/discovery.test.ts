import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { shippedProfiles } from "../../testing/profiles.js";
import {
  buildDiscovery,
  type DevicePayload,
  type DiscoveryFeeder,
  ENTITIES,
  entityTable,
} from "./discovery.js";

const FIXTURES = path.resolve(import.meta.dirname, "../../../../test/fixtures/home-assistant");
const DOC = path.resolve(import.meta.dirname, "../../../../docs/home-assistant.md");
const OPTIONS = { prefix: "homeassistant", origin: { name: "Feedkeeper", sw: "1.2.3" } };

const NATIVE: DiscoveryFeeder = {
  id: "k7x2m9q4ab1c",
  name: "Kitchen",
  profileModel: "any",
  model: "fk-sim",
  firmware: "1.4.0",
  maxPortions: 10,
};
const AQARA: DiscoveryFeeder = {
  id: "z3c1aqara001",
  name: "Hallway",
  profileModel: null,
  model: null,
  firmware: null,
  maxPortions: 4,
};

/** One feeder per representative family: everything a profile can declare, and next to nothing. */
const CASES: Array<{ fixture: string; profile: string; feeder: DiscoveryFeeder }> = [
  {
    fixture: "native-feeder.json",
    profile: "feedkeeper",
    feeder: NATIVE,
  },
  {
    fixture: "zigbee2mqtt-aqara-c1.json",
    profile: "zigbee2mqtt-aqara-c1",
    feeder: AQARA,
  },
  {
    fixture: "petnet-smartfeeder-v2.json",
    profile: "petnet-smartfeeder-v2",
    feeder: {
      id: "p2net000cafe",
      name: "Study",
      profileModel: null,
      model: null,
      firmware: "2.0.7",
      maxPortions: 32,
    },
  },
];

function build(profileId: string, feeder: DiscoveryFeeder) {
  return buildDiscovery(feeder, shippedProfiles().require(profileId), OPTIONS);
}

describe("Home Assistant discovery payloads", () => {
  for (const { fixture, profile, feeder } of CASES) {
    it(`matches the recorded payload of ${fixture}`, () => {
      const recorded = JSON.parse(fs.readFileSync(path.join(FIXTURES, fixture), "utf8"));
      expect(build(profile, feeder)).toEqual(recorded);
    });
  }

  it("is a valid device-based discovery config", () => {
    for (const { profile, feeder } of CASES) {
      const { topic, payload } = build(profile, feeder);
      // Home Assistant's topic matcher: ids of [a-zA-Z0-9_-] only.
      expect(topic).toMatch(/^homeassistant\/device\/[a-zA-Z0-9_-]+\/config$/);
      expect(payload.o.name).toBe("Feedkeeper");
      expect(payload.dev.ids).toEqual([`feedkeeper_${feeder.id}`]);
      expect(payload.dev.name).toBe(feeder.name);
      expect(payload.availability_mode).toBe("all");
      const ids = new Set<string>();
      for (const [id, cmp] of Object.entries(payload.cmps)) {
        expect(id).toMatch(/^[a-zA-Z0-9_-]+$/);
        expect(cmp.p).toMatch(/^(button|number|sensor|binary_sensor)$/);
        expect(cmp.unique_id).toBe(`feedkeeper_${feeder.id}_${id}`);
        expect(ids.has(cmp.unique_id)).toBe(false);
        ids.add(cmp.unique_id);
        if (cmp.p === "button" || cmp.p === "number") expect(cmp.command_topic).toBeTypeOf("string");
        // Every entity reads the shared state topic or has its own.
        if (cmp.p !== "button") expect(cmp.value_template).toBeTypeOf("string");
      }
    }
  });

  it("offers only what the profile's capability model declares", () => {
    const entities = (p: DevicePayload) => Object.keys(p.cmps);
    const aqara = build("zigbee2mqtt-aqara-c1", AQARA).payload;
    expect(entities(aqara)).toContain("link_quality");
    expect(entities(aqara)).not.toContain("battery");
    expect(entities(aqara)).not.toContain("food_level");
    const native = build("feedkeeper", NATIVE).payload;
    expect(entities(native)).toEqual(
      expect.arrayContaining([
        "feed",
        "portions",
        "food_level",
        "battery",
        "last_meal",
        "next_meal",
        "online",
        "problem",
      ]),
    );
    expect(native.cmps.portions).toMatchObject({ min: 1, max: 10, step: 1 });
  });

  it("keeps every unique_id when a feeder is renamed", () => {
    const feeder = NATIVE;
    const before = build("feedkeeper", feeder);
    const after = build("feedkeeper", { ...feeder, name: "Living room" });
    expect(after.topic).toBe(before.topic);
    expect(after.payload.dev.name).toBe("Living room");
    expect({ ...after.payload, dev: before.payload.dev }).toEqual(before.payload);
  });

  it("ties device readings to the feeder and the server, and what the server knows to the server only", () => {
    const { payload } = build("feedkeeper", NATIVE);
    expect(payload.availability.map((a) => a.topic)).toEqual([
      "feedkeeper/ha/status",
      "feedkeeper/ha/k7x2m9q4ab1c/availability",
    ]);
    expect(payload.cmps.battery?.availability).toBeUndefined();
    expect(payload.cmps.online?.availability).toEqual([
      { topic: "feedkeeper/ha/status", payload_available: "online", payload_not_available: "offline" },
    ]);
  });

  it("is what docs/home-assistant.md lists", () => {
    const doc = fs.readFileSync(DOC, "utf8");
    const table = /<!-- entities:start -->\n([\s\S]*?)\n<!-- entities:end -->/.exec(doc)?.[1];
    // Cells compared, not padding: the formatter aligns the document's columns.
    const cells = (markdown: string | undefined) =>
      (markdown ?? "").split("\n").map((row) =>
        row
          .split("|")
          .map((cell) => cell.trim().replace(/^-+$/, "---"))
          .join("|"),
      );
    expect(cells(table), "regenerate the table with entityTable()").toEqual(cells(entityTable()));
    expect(ENTITIES.length).toBeGreaterThan(8);
  });
});
