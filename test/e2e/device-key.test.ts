/**
 * A feeder on an external broker (as Zigbee2MQTT's devices are), added in a real browser: the "Add feeder" form
 * asks for the model (its profile has two) and the device's id on the broker, issues no credentials and says
 * so, and the feeder comes online from what the device says on that broker; its settings name its model and
 * device id. The broker is a real Mosquitto; the device family is an owner's profile (FEEDKEEPER_PROFILES_DIR).
 * Needs `npm run build`, a Chromium and Mosquitto.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acmeExternalProfile } from "../helpers/acme-profiles.js";
import { type Mosquitto, startMosquitto } from "../helpers/mosquitto.js";
import { createOwner, fact, useBrowserSession } from "./helpers.js";

/** A friendly name with a slash, as Zigbee2MQTT allows. */
const KEY = "kitchen/feeder";

describe("a feeder on an external broker in the web UI (real Chromium, real Mosquitto)", () => {
  const profilesDir = fs.mkdtempSync(path.join(os.tmpdir(), "feedkeeper-profiles-"));
  fs.writeFileSync(
    path.join(profilesDir, "acme-external.yaml"),
    acmeExternalProfile([
      { id: "BR1", name: "Bridge 1" },
      { id: "BR2", name: "Bridge 2" },
    ]),
  );
  let broker: Mosquitto | undefined;
  let device: MqttClient | undefined;
  // The server reads these when it starts, after the broker below has started and filled them in.
  const env: Record<string, string> = { FEEDKEEPER_PROFILES_DIR: profilesDir };
  beforeAll(async () => {
    broker = await startMosquitto();
    Object.assign(env, {
      FEEDKEEPER_MQTT_URL: broker.url,
      FEEDKEEPER_MQTT_USERNAME: broker.username,
      FEEDKEEPER_MQTT_PASSWORD: broker.password,
    });
    // The device side: a bridge on that broker that keeps its status there, as Zigbee2MQTT does.
    device = mqtt.connect(broker.url, { username: broker.username, password: broker.password });
    await device.publishAsync(`acme/${KEY}/up/status`, "on", { qos: 1, retain: true });
  });
  afterAll(async () => {
    device?.end(true);
    await broker?.stop();
    fs.rmSync(profilesDir, { recursive: true, force: true });
  });

  const session = useBrowserSession({ env });

  it("adds it with its model and device id, and it comes online", { timeout: 30_000 }, async () => {
    const page = await session.newPage({ width: 1024, height: 900 });
    await page.goto(session.server.httpUrl);
    await createOwner(page);
    await page.getByRole("heading", { name: "Feeders", exact: true }).waitFor();

    const form = page.getByRole("region", { name: "Add a feeder" });
    await form.getByLabel("Device type").selectOption({ label: "ACME feeder behind a bridge — ACME" });
    expect(await form.getByTestId("profile-summary").textContent()).toContain("external MQTT broker");
    await form.getByLabel("Name", { exact: true }).fill("Kitchen");
    await form.getByLabel("Device id on the broker").fill(KEY);

    // Two models: the owner has to say which this one is.
    const model = form.getByLabel("Model");
    expect(await model.inputValue()).toBe("");
    await form.getByRole("button", { name: "Add feeder" }).click();
    await form.getByRole("alert").filter({ hasText: "Choose the model" }).waitFor();
    await model.selectOption({ label: "Bridge 2" });
    await form.getByRole("button", { name: "Add feeder" }).click();

    // Nothing was issued, so there is nothing to copy.
    const added = page.getByTestId("feeder-added");
    await added.getByRole("heading", { name: "“Kitchen” added" }).waitFor();
    expect(await added.textContent()).toContain(`follows the device on the external broker as “${KEY}”`);
    expect(await page.getByTestId("credentials").count()).toBe(0);
    await added.getByRole("button", { name: "Done" }).click();
    await added.waitFor({ state: "detached" });

    const card = page.locator('article[data-testid^="feeder-"]', { hasText: "Kitchen" });
    await card.getByTestId("online-state").filter({ hasText: "Online" }).waitFor();

    await card.getByRole("link", { name: "Settings for Kitchen" }).click();
    const facts = page.getByTestId("device-facts");
    // Names once the profiles are in; their ids until then.
    await facts.getByText("Bridge 2").waitFor();
    expect(await fact(facts, "Model")).toBe("Bridge 2");
    expect(await fact(facts, "Device id")).toBe(KEY);

    expect(session.pageProblems).toEqual([]);
  });
});
