/**
 * External broker mode against a real Mosquitto (with a password, as a Home Assistant install has it):
 * the server reads a feeder's device by the topics its profile declares, sends it commands there, marks it
 * offline while the broker is away, keeps a feed pending instead of queueing it, and picks everything up
 * again after the broker restarts. The device family is an owner's profile using the mapping codec, so the
 * test depends on no vendor's codec; the Zigbee2MQTT profile has its own end-to-end test.
 */
import fs from "node:fs";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Running } from "../../server/src/main.js";
import { acmeExternalProfile } from "../helpers/acme-profiles.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { type Mosquitto, startMosquitto } from "../helpers/mosquitto.js";
import { makeDataDir } from "../helpers/server.js";

/** A friendly name with a slash, as Zigbee2MQTT allows. */
const KEY = "kitchen/feeder";

let dataDir: string;
let broker: Mosquitto;
let server: Running;
let api: TestApi;
let device: MqttClient;
let received: string[];

beforeEach(async () => {
  dataDir = makeDataDir();
  broker = await startMosquitto();
  const profilesDir = path.join(dataDir, "profiles");
  fs.mkdirSync(profilesDir);
  fs.writeFileSync(path.join(profilesDir, "acme-external.yaml"), acmeExternalProfile());
  ({ server, api } = await bootInProcess({
    dataDir,
    env: {
      FEEDKEEPER_PROFILES_DIR: profilesDir,
      FEEDKEEPER_MQTT_URL: broker.url,
      FEEDKEEPER_MQTT_USERNAME: broker.username,
      FEEDKEEPER_MQTT_PASSWORD: broker.password,
    },
  }));
  await api.setupOwner();
  received = [];
  // The device side: a bridge (like Zigbee2MQTT) on the same broker, coming back whenever it restarts.
  device = mqtt.connect(broker.url, {
    username: broker.username,
    password: broker.password,
    reconnectPeriod: 200,
  });
  device.on("message", (topic, payload) => received.push(`${topic} ${payload.toString()}`));
  device.on("connect", () => {
    device.subscribe(`acme/${KEY}/down`);
    device.publish(`acme/${KEY}/up/status`, "on", { qos: 1, retain: true });
  });
  await new Promise<void>((resolve) => device.once("connect", () => resolve()));
});

afterEach(async () => {
  device.end(true);
  await server.stop();
  await broker.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function createFeeder() {
  const created = await api.request<{ feeder: { id: string }; credentials: unknown }>(
    "POST",
    "/api/feeders",
    {
      name: "Kitchen",
      profile: "acme-external",
      deviceKey: KEY,
      minFeedIntervalSeconds: 0,
    },
  );
  expect(created.status).toBe(201);
  // Nothing logs in to Feedkeeper as this feeder: there is nothing to issue.
  expect(created.body.credentials).toBeNull();
  return created.body.feeder.id;
}

describe("external broker mode (real Mosquitto)", () => {
  it("reads the device by its profile's topics and feeds it there", async () => {
    const feederId = await createFeeder();
    // Its retained status on the broker says it is there.
    await api.waitForFeeder(feederId, (f) => f.online);

    const { body } = await api.feed(feederId, { portions: 2 });
    await vi.waitFor(() => expect(received).toContain(`acme/${KEY}/down feed 2`));
    device.publish(`acme/${KEY}/up/dispensed`, "2", { qos: 1 });
    await vi.waitFor(async () => expect((await api.getFeed(body.feed.id)).status).toBe("dispensed"));
    // Another device's messages on the same broker are none of this feeder's business.
    device.publish("acme/garage/up/dispensed", "4", { qos: 1 });
    device.publish(`acme/${KEY}/up/dispensed`, "1", { qos: 1 });
    await vi.waitFor(async () => {
      const feeds = await api.request<{ feeds: Array<{ portions: number; source: string }> }>(
        "GET",
        `/api/feeders/${feederId}/feeds`,
      );
      expect(feeds.body.feeds.map((f) => f.portions)).toEqual([1, 2]);
    });
  });

  it("goes offline with the broker, queues nothing, and carries on after it restarts", async () => {
    const feederId = await createFeeder();
    await api.waitForFeeder(feederId, (f) => f.online);

    await broker.kill();
    await api.waitForFeeder(feederId, (f) => !f.online);
    // Asked while the broker is away: pending, not queued in a client library to fire much later.
    const { body } = await api.feed(feederId, { portions: 3 });
    expect(body.feed.status).toBe("pending");

    await broker.resume();
    await api.waitForFeeder(feederId, (f) => f.online, 20_000);
    // Sent once the device is back, within its expiry.
    await vi.waitFor(() => expect(received).toContain(`acme/${KEY}/down feed 3`), { timeout: 5_000 });
    expect(received.filter((r) => r.endsWith("feed 3"))).toHaveLength(1);
  }, 40_000);

  it("lets a feeder that stores its plan hold only what its profile says it can", async () => {
    const feederId = await createFeeder();
    await api.waitForFeeder(feederId, (f) => f.online && f.capabilities.includes("schedule"));
    const meal = (id: string, time: string) => ({ id, time, days: ["mon"], portions: 1 });
    const tooMany = await api.request("PUT", `/api/feeders/${feederId}/schedule`, {
      meals: [meal("a", "07:00"), meal("b", "12:00"), meal("c", "18:00")],
    });
    expect(tooMany.status).toBe(422);
    expect(JSON.stringify(tooMany.body)).toContain("stores at most 2 meals; the plan has 3 enabled");
    const fits = await api.request("PUT", `/api/feeders/${feederId}/schedule`, {
      meals: [meal("a", "07:00"), meal("b", "12:00"), { ...meal("c", "18:00"), enabled: false }],
    });
    expect(fits.status).toBe(200);
    const oneOff = await api.request("POST", `/api/feeders/${feederId}/schedule/one-offs`, {
      date: "2099-01-01",
      time: "08:00",
      portions: 1,
    });
    expect(oneOff.status).toBe(422);
    expect(JSON.stringify(oneOff.body)).toContain("cannot hold one-off meals");
    const pause = await api.request("PUT", `/api/feeders/${feederId}/schedule/pause`, {
      from: "2099-01-01",
      until: "2099-01-02",
    });
    expect(pause.status).toBe(422);
    // Skipping is something this family's stored plan can do.
    expect((await api.request("POST", `/api/feeders/${feederId}/schedule/skip-next`)).status).toBe(200);
  });

  it("refuses a profile on the external broker without a device key", async () => {
    const res = await api.request("POST", "/api/feeders", { name: "Kitchen", profile: "acme-external" });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain("deviceKey: the device's id on the broker is required.");
  });
});
