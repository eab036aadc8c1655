/**
 * Random identifiers and secrets, and how they are stored.
 *
 * Machine-generated secrets (device passwords, API tokens, session cookies)
 * carry at least 128 random bits, so a fast salted SHA-256 is enough to make a
 * leaked database useless; a slow KDF would only slow down 1,000 feeders
 * reconnecting after a power cut. Human passwords use scrypt (passwords.ts).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/**
 * Lower-case letters and digits only: ids end up in MQTT topics and client ids,
 * where `+`, `#` and `/` would change meaning.
 */
export function randomId(length = 12): string {
  const bytes = randomBytes(length * 2);
  let out = "";
  for (let i = 0; out.length < length && i < bytes.length; i++) {
    const b = bytes[i] as number;
    // Rejection sampling keeps every character equally likely (252 = 7 * 36).
    if (b < 252) out += ID_ALPHABET[b % 36];
  }
  return out.length === length ? out : randomId(length);
}

/** A secret of `bytes` random bytes (default 24 = 192 bits), URL-safe. */
export function newSecret(bytes = 24): string {
  return randomBytes(bytes).toString("base64url");
}

/** Salted hash for a high-entropy secret: `sha256$<salt>$<digest>`. */
export function hashSecret(secret: string): string {
  const salt = randomBytes(16).toString("base64url");
  return `sha256$${salt}$${digest(salt, secret)}`;
}

export function verifySecret(secret: string, stored: string): boolean {
  const [scheme, salt, expected] = stored.split("$");
  if (scheme !== "sha256" || !salt || !expected) return false;
  const a = Buffer.from(digest(salt, secret));
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Unsalted digest for bearer secrets that must be found by value (session
 * cookies, API tokens). Safe because the secrets themselves are random.
 */
export function lookupDigest(secret: string): string {
  return createHash("sha256").update(secret).digest("base64url");
}

function digest(salt: string, secret: string): string {
  return createHash("sha256").update(salt).update("\0").update(secret).digest("base64url");
}
