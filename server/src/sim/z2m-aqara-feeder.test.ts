/**
 * The Zigbee2MQTT stand-in on an in-process broker open to all (as the owner's Mosquitto would be), watched by
 * a client that plays Feedkeeper's part: it sends what the `z2m-aqara-c1` codec encodes and decodes what
 * arrives, so the codec and the stand-in are checked against each other (and both against the guide's
 * Zigbee2MQTT settings).
 */
import mqtt, { type MqttClient } from "mqtt";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { DeviceSchedule } from "../feeding/device-schedule-sync.js";
import { type CanonicalEvent, isRejection } from "../profiles/codecs/codec.js";
import { shippedProfiles } from "../testing/profiles.js";
import { type SimBroker, startSimBroker } from "../testing/sim-broker.js";
import { Z2mAqaraFeeder, type Z2mAqaraFeederOptions } from "./z2m-aqara-feeder.js";

const NAME = "kitchen_feeder";
const STATE = `zigbee2mqtt/${NAME}`;
const AVAILABILITY = `zigbee2mqtt/${NAME}/availability`;
const BRIDGE = "zigbee2mqtt/bridge/state";
const codec = shippedProfiles().codecOf("zigbee2mqtt-aqara-c1");
const target = { feederId: "k3x9q2m4p7ab", deviceKey: NAME, model: undefined };

interface Seen {
  topic: string;
  payload: string;
  retain: boolean;
}

let broker: SimBroker;
let clients: MqttClient[];

beforeEach(async () => {
  clients = [];
  broker = await startSimBroker({ admit: { open: true } });
});

afterEach(async () => {
  for (const client of clients) client.end(true);
  await broker.close();
});

async function started(options: Partial<Z2mAqaraFeederOptions> = {}): Promise<Z2mAqaraFeeder> {
  const feeder = broker.track(
    new Z2mAqaraFeeder({
      url: broker.url,
      friendlyName: NAME,
      msPerPortion: 5,
      reportDelayMs: 5,
      reconnectMs: 50,
      ...options,
    }),
  );
  await feeder.start();
  return feeder;
}

/** Feedkeeper's side: subscribed like the external bridge, decoding with the profile's codec. */
async function feedkeeper(filters = [STATE, AVAILABILITY, BRIDGE]) {
  const seen: Seen[] = [];
  const client = await mqtt.connectAsync(broker.url, {
    clientId: `feedkeeper-${clients.length}`,
    reconnectPeriod: 0,
  });
  clients.push(client);
  client.on("message", (topic, payload, packet) =>
    seen.push({ topic, payload: payload.toString(), retain: packet.retain }),
  );
  await client.subscribeAsync(filters, { qos: 1 });
  const events = (): CanonicalEvent[] =>
    seen
      .filter((m) => m.topic !== BRIDGE)
      .flatMap((m) => {
        const result = codec.decode({
          ...target,
          topic: m.topic,
          payload: Buffer.from(m.payload),
          retain: m.retain,
        });
        if (isRejection(result)) throw new Error(`${m.topic}: ${result.reason}`);
        return result;
      });
  return {
    seen,
    events,
    kinds: () => events().map((e) => e.kind),
    meals: () => events().flatMap((e) => (e.kind === "dispensed" ? [e.portions] : [])),
    payloads: (topic: string) => seen.filter((m) => m.topic === topic).map((m) => m.payload),
    send: async (messages: ReturnType<typeof codec.encodeFeed>) => {
      for (const m of messages)
        await client.publishAsync(m.topic, m.payload, { qos: m.qos, retain: m.retain });
    },
    sendRaw: (payload: string) => client.publishAsync(`${STATE}/set`, payload, { qos: 1 }),
  };
}

const feed = (portions: number) =>
  codec.encodeFeed(target, { id: "c1", portions, expiresAt: new Date(Date.now() + 60_000) });

const plan: DeviceSchedule = {
  version: 3,
  timezone: "Europe/Berlin",
  meals: [
    { id: "breakfast", time: "07:30", days: ["mon", "tue", "wed", "thu", "fri"], portions: 2, enabled: true },
    { id: "dinner", time: "18:00", days: ["mon", "sat"], portions: 1, enabled: true },
  ],
  oneOffs: [],
  skips: [],
  pause: null,
};

describe("Z2mAqaraFeeder", () => {
  it("announces like Zigbee2MQTT 2.x: bridge state, retained availability, then the cached state", async () => {
    const fk = await feedkeeper();
    await started();

    await vi.waitFor(() => expect(fk.payloads(STATE)).toHaveLength(1));
    expect(fk.seen.map((m) => m.topic)).toEqual([BRIDGE, AVAILABILITY, STATE]);
    expect(fk.payloads(BRIDGE)).toEqual(['{"state":"online"}']);
    expect(fk.payloads(AVAILABILITY)).toEqual(['{"state":"online"}']);
    expect(fk.payloads(STATE)).toEqual([
      '{"child_lock":"UNLOCK","error":false,"feed":"","led_indicator":"OFF","linkquality":150,"mode":"schedule","portion_weight":8,"portions_per_day":0,"schedule":[],"serving_size":1,"weight_per_day":0}',
    ]);
    expect(fk.kinds()).toEqual(["status", "hello", "telemetry", "fault", "scheduleHeld"]);

    // Feedkeeper starting later still learns the availability, from the retained copy.
    const late = await feedkeeper();
    await vi.waitFor(() => expect(late.seen.find((m) => m.topic === AVAILABILITY)?.retain).toBe(true));
    expect(late.events()[0]).toEqual({ kind: "status", online: true });
  });

  it("speaks 1.x's plain availability when asked", async () => {
    const fk = await feedkeeper();
    await started({ availability: "legacy" });

    await vi.waitFor(() => expect(fk.payloads(AVAILABILITY)).toEqual(["online"]));
    expect(fk.payloads(BRIDGE)).toEqual(["online"]);
    expect(
      fk
        .events()
        .slice(0, 2)
        .map((e) => e.kind),
    ).toEqual(["status", "hello"]);
  });

  it("feeds what the codec sends, and the codec reads exactly that one meal", async () => {
    const sim = await started();
    const fk = await feedkeeper([STATE]);
    const dispensed = vi.fn();
    sim.on("dispensed", dispensed);

    await fk.send(feed(3));

    await vi.waitFor(() => expect(dispensed).toHaveBeenCalledWith({ portions: 3, source: "remote" }));
    await vi.waitFor(() => expect(sim.state.portions_per_day).toBe(3));
    expect(sim.state.serving_size).toBe(3);
    // The sim's state changes before its message reaches the listening client: wait for the message.
    await vi.waitFor(() => expect(fk.meals()).toEqual([3]));

    // Later messages repeat the cached state, but not the meal.
    sim.setLinkQuality(96);
    await sim.republish();
    await vi.waitFor(() => expect(fk.payloads(STATE).at(-1)).toContain('"linkquality":96'));
    expect(fk.meals()).toEqual([3]);
  });

  it("shows why the guide needs filtered_cache: without it every later message repeats the meal", async () => {
    const sim = await started({ filteredCache: false });
    const fk = await feedkeeper([STATE]);

    await fk.send(feed(2));
    await vi.waitFor(() => expect(sim.dispensed).toHaveLength(1));
    await sim.republish();

    await vi.waitFor(() => expect(fk.meals().length).toBeGreaterThan(2));
    expect(fk.meals().every((portions) => portions === 2)).toBe(true);
  });

  it("applies only the first feeder key of a /set message, as Zigbee2MQTT does", async () => {
    const sim = await started();
    const fk = await feedkeeper([STATE]);
    const commands: string[] = [];
    sim.on("command", (key) => commands.push(key));

    await fk.sendRaw('{"serving_size":4,"feed":"START"}');

    await vi.waitFor(() => expect(sim.state.serving_size).toBe(4));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(commands).toEqual(["serving_size"]);
    expect(sim.dispensed).toEqual([]);
  });

  it("stores a schedule and echoes it, and the codec recognises the plan it sent", async () => {
    const sim = await started();
    const fk = await feedkeeper([STATE]);

    await fk.send(codec.encodeSchedule(target, plan));

    // Zigbee2MQTT's optimistic echo, then the feeder's own report.
    await vi.waitFor(() => expect(fk.events().filter((e) => e.kind === "scheduleHeld")).toHaveLength(2));
    const held = fk.events().filter((e) => e.kind === "scheduleHeld");
    const fingerprint = codec.scheduleFingerprint?.(target, plan);
    expect(held).toEqual([
      { kind: "scheduleHeld", fingerprint },
      { kind: "scheduleHeld", fingerprint },
    ]);
    expect(sim.state.schedule).toEqual([
      { days: "workdays", hour: 7, minute: 30, size: 2 },
      { days: "mon", hour: 18, minute: 0, size: 1 },
      { days: "sat", hour: 18, minute: 0, size: 1 },
    ]);
  });

  it("reports a scheduled meal and a button meal with their source", async () => {
    const sim = await started();
    const fk = await feedkeeper([STATE]);
    await fk.send(codec.encodeSchedule(target, plan));
    await vi.waitFor(() => expect((sim.state.schedule as unknown[]).length).toBe(3));

    await sim.runScheduledMeal(0);
    await sim.pressButton();

    expect(sim.dispensed).toEqual([
      { portions: 2, source: "schedule" },
      { portions: 1, source: "manual" },
    ]);
    await vi.waitFor(() => expect(fk.meals()).toEqual([2, 1]));
    expect(fk.payloads(STATE).filter((p) => p.includes("feeding_source"))).toEqual([
      expect.stringContaining('"feeding_size":2,"feeding_source":"schedule"'),
      expect.stringContaining('"feeding_size":1,"feeding_source":"manual"'),
    ]);
  });

  it("reports a jam as error true, no meal, and false once freed", async () => {
    const sim = await started({ jammed: true });
    const fk = await feedkeeper([STATE]);
    const failed = vi.fn();
    sim.on("failed", failed);

    await fk.send(feed(2));

    await vi.waitFor(() => expect(failed).toHaveBeenCalledWith({ portions: 2, source: "remote" }));
    await vi.waitFor(() => expect(fk.events()).toContainEqual({ kind: "fault", fault: "unknown" }));
    expect(fk.meals()).toEqual([]);

    await sim.setJammed(false);
    await vi.waitFor(() =>
      expect(
        fk
          .events()
          .filter((e) => e.kind === "fault")
          .at(-1),
      ).toEqual({ kind: "fault", fault: "ok" }),
    );
  });

  it("never lets a retained state count as a meal", async () => {
    const sim = await started({ retain: true, filteredCache: false });
    const live = await feedkeeper([STATE]);
    await sim.pressButton();
    await vi.waitFor(() => expect(live.payloads(STATE).at(-1)).toContain('"portions_per_day":1'));
    expect(live.meals()).not.toEqual([]);

    const fk = await feedkeeper([STATE]);

    await vi.waitFor(() => expect(fk.seen).toHaveLength(1));
    expect(fk.seen[0]?.retain).toBe(true);
    expect(fk.seen[0]?.payload).toContain('"feeding_size":1');
    expect(fk.meals()).toEqual([]);
  });

  it("marks the feeder offline when it loses power, and only the bridge when Zigbee2MQTT goes", async () => {
    const sim = await started();
    const fk = await feedkeeper();

    await sim.setAvailable(false);
    await vi.waitFor(() => expect(fk.payloads(AVAILABILITY).at(-1)).toBe('{"state":"offline"}'));
    expect(fk.events().at(-1)).toEqual({ kind: "status", online: false });
    await sim.setAvailable(true);

    sim.kill();
    await vi.waitFor(() => expect(fk.payloads(BRIDGE).at(-1)).toBe('{"state":"offline"}'));
    expect(fk.payloads(AVAILABILITY).at(-1)).toBe('{"state":"online"}');
  });

  it("says offline on the bridge state itself when stopped", async () => {
    const sim = await started({ availability: "legacy" });
    const fk = await feedkeeper([BRIDGE]);

    await sim.stop();

    await vi.waitFor(() => expect(fk.payloads(BRIDGE).at(-1)).toBe("offline"));
  });
});
