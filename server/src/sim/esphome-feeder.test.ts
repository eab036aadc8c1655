/**
 * The ESPHome feeder simulator against Feedkeeper's real embedded broker (ACL, retain handling, client id
 * rules), so the topics of the guide's YAML are proven to get through it. The hooks record exactly what the
 * server would be handed.
 */

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type SimBroker, started, startSimBroker } from "../testing/sim-broker.js";
import {
  EspHomeFeeder,
  type EspHomeFeederOptions,
  esphomeTopics,
  formatAccuracy,
  parseEspHomeFloat,
} from "./esphome-feeder.js";
import { ConnectionRefusedError } from "./native-feeder.js";

const FEEDER_ID = "esp32feeder1";
const PASSWORD = "s3cret-password";
const ROOT = `feedkeeper/${FEEDER_ID}`;
const DISPENSED = `${ROOT}/sensor/dispensed_portions/state`;
const ERROR = `${ROOT}/text_sensor/feeder_error/state`;

let broker: SimBroker;

beforeEach(async () => {
  broker = await startSimBroker({ admit: { feeder: FEEDER_ID, password: PASSWORD } });
});

afterEach(() => broker.close());

function feeder(options: Partial<EspHomeFeederOptions> = {}): EspHomeFeeder {
  return broker.track(
    new EspHomeFeeder({
      url: broker.url,
      id: FEEDER_ID,
      password: PASSWORD,
      msPerPortion: 5,
      reconnectMs: 50,
      ...options,
    }),
  );
}

const startedFeeder = (options: Partial<EspHomeFeederOptions> = {}) => started(feeder(options));

/** What Feedkeeper sends for a feed of this profile: `{portions}` on cmd/feed_portions, QoS 1, not retained. */
async function command(payload: string): Promise<void> {
  await broker.publish(esphomeTopics.feedPortions(FEEDER_ID), payload, { qos: 1, retain: false });
}

const payloadsOn = (topic: string) => broker.payloadsOn(topic);

describe("EspHomeFeeder", () => {
  it("subscribes to its command, then sends its birth message, then its states", async () => {
    await startedFeeder();

    await vi.waitFor(() => expect(payloadsOn(`${ROOT}/number/feed_portions/state`)).toEqual(["1.000000"]));
    expect(broker.timeline).toEqual([
      `connected ${FEEDER_ID}`,
      `subscribed ${FEEDER_ID}`,
      `${ROOT}/status online`,
      `${ROOT}/number/feed_portions/state 1.000000`,
    ]);
    // Only the status keeps its retain flag on Feedkeeper's broker.
    expect(broker.messages.find((m) => m.topic === `${ROOT}/status`)?.retain).toBe(true);
  });

  it("dispenses a command, then reports the portions and resets the report to 0", async () => {
    const sim = await startedFeeder();
    const dispensed = vi.fn();
    sim.on("dispensed", dispensed);

    await command("2");

    await vi.waitFor(() => expect(payloadsOn(ERROR)).toEqual(["ok"]));
    expect(broker.messages.filter((m) => m.topic === DISPENSED)).toEqual([
      { topic: DISPENSED, payload: "2", retain: false },
      { topic: DISPENSED, payload: "0", retain: false },
    ]);
    expect(dispensed).toHaveBeenCalledWith({ portions: 2, source: "remote" });
    expect(broker.timeline).not.toContain(`disconnected ${FEEDER_ID}`);
  });

  it("reads the command as a float and ignores what the number would refuse", async () => {
    const sim = await startedFeeder();
    const commands: number[] = [];
    sim.on("command", (portions) => commands.push(portions));

    for (const payload of ["two", "", "0", "21", "2 ", "3.000000"]) await command(payload);

    await vi.waitFor(() => expect(payloadsOn(DISPENSED)).toEqual(["3", "0"]));
    expect(commands).toEqual([3]);
    expect(sim.dispensed).toEqual([{ portions: 3, source: "remote" }]);
  });

  it("runs meals one after another", async () => {
    await startedFeeder({ msPerPortion: 20 });

    await command("3");
    await command("1");

    await vi.waitFor(() => expect(payloadsOn(DISPENSED)).toEqual(["3", "0", "1", "0"]));
  });

  it("reports a jam instead of a meal, and ok when the jam switch opens", async () => {
    const sim = await startedFeeder({ jammed: true });
    const failed = vi.fn();
    sim.on("failed", failed);

    await command("2");

    await vi.waitFor(() => expect(payloadsOn(ERROR)).toEqual(["jam"]));
    expect(failed).toHaveBeenCalledWith({ portions: 2, source: "remote", error: "jam" });
    expect(payloadsOn(DISPENSED)).toEqual([]);

    sim.setJammed(false);
    await vi.waitFor(() => expect(payloadsOn(ERROR)).toEqual(["jam", "ok"]));
    await command("1");
    await vi.waitFor(() => expect(payloadsOn(DISPENSED)).toEqual(["1", "0"]));
  });

  it("reports a button meal the same way, without a command", async () => {
    const sim = await startedFeeder();

    await sim.pressButton();

    await vi.waitFor(() => expect(payloadsOn(ERROR)).toEqual(["ok"]));
    expect(payloadsOn(DISPENSED)).toEqual(["1", "0"]);
    expect(sim.dispensed).toEqual([{ portions: 1, source: "button" }]);
  });

  it("publishes sensors with their accuracy_decimals", async () => {
    const sim = await startedFeeder();

    await sim.sendSensors({ foodLevelPercent: 42.4, weightGrams: 35.25, batteryPercent: 87.6, rssi: -61.4 });

    await vi.waitFor(() => expect(payloadsOn(`${ROOT}/sensor/wifi_signal/state`)).toEqual(["-61"]));
    expect(payloadsOn(`${ROOT}/sensor/food_level/state`)).toEqual(["42"]);
    expect(payloadsOn(`${ROOT}/sensor/weight/state`)).toEqual(["35.2"]);
    expect(payloadsOn(`${ROOT}/sensor/battery_level/state`)).toEqual(["88"]);
    expect(broker.messages.filter((m) => m.topic.includes("/sensor/")).every((m) => !m.retain)).toBe(true);
  });

  it("publishes every state again after a reconnect, but never an old meal", async () => {
    const sim = await startedFeeder();
    await sim.sendSensors({ foodLevelPercent: 50 });
    await command("2");
    await vi.waitFor(() => expect(payloadsOn(ERROR)).toEqual(["ok"]));
    const ready = new Promise<void>((resolve) => sim.once("ready", () => resolve()));
    broker.clearMessages();

    broker.disconnect({ feederId: FEEDER_ID });
    await ready;

    await vi.waitFor(() => expect(payloadsOn(ERROR)).toEqual(["ok"]));
    expect(payloadsOn(`${ROOT}/status`)).toEqual(["offline", "online"]);
    expect(payloadsOn(`${ROOT}/sensor/food_level/state`)).toEqual(["50"]);
    expect(payloadsOn(DISPENSED)).toEqual(["0"]);
  });

  it("leaves the broker to publish its will when killed", async () => {
    const sim = await startedFeeder();
    await vi.waitFor(() => expect(payloadsOn(`${ROOT}/status`)).toEqual(["online"]));

    sim.kill();

    await vi.waitFor(() => expect(payloadsOn(`${ROOT}/status`)).toEqual(["online", "offline"]));
  });

  it("says offline itself when stopped, so no will fires", async () => {
    const sim = await startedFeeder();

    await sim.stop();

    await vi.waitFor(() => expect(broker.timeline).toContain(`disconnected ${FEEDER_ID}`));
    // A will would be published while the broker tears the session down; give it the chance.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(payloadsOn(`${ROOT}/status`)).toEqual(["online", "offline"]);
  });

  it("fails to start with refused credentials", async () => {
    const error = await feeder({ password: "wrong" })
      .start()
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectionRefusedError);
    expect((error as ConnectionRefusedError).returnCode).toBe(4);
  });
});

describe("ESPHome number formats", () => {
  it("parses command payloads like parse_number<float>", () => {
    expect(["2", "2.000000", " 2", "2e0", ".5"].map(parseEspHomeFloat)).toEqual([2, 2, 2, 2, 0.5]);
    expect(["", "2 ", "two", "2,5", "0x2"].map(parseEspHomeFloat)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("formats like printf, exact ties to even", () => {
    expect(formatAccuracy(2, 0)).toBe("2");
    expect(formatAccuracy(2.5, 0)).toBe("2");
    expect(formatAccuracy(3.5, 0)).toBe("4");
    expect(formatAccuracy(35.25, 1)).toBe("35.2");
    expect(formatAccuracy(-61.4, 0)).toBe("-61");
    expect(formatAccuracy(-2.5, 0)).toBe("-2");
    expect(formatAccuracy(2.675, 2)).toBe("2.67"); // the double is just below 2.675
    expect(formatAccuracy(0.125, 2)).toBe("0.12");
  });
});
