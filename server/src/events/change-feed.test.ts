import { describe, expect, it } from "vitest";
import { ChangeFeed, type LiveChange } from "./change-feed.js";

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("ChangeFeed", () => {
  it("delivers a household's changes to its subscribers only, once per turn and without repeats", async () => {
    const feed = new ChangeFeed((feederId) => (feederId === "gone" ? undefined : "home"));
    const home: LiveChange[][] = [];
    const other: LiveChange[][] = [];
    feed.subscribe("home", "user-home", (c) => home.push(c));
    feed.subscribe("other", "user-other", (c) => other.push(c));

    feed.publish("home", { kind: "feeder", feederId: "a" });
    feed.publish("home", { kind: "feeder", feederId: "a" });
    feed.publish("home", { kind: "feeder", feederId: "b" });
    expect(home).toEqual([]);
    await turn();
    expect(home).toEqual([
      [
        { kind: "feeder", feederId: "a" },
        { kind: "feeder", feederId: "b" },
      ],
    ]);
    expect(other).toEqual([]);
  });

  it("gives changes for everyone to every household", async () => {
    const feed = new ChangeFeed((feederId) => (feederId === "gone" ? undefined : "home"));
    const seen: string[] = [];
    feed.subscribe("home", "user-home", (c) => seen.push(`home ${c.map((x) => x.kind)}`));
    feed.subscribe("other", "user-other", (c) => seen.push(`other ${c.map((x) => x.kind)}`));
    feed.publish(null, { kind: "alerts" });
    await turn();
    expect(seen.sort()).toEqual(["home alerts", "other alerts"]);
  });

  it("tells a feeder's household that it changed, and no one of a feeder that is gone", async () => {
    const feed = new ChangeFeed((feederId) => (feederId === "gone" ? undefined : "home"));
    const seen: LiveChange[][] = [];
    feed.subscribe("home", "user-home", (c) => seen.push(c));
    feed.feederChanged("a");
    feed.feederChanged("gone");
    await turn();
    expect(seen).toEqual([[{ kind: "feeder", feederId: "a" }]]);
  });

  it("stops delivering after unsubscribe, and keeps nothing while nobody listens", async () => {
    const feed = new ChangeFeed((feederId) => (feederId === "gone" ? undefined : "home"));
    const seen: LiveChange[][] = [];
    const off = feed.subscribe("home", "user-home", (c) => seen.push(c));
    feed.subscribe("home", "user-home", () => undefined);
    expect(feed.subscriptionCount()).toBe(2);
    expect(feed.subscriptionCount("user-home")).toBe(2);
    expect(feed.subscriptionCount("someone else")).toBe(0);
    off();
    off();
    expect(feed.subscriptionCount("user-home")).toBe(1);
    feed.publish("home", { kind: "feeders" });
    await turn();
    expect(seen).toEqual([]);
    // Changes published with nobody listening are not held for a later subscriber.
    feed.subscribe("home", "user-home", (c) => seen.push(c));
    await turn();
    expect(seen).toEqual([]);
  });
});
