/**
 * The Petnet simulator against an in-process broker with the profile's topic ACL, and the `petnet-kronos`
 * codec standing in for the server: what the feeder publishes is decoded as the bridge would, the acks the
 * codec asks for are published back, and commands are the codec's own encoding. So the codec and the
 * simulator are checked against each other, message by message, over real MQTT.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { WEEKDAYS } from "../feeding/meal-time.js";
import type { CanonicalEvent, Codec, DeviceTarget, WireMessage } from "../profiles/codecs/codec.js";
import { isRejection } from "../profiles/codecs/codec.js";
import { createPetnetKronosCodec, petnetDeviceHid, petnetTopics } from "../profiles/codecs/petnet-kronos.js";
import { shippedProfiles } from "../testing/profiles.js";
import { type SimBroker, started as startedDevice, startSimBroker } from "../testing/sim-broker.js";
import { ConnectionRefusedError } from "./native-feeder.js";
import { PetnetFeeder, type PetnetFeederOptions } from "./petnet-feeder.js";

const GATEWAY = "488533283e3f06ca4ae929fd01f50a9259dd393f";
const API_KEY = "efa2396b6f0bae3cc5fe5ef34829d60d91b96a625e55afabcea0e674f1a7ac43";
const FEEDER_ID = "k7petnet2q9x";
const SPACE = {
  fromDevice: [petnetTopics.api(GATEWAY), petnetTopics.telemetry(GATEWAY)],
  toDevice: [petnetTopics.apiReply(GATEWAY), petnetTopics.command(GATEWAY)],
};

let broker: SimBroker;
let codec: Codec;
let model: string | undefined;
/** Whether the stand-in server publishes the acks the codec asks for. */
let acking: boolean;
/** What the codec made of the feeder's messages, replies left out. */
let events: CanonicalEvent[];
/** Messages the codec refused: none of the simulator's may be. */
let rejected: string[];
let clock: Date;

const target = (): DeviceTarget => ({ feederId: FEEDER_ID, deviceKey: GATEWAY, model });

let queue: Promise<void> = Promise.resolve();
/**
 * One publish to the device at a time. aedes 1.2 loses QoS 2 messages to a persistent session (the SDK's clean
 * session 0) when two are in flight at once: it sends a PUBREL with the wrong message id, and the other message
 * is never released to the client.
 */
async function send(messages: WireMessage[]): Promise<void> {
  const run = queue.then(async () => {
    for (const m of messages) await broker.publish(m.topic, m.payload, { qos: m.qos, retain: m.retain });
  });
  queue = run.catch(() => {});
  await run;
}

beforeEach(async () => {
  codec = createPetnetKronosCodec(shippedProfiles().require("petnet-smartfeeder-v2"), () => clock);
  model = "fw-2.5";
  acking = true;
  events = [];
  rejected = [];
  clock = new Date("2025-07-01T05:00:00Z");
  broker = await startSimBroker({
    admit: {
      vendor: SPACE,
      feederId: FEEDER_ID,
      login: (_clientId, username, password) => username === `/pegasus:${GATEWAY}` && password === API_KEY,
    },
    // The codec standing in for the server.
    onMessage: (topic, payload, retain) => {
      const decoded = codec.decode({ ...target(), topic, payload, retain });
      if (isRejection(decoded)) {
        rejected.push(`${topic} ${payload.toString()}: ${decoded.reason}`);
        return;
      }
      const replies: WireMessage[] = [];
      for (const event of decoded) {
        if (event.kind === "reply") replies.push(event.message);
        else events.push(event);
      }
      // Like the bridge: after the message is handled, never from inside the broker's hook.
      if (acking && replies.length > 0) setImmediate(() => void send(replies));
    },
  });
});

afterEach(async () => {
  await broker.close();
  expect(rejected).toEqual([]);
});

function feeder(options: Partial<PetnetFeederOptions> = {}): PetnetFeeder {
  return broker.track(
    new PetnetFeeder({
      url: broker.url,
      gatewayHid: GATEWAY,
      apiKey: API_KEY,
      msPerSixteenth: 1,
      apiAckTimeoutMs: 2000,
      apiRetryDelayMs: 10,
      reconnectMs: 50,
      scheduleCheckMs: 3_600_000,
      now: () => clock,
      ...options,
    }),
  );
}

const started = (options: Partial<PetnetFeederOptions> = {}) => startedDevice(feeder(options));

/** Generous: the tests share two cores with whatever else runs. */
const eventually = <T>(check: () => T) => vi.waitFor(check, { timeout: 5000 });
const kinds = () => events.map((e) => e.kind);
const apiCalls = () =>
  broker
    .payloadsOn(petnetTopics.api(GATEWAY))
    .map((payload) => (JSON.parse(payload) as { parameters: { uri: string } }).parameters.uri);
const everyDay = [...WEEKDAYS];

describe("PetnetFeeder", () => {
  it("logs in as the Arrow SDK does, inside its profile's topics, and says it is there", async () => {
    const sim = await started();

    await eventually(() => expect(events).toEqual([{ kind: "status", online: true }]));
    expect(broker.logins).toEqual([{ clientId: GATEWAY, username: `/pegasus:${GATEWAY}` }]);
    expect(JSON.parse(broker.messages[0]?.payload ?? "")).toEqual({
      "_|deviceHid": petnetDeviceHid(GATEWAY),
      "s|msg_type": "hb",
    });
    expect(sim.deviceHid).toBe(petnetDeviceHid(GATEWAY));
    expect(broker.timeline.filter((line) => line.includes("refused"))).toEqual([]);
  });

  it("feeds a command: received and acknowledged, handled, then the meal's result", async () => {
    const sim = await started();
    const id = "0b7e1f52-8c3d-4a9e-b1f0-6d2c5a4e3b21";

    await send(codec.encodeFeed(target(), { id, portions: 2, expiresAt: new Date("2025-07-01T05:01:00Z") }));

    await eventually(() => expect(kinds()).toContain("dispensed"));
    const hid = id.replaceAll("-", "");
    expect(apiCalls()).toEqual([
      `/api/v1/core/events/${hid}/received`,
      `/api/v1/core/events/${hid}/succeeded`,
    ]);
    expect(events).toContainEqual({
      kind: "feed",
      report: { id, status: "accepted", portions: 0, source: "remote", at: new Date("2025-07-01T05:00:00Z") },
    });
    expect(sim.commands).toEqual([
      { hid, deviceHid: petnetDeviceHid(GATEWAY), command: "feed", payload: '{"portion":0.125}' },
    ]);
    // The result reaches the server before the feeder's own publish call returns.
    await eventually(() =>
      expect(sim.dispensed).toEqual([{ cups: 0.125, source: "remote", start: 1_751_346_000 }]),
    );
  });

  it("stores a fw-2.5 plan, confirms it, and feeds it at the feeder's local time", async () => {
    const sim = await started({ firmware: "2.5" });
    const plan = {
      version: 4,
      timezone: "America/Phoenix",
      meals: [{ id: "breakfast", time: "07:30", days: everyDay, portions: 4, enabled: true }],
      oneOffs: [],
      skips: [],
      pause: null,
    };

    await send(codec.encodeSchedule(target(), plan));

    await eventually(() =>
      expect(events).toContainEqual({ kind: "schedule", report: { version: 4, status: "applied" } }),
    );
    expect(sim.utcOffsetSeconds).toBe(-7 * 3600);
    expect(sim.storedPlan).toMatchObject([{ active: true, portion: 0.25, time: 27_000 }]);

    // 07:29 and then 07:31 in Phoenix (UTC−7).
    clock = new Date("2025-07-01T14:29:00Z");
    sim.runSchedule();
    clock = new Date("2025-07-01T14:31:00Z");
    sim.runSchedule();

    await eventually(() => expect(sim.dispensed).toHaveLength(1));
    await eventually(() =>
      expect(events).toContainEqual({
        kind: "feed",
        report: {
          id: `petnet-${sim.dispensed[0]?.start}`,
          status: "dispensed",
          portions: 0,
          source: "schedule",
          at: new Date("2025-07-01T14:31:00Z"),
        },
      }),
    );
  });

  it("stores a legacy plan from the one schedule command", async () => {
    model = "fw-legacy";
    const sim = await started({ firmware: "legacy" });
    const stored = new Promise((resolve) => sim.once("scheduleStored", resolve));

    await send(
      codec.encodeSchedule(target(), {
        version: 2,
        timezone: "UTC",
        meals: [{ id: "dinner", time: "18:00", days: everyDay, portions: 6, enabled: true }],
        oneOffs: [],
        skips: [],
        pause: null,
      }),
    );

    await expect(stored).resolves.toMatchObject([{ name: "FEED0", portion: 0.375, time: 64_800 }]);
    await eventually(() =>
      expect(events).toContainEqual({ kind: "schedule", report: { version: 2, status: "applied" } }),
    );
  });

  it("refuses the newer schedule commands on legacy firmware, which the server sees as a rejected plan", async () => {
    const sim = await started({ firmware: "legacy" });

    await send(
      codec.encodeSchedule(target(), {
        version: 6,
        timezone: "UTC",
        meals: [],
        oneOffs: [],
        skips: [],
        pause: null,
      }),
    );

    await eventually(() =>
      expect(events).toContainEqual({
        kind: "schedule",
        report: { version: 6, status: "rejected", error: "schedule_clear: There is no a command handler" },
      }),
    );
    expect(sim.storedPlan).toEqual([]);
  });

  it("sends an unacknowledged API call again, and drops the command when received is never acknowledged", async () => {
    acking = false;
    const sim = await started({ apiAckTimeoutMs: 40, apiAttempts: 3 });
    const unacked = new Promise((resolve) => sim.once("apiUnacknowledged", resolve));

    await send(
      codec.encodeFeed(target(), {
        id: "0b7e1f52-8c3d-4a9e-b1f0-6d2c5a4e3b21",
        portions: 1,
        expiresAt: clock,
      }),
    );

    await expect(unacked).resolves.toBe("/api/v1/core/events/0b7e1f528c3d4a9eb1f06d2c5a4e3b21/received");
    expect(apiCalls()).toHaveLength(3);
    expect(sim.dispensed).toEqual([]);
  });

  it("reports a failed meal as a fault, and a button meal under its start time", async () => {
    const sim = await started();
    const failed = new Promise((resolve) => sim.once("failed", resolve));
    sim.setFault("dispense timeout");

    await send(
      codec.encodeFeed(target(), {
        id: "0b7e1f52-8c3d-4a9e-b1f0-6d2c5a4e3b21",
        portions: 1,
        expiresAt: clock,
      }),
    );
    await expect(failed).resolves.toMatchObject({ source: "remote", error: "dispense timeout" });
    await eventually(() => expect(events).toContainEqual({ kind: "fault", fault: "unknown" }));

    sim.setFault(undefined);
    await sim.pressButton(0.5);
    await eventually(() =>
      expect(events).toContainEqual(
        expect.objectContaining({
          kind: "feed",
          report: expect.objectContaining({ source: "button", status: "dispensed" }),
        }),
      ),
    );
  });

  it("publishes sensor readings the codec reads", async () => {
    const sim = await started();

    await sim.sendSensors({ voltageMv: 5630, usb: false, charging: false, rssi: -61 });

    await eventually(() =>
      expect(events).toContainEqual({
        kind: "telemetry",
        telemetry: { charging: false, rssi: -61 },
        partial: true,
      }),
    );
  });

  it("sends results made while offline after reconnecting; a replayed one is dropped by the codec", async () => {
    const sim = await started({ replayResultsOnConnect: 1 });
    await sim.pressButton();
    await eventually(() => expect(kinds().filter((k) => k === "feed")).toHaveLength(1));
    const ready = new Promise<void>((resolve) => sim.once("ready", () => resolve()));

    broker.disconnect({ feederId: FEEDER_ID });
    await eventually(() => expect(sim.connected).toBe(false));
    await sim.pressButton();
    await ready;

    await eventually(() => expect(kinds().filter((k) => k === "feed")).toHaveLength(2));
    const results = broker.messages.filter((m) => m.payload.includes('"feed_result"'));
    expect(results).toHaveLength(3);
  });

  it("fails to start with a wrong apiKey", async () => {
    const error = await feeder({ apiKey: "stale" })
      .start()
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectionRefusedError);
    expect((error as ConnectionRefusedError).returnCode).toBe(4);
  });
});
