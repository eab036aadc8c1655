/**
 * The whole loop in a real browser: first-run setup, add a feeder, connect a simulated feeder with the
 * credentials shown on the page, feed it from its card, and sign out and in again. Needs the built server
 * and web UI (`npm run build`) and a Chromium (see test/e2e/browser.ts).
 */
import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimulatedFeeder } from "../../server/src/sim/native-feeder.js";
import { startServer } from "../helpers/server.js";
import { launchBrowser } from "./browser.js";

const ADMIN = { username: "admin", password: "correct horse battery" };
// The README's screenshots are refreshed on purpose (`npm run screenshots`), not by every test run.
const SCREENSHOT_DIR = process.env.FEEDKEEPER_SCREENSHOT_DIR ?? "dist/screenshots";
const SCREENSHOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..", SCREENSHOT_DIR, "feeders.png");
const WAIT = { timeout: 15_000 };

type Server = Awaited<ReturnType<typeof startServer>>;

let srv: Server | undefined;
let browser: Browser | undefined;
let feeder: SimulatedFeeder | undefined;
const contexts: BrowserContext[] = [];
/** Browser-side problems that must never happen: uncaught errors and CSP violations. */
const pageProblems: string[] = [];

async function newPage(viewport: { width: number; height: number }, mobile = false): Promise<Page> {
  if (!browser) throw new Error("browser not started");
  const context = await browser.newContext({ viewport, isMobile: mobile, hasTouch: mobile });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT.timeout);
  page.on("pageerror", (err) => pageProblems.push(`pageerror: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error" && /Content Security Policy/i.test(msg.text())) pageProblems.push(msg.text());
  });
  return page;
}

async function signIn(page: Page, password: string): Promise<void> {
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await page.getByLabel("Username", { exact: true }).fill(ADMIN.username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

function kitchenCard(page: Page): Locator {
  return page.locator('article[data-testid^="feeder-"]', { hasText: "Kitchen" });
}

describe("web UI feed loop (real Chromium)", () => {
  beforeAll(async () => {
    srv = await startServer();
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close().catch(() => {});
    await feeder?.stop().catch(() => {});
    await srv?.stop();
  }, 30_000);

  it("sets up, adds a feeder, feeds it once, signs out and in", { timeout: 120_000 }, async () => {
    if (!srv) throw new Error("server not started");
    const page = await newPage({ width: 1024, height: 800 });
    await page.goto(srv.httpUrl);

    // First run: create the administrator.
    await page.getByRole("heading", { name: "Welcome to Feedkeeper" }).waitFor();
    await page.getByLabel("Username", { exact: true }).fill(ADMIN.username);
    await page.getByLabel("Password", { exact: true }).fill(ADMIN.password);
    await page.getByLabel("Confirm password", { exact: true }).fill(ADMIN.password);
    await page.getByRole("button", { name: "Create account" }).click();

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
    feeder = new SimulatedFeeder({
      url: srv.mqttUrl,
      id: feederId,
      password: credentials.password,
      dispenseMsPerPortion: 100,
    });
    await feeder.start();
    await card.getByTestId("online-state").filter({ hasText: "Online" }).waitFor();

    // Feed 2 portions and follow the feed to "dispensed".
    await card.getByLabel("Portions").selectOption("2");
    const feedButton = card.getByRole("button", { name: "Feed", exact: true });
    await feedButton.click();
    await card.locator('[data-testid="feed-status"][data-status="dispensed"]').waitFor();
    expect(await card.getByTestId("feed-status").textContent()).toMatch(/2\s+portions: dispensed/);
    await feedButton.waitFor(); // enabled and labelled "Feed" again
    expect(await feedButton.isEnabled()).toBe(true);

    // Exactly one meal of 2 portions, also after a grace period for stray duplicates.
    await new Promise((r) => setTimeout(r, 1500));
    expect(feeder.dispensed).toHaveLength(1);
    expect(feeder.dispensed[0]?.portions).toBe(2);

    await mkdir(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

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

    expect(pageProblems).toEqual([]);
  });

  it("fits a 360×740 phone screen: the feed button is visible without horizontal scrolling", {
    timeout: 60_000,
  }, async () => {
    if (!srv) throw new Error("server not started");
    const page = await newPage({ width: 360, height: 740 }, true);
    await page.goto(srv.httpUrl);
    await signIn(page, ADMIN.password);

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
    const widths = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth,
    }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    expect(pageProblems).toEqual([]);
  });
});
