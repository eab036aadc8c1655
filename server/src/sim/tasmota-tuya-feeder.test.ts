/**
 * The Tasmota + TuyaMCU feeder simulator against Feedkeeper's real embedded broker (ACL, retain handling,
 * client id rules), so the topics of the guide's Tasmota settings are proven to get through it, and the
 * settings it warns about are proven to get a feeder cut off. The hooks record exactly what the server
 * would be handed.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type SimBroker, started, startSimBroker } from "../testing/sim-broker.js";
import { ConnectionRefusedError } from "./native-feeder.js";
import {
  dp,
  stateReportFrame,
  TasmotaTuyaFeeder,
  type TasmotaTuyaFeederOptions,
  tasmotaTopics,
  tuyaReceivedJson,
} from "./tasmota-tuya-feeder.js";

const FEEDER_ID = "tasmotafeed1";
const PASSWORD = "s3cret-password";
const ROOT = `feedkeeper/${FEEDER_ID}`;

let broker: SimBroker;

beforeEach(async () => {
  broker = await startSimBroker({ admit: { feeder: FEEDER_ID, password: PASSWORD } });
});

afterEach(() => broker.close());

function feeder(options: Partial<TasmotaTuyaFeederOptions> = {}): TasmotaTuyaFeeder {
  return broker.track(
    new TasmotaTuyaFeeder({
      url: broker.url,
      id: FEEDER_ID,
      password: PASSWORD,
      msPerPortion: 5,
      reconnectMs: 50,
      ...options,
    }),
  );
}

const startedFeeder = (options: Partial<TasmotaTuyaFeederOptions> = {}) => started(feeder(options));

/** What Feedkeeper sends: the TuyaSend command on cmd/, QoS 1, never retained. */
async function command(name: string, payload: string): Promise<void> {
  await broker.publish(tasmotaTopics.command(FEEDER_ID, name), payload, { qos: 1, retain: false });
}

/** Each DP report on tele/RESULT as `<dp>=<hex data>`. */
function reports(): string[] {
  return broker.payloadsOn(`${ROOT}/tele/RESULT`).flatMap((payload) => {
    const frame = JSON.parse(payload).TuyaReceived as Record<string, { DpId?: number; DpIdData?: string }>;
    return Object.values(frame)
      .filter((v) => typeof v === "object" && v.DpId !== undefined)
      .map((v) => `${v.DpId}=${v.DpIdData}`);
  });
}

const payloadsOn = (topic: string) => broker.payloadsOn(topic);

/** The boot dump: plan (empty), manual_feed 1, feed_state standby, battery 100 %, no fault, last report 0. */
const BOOT_STATE = ["1=", "3=00000001", "4=00", "11=00000064", "14=00", "15=00000000"];

describe("TasmotaTuyaFeeder", () => {
  it("publishes its LWT, subscribes, then after booting says INFO1 and reports every DP", async () => {
    await startedFeeder();

    await vi.waitFor(() => expect(reports()).toEqual(BOOT_STATE));
    expect(broker.timeline.slice(0, 2)).toEqual([`connected ${FEEDER_ID}`, `${ROOT}/tele/LWT Online`]);
    // The SUBACKs come in any order; INFO1 only after all of them.
    expect(broker.timeline.slice(2, 5).sort()).toEqual([
      `subscribe refused cmnd/${FEEDER_ID}_fb/#`,
      "subscribe refused feedkeeper/tasmotas/cmd/#",
      `subscribed ${FEEDER_ID}`,
    ]);
    expect(broker.timeline[5]).toContain(`${ROOT}/tele/INFO1 {"Info1":{"Module":"TuyaMCU"`);
    expect(broker.timeline).not.toContain(`disconnected ${FEEDER_ID}`);
    expect(broker.messages.find((m) => m.topic === `${ROOT}/tele/LWT`)?.retain).toBe(true);
  });

  it("feeds on TuyaSend2: done, its DP echoed, feeding, the report, done", async () => {
    const sim = await startedFeeder();
    await vi.waitFor(() => expect(reports()).toHaveLength(BOOT_STATE.length));
    broker.clearMessages();

    await command("TuyaSend2", "3,2");

    await vi.waitFor(() => expect(reports()).toEqual(["3=00000002", "4=01", "15=00000002", "4=02"]));
    expect(payloadsOn(`${ROOT}/stat/RESULT`)).toEqual(['{"TuyaSend2":"Done"}']);
    expect(sim.dispensed).toEqual([{ portions: 2, source: "remote" }]);
  });

  it("ignores a manual_feed outside 1-12 and a TuyaSend to another DP", async () => {
    const sim = await startedFeeder();
    await vi.waitFor(() => expect(reports()).toHaveLength(BOOT_STATE.length));
    broker.clearMessages();

    for (const payload of ["3,0", "3,13", "5,2", "3"]) await command("TuyaSend2", payload);
    await command("TuyaSend2", "3,1");

    await vi.waitFor(() => expect(reports()).toEqual(["3=00000001", "4=01", "15=00000001", "4=02"]));
    expect(sim.dispensed).toEqual([{ portions: 1, source: "remote" }]);
  });

  it("stores the meal plan from TuyaSend6 and reports it back", async () => {
    const sim = await startedFeeder();
    await vi.waitFor(() => expect(reports()).toHaveLength(BOOT_STATE.length));
    broker.clearMessages();

    await command("TuyaSend6", "1,7F060008017F10000801");

    await vi.waitFor(() => expect(reports()).toEqual(["1=7F060008017F10000801"]));
    expect(sim.plan.toString("hex")).toBe("7f060008017f10000801");
    const frame = JSON.parse(payloadsOn(`${ROOT}/tele/RESULT`)[0] ?? "{}").TuyaReceived;
    expect(frame).toMatchObject({ Cmnd: 7, DpType0Id1: "0x7F060008017F10000801" });
  });

  it("reports every DP again on TuyaSend0, the plan and the last report included", async () => {
    await startedFeeder();
    await command("TuyaSend6", "1,7F06000801");
    await command("TuyaSend2", "3,2");
    await vi.waitFor(() => expect(reports()).toContain("15=00000002"));
    broker.clearMessages();

    await command("TuyaSend0", "");

    await vi.waitFor(() =>
      expect(reports()).toEqual([
        "1=7F06000801",
        "3=00000002",
        "4=02",
        "11=00000064",
        "14=00",
        "15=00000002",
      ]),
    );
    expect(payloadsOn(`${ROOT}/stat/RESULT`)).toEqual(['{"TuyaSend0":"Done"}']);
  });

  it("reports a jam instead of a meal, and the fault cleared", async () => {
    const sim = await startedFeeder({ jammed: true });
    await vi.waitFor(() => expect(reports()).toHaveLength(BOOT_STATE.length));
    broker.clearMessages();
    const failed = vi.fn();
    sim.on("failed", failed);

    await command("TuyaSend2", "3,2");

    await vi.waitFor(() => expect(reports()).toEqual(["3=00000002", "4=01", "14=01", "4=00"]));
    expect(failed).toHaveBeenCalledWith({ portions: 2, source: "remote", error: "jam" });
    sim.setJammed(false);
    await vi.waitFor(() => expect(reports()).toContain("14=00"));
  });

  it("reports the battery, the Wi-Fi signal and button meals", async () => {
    const sim = await startedFeeder();
    await vi.waitFor(() => expect(reports()).toHaveLength(BOOT_STATE.length));
    broker.clearMessages();

    sim.setBattery(88);
    await sim.sendState(-61);
    await sim.pressButton(1);

    await vi.waitFor(() => expect(reports()).toEqual(["11=00000058", "4=01", "15=00000001", "4=02"]));
    expect(JSON.parse(payloadsOn(`${ROOT}/tele/STATE`)[0] ?? "{}").Wifi).toMatchObject({ Signal: -61 });
    expect(sim.dispensed).toEqual([{ portions: 1, source: "button" }]);
  });

  it("after a lost connection: the will, then LWT and subscriptions again, but no INFO1 or state", async () => {
    const sim = await startedFeeder();
    await vi.waitFor(() => expect(reports()).toHaveLength(BOOT_STATE.length));
    const ready = new Promise<void>((resolve) => sim.once("ready", () => resolve()));
    broker.clearMessages();

    sim.dropConnection();
    await ready;

    await vi.waitFor(() => expect(payloadsOn(`${ROOT}/tele/LWT`)).toEqual(["Offline", "Online"]));
    expect(payloadsOn(`${ROOT}/tele/INFO1`)).toEqual([]);
    expect(reports()).toEqual([]);
  });

  it("publishes the MCU's answers to its heartbeat: 0 the first time, then 1", async () => {
    await startedFeeder({ heartbeatMs: 20 });

    await vi.waitFor(() =>
      expect(
        payloadsOn(`${ROOT}/tele/RESULT`)
          .filter((p) => p.includes('"Cmnd":0'))
          .slice(0, 2),
      ).toEqual([
        '{"TuyaReceived":{"Data":"55AA030000010003","Cmnd":0,"CmndData":"00"}}',
        '{"TuyaReceived":{"Data":"55AA030000010104","Cmnd":0,"CmndData":"01"}}',
      ]),
    );
  });

  it("says Offline itself when restarted", async () => {
    const sim = await startedFeeder();

    await sim.stop();

    await vi.waitFor(() => expect(broker.timeline).toContain(`disconnected ${FEEDER_ID}`));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(payloadsOn(`${ROOT}/tele/LWT`)).toEqual(["Online", "Offline"]);
  });

  it("is cut off without SetOption90 1: its empty POWER message lands under cmd/", async () => {
    await startedFeeder({ publishesEmptyPower: true });

    await vi.waitFor(() =>
      expect(broker.timeline).toContain(`publish refused ${ROOT}/cmd/POWER: command topics are server-only`),
    );
    await vi.waitFor(() => expect(broker.timeline).toContain(`disconnected ${FEEDER_ID}`));
  });

  it("fails to start with refused credentials", async () => {
    const error = await feeder({ password: "wrong" })
      .start()
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectionRefusedError);
    expect((error as ConnectionRefusedError).returnCode).toBe(4);
  });
});

describe("Tuya frames as Tasmota publishes them", () => {
  it("writes TuyaReceived like Tasmota's documentation shows it", () => {
    // docs/TuyaMCU.md: an MCU (protocol version 1) reporting DP 1 off.
    expect(tuyaReceivedJson(Buffer.from("55AA0107000501010001000F", "hex"))).toBe(
      '{"TuyaReceived":{"Data":"55AA0107000501010001000F","Cmnd":7,"CmndData":"0101000100","DpType1Id1":0,"1":{"DpId":1,"DpIdType":1,"DpIdData":"00"}}}',
    );
    expect(tuyaReceivedJson(Buffer.from("55AA01070008680200040000099117", "hex"))).toBe(
      '{"TuyaReceived":{"Data":"55AA01070008680200040000099117","Cmnd":7,"CmndData":"6802000400000991","DpType2Id104":2449,"104":{"DpId":104,"DpIdType":2,"DpIdData":"00000991"}}}',
    );
  });

  it("frames DPs with the length and the checksum of the serial protocol", () => {
    expect(
      stateReportFrame([dp.value(15, 2)])
        .toString("hex")
        .toUpperCase(),
    ).toBe("55AA030700080F0200040000000228");
    expect(
      stateReportFrame([dp.bitmap(14, 1)])
        .toString("hex")
        .toUpperCase(),
    ).toBe("55AA030700050E0500010123");
  });
});
