/**
 * The README's pictures of the web UI: a household made through the API (two simulated feeders, pets, a meal
 * plan, a feed from the API and one from a feeder's button, an alert, more users), then the main pages on a
 * 1024 px desktop in English and the everyday ones on a 390 px phone in Japanese, saved as
 * <page>-<lang>[-phone].png. `npm run screenshots` writes them to docs/screenshots; other runs to
 * dist/screenshots. Needs `npm run build` and a Chromium with a Japanese font (.ci/install-browser.sh).
 */
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { TestApi } from "../helpers/api.js";
import { ADMIN, noHorizontalScroll, SCREENSHOT_DIR, signIn, useBrowserSession } from "./helpers.js";

const BREAKFAST = "07:30";
const DINNER = "18:30";

/**
 * A zone where it is early morning now, so every meal of today's plan is still to come and the pictures show
 * a plan, not past meals nobody fed. Familiar places first; the rest cover every other whole-hour offset.
 */
function morningZone(now = new Date()): string {
  const zones = [
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Pacific/Kiritimati",
    "Pacific/Tongatapu",
    "Pacific/Noumea",
    "Australia/Brisbane",
    "Asia/Singapore",
    "Asia/Bangkok",
    "Asia/Dhaka",
    "Asia/Karachi",
    "Asia/Dubai",
    "Europe/Istanbul",
    "Africa/Johannesburg",
    "Africa/Lagos",
    "Atlantic/Reykjavik",
    "Atlantic/Cape_Verde",
    "America/Noronha",
    "America/Sao_Paulo",
    "America/Puerto_Rico",
    "America/Bogota",
    "America/Phoenix",
    "Pacific/Pitcairn",
    "Pacific/Gambier",
    "Pacific/Honolulu",
    "Pacific/Pago_Pago",
  ];
  const hour = (timeZone: string) =>
    Number(new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", hourCycle: "h23" }).format(now));
  return zones.find((zone) => hour(zone) >= 5 && hour(zone) < 7) ?? "Europe/Berlin";
}

const ZONE = morningZone();
const DESKTOP = { width: 1024, height: 800 };
const PHONE = { width: 390, height: 844 };

let kitchenId = "";
let hallwayId = "";

/** Waits until the page has drawn its data: its heading, no "Loading…" line, and each of `ready`. */
async function settled(page: Page, ready: string[]): Promise<void> {
  await page.locator("main h2").first().waitFor();
  for (const selector of ready) await page.locator(selector).first().waitFor();
  await page.waitForFunction(
    () =>
      ![...document.querySelectorAll("p.muted")].some((p) => /Loading|読み込み中/.test(p.textContent ?? "")),
  );
}

/**
 * Opens `hash` and saves it as `name`.png once `ready` are there: the whole page (`fullPage`), or the phone's
 * screen, scrolled to `scrollTo` when what matters is further down.
 */
async function shoot(
  page: Page,
  hash: string,
  name: string,
  options: { ready?: string[]; fullPage?: boolean; scrollTo?: string } = {},
): Promise<void> {
  await page.goto(`${new URL(page.url()).origin}/${hash}`);
  await settled(page, options.ready ?? []);
  await noHorizontalScroll(page);
  if (options.scrollTo)
    await page.locator(options.scrollTo).evaluate((el) => el.scrollIntoView({ block: "start" }));
  await page.screenshot({
    path: resolve(SCREENSHOT_DIR, `${name}.png`),
    fullPage: options.fullPage ?? false,
    animations: "disabled",
  });
}

/** Both feeders online, the Kitchen's feed dispensed. */
const feedersReady = () => [
  `[data-testid="feeder-${kitchenId}"] [data-testid="feed-status"][data-status="dispensed"]`,
  ...[kitchenId, hallwayId].map((id) => `[data-testid="feeder-${id}"] [data-testid="online-state"].online`),
];

describe("README screenshots (real Chromium)", () => {
  const session = useBrowserSession({ timezoneId: ZONE, locale: "en-US" });

  it("sets up a household with two feeders, pets, a meal plan, feeds, an alert and users", {
    timeout: 60_000,
  }, async () => {
    const base = session.server.httpUrl;
    // The owner through first-run setup, then a token named like one a home automation would hold.
    const setup = await fetch(`${base}/api/setup`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify(ADMIN),
    });
    expect(setup.status).toBe(201);
    const cookie = (setup.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const tokenRes = await fetch(`${base}/api/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie, origin: base },
      body: JSON.stringify({ name: "Home Assistant" }),
    });
    expect(tokenRes.status).toBe(201);
    const api = new TestApi(base, ((await tokenRes.json()) as { token: string }).token);
    // Signed out, so the Account page lists only the browser's session.
    const signOut = await fetch(`${base}/api/session`, {
      method: "DELETE",
      headers: { cookie, origin: base },
    });
    expect(signOut.status).toBeLessThan(300);

    const kitchen = await api.createFeeder("Kitchen");
    kitchenId = kitchen.feeder.id;
    const kitchenFeeder = await session.startFeeder({
      id: kitchenId,
      password: kitchen.credentials.password,
      dispenseMsPerPortion: 50,
    });
    const hallway = await api.createFeeder("Hallway");
    hallwayId = hallway.feeder.id;
    // Ten minutes behind: the clock alert the Alerts page shows.
    const hallwayFeeder = await session.startFeeder({
      id: hallwayId,
      password: hallway.credentials.password,
      dispenseMsPerPortion: 50,
      now: () => new Date(Date.now() - 600_000),
    });

    // Telemetry, so the cards show a food level instead of "unknown".
    await kitchenFeeder.sendTelemetry({ foodLevel: 0.8, rssi: -52 }, 1);
    await hallwayFeeder.sendTelemetry({ foodLevel: 0.3, rssi: -67 }, 1);
    for (const id of [kitchenId, hallwayId])
      await api.waitForFeeder(id, (feeder) => feeder.telemetry?.foodLevel !== undefined);

    const pets = [
      { name: "Miso", dailyGramsTarget: 80, feederId: kitchenId },
      { name: "Pebble", dailyGramsTarget: 50, feederId: hallwayId },
    ];
    for (const { feederId, ...pet } of pets) {
      const created = await api.request<{ pet: { id: string } }>("POST", "/api/pets", pet);
      expect(created.status).toBe(201);
      const linked = await api.request("PATCH", `/api/feeders/${feederId}`, { petId: created.body.pet.id });
      expect(linked.status).toBe(200);
    }

    const everyDay = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    for (const [feederId, portions] of [
      [kitchenId, 2],
      [hallwayId, 1],
    ] as const) {
      const plan = await api.request("PUT", `/api/feeders/${feederId}/schedule`, {
        timezone: ZONE,
        meals: [
          { id: "breakfast", time: BREAKFAST, days: everyDay, portions, label: "Breakfast" },
          { id: "dinner", time: DINNER, days: everyDay, portions, label: "Dinner" },
        ],
      });
      expect(plan.status).toBe(200);
    }

    const feed = await api.feed(kitchenId, { portions: 1 });
    expect(feed.status).toBe(202);
    await api.waitForFeed(feed.body.feed.id, ["dispensed"]);
    await hallwayFeeder.pressButton(1);

    const inAWeek = new Date(Date.now() + 7 * 86_400_000).toISOString();
    for (const user of [
      { username: "alex", password: "a long member password", role: "member" },
      { username: "sam", password: "a long sitter password", role: "sitter", expiresAt: inAWeek },
    ]) {
      const created = await api.request("POST", "/api/users", user);
      expect(created.status).toBe(201);
    }
    const alerts = await api.request<{ alerts: unknown[] }>("GET", "/api/alerts");
    expect(alerts.body.alerts.length).toBeGreaterThan(0);
    // Saved, not sent: the address is an example on a home network.
    const channel = await api.request("POST", "/api/notification-channels", {
      name: "Phone",
      type: "ntfy",
      config: { serverUrl: "http://192.168.1.20:8080", topic: "feeder-alerts" },
      quietHours: { start: "22:30", end: "07:00" },
    });
    expect(channel.status, JSON.stringify(channel.body)).toBe(201);
  });

  it("desktop, English: every main page", { timeout: 120_000 }, async () => {
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    const page = await session.newPage(DESKTOP);
    // The Account page shows each session's browser: an everyday Chrome's name, not "HeadlessChrome".
    const userAgent = (await page.evaluate(() => navigator.userAgent)).replace("HeadlessChrome", "Chrome");
    await (await page.context().newCDPSession(page)).send("Network.setUserAgentOverride", { userAgent });
    await page.goto(session.server.httpUrl);
    await signIn(page);
    await shoot(page, "#/", "feeders-en", { ready: feedersReady(), fullPage: true });
    const desktop: Array<[hash: string, name: string, ready: string[]]> = [
      [`#/feeders/${kitchenId}/schedule`, "meal-plan-en", ['[data-testid="occurrence"]']],
      [`#/feeders/${kitchenId}/settings`, "feeder-settings-en", ['[data-testid="device-facts"]']],
      [`#/feeders/${kitchenId}/history`, "history-en", ['[data-testid="timeline-feed"]', "canvas"]],
      ["#/pets", "pets-en", ['[data-testid="intake-day"]']],
      ["#/alerts", "alerts-en", ['[data-testid="alert"]']],
      ["#/users", "users-en", ['[data-testid="user-sam"]']],
      ["#/account", "account-en", []],
      ["#/audit", "audit-en", ['[data-testid="audit-entry"]']],
      ["#/server", "server-settings-en", ['[data-testid^="channel-"]', '[data-testid="scrape-config"]']],
    ];
    for (const [hash, name, ready] of desktop) await shoot(page, hash, name, { ready, fullPage: true });
    expect(session.pageProblems).toEqual([]);
  });

  it("phone, Japanese: feeders, meal plan, pets and history", { timeout: 60_000 }, async () => {
    const page = await session.newPage(PHONE, true);
    await page.goto(session.server.httpUrl);
    await signIn(page);
    await page.getByLabel("Language").selectOption("ja");
    await page.getByRole("navigation", { name: "ページ" }).waitFor();
    await shoot(page, "#/", "feeders-ja-phone", { ready: feedersReady() });
    // The calendar, not the plan's form: the week ahead is what one checks on the phone.
    await shoot(page, `#/feeders/${kitchenId}/schedule`, "meal-plan-ja-phone", {
      ready: ['[data-testid="occurrence"]'],
      scrollTo: '[data-testid="meal-calendar"]',
    });
    await shoot(page, "#/pets", "pets-ja-phone", { ready: ['[data-testid="intake-day"]', "canvas"] });
    await shoot(page, `#/feeders/${kitchenId}/history`, "history-ja-phone", {
      ready: ['[data-testid="timeline-feed"]', "canvas"],
    });
    expect(await page.getAttribute("html", "lang")).toBe("ja");
    expect(session.pageProblems).toEqual([]);
  });
});
