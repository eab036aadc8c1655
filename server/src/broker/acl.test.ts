import { describe, expect, it } from "vitest";
import {
  authorizeFeederPublish,
  authorizeFeederSubscribe,
  authorizeVendorPublish,
  authorizeVendorSubscribe,
  filterCovers,
  isFeederIdentity,
  mayDeliverToFeeder,
  mayDeliverToVendor,
  topicMatches,
} from "./acl.js";

describe("feeder identities", () => {
  it.each(["#", "+", "a/b", "$SYS", "__proto__", "", "ABC", "a".repeat(33)])("refuses %j", (id) => {
    expect(isFeederIdentity(id)).toBe(false);
  });
  it("accepts generated ids", () => expect(isFeederIdentity("k3x9q2m4p7ab")).toBe(true));
});

describe("publish", () => {
  it("allows the feeder's own device channels", () => {
    expect(authorizeFeederPublish("a1", "feedkeeper/a1/feed")).toEqual({ allow: true });
    expect(authorizeFeederPublish("a1", "feedkeeper/a1/status")).toEqual({ allow: true });
  });
  it.each([
    "feedkeeper/b2/feed",
    "feedkeeper/a1/cmd/feed",
    "feedkeeper/a1/cmd",
    "feedkeeper/a1/",
    "feedkeeper/server/status",
    "feedkeeper/a10/feed",
    "other/a1/feed",
  ])("refuses %s", (topic) => {
    expect(authorizeFeederPublish("a1", topic).allow).toBe(false);
  });
});

describe("subscribe", () => {
  it.each([
    "feedkeeper/a1/cmd/#",
    "feedkeeper/a1/cmd/feed",
    "feedkeeper/a1/cmd/+",
    "feedkeeper/server/status",
  ])("allows %s", (filter) => expect(authorizeFeederSubscribe("a1", filter)).toBe(true));
  it.each([
    "#",
    "feedkeeper/#",
    "feedkeeper/+/cmd/#",
    "feedkeeper/b2/cmd/#",
    "feedkeeper/a1/#",
    "feedkeeper/a1/feed",
    "$SYS/#",
    "feedkeeper/a1/cmd/feed/#",
  ])("refuses %s", (filter) => expect(authorizeFeederSubscribe("a1", filter)).toBe(false));
});

describe("delivery", () => {
  it("delivers only the feeder's own live commands and the server status", () => {
    expect(mayDeliverToFeeder("a1", "feedkeeper/a1/cmd/feed", false)).toBe(true);
    expect(mayDeliverToFeeder("a1", "feedkeeper/server/status", true)).toBe(true);
    expect(mayDeliverToFeeder("a1", "feedkeeper/a1/cmd/feed", true)).toBe(false);
    expect(mayDeliverToFeeder("a1", "feedkeeper/b2/cmd/feed", false)).toBe(false);
  });
});

describe("MQTT filters", () => {
  it.each([
    ["dl/+/S1/device/+/post", "dl/PLAF103/S1/device/event/post", true],
    ["dl/+/S1/device/+/post", "dl/PLAF103/S2/device/event/post", false],
    ["dl/+/S1/device/+/post", "dl/PLAF103/S1/device/event/post/x", false],
    ["a/#", "a", true],
    ["a/#", "a/b/c", true],
    ["a/b", "a", false],
    ["krs.api.gts.G1", "krs.api.gts.G1", true],
  ])("%s matches %s: %s", (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  it.each([
    ["dl/+/S1/device/+/sub", "dl/PLAF103/S1/device/service/sub", true],
    ["dl/+/S1/device/+/sub", "dl/+/S1/device/+/sub", true],
    ["dl/+/S1/device/+/sub", "dl/#", false],
    ["dl/+/S1/device/+/sub", "dl/+/+/device/+/sub", false],
    ["a/#", "a/+/c", true],
    ["a/b", "a/+", false],
  ])("%s covers %s: %s", (allowed, requested, expected) => {
    expect(filterCovers(allowed, requested)).toBe(expected);
  });

  it("keeps a vendor device to its profile's topics, and delivers it nothing retained", () => {
    const space = { fromDevice: ["dl/+/S1/device/+/post"], toDevice: ["dl/+/S1/device/+/sub"] };
    expect(authorizeVendorPublish(space, "dl/PLAF103/S1/device/event/post")).toEqual({ allow: true });
    expect(authorizeVendorPublish(space, "dl/PLAF103/S2/device/event/post").allow).toBe(false);
    expect(authorizeVendorSubscribe(space, "dl/#")).toBe(false);
    expect(mayDeliverToVendor(space, "dl/PLAF103/S1/device/service/sub", false)).toBe(true);
    expect(mayDeliverToVendor(space, "dl/PLAF103/S1/device/service/sub", true)).toBe(false);
  });
});
