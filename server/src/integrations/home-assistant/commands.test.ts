import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuditLog } from "../../auth/audit-log.js";
import { FIRST_HOUSEHOLD } from "../../store/schema.js";
import { FakeClock } from "../../testing/fake-clock.js";
import { type MealServices, startMealServices } from "../../testing/meal-services.js";
import { silentLogger } from "../../testing/temp-store.js";
import { type Actor, HA_FEED_ACTION, HomeAssistantCommands } from "./commands.js";

const EXTERNAL: Actor = { name: "Home Assistant", userId: null, householdId: null, role: null };
const LIVE = { retain: false, dup: false };
const press = Buffer.from("PRESS");

let clock: FakeClock;
let services: MealServices;
let audit: AuditLog;
let commands: HomeAssistantCommands;
let feederId: string;
let portions: number;

beforeEach(() => {
  clock = new FakeClock();
  services = startMealServices(clock, "UTC", { sendFeed: async () => "sent" });
  audit = new AuditLog(services.store, clock, silentLogger, 30);
  portions = 1;
  commands = new HomeAssistantCommands(services.feeders, services.feeds, audit, silentLogger, () => portions);
  feederId = services.feeders.create({
    householdId: FIRST_HOUSEHOLD,
    name: "Kitchen",
    profile: "feedkeeper",
    maxPortions: 4,
    minFeedIntervalSeconds: 0,
  }).feeder.id;
});

afterEach(() => {
  services.feeds.stop();
  services.store.dispose();
});

const feeds = () => services.feeds.listForFeeder(feederId, { limit: 10 });
const topic = (command: string) => `feedkeeper/ha/${feederId}/${command}/set`;

describe("Home Assistant commands", () => {
  it("turns a press into a recorded feed of the set portions, named in the audit log", () => {
    portions = 3;
    expect(commands.handle(topic("feed"), press, LIVE, EXTERNAL)).toEqual({
      kind: "feed",
      feederId,
      result: "requested 3",
    });
    expect(feeds()).toMatchObject([{ source: "home_assistant", portions: 3, status: "pending" }]);
    expect(feeds()[0]?.expiresAt).not.toBeNull();
    expect(audit.list({ householdId: FIRST_HOUSEHOLD, limit: 5 })).toMatchObject([
      { actor: "Home Assistant", action: HA_FEED_ACTION, outcome: "202" },
    ]);
  });

  it("never feeds on a retained, duplicate or malformed press", () => {
    expect(commands.handle(topic("feed"), press, { retain: true, dup: false }, EXTERNAL).kind).toBe(
      "ignored",
    );
    expect(commands.handle(topic("feed"), press, { retain: false, dup: true }, EXTERNAL).kind).toBe(
      "ignored",
    );
    expect(commands.handle(topic("feed"), Buffer.from("ON"), LIVE, EXTERNAL).kind).toBe("ignored");
    expect(commands.handle("feedkeeper/ha/+/feed/set", press, LIVE, EXTERNAL).kind).toBe("ignored");
    expect(commands.handle("feedkeeper/ha/nosuchfeeder/feed/set", press, LIVE, EXTERNAL).kind).toBe(
      "ignored",
    );
    expect(feeds()).toEqual([]);
  });

  it("keeps to the safety limits and says why a press was refused", () => {
    services.feeders.update(feederId, { dailyMaxPortions: 1 });
    portions = 2;
    const outcome = commands.handle(topic("feed"), press, LIVE, EXTERNAL);
    expect(outcome).toMatchObject({ kind: "feed", result: expect.stringMatching(/^refused: .*daily limit/) });
    expect(feeds()).toEqual([]);
    expect(audit.list({ householdId: FIRST_HOUSEHOLD, limit: 5 })[0]).toMatchObject({ outcome: "409" });
  });

  it("takes portions within the feeder's per-feed limit only", () => {
    expect(commands.handle(topic("portions"), Buffer.from("4"), LIVE, EXTERNAL)).toEqual({
      kind: "portions",
      feederId,
      portions: 4,
    });
    for (const bad of ["5", "0", "1.5", "two", ""]) {
      expect(commands.handle(topic("portions"), Buffer.from(bad), LIVE, EXTERNAL).kind).toBe("ignored");
    }
  });

  it("lets a token act on its own household's feeders only", () => {
    const neighbour: Actor = { name: "HA", userId: "u", householdId: "other", role: "owner" };
    expect(commands.handle(topic("feed"), press, LIVE, neighbour)).toMatchObject({ kind: "ignored" });
    const sitter: Actor = { name: "HA", userId: "u", householdId: FIRST_HOUSEHOLD, role: "sitter" };
    expect(commands.handle(topic("feed"), press, LIVE, sitter)).toMatchObject({ kind: "feed" });
    expect(feeds()).toHaveLength(1);
    expect(feeds()[0]?.requestedBy).toBe("u");
  });
});
