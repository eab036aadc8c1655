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
import { type DeviceTarget, isRejection } from "./codecs/codec.js";
import { builtInProfilesDir } from "./profile-registry.js";

/** Vendor firmware has its own id on the wire (deviceKey, default the feeder id) and maybe a model per case. */
const target = {
  feederId: z.string(),
  deviceKey: z.string().optional(),
  model: z.string().optional(),
};

const decodeFixtures = z.object({
  ...target,
  cases: z.array(
    z.object({
      name: z.string(),
      model: z.string().optional(),
      topic: z.string(),
      payload: z.string(),
      retain: z.boolean().default(false),
      events: z.array(z.unknown()).optional(),
      rejected: z.string().optional(),
    }),
  ),
});

const encodeFixtures = z.object({
  ...target,
  cases: z.array(
    z.object({
      name: z.string(),
      model: z.string().optional(),
      feed: z.object({ id: z.string(), portions: z.number(), expiresAt: z.string() }).optional(),
      schedule: z.any().optional(),
      messages: z.array(z.unknown()),
    }),
  ),
});

/** Dates compare as the ISO strings a fixture file holds. */
const plain = (value: unknown) => JSON.parse(JSON.stringify(value));

function targetOf(
  file: { feederId: string; deviceKey?: string | undefined; model?: string | undefined },
  model: string | undefined,
): DeviceTarget {
  return { feederId: file.feederId, deviceKey: file.deviceKey ?? file.feederId, model: model ?? file.model };
}

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
          ...targetOf(decode, c.model),
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
        const to = targetOf(encode, c.model);
        const messages = c.feed
          ? codec.encodeFeed(to, { ...c.feed, expiresAt: new Date(c.feed.expiresAt) })
          : codec.encodeSchedule(to, c.schedule);
        expect(messages).toEqual(c.messages);
      });
    }
  });
}
