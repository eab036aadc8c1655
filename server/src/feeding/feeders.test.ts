import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AppError } from "../errors.js";
import { FIRST_HOUSEHOLD } from "../store/schema.js";
import { FakeClock } from "../testing/fake-clock.js";
import { silentLogger, tempStore } from "../testing/temp-store.js";
import { FeederService, type ProfileCatalog } from "./feeders.js";

const catalog: ProfileCatalog = {
  require(id) {
    if (id === "small") {
      return {
        models: [{ id: "s" }],
        capabilities: { feed: { max: 4 } },
        transport: { broker: "embedded", identify: { by: "credentials" } },
      };
    }
    if (id === "z2m") {
      return {
        models: [{ id: "c1" }],
        capabilities: { feed: { max: 10 } },
        transport: { broker: "external", identify: { by: "topic" } },
      };
    }
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
    expect(
      feeders.create({ householdId: FIRST_HOUSEHOLD, name: "A", profile: "small" }).feeder.maxPortions,
    ).toBe(4);
    expect(() =>
      feeders.create({ householdId: FIRST_HOUSEHOLD, name: "B", profile: "small", maxPortions: 5 }),
    ).toThrow('maxPortions: the "small" profile can feed at most 4 at once.');
  });

  it("refuses a profile whose devices sit on an external broker when none is configured", () => {
    expect(() =>
      feeders.create({ householdId: FIRST_HOUSEHOLD, name: "C1", profile: "z2m", deviceKey: "kitchen" }),
    ).toThrow(/set FEEDKEEPER_MQTT_URL first/);
    expect(() => feeders.create({ householdId: FIRST_HOUSEHOLD, name: "X", profile: "nope" })).toThrow(
      'Unknown device profile "nope".',
    );
    expect(feeders.list(FIRST_HOUSEHOLD)).toEqual([]);
  });
});

describe("how a feeder's device is known", () => {
  const withBroker = () =>
    new FeederService(store, new FakeClock(), silentLogger, catalog, { externalBroker: true });

  it("issues credentials to devices using Feedkeeper's own, and takes no device key for them", () => {
    const { feeder, password } = feeders.create({
      householdId: FIRST_HOUSEHOLD,
      name: "A",
      profile: "small",
    });
    expect(password).toMatch(/.{20,}/);
    expect(feeder.deviceKey).toBeNull();
    expect(feeder.profileModel).toBe("s");
    expect(() =>
      feeders.create({ householdId: FIRST_HOUSEHOLD, name: "B", profile: "small", deviceKey: "x" }),
    ).toThrow(/no device key/);
  });

  it("knows a device on an external broker by its key there, once, and issues nothing", () => {
    const service = withBroker();
    expect(() => service.create({ householdId: FIRST_HOUSEHOLD, name: "C1", profile: "z2m" })).toThrow(
      /deviceKey: .* required/,
    );
    const { feeder, password } = service.create({
      householdId: FIRST_HOUSEHOLD,
      name: "C1",
      profile: "z2m",
      deviceKey: "kitchen",
    });
    expect(password).toBeUndefined();
    expect(service.findByDeviceKey("z2m", "kitchen")?.id).toBe(feeder.id);
    expect(() =>
      service.create({ householdId: FIRST_HOUSEHOLD, name: "again", profile: "z2m", deviceKey: "kitchen" }),
    ).toThrow('A feeder for the z2m device "kitchen" already exists.');
    expect(() => service.rotateCredentials(feeder.id)).toThrow(/its own credentials/);
  });

  it("takes only a model the profile has", () => {
    expect(() =>
      feeders.create({ householdId: FIRST_HOUSEHOLD, name: "A", profile: "small", model: "big" }),
    ).toThrow('model: "big" is not a model of the small profile (s).');
  });
});
