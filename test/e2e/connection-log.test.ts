/**
 * The Connections page in a real browser: a device with credentials of no feeder is refused, and the page's
 * "Unknown devices only" filter shows the refusal with its reason and address, counting a retry instead of
 * listing it again; a feeder that connects properly shows as "Connected" under its name on the page its
 * settings link to, filtered to that feeder. On a phone the page never scrolls sideways, however long the
 * client ids. Needs `npm run build` and a Chromium.
 */
import mqtt from "mqtt";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { Feeder, FeederCredentials } from "../../server/src/http/api-types.js";
import { createOwner, fact, noHorizontalScroll, useBrowserSession } from "./helpers.js";

const LONG_CLIENT_ID = `ACME-${"0123456789ABCDEF".repeat(4)}`;

describe("connection log in the web UI (real Chromium)", () => {
  const session = useBrowserSession();

  /** One attempt to connect, which the server must refuse; resolves with mqtt.js's error for the refusal. */
  function refusedConnect(clientId: string, username: string): Promise<Error> {
    return new Promise((resolve, reject) => {
      const client = mqtt.connect(session.server.mqttUrl, {
        clientId,
        username,
        password: "not-the-password",
        reconnectPeriod: 0,
        connectTimeout: 5_000,
      });
      client.once("error", (err) => {
        client.end(true);
        resolve(err);
      });
      client.once("connect", () => {
        client.end(true);
        reject(new Error(`${clientId} was let in`));
      });
    });
  }

  const entry = (page: Page, text: string) => page.getByTestId("connection-entry").filter({ hasText: text });

  it("shows refusals of unknown devices and a feeder's connects, filtered", { timeout: 60_000 }, async () => {
    const page = await session.newPage({ width: 1024, height: 900 });
    await page.goto(session.server.httpUrl);
    await createOwner(page);
    await page.getByRole("heading", { name: "Feeders", exact: true }).waitFor();

    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Connections" }).click();
    await page.getByRole("heading", { name: "Connections", exact: true }).waitFor();
    await page.getByText("Nothing yet.").waitFor();

    // Twice the same mistake in a row: one entry that counts.
    for (let i = 0; i < 2; i++) await refusedConnect("nosuchfeeder", "nosuchfeeder");
    await refusedConnect(LONG_CLIENT_ID, "acme-product-key");

    await page.getByLabel("Show").selectOption({ label: "Unknown devices only" });
    expect(new URL(page.url()).hash).toBe("#/connections/unknown");
    const refused = entry(page, "nosuchfeeder");
    // The page refreshes by itself: the refusals turn up without a reload.
    await refused.getByText(/×2, first /).waitFor();
    expect(await refused.getByRole("heading").textContent()).toBe("Refused");
    await refused
      .getByText("bad username or password (unknown feeder, wrong secret, or rotated credentials)")
      .waitFor();
    expect(await fact(refused, "Address")).toMatch(/127\.0\.0\.1/);
    const long = entry(page, LONG_CLIENT_ID);
    await long.getByText("client id must equal username").waitFor();

    await page.setViewportSize({ width: 360, height: 740 });
    await noHorizontalScroll(page);
    await page.setViewportSize({ width: 1024, height: 900 });

    const url = (p: string) => new URL(p, session.server.httpUrl).href;
    const created = await page.request.post(url("/api/feeders"), {
      data: { name: "Kitchen", profile: "feedkeeper" },
      headers: { origin: new URL(session.server.httpUrl).origin },
    });
    expect(created.status()).toBe(201);
    const { feeder, credentials } = (await created.json()) as {
      feeder: Feeder;
      credentials: FeederCredentials;
    };
    await session.startFeeder({ id: credentials.username, password: credentials.password });

    // The way an owner comes here: from the feeder's settings, filtered to it.
    await page.goto(url(`/#/feeders/${feeder.id}/settings`));
    await page.getByTestId("device-facts").getByRole("link", { name: "Connection log" }).click();
    expect(new URL(page.url()).hash).toBe(`#/connections/feeders/${feeder.id}`);
    const connected = entry(page, "Kitchen");
    await connected.getByRole("heading", { name: "Connected", exact: true }).waitFor();
    expect(await page.getByLabel("Show").locator("option:checked").textContent()).toBe("Kitchen");
    expect(await fact(connected, "Address")).toMatch(/127\.0\.0\.1/);
    expect(await entry(page, "nosuchfeeder").count()).toBe(0);

    await page.getByLabel("Show").selectOption({ label: "All devices" });
    await entry(page, "nosuchfeeder").waitFor();
    expect(await entry(page, "Kitchen").count()).toBe(1);

    await page.setViewportSize({ width: 360, height: 740 });
    await noHorizontalScroll(page);

    expect(session.pageProblems).toEqual([]);
  });
});
