/**
 * The whole loop in a real browser: first-run setup, add a feeder, connect a simulated feeder with the
 * credentials shown on the page, feed it from its card, and sign out and in again. Needs the built server
 * and web UI (`npm run build`) and a Chromium (see test/e2e/browser.ts).
 */
import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { ADMIN, createOwner, noHorizontalScroll, signIn, useBrowserSession } from "./helpers.js";

function kitchenCard(page: Page): Locator {
  return page.locator('article[data-testid^="feeder-"]', { hasText: "Kitchen" });
}

describe("web UI feed loop (real Chromium)", () => {
  const session = useBrowserSession();

  it("sets up, adds a feeder, feeds it once, signs out and in", { timeout: 120_000 }, async () => {
    const srv = session.server;
    const page = await session.newPage({ width: 1024, height: 800 });
    await page.goto(srv.httpUrl);

    // First run: create the administrator.
    await createOwner(page);

    // Feeders page: add "Kitchen".
    await page.getByRole("heading", { name: "Feeders", exact: true }).waitFor();
    await page.getByText("No feeders yet").waitFor();
    await page.getByLabel("Name", { exact: true }).fill("Kitchen");
    await page.getByRole("button", { name: "Add feeder" }).click();

    // The credentials are shown once; read them off the page.
    const panel = page.getByTestId("credentials");
    await panel.waitFor();
    expect(await panel.textContent()).toMatch(/shown only once/i);
    const read = async (testId: string) => ((await panel.getByTestId(testId).textContent()) ?? "").trim();
    const credentials = {
      mqtt: await read("cred-mqtt"),
      username: await read("cred-username"),
      clientId: await read("cred-client-id"),
      password: await read("cred-password"),
      topicRoot: await read("cred-topic-root"),
    };
    expect(credentials.mqtt).toBe(`mqtt://${new URL(srv.httpUrl).hostname}:1883`);
    expect(credentials.password.length).toBeGreaterThan(0);
    // A native feeder's firmware takes these as they are: no ESPHome names.
    expect(await panel.getByTestId("esphome-settings").count()).toBe(0);

    const card = kitchenCard(page);
    await card.waitFor();
    const feederId = ((await card.getAttribute("data-testid")) ?? "").replace(/^feeder-/, "");
    expect(feederId).not.toBe("");
    // The native protocol (and the simulator) use the feeder id as MQTT username and client id.
    expect(credentials.username).toBe(feederId);
    expect(credentials.clientId).toBe(feederId);
    await expect(card.getByTestId("online-state").textContent()).resolves.toBe("Offline");

    // Dismissed credentials are gone for good.
    await page.getByRole("button", { name: "I have saved these credentials" }).click();
    await panel.waitFor({ state: "detached" });
    expect(await page.getByText(credentials.password).count()).toBe(0);

    // Connect a simulated feeder with them; the card turns online on a list refresh.
    const feeder = await session.startFeeder({
      id: feederId,
      password: credentials.password,
      dispenseMsPerPortion: 100,
    });
    await card.getByTestId("online-state").filter({ hasText: "Online" }).waitFor();

    // Feed 2 portions and follow the feed to "dispensed".
    // Feed asks first, with the portions in words and the grams they come to.
    const feedButton = card.getByRole("button", { name: "Feed", exact: true });
    await card.getByLabel("Portions").selectOption("2");
    await feedButton.click();
    const confirm = card.getByTestId("feed-confirm");
    expect(await confirm.locator("legend").textContent()).toMatch(
      /^Feed 2\s+portions \(about 20\s+g\) from Kitchen now\?$/,
    );
    // Cancel (here with Escape) feeds nothing and gives the Feed button back.
    await page.keyboard.press("Escape");
    await confirm.waitFor({ state: "detached" });
    expect(await feedButton.isEnabled()).toBe(true);
    await feedButton.click();
    // The question has the focus: Enter says yes.
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe("Yes, feed");
    await page.keyboard.press("Enter");
    await card.locator('[data-testid="feed-status"][data-status="dispensed"]').waitFor();
    expect(await card.getByTestId("feed-status").textContent()).toMatch(/2\s+portions: dispensed/);
    await feedButton.waitFor(); // enabled and labelled "Feed" again
    expect(await feedButton.isEnabled()).toBe(true);

    // Exactly one meal of 2 portions, also after a grace period for stray duplicates.
    await new Promise((r) => setTimeout(r, 1500));
    expect(feeder.dispensed).toHaveLength(1);
    expect(feeder.dispensed[0]?.portions).toBe(2);

    // Sign out, fail once, sign in.
    await page.getByRole("button", { name: "Sign out" }).click();
    await signIn(page, "wrong password!");
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(((await alert.textContent()) ?? "").trim().length).toBeGreaterThan(0);
    expect(await page.getByRole("heading", { name: "Feeders", exact: true }).count()).toBe(0);

    await page.getByLabel("Password", { exact: true }).fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Feeders", exact: true }).waitFor();
    await kitchenCard(page).waitFor();

    expect(session.pageProblems).toEqual([]);
  });

  it("fits a 360×740 phone screen: the feed button is visible without horizontal scrolling", {
    timeout: 60_000,
  }, async () => {
    const srv = session.server;
    const page = await session.newPage({ width: 360, height: 740 }, true);
    await page.goto(srv.httpUrl);
    await signIn(page);

    const button = kitchenCard(page).getByRole("button", { name: "Feed", exact: true });
    await button.waitFor();
    expect(await button.isVisible()).toBe(true);
    const box = await button.boundingBox();
    expect(box).not.toBeNull();
    if (box) {
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(360);
      expect(box.y + box.height).toBeLessThanOrEqual(740);
    }
    await noHorizontalScroll(page);
    expect(session.pageProblems).toEqual([]);
  });
});
