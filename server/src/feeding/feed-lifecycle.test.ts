import { describe, expect, it } from "vitest";
import { transitionForReport } from "./feed-lifecycle.js";

describe("transitionForReport", () => {
  it("moves forward through accepted to dispensed", () => {
    expect(transitionForReport("sent", { status: "accepted" })).toMatchObject({
      kind: "move",
      status: "accepted",
    });
    expect(transitionForReport("accepted", { status: "dispensed" })).toMatchObject({
      kind: "move",
      status: "dispensed",
      error: null,
      late: false,
    });
  });

  it("accepts a result that skipped 'accepted' (the accepted message can be lost)", () => {
    expect(transitionForReport("sent", { status: "dispensed" })).toMatchObject({
      kind: "move",
      status: "dispensed",
    });
    expect(transitionForReport("pending", { status: "failed", error: "jam" })).toMatchObject({
      status: "failed",
      error: "jam",
    });
  });

  it("never records a result twice", () => {
    expect(transitionForReport("dispensed", { status: "dispensed" }).kind).toBe("ignore");
    expect(transitionForReport("dispensed", { status: "failed", error: "jam" }).kind).toBe("ignore");
    expect(transitionForReport("failed", { status: "dispensed" }).kind).toBe("ignore");
  });

  it("never moves backwards", () => {
    expect(transitionForReport("accepted", { status: "accepted" }).kind).toBe("ignore");
    expect(transitionForReport("dispensed", { status: "accepted" }).kind).toBe("ignore");
    expect(transitionForReport("expired", { status: "accepted" }).kind).toBe("ignore");
  });

  it("lets the device's late result replace expired or timed_out", () => {
    expect(transitionForReport("timed_out", { status: "dispensed" })).toMatchObject({
      status: "dispensed",
      late: true,
    });
    expect(transitionForReport("expired", { status: "failed", error: "jam" })).toMatchObject({
      status: "failed",
      late: true,
    });
  });

  it("maps a rejection for expiry to expired and any other to failed", () => {
    expect(transitionForReport("sent", { status: "rejected", error: "expired" })).toMatchObject({
      status: "expired",
      error: null,
    });
    expect(transitionForReport("sent", { status: "rejected", error: "busy" })).toMatchObject({
      status: "failed",
      error: "rejected: busy",
    });
    expect(transitionForReport("expired", { status: "rejected", error: "expired" }).kind).toBe("ignore");
  });
});
