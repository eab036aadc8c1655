/**
 * Device types in a real browser: the Feeders page warns about a profile file the server skipped, the "Add
 * feeder" form adds an ESPHome feeder, its credentials panel shows the values of ESPHome's mqtt: block, and a
 * simulated ESPHome feeder connected with them is fed from its card. Needs `npm run build` and a Chromium.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROFILE_YAML } from "../../server/src/testing/profile-yaml.js";
import { createOwner, feedFromCard, useBrowserSession } from "./helpers.js";

const ESPHOME_OPTION = "ESPHome feeder (MQTT component) — ESPHome (DIY)";

describe("device types in the web UI (real Chromium)", () => {
  // An owner's profile folder with one broken file: `max: four` on line 17.
  const profilesDir = fs.mkdtempSync(path.join(os.tmpdir(), "feedkeeper-profiles-"));
  fs.writeFileSync(
    path.join(profilesDir, "typo.yaml"),
    PROFILE_YAML.replace("id: acme-bowl", "id: typo").replace("max: 12", "max: four"),
  );
  afterAll(() => fs.rmSync(profilesDir, { recursive: true, force: true }));

  const session = useBrowserSession({ env: { FEEDKEEPER_PROFILES_DIR: profilesDir } });

  it("adds an ESPHome feeder, shows its mqtt: settings, and feeds it", { timeout: 30_000 }, async () => {
    const srv = session.server;
    const page = await session.newPage({ width: 1024, height: 900 });
    await page.goto(srv.httpUrl);
    await createOwner(page);
    await page.getByRole("heading", { name: "Feeders", exact: true }).waitFor();

    // The skipped file, with its line.
    const problems = page.getByTestId("profile-problems");
    await problems.waitFor();
    const warning = (await problems.textContent()) ?? "";
    expect(warning).toContain("1 device profile file could not be loaded:");
    expect(warning).toContain("typo.yaml line 17: capabilities.feed.max");

    // The device type defaults to the native protocol; choosing ESPHome describes that family.
    const deviceType = page.getByLabel("Device type");
    const summary = page.getByTestId("profile-summary");
    await summary.filter({ hasText: "Feeds 1–100 portions" }).waitFor();
    expect(await deviceType.inputValue()).toBe("feedkeeper");
    await deviceType.selectOption({ label: ESPHOME_OPTION });
    expect(await deviceType.inputValue()).toBe("esphome-mqtt");
    const described = (await summary.textContent()) ?? "";
    expect(described).toContain("Feeds 1–20 portions");
    expect(described).toContain("meal plans run on the server");
    expect(described).toContain("Setup guide: docs/devices/esphome-mqtt.md");

    await page.getByLabel("Name", { exact: true }).fill("Garage");
    await page.getByRole("button", { name: "Add feeder" }).click();

    // The credentials panel also lists them under the names of ESPHome's mqtt: block.
    const panel = page.getByTestId("credentials");
    const esphome = panel.getByTestId("esphome-settings");
    await esphome.waitFor();
    const read = async (testId: string) => ((await panel.getByTestId(testId).textContent()) ?? "").trim();
    const feederId = await read("cred-username");
    const password = await read("cred-password");
    expect(feederId).not.toBe("");
    expect(await read("esphome-broker")).toBe(new URL(srv.httpUrl).hostname);
    expect(await read("esphome-port")).toBe("1883");
    expect(await read("esphome-client-id")).toBe(feederId);
    expect(await read("esphome-username")).toBe(feederId);
    expect(await read("esphome-password")).toBe(password);
    expect(await read("esphome-topic-prefix")).toBe(`feedkeeper/${feederId}`);
    await page.getByRole("button", { name: "I have saved these credentials" }).click();
    await panel.waitFor({ state: "detached" });

    // Connect a simulated ESPHome feeder with them (the test server's broker is on a free port, not 1883).
    const feeder = await session.startEspHomeFeeder({ id: feederId, password, msPerPortion: 100 });
    const card = page.getByTestId(`feeder-${feederId}`);
    await card.getByTestId("online-state").filter({ hasText: "Online" }).waitFor();

    await feedFromCard(card, { portions: 2 });
    await card.locator('[data-testid="feed-status"][data-status="dispensed"]').waitFor();
    expect(await card.getByTestId("feed-status").textContent()).toMatch(/2\s+portions: dispensed/);
    expect(feeder.dispensed).toEqual([{ portions: 2, source: "remote" }]);

    expect(session.pageProblems).toEqual([]);
  });
});
