/**
 * What the fixtures (device-profiles/fixtures/petlibro-dl) cannot show: answers that need the server's clock,
 * plans across a daylight-saving change, the round trip of a plan through the feeder's answer, and the
 * commands the codec refuses to write.
 */
import { describe, expect, it } from "vitest";
import type { DeviceSchedule } from "../../feeding/device-schedule-sync.js";
import { shippedProfiles } from "../../testing/profiles.js";
import type { CanonicalEvent, DeviceTarget } from "./codec.js";
import { isRejection } from "./codec.js";
import {
  commandIdOfMsgId,
  createPetlibroDlCodec,
  msgIdOfCommand,
  type PetlibroPlan,
  petlibroPlans,
  petlibroTopic,
} from "./petlibro-dl.js";

const SERIAL = "AF0103120004A7C1B2E9";
const target: DeviceTarget = { feederId: "p4m8x2k7q9ab", deviceKey: SERIAL, model: "PLAF103" };
const profile = shippedProfiles().require("petlibro-dl");

/** 15 January and 15 July 2026, 12:00 UTC: Berlin is at UTC+1, then UTC+2. */
const WINTER = Date.UTC(2026, 0, 15, 12);
const SUMMER = Date.UTC(2026, 6, 15, 12);

function codecAt(at: number) {
  return createPetlibroDlCodec(profile, () => at);
}

function schedule(overrides: Partial<DeviceSchedule> = {}): DeviceSchedule {
  return {
    version: 4,
    timezone: "Europe/Berlin",
    meals: [
      {
        id: "breakfast",
        time: "07:30",
        days: ["mon", "tue", "wed", "thu", "fri"],
        portions: 2,
        enabled: true,
      },
      { id: "night", time: "00:30", days: ["sun"], portions: 1, enabled: true },
    ],
    oneOffs: [],
    skips: [],
    pause: null,
    ...overrides,
  };
}

function decode(codec: ReturnType<typeof codecAt>, channel: "event" | "ntp" | "service", body: object) {
  return codec.decode({
    ...target,
    topic: petlibroTopic("PLAF103", SERIAL, channel, "post"),
    payload: Buffer.from(JSON.stringify(body)),
    retain: false,
  });
}

const payloadOf = (events: ReturnType<typeof decode>) => {
  if (isRejection(events)) throw new Error(events.reason);
  const reply = events.find((e): e is Extract<CanonicalEvent, { kind: "reply" }> => e.kind === "reply");
  return reply ? { topic: reply.message.topic, body: JSON.parse(reply.message.payload) } : undefined;
};

describe("petlibro-dl msgIds", () => {
  it("writes a command id as the 32 hex digits the firmware knows, and reads it back", () => {
    const id = "3f1c2a7e-9b1d-4a3e-8f60-3c1d2b9a7e10";
    expect(msgIdOfCommand(id)).toBe("3f1c2a7e9b1d4a3e8f603c1d2b9a7e10");
    expect(commandIdOfMsgId("3f1c2a7e9b1d4a3e8f603c1d2b9a7e10")).toBe(id);
  });

  it("does not take other ids for Feedkeeper's", () => {
    expect(msgIdOfCommand("p4m8x2k7q9ab/2026-08-10/breakfast")).toBeUndefined();
    expect(commandIdOfMsgId("manual-feed-1")).toBeUndefined();
    expect(commandIdOfMsgId("3F1C2A7E9B1D4A3E8F603C1D2B9A7E10")).toBeUndefined();
  });
});

describe("petlibro-dl time", () => {
  it("answers NTP with the server's clock and UTC, so the feeder's plan times and weekdays are UTC", () => {
    const answer = payloadOf(decode(codecAt(SUMMER), "ntp", { cmd: "NTP", ts: SUMMER - 1_800_000 }));

    expect(answer).toEqual({
      topic: `dl/PLAF103/${SERIAL}/device/ntp/sub`,
      body: {
        cmd: "NTP",
        ts: SUMMER,
        code: 0,
        calibrationTag: true,
        timezone: 0,
        timezoneOffsetSeconds: 0,
        nextDSTOffsetSeconds: 0,
        nextDSTTransitionTs: 0,
        secondNextDSTOffsetSeconds: 0,
        secondNextDSTTransitionTs: 0,
      },
    });
  });

  it("sends a plan at the UTC offset its zone has when it is sent", () => {
    const times = (at: number) =>
      petlibroPlans(schedule(), at).map(({ executionTime, repeatDay }) => ({ executionTime, repeatDay }));

    expect(times(WINTER)).toEqual([
      { executionTime: "06:30", repeatDay: [1, 2, 3, 4, 5] },
      // 00:30 on Sunday in Berlin is Saturday in UTC.
      { executionTime: "23:30", repeatDay: [6] },
    ]);
    expect(times(SUMMER)).toEqual([
      { executionTime: "05:30", repeatDay: [1, 2, 3, 4, 5] },
      { executionTime: "22:30", repeatDay: [6] },
    ]);
  });

  it("reads the plan a feeder holds as not current once the offset has changed", () => {
    const sentInWinter = codecAt(WINTER);
    const [message] = sentInWinter.encodeSchedule(target, schedule());
    const sent = JSON.parse(message?.payload ?? "{}") as { msgId: string; plans: PetlibroPlan[] };
    const answer = {
      cmd: "FEEDING_PLAN_SERVICE",
      code: 0,
      msgId: sent.msgId,
      plans: sent.plans.map(({ planId, syncTime }) => ({ planId, syncTime })),
      ts: WINTER,
    };

    const held = decode(sentInWinter, "service", answer);

    expect(held).toEqual([
      { kind: "scheduleHeld", fingerprint: sentInWinter.scheduleFingerprint?.(target, schedule()) },
    ]);
    expect(codecAt(SUMMER).scheduleFingerprint?.(target, schedule())).not.toBe(
      (held as Array<{ fingerprint: string }>)[0]?.fingerprint,
    );
  });
});

describe("petlibro-dl plans", () => {
  it("keeps a meal's plan id through changes, and its stamp while it is unchanged", () => {
    const before = petlibroPlans(schedule(), WINTER);
    const after = petlibroPlans(
      schedule({
        meals: [
          { id: "breakfast", time: "08:00", days: ["mon"], portions: 3, enabled: true },
          { id: "night", time: "00:30", days: ["sun"], portions: 1, enabled: true },
        ],
      }),
      WINTER,
    );

    expect(after.map((p) => p.planId)).toEqual(before.map((p) => p.planId));
    expect(after[0]?.syncTime).not.toBe(before[0]?.syncTime);
    expect(after[1]?.syncTime).toBe(before[1]?.syncTime);
  });

  it("leaves out disabled meals and meals without days, and numbers Sunday 7, first", () => {
    const plans = petlibroPlans(
      schedule({
        timezone: "UTC",
        meals: [
          { id: "a", time: "09:00", days: ["sat", "sun", "mon"], portions: 1, enabled: true },
          { id: "b", time: "10:00", days: ["mon"], portions: 1, enabled: false },
          { id: "c", time: "11:00", days: [], portions: 1, enabled: true },
        ],
      }),
      WINTER,
    );

    expect(plans.map((p) => p.repeatDay)).toEqual([[7, 1, 6]]);
  });

  it("gives the plan's msgId its version, so a refusal names it", () => {
    const codec = codecAt(WINTER);
    const [message] = codec.encodeSchedule(target, schedule({ version: 0x1234 }));
    const { msgId } = JSON.parse(message?.payload ?? "{}") as { msgId: string };

    expect(decode(codec, "service", { cmd: "FEEDING_PLAN_SERVICE", code: 1, msgId, plans: [] })).toEqual([
      { kind: "schedule", report: { version: 0x1234, status: "rejected", error: "code 1" } },
    ]);
  });

  it("reads an older firmware's own list of the plans it holds (no code) like an answer", () => {
    const codec = codecAt(WINTER);
    const plans = petlibroPlans(schedule(), WINTER).map(({ planId, syncTime }) => ({ planId, syncTime }));

    expect(
      decode(codec, "service", {
        cmd: "FEEDING_PLAN_SERVICE",
        msgId: "device-asks-1",
        plans: plans.reverse(),
      }),
    ).toEqual([{ kind: "scheduleHeld", fingerprint: codec.scheduleFingerprint?.(target, schedule()) }]);
  });
});

describe("petlibro-dl meals", () => {
  it("keys a manual meal it cannot tie to a command by the feeder's msgId, so a repeat changes nothing", () => {
    const codec = codecAt(WINTER);
    const event = {
      cmd: "GRAIN_OUTPUT_EVENT",
      msgId: "not-one-of-ours",
      type: 2,
      execStep: "GRAIN_END",
      expectGrainNum: 1,
      actualGrainNum: 1,
      ts: WINTER,
    };

    const first = decode(codec, "event", event);

    expect(first).toEqual(decode(codec, "event", event));
    expect(isRejection(first) ? [] : first.filter((e) => e.kind === "feed")).toEqual([
      {
        kind: "feed",
        report: {
          id: "petlibro-not-one-of-ours",
          status: "dispensed",
          portions: 1,
          source: "remote",
          at: new Date(WINTER),
        },
      },
    ]);
  });

  it("answers on the topics of the model in the message when the feeder has none", () => {
    const codec = codecAt(WINTER);
    const events = codec.decode({
      ...target,
      model: undefined,
      topic: petlibroTopic("PLAF203", SERIAL, "event", "post"),
      payload: Buffer.from(JSON.stringify({ cmd: "GET_FEEDING_PLAN_EVENT", msgId: "m1", ts: WINTER })),
      retain: false,
    });

    expect(payloadOf(events)?.topic).toBe(`dl/PLAF203/${SERIAL}/device/event/sub`);
  });

  it("refuses a model this profile does not cover, and topics of another layout", () => {
    const codec = codecAt(WINTER);
    const heartbeat = Buffer.from(JSON.stringify({ cmd: "HEARTBEAT", rssi: -50 }));
    const at = (topic: string) =>
      codec.decode({ ...target, model: undefined, topic, payload: heartbeat, retain: false });

    expect(at(`dl/PLWF105/${SERIAL}/device/heart/post`)).toEqual({
      reason: "topic names model PLWF105, not one of this profile's",
    });
    expect(at(`dl/PLAF103/${SERIAL}/device/heart/sub`)).toEqual({
      reason: "not a dl/<model>/<serial>/device/<channel>/post topic",
    });
    expect(at(`feedkeeper/${SERIAL}/heart`)).toEqual({
      reason: "not a dl/<model>/<serial>/device/<channel>/post topic",
    });
  });
});

describe("petlibro-dl commands it will not write", () => {
  const codec = codecAt(WINTER);
  const feed = { id: "3f1c2a7e-9b1d-4a3e-8f60-3c1d2b9a7e10", portions: 2, expiresAt: new Date(WINTER) };

  it("needs the feeder's model: its topics name it", () => {
    expect(() => codec.encodeFeed({ ...target, model: undefined }, feed)).toThrow(/has no model/);
    expect(() => codec.encodeSchedule({ ...target, model: undefined }, schedule())).toThrow(/has no model/);
    expect(() => codec.encodeFeed({ ...target, model: "PLAF999" }, feed)).toThrow(/not one of/);
  });

  it("needs a UUID command id, which the feeder's answers can be tied back to", () => {
    expect(() => codec.encodeFeed(target, { ...feed, id: "p4m8x2k7q9ab/2026-01-15/breakfast" })).toThrow(
      /must be a UUID/,
    );
  });

  it("keeps to the profile's feed range", () => {
    expect(() => codec.encodeFeed(target, { ...feed, portions: 17 })).toThrow(/outside 1..16/);
    expect(() => codec.encodeFeed(target, { ...feed, portions: 0 })).toThrow(/outside 1..16/);
  });
});
