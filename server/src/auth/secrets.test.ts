import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "./passwords.js";
import { hashSecret, newSecret, randomId, verifySecret } from "./secrets.js";

describe("secrets", () => {
  it("makes topic-safe ids", () => {
    const ids = new Set(Array.from({ length: 200 }, () => randomId()));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]{12}$/);
  });

  it("makes secrets of at least 128 bits", () => {
    expect(Buffer.from(newSecret(), "base64url").length * 8).toBeGreaterThanOrEqual(128);
  });

  it("stores secrets salted: the same secret hashes differently, and verifies", () => {
    const secret = newSecret();
    const a = hashSecret(secret);
    const b = hashSecret(secret);
    expect(a).not.toBe(b);
    expect(a).not.toContain(secret);
    expect(verifySecret(secret, a)).toBe(true);
    expect(verifySecret(`${secret}x`, a)).toBe(false);
    expect(verifySecret(secret, "garbage")).toBe(false);
  });

  it("hashes passwords with scrypt and verifies them", async () => {
    const hash = await hashPassword("correct horse battery");
    expect(hash).toMatch(/^scrypt\$/);
    expect(await verifyPassword("correct horse battery", hash)).toBe(true);
    expect(await verifyPassword("wrong horse battery", hash)).toBe(false);
  });
});
