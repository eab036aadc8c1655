import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodeHeaderText } from "./ntfy.js";
import { signWebhook, verifyWebhook } from "./webhook.js";

const body = '{"id":"a1","kind":"meal_missed"}';
const now = Date.parse("2026-11-26T07:00:00Z");
const ts = Math.floor(now / 1000);

describe("webhook signature", () => {
  it("is sha256= and the hex HMAC-SHA256 of `<timestamp>.<raw body>`", () => {
    const expected = createHmac("sha256", "s3cret").update(`${ts}.${body}`).digest("hex");
    expect(signWebhook("s3cret", ts, body)).toBe(`sha256=${expected}`);
  });

  it("verifies the right body, secret and a fresh timestamp only", () => {
    const signature = signWebhook("s3cret", ts, body);
    const headers = { signature, timestamp: String(ts) };
    expect(verifyWebhook("s3cret", headers, body, now)).toBe(true);
    expect(verifyWebhook("other", headers, body, now)).toBe(false);
    expect(verifyWebhook("s3cret", headers, `${body} `, now)).toBe(false);
    expect(verifyWebhook("s3cret", { ...headers, timestamp: String(ts + 1) }, body, now)).toBe(false);
    // A replay ten minutes later is refused even though the signature is genuine.
    expect(verifyWebhook("s3cret", headers, body, now + 600_000)).toBe(false);
    expect(verifyWebhook("s3cret", { signature: undefined, timestamp: String(ts) }, body, now)).toBe(false);
  });
});

describe("ntfy header text", () => {
  it("keeps ASCII and sends anything else as an RFC 2047 encoded word", () => {
    expect(encodeHeaderText("Meal missed: Kitchen")).toBe("Meal missed: Kitchen");
    const encoded = encodeHeaderText("給餌器の異常（台所）");
    expect(encoded).toMatch(/^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
    expect(Buffer.from(encoded.slice(10, -2), "base64").toString("utf8")).toBe("給餌器の異常（台所）");
  });
});
