/**
 * The tasmota-tuyamcu profile end to end: a simulated Arlec 5L running Tasmota as TuyaMCU (set up as in
 * docs/devices/tasmota-tuyamcu.md) on the real server's embedded broker. Feed now, sensors, a jam
 * surfacing as the feed's canonical error, the meal plan stored on the device and confirmed from its echo,
 * and no phantom meal from the state the device reports after each reconnect.
 */
import fs from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Running } from "../../server/src/main.js";
import { TasmotaTuyaFeeder } from "../../server/src/sim/tasmota-tuya-feeder.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";
import { until } from "../helpers/until.js";

const DONE = ["dispensed", "failed", "timed_out", "expired"] as const;

let dataDir: string;
let server: Running;
let api: TestApi;
let device: TasmotaTuyaFeeder;
let feederId: string;
/** Commands the device received, as `<Command> <payload>`. */
let commands: string[];

beforeEach(async () => {
  dataDir = makeDataDir();
  ({ server, api } = await bootInProcess({ dataDir }));
  await api.setupOwner();
  const created = await api.createFeeder("Kitchen", {
    profile: "tasmota-tuyamcu",
    model: "arlec-5l",
    minFeedIntervalSeconds: 0,
  });
  feederId = created.feeder.id;
  device = new TasmotaTuyaFeeder({
    url: `mqtt://127.0.0.1:${server.mqttPort}`,
    id: created.credentials.username,
    password: created.credentials.password,
    msPerPortion: 10,
    reconnectMs: 100,
    // Its first message after connecting brings the state query: a heartbeat comes soon.
    heartbeatMs: 100,
  });
  commands = [];
  device.on("command", (name, payload) => commands.push(`${name} ${payload}`));
  await device.start();
  await api.waitForFeeder(feederId, (f) => f.online);
  await stateQueried();
});

afterEach(async () => {
  await device.stop();
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/**
 * The first message after connecting brings the server's state query; the MCU answers it with every DP.
 * Tests start after that, as a meal running while the answer comes would take the previous report for its own.
 */
async function stateQueried(): Promise<void> {
  await until("the state query", async () => (commands.includes("TuyaSend0 ") ? true : undefined));
  await new Promise((r) => setTimeout(r, 100));
}

const feedsOf = async () =>
  (await api.request("GET", `/api/feeders/${feederId}/feeds`)).body.feeds as unknown[];

describe("tasmota-tuyamcu profile", () => {
  it("feeds through TuyaSend2 and matches the feed report to the feed", async () => {
    const feeder = await api.waitForFeeder(feederId, (f) => f.model !== null);
    expect(feeder).toMatchObject({
      profile: "tasmota-tuyamcu",
      profileModel: "arlec-5l",
      model: "Arlec 5L pet feeder",
      firmware: "Tasmota",
      maxPortions: 10,
    });
    const { body } = await api.feed(feederId, { portions: 2 });
    const done = await api.waitForFeed(body.feed.id, [...DONE]);

    expect(done).toMatchObject({ status: "dispensed", portions: 2, source: "remote" });
    expect(commands).toContain("TuyaSend2 3,2");
    expect(device.dispensed).toEqual([{ portions: 2, source: "remote" }]);
  });

  it("records a button meal as a meal started on the device", async () => {
    await device.pressButton(1);
    const feeds = await until("the button meal", async () => {
      const all = await feedsOf();
      return all.length > 0 ? all : undefined;
    });
    expect(feeds).toMatchObject([{ source: "button", status: "dispensed", portions: 1 }]);
  });

  it("shows the battery and the Wi-Fi signal, and a jam fails the feed with the canonical error", async () => {
    device.setBattery(88);
    await device.sendState(-61);
    const withSensors = await api.waitForFeeder(feederId, (f) => f.telemetry?.rssi === -61);
    expect(withSensors.telemetry).toMatchObject({ battery: 0.88, rssi: -61 });

    device.setJammed(true);
    const { body } = await api.feed(feederId, { portions: 1 });
    const failed = await api.waitForFeed(body.feed.id, [...DONE]);
    expect(failed).toMatchObject({ status: "failed", error: "jam" });
    const jammed = await api.waitForFeeder(feederId, (f) => f.telemetry?.error === "jam");
    expect(jammed.telemetry?.battery).toBe(0.88);

    device.setJammed(false);
    await api.waitForFeeder(feederId, (f) => f.telemetry?.error === undefined);
  });

  it("stores the meal plan on the device and shows it confirmed from the device's echo", async () => {
    const put = await api.request("PUT", `/api/feeders/${feederId}/schedule`, {
      timezone: "Europe/Berlin",
      meals: [
        { time: "07:30", days: ["mon", "tue", "wed", "thu", "fri"], portions: 2 },
        { time: "18:00", days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], portions: 3 },
        { time: "12:00", days: ["sat"], portions: 1, enabled: false },
      ],
    });
    expect(put.status).toBe(200);
    const version = put.body.schedule.version as number;

    const schedule = await until("the device's confirmation", async () => {
      const { body } = await api.request("GET", `/api/feeders/${feederId}/schedule`);
      return body.schedule.deviceVersion === version ? body.schedule : undefined;
    });

    expect(schedule).toMatchObject({ version, deviceVersion: version, deviceDriven: true });
    // The enabled meals, 5 bytes each: days (bit 0 = Monday), hour, minute, portions, enabled.
    expect(device.plan.toString("hex").toUpperCase()).toBe("1F071E02017F12000301");
    expect(commands).toContain("TuyaSend6 1,1F071E02017F12000301");

    // What the device cannot hold is refused rather than saved and never fed.
    const oneOff = await api.request("POST", `/api/feeders/${feederId}/schedule/one-offs`, {
      date: "2030-01-01",
      time: "12:00",
      portions: 1,
    });
    expect(oneOff.status).toBe(422);
  });

  it("keeps a stock build connected: its Tasmota discovery messages are thrown away unread", async () => {
    await device.stop();
    const created = await api.createFeeder("Stock build", { profile: "tasmota-tuyamcu", model: "arlec-5l" });
    const stock = new TasmotaTuyaFeeder({
      url: `mqtt://127.0.0.1:${server.mqttPort}`,
      id: created.credentials.username,
      password: created.credentials.password,
      reconnectMs: 100,
      heartbeatMs: 100,
      discoveryAfterMs: 20,
    });
    let drops = 0;
    stock.on("disconnected", () => {
      drops += 1;
    });
    await stock.start();
    await api.waitForFeeder(created.feeder.id, (f) => f.online);
    await new Promise((r) => setTimeout(r, 300));
    expect(drops).toBe(0);
    const log = await api.request<{ entries: Array<{ kind: string }> }>(
      "GET",
      `/api/connection-log?feederId=${created.feeder.id}`,
    );
    expect(log.body.entries.map((e) => e.kind)).not.toContain("publish_refused");
    await stock.stop();
  });

  it("after a reconnect learns the state again, without taking the last report for a new meal", async () => {
    const { body } = await api.feed(feederId, { portions: 2 });
    await api.waitForFeed(body.feed.id, [...DONE]);
    commands = [];

    device.dropConnection();
    await stateQueried();
    await api.waitForFeeder(feederId, (f) => f.online);

    expect(await feedsOf()).toHaveLength(1);
  });
});
