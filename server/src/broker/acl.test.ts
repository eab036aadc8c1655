import { describe, expect, it } from "vitest";
import {
  authorizeFeederPublish,
  authorizeFeederSubscribe,
  isFeederIdentity,
  mayDeliverToFeeder,
} from "./acl.js";

describe("feeder identities", () => {
  it.each(["#", "+", "a/b", "$SYS", "__proto__", "", "ABC", "a".repeat(33)])("refuses %j", (id) => {
    expect(isFeederIdentity(id)).toBe(false);
  });
  it("accepts generated ids", () => expect(isFeederIdentity("k3x9q2m4p7ab")).toBe(true));
});

describe("publish", () => {
  it("allows the feeder's own device channels", () => {
    expect(authorizeFeederPublish("a1", "feedkeeper/a1/feed", false)).toEqual({
      allow: true,
      channel: "feed",
      stripRetain: false,
    });
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
    expect(authorizeFeederPublish("a1", topic, false).allow).toBe(false);
  });
  it("keeps retained state but strips the retain flag from events", () => {
    expect(authorizeFeederPublish("a1", "feedkeeper/a1/status", true)).toMatchObject({ stripRetain: false });
    expect(authorizeFeederPublish("a1", "feedkeeper/a1/feed", true)).toMatchObject({ stripRetain: true });
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
