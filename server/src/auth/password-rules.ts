/**
 * What a new password must be: at least 10 characters and not one of the
 * passwords every guessing list starts with (ETSI EN 303 645 5.1-5). The list
 * is short on purpose: the length rule does most of the work, this catches the
 * long-but-famous ones.
 */
import { z } from "zod";

export const MIN_PASSWORD_LENGTH = 10;

const COMMON = new Set([
  "0123456789",
  "1234567890",
  "12345678910",
  "123456789a",
  "1q2w3e4r5t",
  "1qaz2wsx3edc",
  "a123456789",
  "abc1234567",
  "abcdefghij",
  "administrator",
  "changeme123",
  "football123",
  "iloveyou123",
  "letmein123",
  "password1!",
  "password12",
  "password123",
  "password1234",
  "passw0rd123",
  "q1w2e3r4t5",
  "qwerty1234",
  "qwerty12345",
  "qwertyuiop",
  "qwertyuiop123",
  "welcome123",
  "zaq12wsxcde",
  "feedkeeper",
  "feedkeeper1",
  "feedkeeper123",
  "petfeeder123",
]);

export function isCommonPassword(password: string): boolean {
  const lower = password.toLowerCase();
  // A long run of one character ("aaaaaaaaaa") is as guessable as any list entry.
  return COMMON.has(lower) || /^(.)\1+$/.test(lower);
}

export const newPasswordSchema = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `password must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(1024, "password must be at most 1024 characters")
  .refine((p) => !isCommonPassword(p), { message: "password is one of the most common ones; pick another" });
