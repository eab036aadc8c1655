/**
 * What the browser tests share: the built server and a Chromium for a test file, pages that record browser-side
 * problems, the owner's first-run setup and sign-in, adding a feeder and connecting a simulated one (native or
 * ESPHome).
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";
import { EspHomeFeeder, type EspHomeFeederOptions } from "../../server/src/sim/esphome-feeder.js";
import { SimulatedFeeder, type SimulatedFeederOptions } from "../../server/src/sim/native-feeder.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { launchBrowser } from "./browser.js";

export const ADMIN = { username: "admin", password: "correct horse battery" };
// The README's screenshots are refreshed on purpose (`npm run screenshots`), not by every test run.
export const SCREENSHOT_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../..",
  process.env.FEEDKEEPER_SCREENSHOT_DIR ?? "dist/screenshots",
);
export const WAIT = { timeout: 15_000 };

export interface BrowserSession {
  /** The server, once started. */
  readonly server: TestServer;
  /** Browser-side problems that must never happen: uncaught errors and CSP violations. */
  readonly pageProblems: string[];
  /** A page in a fresh browser context (no session cookie). */
  newPage(viewport: { width: number; height: number }, mobile?: boolean): Promise<Page>;
  /** Connects a simulated feeder to the server; it is stopped after the file's tests. */
  startFeeder(options: FeederOptions): Promise<SimulatedFeeder>;
  /** Connects a simulated ESPHome feeder (profile `esphome-mqtt`); it is stopped after the file's tests. */
  startEspHomeFeeder(options: Omit<EspHomeFeederOptions, "url">): Promise<EspHomeFeeder>;
  /**
   * First run on `page`, opened at the server: creates the owner, adds a feeder named `name` and connects a
   * simulated one with its credentials; returns once the feeder's card says it is online.
   */
  firstRun(
    page: Page,
    name: string,
    options?: Omit<FeederOptions, "id" | "password">,
  ): Promise<{ feeder: SimulatedFeeder; card: Locator }>;
}

type FeederOptions = Omit<SimulatedFeederOptions, "url">;

/**
 * Starts the built server and a Chromium before the tests of the describe block it is called in, and stops
 * them, with every page and simulated feeder, after. `timezoneId` is the browser's time zone, `locale` its
 * language (navigator.languages); `env` is more of
 * the server's settings (e.g. FEEDKEEPER_PROFILES_DIR).
 */
export function useBrowserSession(
  options: { timezoneId?: string; locale?: string; env?: Record<string, string> } = {},
): BrowserSession {
  const { env, ...contextOptions } = options;
  let srv: TestServer | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const feeders: Array<{ stop(): Promise<void> }> = [];
  const pageProblems: string[] = [];

  beforeAll(async () => {
    srv = await startServer({ env });
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close().catch(() => {});
    for (const feeder of feeders) await feeder.stop().catch(() => {});
    await srv?.stop();
  }, 30_000);

  async function startFeeder(feederOptions: FeederOptions): Promise<SimulatedFeeder> {
    if (!srv) throw new Error("server not started");
    const feeder = new SimulatedFeeder({ url: srv.mqttUrl, ...feederOptions });
    feeders.push(feeder);
    await feeder.start();
    return feeder;
  }

  async function startEspHomeFeeder(
    feederOptions: Omit<EspHomeFeederOptions, "url">,
  ): Promise<EspHomeFeeder> {
    if (!srv) throw new Error("server not started");
    const feeder = new EspHomeFeeder({ url: srv.mqttUrl, ...feederOptions });
    feeders.push(feeder);
    await feeder.start();
    return feeder;
  }

  return {
    get server() {
      if (!srv) throw new Error("server not started");
      return srv;
    },
    pageProblems,
    async newPage(viewport, mobile = false) {
      if (!browser) throw new Error("browser not started");
      const context = await browser.newContext({
        viewport,
        isMobile: mobile,
        hasTouch: mobile,
        ...contextOptions,
      });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT.timeout);
      page.on("pageerror", (err) => pageProblems.push(`pageerror: ${err.message}`));
      page.on("console", (msg) => {
        if (msg.type() === "error" && /Content Security Policy/i.test(msg.text()))
          pageProblems.push(msg.text());
      });
      return page;
    },
    startFeeder,
    startEspHomeFeeder,
    async firstRun(page, name, feederOptions = {}) {
      await createOwner(page);
      const feeder = await startFeeder({ ...(await addFeeder(page, name)), ...feederOptions });
      const card = page.getByTestId(`feeder-${feeder.id}`);
      await card.getByTestId("online-state").filter({ hasText: "Online" }).waitFor();
      return { feeder, card };
    },
  };
}

/** First run: creates the owner's account, ADMIN, which signs in. */
export async function createOwner(page: Page): Promise<void> {
  await page.getByRole("heading", { name: "Welcome to Feedkeeper" }).waitFor();
  await page.getByLabel("Username", { exact: true }).fill(ADMIN.username);
  await page.getByLabel("Password", { exact: true }).fill(ADMIN.password);
  await page.getByLabel("Confirm password", { exact: true }).fill(ADMIN.password);
  await page.getByRole("button", { name: "Create account" }).click();
}

export async function signIn(page: Page, password = ADMIN.password): Promise<void> {
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await page.getByLabel("Username", { exact: true }).fill(ADMIN.username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Adds a feeder on the Feeders page and dismisses its credentials, read off the page first. */
export async function addFeeder(page: Page, name: string): Promise<{ id: string; password: string }> {
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Add feeder" }).click();
  const credentials = page.getByTestId("credentials");
  const read = async (testId: string) => ((await credentials.getByTestId(testId).textContent()) ?? "").trim();
  const id = await read("cred-username");
  const password = await read("cred-password");
  await page.getByRole("button", { name: "I have saved these credentials" }).click();
  return { id, password };
}

export async function noHorizontalScroll(page: Page): Promise<void> {
  const widths = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  expect(widths.scroll).toBeLessThanOrEqual(widths.client);
}

/** The value of the fact `term` in a list of facts (`.facts`: <dt>/<dd> pairs) in `scope`. */
export async function fact(scope: Locator, term: string): Promise<string | undefined> {
  const pair = scope.locator(".facts > div").filter({ has: scope.page().locator(`dt:text-is("${term}")`) });
  return (await pair.locator("dd").textContent())?.trim();
}

/**
 * Feeds from a feeder's card as a person does: portions, Feed, then the confirmation's yes (`yes` is its
 * label in the page's language). Returns the question the card asked.
 */
export async function feedFromCard(
  card: Locator,
  options: { portions?: number; feed?: string; yes?: string } = {},
): Promise<string> {
  if (options.portions !== undefined)
    await card.getByLabel(/Portions|杯数/).selectOption(String(options.portions));
  await card.getByRole("button", { name: options.feed ?? "Feed", exact: true }).click();
  const confirm = card.getByTestId("feed-confirm");
  const question = ((await confirm.locator("legend").textContent()) ?? "").trim();
  await confirm.getByRole("button", { name: options.yes ?? "Yes, feed" }).click();
  return question;
}
