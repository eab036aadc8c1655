/**
 * The petnet-smartfeeder-v2 profile end to end, as a re-pointed feeder boots: its registration calls over
 * HTTPS (FEEDKEEPER_KRONOS_PORT) give it a gateway hid and its MQTT password, it connects over MQTT with TLS
 * (FEEDKEEPER_MQTTS_PORT), is held as pending and adopted (its firmware generation suggested from its
 * registration), then fed: feed now in sixteenths of a cup, the plan in the newer firmware's commands and
 * confirmed by its acks, its sensors, and a failed meal surfacing as a fault.
 */
import fs from "node:fs";
import https from "node:https";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Running } from "../../server/src/main.js";
import { petnetDeviceHid } from "../../server/src/profiles/codecs/petnet-kronos.js";
import { PetnetFeeder } from "../../server/src/sim/petnet-feeder.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";

let dataDir: string;
let server: Running;
let api: TestApi;
let device: PetnetFeeder | undefined;

beforeEach(async () => {
  dataDir = makeDataDir();
  ({ server, api } = await bootInProcess({
    dataDir,
    env: {
      FEEDKEEPER_MQTTS_PORT: "0",
      FEEDKEEPER_KRONOS_PORT: "0",
      FEEDKEEPER_FEED_RESULT_TIMEOUT_SECONDS: "5",
    },
  }));
  await api.setupOwner();
});

afterEach(async () => {
  device?.kill();
  device = undefined;
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** The feeder's HTTPS call; like its firmware, it does not check the certificate. */
function kronos(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port: server.kronosPort,
        method,
        path,
        rejectUnauthorized: false,
        headers: { "content-type": "application/json", "user-agent": "IOE Client" },
      },
      (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }),
        );
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** What the firmware does at every boot before MQTT: gateway, its config, the device behind it. */
async function register(uid = "smartfeeder-795ae773737d", softwareVersion = "2.8.0") {
  const gateway = await kronos("POST", "/api/v1/kronos/gateways", {
    name: "SF Gateway",
    uid,
    osName: "FreeRTOS",
    type: "Local",
    softwareName: "SMART FEEDER",
    softwareVersion,
    sdkVersion: "1.3.12",
  });
  expect(gateway.status).toBe(200);
  const hid: string = gateway.json.hid;
  const config = await kronos("GET", `/api/v1/kronos/gateways/${hid}/config`);
  expect(config.status).toBe(200);
  const deviceReg = await kronos("POST", "/api/v1/kronos/devices", {
    name: "SF20A",
    type: "SMART FEEDER",
    uid: `${uid}-prod`,
    gatewayHid: hid,
    softwareName: "SMART FEEDER",
    softwareVersion,
  });
  expect(deviceReg.json.hid).toBe(petnetDeviceHid(hid));
  return { hid, apiKey: config.json.key.apiKey as string };
}

async function bootAndAdopt() {
  const { hid, apiKey } = await register();
  device = new PetnetFeeder({
    url: `mqtts://127.0.0.1:${server.mqttsPort}`,
    gatewayHid: hid,
    apiKey,
    firmware: "2.5",
    msPerSixteenth: 5,
    reconnectMs: 100,
    apiAckTimeoutMs: 500,
  });
  await device.start();
  let pending: Array<{ id: string; suggestedModel: string | null; deviceKey: string }> = [];
  await vi.waitFor(async () => {
    pending = (await api.request<{ devices: typeof pending }>("GET", "/api/devices/pending")).body.devices;
    expect(pending).toHaveLength(1);
  });
  expect(pending[0]).toMatchObject({ deviceKey: hid, suggestedModel: "fw-2.5" });
  const adopted = await api.request<{ feeder: { id: string } }>(
    "POST",
    `/api/devices/pending/${pending[0]?.id}/adopt`,
    {
      name: "Hall",
      minFeedIntervalSeconds: 0,
    },
  );
  expect(adopted.status).toBe(201);
  const feederId = adopted.body.feeder.id;
  await api.waitForFeeder(feederId, (f) => f.online, 10_000);
  return feederId;
}

describe("petnet-smartfeeder-v2 end to end", () => {
  it("answers the boot calls with the same MQTT password every time, and only for registered gateways", async () => {
    const first = await register();
    const again = await register();
    expect(again).toEqual(first);
    expect(first.apiKey).toMatch(/^[0-9a-f]{64}$/);
    const unknown = await kronos("GET", `/api/v1/kronos/gateways/${"0".repeat(40)}/config`);
    expect(unknown.status).toBe(400);
    const bad = await kronos("POST", "/api/v1/kronos/gateways", { name: "no uid" });
    expect(bad.status).toBe(400);
  });

  it("adopts the feeder, feeds it in sixteenths of a cup, and stores its plan", async () => {
    const feederId = await bootAndAdopt();
    const { body } = await api.feed(feederId, { portions: 4 });
    await vi.waitFor(async () => expect((await api.getFeed(body.feed.id)).status).toBe("dispensed"), {
      timeout: 5_000,
    });

    const res = await api.request("PUT", `/api/feeders/${feederId}/schedule`, {
      meals: [
        {
          id: "breakfast",
          time: "07:30",
          days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
          portions: 2,
        },
      ],
    });
    expect(res.status).toBe(200);
    await vi.waitFor(
      async () => {
        const { schedule } = (
          await api.request<{ schedule: { version: number; deviceVersion: number | null } }>(
            "GET",
            `/api/feeders/${feederId}/schedule`,
          )
        ).body;
        expect(schedule.deviceVersion).toBe(schedule.version);
      },
      { timeout: 5_000 },
    );
    // Its entries have no weekdays: a plan for some days only is refused, not half stored.
    const weekdays = await api.request("PUT", `/api/feeders/${feederId}/schedule`, {
      meals: [{ id: "breakfast", time: "07:30", days: ["mon"], portions: 2 }],
    });
    expect(weekdays.status).toBe(422);
  });

  it("shows its power and signal, and a failed meal as the feeder's fault", async () => {
    const feederId = await bootAndAdopt();
    await device?.sendSensors({ voltageMv: 5900, usb: true, charging: false, rssi: -61 });
    await api.waitForFeeder(feederId, (f) => f.telemetry?.charging === true && f.telemetry.rssi === -61);
    device?.setFault("motor stall");
    await api.feed(feederId, { portions: 1 });
    await api.waitForFeeder(feederId, (f) => f.telemetry?.error === "unknown", 10_000);
  });
});
