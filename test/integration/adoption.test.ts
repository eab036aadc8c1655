/**
 * Vendor firmware that brings its own credentials, end to end on the real server: an unknown device is
 * held as pending (it may talk, nothing is sent to it or kept), an owner adopts it, it reconnects as the
 * feeder and is kept to its profile's topics; a wrong password after adoption is refused and logged, and
 * a flood of strangers is cut off. The device family is an owner's profile (FEEDKEEPER_PROFILES_DIR)
 * using the mapping codec, so the test depends on no vendor's codec.
 */
import fs from "node:fs";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Running } from "../../server/src/main.js";
import { ACME_VENDOR_PROFILE } from "../helpers/acme-profiles.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";

const KEY = "00C0FFEE";
const CLIENT_ID = `ACME-${KEY}`;
const up = (channel: string) => `acme/AF2/${KEY}/up/${channel}`;
const DOWN = `acme/AF2/${KEY}/down`;

let dataDir: string;
let server: Running;
let api: TestApi;
const clients: MqttClient[] = [];

beforeEach(async () => {
  dataDir = makeDataDir();
  const profilesDir = path.join(dataDir, "profiles");
  fs.mkdirSync(profilesDir);
  fs.writeFileSync(path.join(profilesDir, "acme-vendor.yaml"), ACME_VENDOR_PROFILE);
  ({ server, api } = await bootInProcess({ dataDir, env: { FEEDKEEPER_PROFILES_DIR: profilesDir } }));
  await api.setupOwner();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** A vendor device: its own client id and product credentials, reconnecting the way firmware does. */
function vendorDevice(clientId = CLIENT_ID, password = "acme-product-secret"): MqttClient {
  const client = mqtt.connect(`mqtt://127.0.0.1:${server.mqttPort}`, {
    clientId,
    username: "acme-product-key",
    password,
    reconnectPeriod: 100,
    connectTimeout: 2_000,
  });
  clients.push(client);
  return client;
}

const connected = (client: MqttClient) =>
  new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });

async function pendingDevices() {
  const res = await api.request<{ devices: Array<Record<string, unknown>> }>("GET", "/api/devices/pending");
  expect(res.status).toBe(200);
  return res.body.devices;
}

describe("adopting vendor devices", () => {
  it("holds an unknown device as pending, adopts it, then feeds it through its own topics", async () => {
    const device = vendorDevice();
    const received: string[] = [];
    device.on("message", (topic, payload) => received.push(`${topic} ${payload.toString()}`));
    await connected(device);
    await device.subscribeAsync(DOWN);
    await device.publishAsync(up("status"), "on", { qos: 1 });

    const [held] = await pendingDevices();
    expect(held).toMatchObject({
      profile: "acme-vendor",
      deviceKey: KEY,
      clientId: CLIENT_ID,
      topics: [DOWN, up("status")],
      suggestedModel: "AF2",
    });
    expect(held).not.toHaveProperty("secretHash");
    // Nothing it said made a feeder, and nothing it could not be sent was sent.
    expect((await api.request<{ feeders: unknown[] }>("GET", "/api/feeders")).body.feeders).toEqual([]);

    const adopted = await api.request<{ feeder: { id: string; profileModel: string; deviceKey: string } }>(
      "POST",
      `/api/devices/pending/${held?.id}/adopt`,
      { name: "Pantry", minFeedIntervalSeconds: 0 },
    );
    expect(adopted.status).toBe(201);
    expect(adopted.body.feeder).toMatchObject({ profileModel: "AF2", deviceKey: KEY });
    expect(await pendingDevices()).toEqual([]);
    const feederId = adopted.body.feeder.id;

    // Its session was cut; it comes back with the same credentials, now as the feeder.
    await connected(device);
    await device.subscribeAsync(DOWN);
    await device.publishAsync(up("status"), "on", { qos: 1 });
    await api.waitForFeeder(feederId, (f) => f.online);

    const { body } = await api.feed(feederId, { portions: 3 });
    await vi.waitFor(() => expect(received).toContain(`${DOWN} feed 3`));
    await device.publishAsync(up("dispensed"), "3", { qos: 1 });
    await vi.waitFor(async () => expect((await api.getFeed(body.feed.id)).status).toBe("dispensed"));

    // Kept to its profile's topics: Feedkeeper's own are not its to use.
    device.publish(`feedkeeper/${feederId}/feed`, "{}", { qos: 0 });
    await vi.waitFor(async () => {
      const log = await api.request<{ entries: Array<{ kind: string; detail: string }> }>(
        "GET",
        `/api/connection-log?feederId=${feederId}`,
      );
      expect(log.body.entries).toContainEqual(
        expect.objectContaining({
          kind: "publish_refused",
          detail: `feedkeeper/${feederId}/feed: outside the topics its profile lets it publish (the connection was closed)`,
        }),
      );
    });
  });

  it("refuses an adopted device that comes back with another password, and says why", async () => {
    const device = vendorDevice();
    await connected(device);
    const [held] = await pendingDevices();
    const adopted = await api.request<{ feeder: { id: string } }>(
      "POST",
      `/api/devices/pending/${held?.id}/adopt`,
      { name: "Pantry", model: "AF1" },
    );
    expect(adopted.status).toBe(201);
    device.end(true);

    const impostor = vendorDevice(CLIENT_ID, "someone-elses-secret");
    const refusal = await new Promise<Error>((resolve) => impostor.once("error", resolve));
    expect(refusal.message).toMatch(/Bad username or password|Not authorized/i);
    const log = await api.request<{ entries: Array<{ kind: string; detail: string; feederId: string }> }>(
      "GET",
      `/api/connection-log?feederId=${adopted.body.feeder.id}`,
    );
    expect(log.body.entries[0]).toMatchObject({
      kind: "refused",
      detail: `the acme-vendor device "${KEY}" logged in with another password than when it was adopted`,
    });
  });

  it("takes a model only from the profile, and forgets a dismissed device", async () => {
    const device = vendorDevice();
    await connected(device);
    const [held] = await pendingDevices();
    const wrong = await api.request("POST", `/api/devices/pending/${held?.id}/adopt`, {
      name: "Pantry",
      model: "AF9",
    });
    expect(wrong.status).toBe(400);
    expect(JSON.stringify(wrong.body)).toContain(
      'model: \\"AF9\\" is not a model of the acme-vendor profile',
    );

    const dismissed = await api.request("DELETE", `/api/devices/pending/${held?.id}`);
    expect(dismissed.status).toBe(204);
    const again = await api.request("POST", `/api/devices/pending/${held?.id}/adopt`, { name: "Pantry" });
    expect(again.status).toBe(404);
  });

  it("refuses new strangers beyond the rate limit, telling them to come back later", async () => {
    for (let i = 0; i < 10; i++) await connected(vendorDevice(`ACME-0000000${i}`));
    const eleventh = vendorDevice("ACME-000000AA");
    const refusal = await new Promise<Error>((resolve) => eleventh.once("error", resolve));
    expect(refusal.message).toMatch(/Server unavailable/i);
    expect(await pendingDevices()).toHaveLength(10);
    const log = await api.request<{ entries: Array<{ kind: string; detail: string; clientId: string }> }>(
      "GET",
      "/api/connection-log?unknown=true&limit=1",
    );
    expect(log.body.entries[0]).toMatchObject({
      kind: "refused",
      clientId: "ACME-000000AA",
      detail: "too many unknown devices connecting; try again later",
    });
  });
});
