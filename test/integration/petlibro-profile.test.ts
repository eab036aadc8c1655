/**
 * The petlibro-dl profile end to end: a simulated Petlibro feeder (its own serial, product key and secret,
 * re-pointed at the embedded broker) is held as pending, adopted, and then fed through its own topics: feed
 * now with the vendor's acknowledgements, the plan stored on the feeder and confirmed by its reply,
 * attributes as telemetry, and a blocked outlet surfacing as the feed's canonical error.
 */
import fs from "node:fs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Running } from "../../server/src/main.js";
import { PetlibroFeeder } from "../../server/src/sim/petlibro-feeder.js";
import type { TestApi } from "../helpers/api.js";
import { bootInProcess } from "../helpers/in-process.js";
import { makeDataDir } from "../helpers/server.js";

const SERIAL = "AF030A0B1C2D3E4F5A";

let dataDir: string;
let server: Running;
let api: TestApi;
let device: PetlibroFeeder;
let feederId: string;

beforeEach(async () => {
  dataDir = makeDataDir();
  ({ server, api } = await bootInProcess({ dataDir }));
  await api.setupOwner();
  device = new PetlibroFeeder({
    url: `mqtt://127.0.0.1:${server.mqttPort}`,
    serial: SERIAL,
    model: "PLAF103",
    productKey: "product-key-of-the-firmware",
    productSecret: "product-secret-of-the-firmware",
    msPerPortion: 10,
    reconnectMs: 100,
    retryMs: 300,
  });
  await device.start();
  // Held until an owner adopts it.
  let pending: Array<{ id: string; suggestedModel: string | null }> = [];
  await vi.waitFor(async () => {
    pending = (await api.request<{ devices: typeof pending }>("GET", "/api/devices/pending")).body.devices;
    expect(pending).toHaveLength(1);
  });
  expect(pending[0]?.suggestedModel).toBe("PLAF103");
  const adopted = await api.request<{ feeder: { id: string } }>(
    "POST",
    `/api/devices/pending/${pending[0]?.id}/adopt`,
    { name: "Living room", minFeedIntervalSeconds: 0 },
  );
  expect(adopted.status).toBe(201);
  feederId = adopted.body.feeder.id;
  await api.waitForFeeder(feederId, (f) => f.online, 10_000);
});

afterEach(async () => {
  device.kill();
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("petlibro-dl end to end", () => {
  it("feeds now, tied to the command by the feeder's acknowledgement and meal events", async () => {
    const { body } = await api.feed(feederId, { portions: 2 });
    await vi.waitFor(async () => expect((await api.getFeed(body.feed.id)).status).toBe("dispensed"), {
      timeout: 5_000,
    });
    const feeds = await api.request<{ feeds: unknown[] }>("GET", `/api/feeders/${feederId}/feeds`);
    // The feeder repeats events until acknowledged: still one meal.
    expect(feeds.body.feeds).toHaveLength(1);
  });

  it("stores the plan on the feeder and takes its reply as the confirmation", async () => {
    const plans = new Promise((resolve) => device.once("plans", resolve));
    const res = await api.request("PUT", `/api/feeders/${feederId}/schedule`, {
      timezone: "UTC",
      meals: [{ id: "breakfast", time: "07:30", days: ["mon", "tue", "wed", "thu", "fri"], portions: 2 }],
    });
    expect(res.status).toBe(200);
    expect(await plans).toEqual([
      expect.objectContaining({ executionTime: "07:30", repeatDay: [1, 2, 3, 4, 5], grainNum: 2 }),
    ]);
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
  });

  it("shows the battery and fails a meal stopped by a blocked outlet with the canonical error", async () => {
    await device.pushAttributes({ electricQuantity: 57 });
    await api.waitForFeeder(feederId, (f) => f.telemetry?.battery === 0.57);
    await device.setJammed(true);
    const { body } = await api.feed(feederId, { portions: 1 });
    await vi.waitFor(
      async () => {
        const feed = await api.getFeed(body.feed.id);
        expect(feed).toMatchObject({ status: "failed", error: "jam" });
      },
      { timeout: 5_000 },
    );
  });
});
