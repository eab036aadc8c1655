/**
 * Every shipped profile's recorded fixtures, through the codec it names:
 * device messages in → canonical events out (or refused, with why), canonical
 * commands in → the exact messages the device expects. Fixtures live in
 * device-profiles/fixtures/<profile id>/{decode,encode}.json.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { shippedProfiles } from "../testing/profiles.js";
import { isRejection } from "./codecs/codec.js";
import { builtInProfilesDir } from "./profile-registry.js";

const decodeFixtures = z.object({
  feederId: z.string(),
  cases: z.array(
    z.object({
      name: z.string(),
      topic: z.string(),
      payload: z.string(),
      retain: z.boolean().default(false),
      events: z.array(z.unknown()).optional(),
      rejected: z.string().optional(),
    }),
  ),
});

const encodeFixtures = z.object({
  feederId: z.string(),
  cases: z.array(
    z.object({
      name: z.string(),
      feed: z.object({ id: z.string(), portions: z.number(), expiresAt: z.string() }).optional(),
      schedule: z.any().optional(),
      messages: z.array(z.unknown()),
    }),
  ),
});

/** Dates compare as the ISO strings a fixture file holds. */
const plain = (value: unknown) => JSON.parse(JSON.stringify(value));

const fixturesDir = path.join(builtInProfilesDir(), "fixtures");

for (const { profile } of shippedProfiles().list()) {
  const dir = path.join(fixturesDir, profile.id);
  describe(`profile ${profile.id}`, () => {
    it("has decode and encode fixtures", () => {
      expect(fs.existsSync(path.join(dir, "decode.json"))).toBe(true);
      expect(fs.existsSync(path.join(dir, "encode.json"))).toBe(true);
    });
    if (!fs.existsSync(dir)) return;
    const codec = shippedProfiles().codecOf(profile.id);
    const decode = decodeFixtures.parse(JSON.parse(fs.readFileSync(path.join(dir, "decode.json"), "utf8")));
    for (const c of decode.cases) {
      it(`decodes: ${c.name}`, () => {
        const result = codec.decode({
          feederId: decode.feederId,
          topic: c.topic,
          payload: Buffer.from(c.payload),
          retain: c.retain,
        });
        if (c.rejected !== undefined) {
          expect(isRejection(result) ? result.reason : result).toContain(c.rejected);
        } else {
          expect(plain(result)).toEqual(c.events);
        }
      });
    }
    const encode = encodeFixtures.parse(JSON.parse(fs.readFileSync(path.join(dir, "encode.json"), "utf8")));
    for (const c of encode.cases) {
      it(`encodes: ${c.name}`, () => {
        const messages = c.feed
          ? codec.encodeFeed(encode.feederId, { ...c.feed, expiresAt: new Date(c.feed.expiresAt) })
          : codec.encodeSchedule(encode.feederId, c.schedule);
        expect(messages).toEqual(c.messages);
      });
    }
  });
}
