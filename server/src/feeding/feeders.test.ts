import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AppError } from "../errors.js";
import { FakeClock } from "../testing/fake-clock.js";
import { silentLogger, tempStore } from "../testing/temp-store.js";
import { FeederService, type ProfileCatalog } from "./feeders.js";

const catalog: ProfileCatalog = {
  require(id) {
    if (id === "small") return { capabilities: { feed: { max: 4 } }, transport: { broker: "embedded" } };
    if (id === "z2m") return { capabilities: { feed: { max: 10 } }, transport: { broker: "external" } };
    throw new AppError("unknown_profile", `Unknown device profile "${id}".`);
  },
};

let store: ReturnType<typeof tempStore>;
let feeders: FeederService;
beforeEach(() => {
  store = tempStore();
  feeders = new FeederService(store, new FakeClock(), silentLogger, catalog);
});
afterEach(() => store.dispose());

describe("FeederService and the feeder's profile", () => {
  it("caps the default portions a feed may ask for at what the profile can dispense", () => {
    expect(feeders.create({ name: "A", profile: "small" }).feeder.maxPortions).toBe(4);
    expect(() => feeders.create({ name: "B", profile: "small", maxPortions: 5 })).toThrow(
      'maxPortions: the "small" profile can feed at most 4 at once.',
    );
  });

  it("refuses a profile whose devices sit on an external broker, which the server cannot reach yet", () => {
    expect(() => feeders.create({ name: "C1", profile: "z2m" })).toThrow(/external MQTT broker/);
    expect(() => feeders.create({ name: "X", profile: "nope" })).toThrow('Unknown device profile "nope".');
    expect(feeders.list()).toEqual([]);
  });
});
