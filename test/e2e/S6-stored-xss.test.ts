/**
 * S6 (stored XSS through device data, ETSI 5.13-1, OWASP IoT I3) in a real Chromium: everything a device or a
 * user can make the server store and show carries markup that would run script if the UI ever put it into the
 * page as HTML. A native feeder says hello with such a model and firmware, reports such a telemetry error, a
 * failed meal with such an error and a refused schedule with such a reason (an alert); a refused device
 * connects under such a client id (the connection log) and a vendor device publishes under such a topic (the
 * waiting devices); the feeder and its pet are named so through the API. Every page that shows them must
 * show the strings as text (the hello's model and firmware are on the feeder's card; its settings show the
 * profile's model, not the device's), run none of them (no `window.__xss`, no dialog, no injected element, no CSP
 * violation), and be served with the Content-Security-Policy header. Needs `npm run build` and a Chromium.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, describe, expect, it } from "vitest";
import { topics } from "../../server/src/protocol/native-v1.js";
import { ACME_VENDOR_PROFILE } from "../helpers/acme-profiles.js";
import { TestApi } from "../helpers/api.js";
import { ADMIN, signIn, useBrowserSession } from "./helpers.js";

const XSS = {
  model: `<img src=x onerror="window.__xss=1">`,
  firmware: `<script>window.__xss=2</script>`,
  feederName: `"><svg onload=window.__xss=3>`,
  petName: `"><svg onload=window.__xss=3>cat`,
  telemetry: `<img src=x onerror="window.__xss=4">low food`,
  feedError: `<script>window.__xss=5</script>motor`,
  scheduleError: `"><img src=x onerror=window.__xss=6>`,
  clientId: `<img src=x onerror=window.__xss=7>`,
  topicLevel: `<svg onload=window.__xss=8>`,
};

/** Elements the payloads would create if they were parsed as HTML. */
const INJECTED = "img[src='x'], img[onerror], svg[onload], script:not([src])";

describe("S6: device and user strings never run as script in the web UI (real Chromium)", () => {
  const profilesDir = fs.mkdtempSync(path.join(os.tmpdir(), "feedkeeper-profiles-"));
  fs.writeFileSync(path.join(profilesDir, "acme-vendor.yaml"), ACME_VENDOR_PROFILE);
  const clients: MqttClient[] = [];
  afterAll(() => {
    for (const client of clients.splice(0)) client.end(true);
    fs.rmSync(profilesDir, { recursive: true, force: true });
  });

  const session = useBrowserSession({ env: { FEEDKEEPER_PROFILES_DIR: profilesDir } });

  it("shows hostile strings as text on every page and runs none of them", { timeout: 90_000 }, async () => {
    const server = session.server;
    const api = new TestApi(server.httpUrl);
    await api.setupOwner(ADMIN.username, ADMIN.password);

    // A user's strings: a pet and a feeder linked to it.
    const pet = await api.request<{ pet: { id: string } }>("POST", "/api/pets", { name: XSS.petName });
    expect(pet.status).toBe(201);
    const { feeder, credentials } = await api.createFeeder(XSS.feederName);
    const linked = await api.request("PATCH", `/api/feeders/${feeder.id}`, { petId: pet.body.pet.id });
    expect(linked.status).toBe(200);
    const plan = await api.request("PUT", `/api/feeders/${feeder.id}/schedule`, {
      meals: [{ id: "breakfast", time: "07:30", days: ["mon", "tue"], portions: 1 }],
    });
    expect(plan.status).toBe(200);

    // A device's strings: hello, telemetry, a failed meal of its own, a refused schedule.
    const device = await session.startFeeder({
      id: credentials.username,
      password: credentials.password,
      model: XSS.model,
      firmware: XSS.firmware,
      capabilities: ["feed", "schedule"],
    });
    await device.sendTelemetry({ foodLevel: 0.1, error: XSS.telemetry }, 1);
    await device.publishRaw(
      topics.feed(device.id),
      JSON.stringify({
        id: "btn-xss",
        status: "failed",
        portions: 1,
        source: "button",
        at: new Date().toISOString(),
        error: XSS.feedError,
      }),
      { qos: 1 },
    );
    await device.publishRaw(
      topics.schedule(device.id),
      JSON.stringify({ version: 99, status: "rejected", error: XSS.scheduleError }),
      { qos: 1 },
    );
    const stored = await api.waitForFeeder(
      feeder.id,
      (f) => f.model === XSS.model && f.firmware === XSS.firmware && f.telemetry?.error === XSS.telemetry,
    );
    expect(stored.name).toBe(XSS.feederName);

    // A device that is refused, under a hostile client id: the connection log keeps it.
    const refused = mqtt.connect(server.mqttUrl, {
      clientId: XSS.clientId,
      username: "nobody",
      password: "wrong",
      reconnectPeriod: 0,
      connectTimeout: 2_000,
    });
    clients.push(refused);
    await new Promise<void>((resolve) => {
      refused.once("error", () => resolve());
      refused.once("close", () => resolve());
    });
    // A vendor device waiting to be adopted, publishing under a hostile topic level.
    const vendor = mqtt.connect(server.mqttUrl, {
      clientId: "ACME-00C0FFEE",
      username: "acme-product-key",
      password: "acme-product-secret",
      reconnectPeriod: 200,
      connectTimeout: 2_000,
    });
    clients.push(vendor);
    vendor.on("connect", () => vendor.publish(`acme/${XSS.topicLevel}/00C0FFEE/up/status`, "on", { qos: 1 }));

    const page = await session.newPage({ width: 1280, height: 1000 });
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    // Added by the browser driver, not the page, so the page's CSP does not block it.
    await page.addInitScript(() => {
      const w = window as unknown as { __cspViolations: string[] };
      w.__cspViolations = [];
      document.addEventListener("securitypolicyviolation", (e) =>
        w.__cspViolations.push(`${e.violatedDirective}: ${e.sample}`),
      );
    });

    const response = await page.goto(server.httpUrl);
    const csp = response?.headers()["content-security-policy"] ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    await signIn(page);
    await page.getByRole("heading", { name: "Feeders", exact: true }).waitFor();

    async function expectInert(where: string, texts: string[]): Promise<void> {
      // Attached, not visible: a pet's name is also an <option> of a closed <select>.
      for (const text of texts)
        await page.getByText(text, { exact: false }).first().waitFor({ state: "attached" });
      // Give a handler that was injected anyway a moment to fire.
      await page.waitForTimeout(200);
      expect(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss), where).toBe(
        undefined,
      );
      expect(await page.locator(INJECTED).count(), `${where}: injected elements`).toBe(0);
      expect(
        await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations),
        `${where}: CSP violations`,
      ).toEqual([]);
    }

    // Feeders: the card (name, model · firmware, telemetry error, last meal's error) and the waiting devices.
    await expectInert("feeders", [XSS.feederName, XSS.model, XSS.firmware, XSS.telemetry, XSS.feedError]);
    await page.getByTestId("pending-devices").getByText(XSS.topicLevel, { exact: false }).waitFor();
    await expectInert("waiting devices", [XSS.topicLevel]);

    await page.goto(`${server.httpUrl}/#/feeders/${encodeURIComponent(feeder.id)}/settings`);
    // The heading names the feeder; the form holds its name and offers the pet by name.
    await page.getByTestId("device-facts").waitFor();
    await expectInert("feeder settings", [XSS.feederName, XSS.petName]);
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe(XSS.feederName);

    await page.goto(`${server.httpUrl}/#/feeders/${encodeURIComponent(feeder.id)}/schedule`);
    await expectInert("meal plan", [XSS.feederName]);

    await page.goto(`${server.httpUrl}/#/alerts`);
    await page.getByTestId("alert").first().waitFor();
    await expectInert("alerts", [XSS.scheduleError]);

    await page.goto(`${server.httpUrl}/#/pets`);
    await expectInert("pets", [XSS.petName]);

    await page.goto(`${server.httpUrl}/#/connections`);
    await expectInert("connections", [XSS.clientId]);

    expect(dialogs).toEqual([]);
    expect(session.pageProblems).toEqual([]);
  });
});
