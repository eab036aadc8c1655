import { describe, expect, it } from "vitest";
import { assertObjectAccessCovers } from "./object-access.js";

describe("assertObjectAccessCovers", () => {
  it("accepts routes whose every parameter has a rule", () => {
    expect(() =>
      assertObjectAccessCovers([
        "/api/feeders",
        "/api/feeders/{id}/schedule/skips/{date}/{mealId}",
        "/api/feeds/{feedId}",
      ]),
    ).not.toThrow();
  });

  it("refuses to start with a parameter nobody decided how to check, naming it", () => {
    expect(() => assertObjectAccessCovers(["/api/feeders/{id}", "/api/webhooks/{id}/test"])).toThrow(
      "No object access rule for /api/webhooks/{id}",
    );
    // The same name under a checked object is not enough: each position is its own decision.
    expect(() => assertObjectAccessCovers(["/api/feeders/{id}/photos/{photoId}"])).toThrow(
      "/api/feeders/{id}/photos/{photoId}",
    );
  });
});
