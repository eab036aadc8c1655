import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PROTOCOL_VERSION } from "../protocol/native-v1.js";
import { FIRST_HOUSEHOLD, feeders as feedersTable } from "../store/schema.js";
import { FakeClock } from "../testing/fake-clock.js";
import { shippedProfiles } from "../testing/profiles.js";
import { silentLogger, tempStore } from "../testing/temp-store.js";
import { FeederService } from "./feeders.js";
import { FeedService } from "./feeds.js";
import { PetService } from "./pets.js";

const SETTINGS = { defaultExpirySeconds: 60, maxExpirySeconds: 900, resultTimeoutSeconds: 120 };

let store: ReturnType<typeof tempStore>;
let clock: FakeClock;
let feeders: FeederService;
let feeds: FeedService;
let pets: PetService;

beforeEach(() => {
  store = tempStore();
  // Thursday 2026-11-26, 12:00 UTC.
  clock = new FakeClock(Date.parse("2026-11-26T12:00:00Z"));
  feeders = new FeederService(store, clock, silentLogger, shippedProfiles());
  feeds = new FeedService(store, feeders, clock, SETTINGS, silentLogger, "UTC");
  feeds.start({ sendFeed: async () => undefined });
  pets = new PetService(store, clock, "UTC");
});
afterEach(() => {
  feeds.stop();
  store.dispose();
});

function feeder(petId: string | null, portionGrams?: number): string {
  const id = feeders.create({ householdId: FIRST_HOUSEHOLD, name: "Bowl", profile: "feedkeeper", petId })
    .feeder.id;
  if (portionGrams !== undefined) {
    feeders.helloReceived(id, {
      protocolVersion: PROTOCOL_VERSION,
      model: "sim",
      firmware: "1",
      capabilities: [],
      portionGrams,
    });
  }
  return id;
}

let reportCount = 0;
/** A meal the device started itself and reports finished at `at`. */
function deviceFeed(
  feederId: string,
  at: string,
  portions: number,
  extra: { grams?: number; status?: "dispensed" | "failed" } = {},
): void {
  feeds.deviceReported(feederId, {
    id: `button-${++reportCount}`,
    status: extra.status ?? "dispensed",
    portions,
    source: "button",
    at: new Date(at),
    grams: extra.grams,
    ...(extra.status === "failed" && { error: "jam" }),
  });
}

function setTimeZone(feederId: string, timezone: string): void {
  store.db.update(feedersTable).set({ timezone }).where(eq(feedersTable.id, feederId)).run();
}

function remoteReport(feederId: string, commandId: string, status: "accepted" | "dispensed", at: number) {
  feeds.deviceReported(feederId, { id: commandId, status, portions: 2, source: "remote", at: new Date(at) });
}

const today = (petId: string, days = 1) => pets.intake(petId, days).days.at(-1);

describe("PetService", () => {
  it("creates, lists, changes and removes pets", () => {
    const rex = pets.create(FIRST_HOUSEHOLD, { name: "Rex", dailyGramsTarget: 120 });
    const tom = pets.create(FIRST_HOUSEHOLD, { name: "Tom" });
    expect(tom.dailyGramsTarget).toBeNull();
    expect(pets.list(FIRST_HOUSEHOLD).map((p) => p.name)).toEqual(["Rex", "Tom"]);
    expect(pets.update(rex.id, { dailyGramsTarget: null })).toMatchObject({
      name: "Rex",
      dailyGramsTarget: null,
    });
    expect(pets.update(tom.id, { name: "Thomas" }).name).toBe("Thomas");
    pets.remove(rex.id);
    expect(() => pets.require(rex.id)).toThrow(expect.objectContaining({ code: "pet_not_found" }));
  });

  it("refuses to link a feeder to a pet that does not exist", () => {
    expect(() => feeder("nosuchpet")).toThrow(expect.objectContaining({ code: "unknown_pet" }));
    const id = feeder(null);
    expect(() => feeders.update(id, { petId: "nosuchpet" })).toThrow(/petId/);
    expect(feeders.require(id).petId).toBeNull();
  });

  it("removing a pet keeps its feeders, unlinked", () => {
    const pet = pets.create(FIRST_HOUSEHOLD, { name: "Rex" });
    const id = feeder(pet.id);
    pets.remove(pet.id);
    expect(feeders.require(id).petId).toBeNull();
  });
});

describe("intake", () => {
  it("counts measured grams over the portion-size estimate", () => {
    const pet = pets.create(FIRST_HOUSEHOLD, { name: "Rex", dailyGramsTarget: 100 });
    const bowl = feeder(pet.id, 10);
    deviceFeed(bowl, "2026-11-26T07:00:00Z", 2, { grams: 23 });
    expect(today(pet.id)).toEqual({
      date: "2026-11-26",
      grams: 23,
      unknownPortions: 0,
      targetGrams: 100,
      percentOfTarget: 23,
    });
  });

  it("estimates unmeasured feeds from the feeder's portion size", () => {
    const pet = pets.create(FIRST_HOUSEHOLD, { name: "Rex", dailyGramsTarget: 80 });
    const bowl = feeder(pet.id, 12.5);
    deviceFeed(bowl, "2026-11-26T07:00:00Z", 3);
    expect(today(pet.id)).toMatchObject({ grams: 37.5, unknownPortions: 0, percentOfTarget: 47 });
  });

  it("reports portions of unknown weight apart instead of counting them as nothing", () => {
    const pet = pets.create(FIRST_HOUSEHOLD, { name: "Rex", dailyGramsTarget: 100 });
    const bowl = feeder(pet.id); // never said hello: no portion size
    deviceFeed(bowl, "2026-11-26T07:00:00Z", 2);
    deviceFeed(bowl, "2026-11-26T08:00:00Z", 1, { grams: 9 });
    expect(today(pet.id)).toMatchObject({ grams: 9, unknownPortions: 2, percentOfTarget: 9 });
  });

  it("adds up the pet's feeders and leaves out other pets', unlinked feeders and failed feeds", () => {
    const rex = pets.create(FIRST_HOUSEHOLD, { name: "Rex" });
    const tom = pets.create(FIRST_HOUSEHOLD, { name: "Tom" });
    const kitchen = feeder(rex.id, 10);
    const hall = feeder(rex.id, 5);
    const toms = feeder(tom.id, 10);
    const spare = feeder(null, 10);
    deviceFeed(kitchen, "2026-11-26T07:00:00Z", 2);
    deviceFeed(hall, "2026-11-26T08:00:00Z", 3);
    deviceFeed(kitchen, "2026-11-26T09:00:00Z", 4, { status: "failed" });
    deviceFeed(toms, "2026-11-26T07:00:00Z", 5);
    deviceFeed(spare, "2026-11-26T07:00:00Z", 5);
    expect(today(rex.id)).toMatchObject({
      grams: 35,
      unknownPortions: 0,
      targetGrams: null,
      percentOfTarget: null,
    });
    expect(today(tom.id)).toMatchObject({ grams: 50 });
  });

  it("does not count a feed whose outcome is unknown (timed out)", () => {
    const pet = pets.create(FIRST_HOUSEHOLD, { name: "Rex" });
    const bowl = feeder(pet.id, 10);
    const { feed } = feeds.request({ feederId: bowl, portions: 2 });
    remoteReport(bowl, feed.commandId, "accepted", clock.now());
    clock.advance(SETTINGS.resultTimeoutSeconds * 1000);
    expect(feeds.require(feed.id).status).toBe("timed_out");
    expect(today(pet.id)).toMatchObject({ grams: 0, unknownPortions: 0 });
  });

  it("lists the last days oldest first, ending today, with empty days at zero", () => {
    const pet = pets.create(FIRST_HOUSEHOLD, { name: "Rex", dailyGramsTarget: 50 });
    const bowl = feeder(pet.id, 10);
    deviceFeed(bowl, "2026-11-19T07:00:00Z", 9); // 8 days ago: outside a 7-day window
    deviceFeed(bowl, "2026-11-20T07:00:00Z", 1);
    deviceFeed(bowl, "2026-11-24T07:00:00Z", 5);
    const { days } = pets.intake(pet.id, 7);
    expect(days.map((d) => d.date)).toEqual([
      "2026-11-20",
      "2026-11-21",
      "2026-11-22",
      "2026-11-23",
      "2026-11-24",
      "2026-11-25",
      "2026-11-26",
    ]);
    expect(days.map((d) => d.grams)).toEqual([10, 0, 0, 0, 50, 0, 0]);
    expect(days.map((d) => d.percentOfTarget)).toEqual([20, 0, 0, 0, 100, 0, 0]);
  });

  it("splits days at local midnight in the feeders' shared time zone, by when a feed was dispensed", () => {
    const pet = pets.create(FIRST_HOUSEHOLD, { name: "Rex" });
    const kitchen = feeder(pet.id, 10);
    const hall = feeder(pet.id, 10);
    setTimeZone(kitchen, "America/New_York");
    setTimeZone(hall, "America/New_York");
    deviceFeed(kitchen, "2026-11-26T03:00:00Z", 1); // 22:00 on the 25th in New York, the 26th in UTC
    deviceFeed(hall, "2026-11-26T06:00:00Z", 2); // 01:00 on the 26th in New York
    // Requested at 23:59 on the 26th (New York), dispensed at 00:01 on the 27th: it counts on the 27th.
    clock.advance(Date.parse("2026-11-27T04:59:00Z") - clock.now());
    const { feed } = feeds.request({ feederId: kitchen, portions: 4 });
    remoteReport(kitchen, feed.commandId, "accepted", clock.now());
    remoteReport(kitchen, feed.commandId, "dispensed", Date.parse("2026-11-27T05:01:00Z"));
    clock.advance(Date.parse("2026-11-27T12:00:00Z") - clock.now());

    const intake = pets.intake(pet.id, 3);
    expect(intake.timezone).toBe("America/New_York");
    expect(intake.days).toMatchObject([
      { date: "2026-11-25", grams: 10 },
      { date: "2026-11-26", grams: 20 },
      { date: "2026-11-27", grams: 40 },
    ]);

    // Feeders in different zones: the server's zone (UTC here) decides.
    setTimeZone(hall, "Europe/Berlin");
    const utc = pets.intake(pet.id, 3);
    expect(utc.timezone).toBe("UTC");
    expect(utc.days).toMatchObject([
      { date: "2026-11-25", grams: 0 },
      { date: "2026-11-26", grams: 30 },
      { date: "2026-11-27", grams: 40 },
    ]);
  });
});
