/**
 * Vendor firmware that brings its own credentials, adopted in a real browser: the "Add feeder" form sends such
 * devices to the waiting list instead of issuing credentials; a device that connects shows up under "Waiting
 * devices" with what the server knows of it, is adopted with a name and the suggested model, reconnects as the
 * feeder and comes online; the feeder's settings name its model and device id. A device that is not wanted is
 * dismissed, and a server's refusal is shown with its message. The device family is an owner's profile
 * (FEEDKEEPER_PROFILES_DIR), as in test/integration/adoption.test.ts. Needs `npm run build` and a Chromium.
 */
import fs from "node:fs";
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import type { Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { ACME_VENDOR_PROFILE } from "../helpers/acme-profiles.js";
import {
  createOwner,
  fact,
  noHorizontalScroll,
  SCREENSHOT_DIR,
  signIn,
  useBrowserSession,
} from "./helpers.js";

const ACME_OPTION = "ACME feeder (vendor firmware) — ACME";

describe("adopting a vendor device in the web UI (real Chromium)", () => {
  const profilesDir = fs.mkdtempSync(path.join(os.tmpdir(), "feedkeeper-profiles-"));
  fs.writeFileSync(path.join(profilesDir, "acme-vendor.yaml"), ACME_VENDOR_PROFILE);
  const devices: MqttClient[] = [];
  afterAll(() => {
    for (const device of devices.splice(0)) device.end(true);
    fs.rmSync(profilesDir, { recursive: true, force: true });
  });

  const session = useBrowserSession({ env: { FEEDKEEPER_PROFILES_DIR: profilesDir } });

  /**
   * A vendor device with its product credentials: it says it is on at every connect, and comes straight back
   * when its session is cut, as firmware does.
   */
  function vendorDevice(deviceKey: string): MqttClient {
    const device = mqtt.connect(session.server.mqttUrl, {
      clientId: `ACME-${deviceKey}`,
      username: "acme-product-key",
      password: "acme-product-secret",
      reconnectPeriod: 200,
      connectTimeout: 2_000,
    });
    device.on("connect", () => device.publish(`acme/AF2/${deviceKey}/up/status`, "on", { qos: 1 }));
    devices.push(device);
    return device;
  }

  const waitingCard = (page: Page, deviceKey: string) =>
    page.getByTestId("pending-devices").locator("article", { hasText: deviceKey });

  it("adopts a waiting device, which comes online as the feeder", { timeout: 60_000 }, async () => {
    const page = await session.newPage({ width: 1024, height: 900 });
    await page.goto(session.server.httpUrl);
    await createOwner(page);
    await page.getByRole("heading", { name: "Feeders", exact: true }).waitFor();

    // Such devices are not added with the form: it says where they turn up instead, and offers no button.
    const form = page.getByRole("region", { name: "Add a feeder" });
    await form.getByLabel("Device type").selectOption({ label: ACME_OPTION });
    expect(await form.getByTestId("adoption-how").textContent()).toContain(
      "once it connects it shows up under “Waiting devices” on this page, where you adopt it",
    );
    expect(await form.getByRole("button", { name: "Add feeder" }).count()).toBe(0);

    const panel = page.getByTestId("pending-devices");
    await panel.getByText("None right now").waitFor();

    vendorDevice("00C0FFEE");
    const card = waitingCard(page, "00C0FFEE");
    // The topic is there once the server has the device's first message, a poll or two after it connected.
    await card.getByText("acme/AF2/00C0FFEE/up/status").waitFor();
    expect(await card.getByRole("heading").textContent()).toBe("ACME feeder (vendor firmware)");
    expect(await fact(card, "Device id")).toBe("00C0FFEE");
    expect(await fact(card, "Client ID")).toBe("ACME-00C0FFEE");
    expect(await fact(card, "Address")).toMatch(/127\.0\.0\.1/);
    expect(await panel.getByTestId("pending-count").textContent()).toBe("1 1 waiting");
    const navBadge = page.getByRole("navigation").getByTestId("pending-nav-count");
    expect(await navBadge.textContent()).toBe("1 1 device waiting to be adopted");
    // The profile has two models; the one named in its topics is picked already.
    expect(await card.getByLabel("Model").inputValue()).toBe("AF2");
    expect(await card.getByText("Suggested by the topics it published to.").count()).toBe(1);

    await mkdir(SCREENSHOT_DIR, { recursive: true });
    await panel.screenshot({ path: path.resolve(SCREENSHOT_DIR, "waiting-devices.png") });
    await page.setViewportSize({ width: 360, height: 740 });
    await noHorizontalScroll(page);
    await panel.screenshot({ path: path.resolve(SCREENSHOT_DIR, "waiting-devices-phone.png") });
    await page.setViewportSize({ width: 1024, height: 900 });

    await card.getByLabel("Feeder name").fill("Pantry");
    await card.getByRole("button", { name: "Adopt 00C0FFEE" }).click();
    await panel.getByText("“Pantry” adopted.").waitFor();
    await card.waitFor({ state: "detached" });
    expect(await panel.getByTestId("pending-count").count()).toBe(0);
    expect(await navBadge.count()).toBe(0);

    // The server cut its session; it reconnected with the same credentials, now as the feeder.
    const feeder = page.locator('article[data-testid^="feeder-"]', { hasText: "Pantry" });
    await feeder.getByTestId("online-state").filter({ hasText: "Online" }).waitFor();

    await feeder.getByRole("link", { name: "Settings for Pantry" }).click();
    const device = page.getByTestId("device-facts");
    // Names once the profiles are in; their ids until then.
    await device.getByText("AF-2").waitFor();
    expect(await fact(device, "Device type")).toBe("ACME feeder (vendor firmware)");
    expect(await fact(device, "Model")).toBe("AF-2");
    expect(await fact(device, "Device id")).toBe("00C0FFEE");

    expect(session.pageProblems).toEqual([]);
  });

  it("dismisses a device, and shows the server's word on one it no longer holds", async () => {
    const page = await session.newPage({ width: 1024, height: 900 });
    await page.goto(session.server.httpUrl);
    await signIn(page);
    const panel = page.getByTestId("pending-devices");

    // Gone for good first, or it would connect again at once and be back on the list.
    const beef = vendorDevice("0000BEEF");
    const unwanted = waitingCard(page, "0000BEEF");
    await unwanted.waitFor();
    beef.end(true);
    await unwanted.getByRole("button", { name: "Dismiss 0000BEEF" }).click();
    await panel.getByText("0000BEEF dismissed.").waitFor();
    await unwanted.waitFor({ state: "detached" });

    const cafe = vendorDevice("0000CAFE");
    const gone = waitingCard(page, "0000CAFE");
    await gone.waitFor();
    cafe.end(true);
    // The page keeps showing the list it had while the device is dismissed elsewhere.
    const url = (p: string) => new URL(p, session.server.httpUrl).href;
    const listed = await page.request.get(url("/api/devices/pending"));
    const { devices: held } = (await listed.json()) as { devices: Array<{ id: string; deviceKey: string }> };
    await page.route("**/api/devices/pending", (route) => route.fulfill({ json: { devices: held } }));
    const id = held.find((d) => d.deviceKey === "0000CAFE")?.id ?? "";
    const dismissed = await page.request.delete(url(`/api/devices/pending/${id}`), {
      headers: { origin: new URL(session.server.httpUrl).origin },
    });
    expect(dismissed.status()).toBe(204);
    await gone.getByLabel("Feeder name").fill("Porch");
    await gone.getByRole("button", { name: "Adopt 0000CAFE" }).click();
    await panel.getByRole("alert").filter({ hasText: "No pending device with this id" }).waitFor();
    await page.unroute("**/api/devices/pending");
    await gone.waitFor({ state: "detached" });

    expect(session.pageProblems).toEqual([]);
  });
});
