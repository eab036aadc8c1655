import { describe, expect, it } from "vitest";
import { isCommonPassword, newPasswordSchema } from "./password-rules.js";

describe("password rules", () => {
  it("takes long, uncommon passwords", () => {
    expect(newPasswordSchema.safeParse("a long enough password").success).toBe(true);
  });

  it.each([
    ["short1234", "at least 10 characters"],
    ["Password123", "most common"],
    ["qwertyuiop", "most common"],
    ["zzzzzzzzzzzz", "most common"],
  ])("refuses %j (%s)", (password, why) => {
    const result = newPasswordSchema.safeParse(password);
    expect(result.error?.issues[0]?.message).toContain(why);
  });

  it("compares without case", () => expect(isCommonPassword("FeedKeeper123")).toBe(true));
});
