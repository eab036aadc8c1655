/**
 * The Petlibro simulator against Feedkeeper's embedded broker, kept to the topics the petlibro-dl profile
 * allows, with the petlibro-dl codec answering it the way the bridge does (decode, then publish the replies).
 * So the profile's topic space, the codec and the simulated firmware are proven to fit together.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { expandTopics } from "../bridge/device-access.js";
import type { DeviceSchedule } from "../feeding/device-schedule-sync.js";
import type { CanonicalEvent, DeviceTarget } from "../profiles/codecs/codec.js";
import { isRejection } from "../profiles/codecs/codec.js";
import { createPetlibroDlCodec, petlibroTopic } from "../profiles/codecs/petlibro-dl.js";
import { shippedProfiles } from "../testing/profiles.js";
import { type SimBroker, started as startedDevice, startSimBroker } from "../testing/sim-broker.js";
import { ConnectionRefusedError } from "./native-feeder.js";
import { PetlibroFeeder, type PetlibroFeederOptions } from "./petlibro-feeder.js";

const SERIAL = "AF0103120004A7C1B2E9";
const KEY = "a1b2c3d4product";
const SECRET = "s3cret-product-secret";
const FEEDER_ID = "p4m8x2k7q9ab";
const target: DeviceTarget = { feederId: FEEDER_ID, deviceKey: SERIAL, model: "PLAF103" };

const profile = shippedProfiles().require("petlibro-dl");
const codec = createPetlibroDlCodec(profile);
const { identify, topics } = profile.transport;
if (identify.by !== "clientId" || !topics) throw new Error("petlibro-dl is recognised by its client id");
const recognise = new RegExp(identify.pattern);
const space = expandTopics(topics, SERIAL);
/** A topic without its `dl/<model>/<serial>/device/` prefix. */
const short = (topic: string) => topic.split("/").slice(4).join("/");

/** Its timeline writes each message as `<channel>/<direction> <cmd> [<execStep>]`. */
let broker: SimBroker;
let decoded: CanonicalEvent[];
let refusals: string[];
/** Off: the server hears the feeder but answers nothing (no acknowledgements, no time). */
let answering: boolean;

beforeEach(async () => {
  decoded = [];
  refusals = [];
  answering = true;
  broker = await startSimBroker({
    admit: {
      vendor: space,
      feederId: FEEDER_ID,
      login: (clientId, username, password) =>
        recognise.exec(clientId)?.groups?.deviceKey === SERIAL && username === KEY && password === SECRET,
    },
    describe: (topic, payload) => {
      const { cmd, execStep } = JSON.parse(payload.toString()) as { cmd: string; execStep?: string };
      return `${short(topic)} ${cmd}${execStep ? ` ${execStep}` : ""}`;
    },
    // The codec answering as the bridge does.
    onMessage: (topic, payload, retain) => {
      const events = codec.decode({ ...target, topic, payload, retain });
      if (isRejection(events)) {
        refusals.push(events.reason);
        return;
      }
      for (const event of events) {
        if (event.kind !== "reply") decoded.push(event);
        else if (answering) void broker.publish(event.message.topic, event.message.payload, event.message);
      }
    },
  });
});

afterEach(() => broker.close());

function feeder(options: Partial<PetlibroFeederOptions> = {}): PetlibroFeeder {
  return broker.track(
    new PetlibroFeeder({
      url: broker.url,
      serial: SERIAL,
      productKey: KEY,
      productSecret: SECRET,
      msPerPortion: 5,
      reconnectMs: 50,
      // Repeats only where a test is about them: under load they would interleave with what is asserted.
      retryMs: 60_000,
      ...options,
    }),
  );
}

const started = (options: Partial<PetlibroFeederOptions> = {}) => startedDevice(feeder(options));

async function send(messages: Array<{ topic: string; payload: string; qos: 0 | 1 | 2; retain: boolean }>) {
  for (const m of messages) await broker.publish(m.topic, m.payload, m);
}

const feeds = () => decoded.flatMap((e) => (e.kind === "feed" ? [e.report] : []));
const steps = (step: string) =>
  broker.timeline.filter((line) => line === `event/post GRAIN_OUTPUT_EVENT ${step}`);

function schedule(): DeviceSchedule {
  return {
    version: 2,
    timezone: "UTC",
    meals: [{ id: "breakfast", time: "07:30", days: ["mon"], portions: 2, enabled: true }],
    oneOffs: [],
    skips: [],
    pause: null,
  };
}

describe("PetlibroFeeder", () => {
  it("subscribes to its sub topics in the captured order, then starts up, all within the profile's topics", async () => {
    const sim = await started();

    await vi.waitFor(() => expect(sim.unacknowledged).toBe(0));
    const order = ["ntp", "ota", "broadcast", "config", "event", "service", "system"];
    expect(broker.subscriptions.map(short)).toEqual(order.map((c) => `${c}/sub`));
    expect(broker.timeline.slice(0, 13)).toEqual([
      `connected ${FEEDER_ID}`,
      ...order.map(() => `subscribed ${FEEDER_ID}`),
      "ntp/post NTP",
      "heart/post HEARTBEAT",
      "event/post DEVICE_START_EVENT",
      "event/post ATTR_PUSH_EVENT",
      "event/post GET_FEEDING_PLAN_EVENT",
    ]);
    expect(broker.timeline.filter((line) => line.includes("refused"))).toEqual([]);
    expect(refusals).toEqual([]);
    expect(decoded).toContainEqual({ kind: "scheduleRequested" });
    expect(decoded).toContainEqual(
      expect.objectContaining({ kind: "hello", hello: expect.objectContaining({ model: "PLAF103" }) }),
    );
  });

  it("asks for the time until it is answered, and takes the server's", async () => {
    answering = false;
    const sim = feeder({ clockErrorMs: -30 * 60_000, retryMs: 40 });
    const time = new Promise<number>((resolve) => sim.once("time", (at) => resolve(at)));
    await sim.start();
    await vi.waitFor(() =>
      expect(broker.timeline.filter((line) => line === "ntp/post NTP").length).toBeGreaterThan(1),
    );

    answering = true;

    expect(Math.abs((await time) - Date.now())).toBeLessThan(1000);
    expect(Math.abs(sim.now() - Date.now())).toBeLessThan(1000);
    // A question already on its way when the answer came may still arrive.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const asked = broker.timeline.filter((line) => line === "ntp/post NTP").length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(broker.timeline.filter((line) => line === "ntp/post NTP")).toHaveLength(asked);
  });

  it("feeds a command: answers with its msgId, then starts and ends the meal under it", async () => {
    const sim = await started();
    const command = { id: "3f1c2a7e-9b1d-4a3e-8f60-3c1d2b9a7e10", portions: 2, expiresAt: new Date() };

    await send(codec.encodeFeed(target, command));

    await vi.waitFor(() =>
      expect(feeds().map((r) => r.status)).toEqual(["accepted", "accepted", "dispensed"]),
    );
    expect(feeds().every((r) => r.id === command.id && r.source === "remote")).toBe(true);
    expect(sim.dispensed).toEqual([expect.objectContaining({ type: 2, portions: 2 })]);
    await vi.waitFor(() => expect(sim.unacknowledged).toBe(0));
    // After the meal it pushes the outlet, food and power: all well.
    expect(decoded.at(-1)).toEqual({ kind: "fault", fault: "ok" });
  });

  it("refuses a feed it cannot make with a code", async () => {
    await started();
    const [message] = codec.encodeFeed(target, {
      id: "3f1c2a7e-9b1d-4a3e-8f60-3c1d2b9a7e10",
      portions: 2,
      expiresAt: new Date(),
    });
    if (!message) throw new Error("no message");
    const body = JSON.parse(message.payload) as Record<string, unknown>;

    await broker.publish(message.topic, JSON.stringify({ ...body, grainNum: 0 }), message);

    await vi.waitFor(() =>
      expect(feeds()).toEqual([expect.objectContaining({ status: "rejected", error: "code 1" })]),
    );
  });

  it("repeats a meal event until it is acknowledged, then stops", async () => {
    const sim = await started({ retryMs: 40 });
    await vi.waitFor(() => expect(sim.unacknowledged).toBe(0));
    answering = false;

    await sim.pressButton(1);
    await vi.waitFor(() => expect(steps("GRAIN_END").length).toBeGreaterThanOrEqual(3));
    answering = true;

    await vi.waitFor(() => expect(sim.unacknowledged).toBe(0));
    const repeats = steps("GRAIN_END").length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(steps("GRAIN_END")).toHaveLength(repeats);
    // Every copy is the same meal, which the ledger records once.
    const ends = feeds().filter((r) => r.status === "dispensed");
    expect(new Set(ends.map((r) => r.id)).size).toBe(1);
    expect(ends[0]?.source).toBe("button");
  });

  it("sends an unacknowledged meal event again after reconnecting", async () => {
    const sim = await started();
    await vi.waitFor(() => expect(sim.unacknowledged).toBe(0));
    answering = false;
    await sim.pressButton(1);
    expect(steps("GRAIN_END")).toHaveLength(1);
    answering = true;
    const ready = new Promise<void>((resolve) => sim.once("ready", () => resolve()));

    broker.disconnect({ feederId: FEEDER_ID });
    await ready;

    await vi.waitFor(() => expect(steps("GRAIN_END")).toHaveLength(2));
    await vi.waitFor(() => expect(sim.unacknowledged).toBe(0));
  });

  it("stores a plan and answers with its plan ids and stamps, which the codec reads as the plan it sent", async () => {
    const sim = await started();
    const plans = new Promise<unknown>((resolve) => sim.once("plans", resolve));

    await send(codec.encodeSchedule(target, schedule()));

    expect(await plans).toEqual([
      expect.objectContaining({ executionTime: "07:30", repeatDay: [1], grainNum: 2 }),
    ]);
    await vi.waitFor(() =>
      expect(decoded).toContainEqual({
        kind: "scheduleHeld",
        fingerprint: codec.scheduleFingerprint?.(target, schedule()),
      }),
    );
  });

  it("runs its plan at the time in it, by the clock the NTP answer set", async () => {
    const sim = await started({ planCheckMs: 20 });
    await send(codec.encodeSchedule(target, schedule()));
    await vi.waitFor(() => expect(sim.storedPlans).toHaveLength(1));

    // Monday 07:30 UTC, as an NTP answer would say.
    await broker.publish(
      petlibroTopic("PLAF103", SERIAL, "ntp", "sub"),
      JSON.stringify({
        cmd: "NTP",
        ts: Date.UTC(2026, 0, 5, 7, 30, 10),
        code: 0,
        calibrationTag: true,
        timezone: 0,
      }),
      { qos: 0, retain: false },
    );

    await vi.waitFor(() => expect(feeds().filter((r) => r.status === "dispensed")).toHaveLength(1));
    expect(feeds().at(-1)).toEqual(expect.objectContaining({ source: "schedule", portions: 2 }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sim.dispensed).toHaveLength(1);
  });

  it("jams: the meal fails as jam and the outlet reports blocked, until a meal goes through again", async () => {
    const sim = await started({ jammed: true });
    const failed = vi.fn();
    sim.on("failed", failed);

    await send(
      codec.encodeFeed(target, {
        id: "0b7c9d2e-4f61-4a8b-9c3d-5e6f7a8b9c0d",
        portions: 2,
        expiresAt: new Date(),
      }),
    );

    await vi.waitFor(() => expect(failed).toHaveBeenCalledWith(expect.objectContaining({ error: "jam" })));
    await vi.waitFor(() => expect(decoded).toContainEqual({ kind: "fault", fault: "jam" }));
    expect(feeds().find((r) => r.status === "failed")?.error).toBe("jam");

    // Pushes are sparse: the fault stands until a push says all is well (the one after the next meal).
    await sim.setJammed(false);
    await send(
      codec.encodeFeed(target, {
        id: "1c8d0e3f-5a72-4b9c-8d4e-6f7a8b9c0d1e",
        portions: 1,
        expiresAt: new Date(),
      }),
    );
    await vi.waitFor(() => expect(decoded.at(-1)).toEqual({ kind: "fault", fault: "ok" }));
    expect(feeds().at(-1)).toEqual(expect.objectContaining({ status: "dispensed" }));
  });

  it("beats with its Wi-Fi signal", async () => {
    const sim = await started({ rssi: -72 });

    await sim.heartbeat();

    await vi.waitFor(() =>
      expect(decoded.filter((e) => e.kind === "telemetry" && e.telemetry.rssi !== undefined).at(-1)).toEqual({
        kind: "telemetry",
        telemetry: { rssi: -72 },
        partial: true,
      }),
    );
  });

  it("reports battery and power", async () => {
    const sim = await started();

    await sim.pushAttributes({ powerMode: 2, electricQuantity: 64 });

    await vi.waitFor(() => expect(decoded).toContainEqual({ kind: "fault", fault: "on_battery" }));
    expect(decoded).toContainEqual({ kind: "telemetry", telemetry: { battery: 0.64 }, partial: true });
  });

  it("fails to start with a wrong product secret", async () => {
    const error = await feeder({ productSecret: "wrong" })
      .start()
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectionRefusedError);
    expect((error as ConnectionRefusedError).returnCode).toBe(4);
  });
});
