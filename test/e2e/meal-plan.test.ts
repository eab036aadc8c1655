/**
 * Meal plans in a real browser: open a feeder's meal plan from its card, plan two meals in the feeder's
 * time zone (not the browser's), see the server's validation message without losing what was typed, find the
 * plan again after a reload, add a one-off meal, pause two days, follow the calendar until the server's
 * scheduler has fed a meal to a simulated feeder, skip the next meal and undo it; then the header's alert
 * count for a feeder whose clock is off, until the alert is acknowledged. Needs the built server and web UI
 * (`npm run build`) and a Chromium (see browser.ts).
 */
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { addFeeder, noHorizontalScroll, SCREENSHOT_DIR, signIn, useBrowserSession } from "./helpers.js";

/** The feeder's zone differs from the browser's, so the calendar must use the feeder's. */
const FEEDER_ZONE = "Asia/Tokyo";
const BROWSER_ZONE = "America/New_York";
const DST_RULE =
  "Meals are evaluated in the feeder's time zone. A meal in the hour skipped when clocks spring forward runs once, at the first valid minute after the gap; a meal in the hour repeated when clocks fall back runs once, at the first of the two.";
const GRACE_HINT =
  "If the server was down at meal time, the meal is still fed when the server is back within this many minutes; later, it is recorded as missed and you get an alert.";
const WEEKDAY_LABELS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

let feederId = "";

/** Date, time and weekday of an instant on the feeder's wall clock. */
function feederClock(at: Date) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: FEEDER_ZONE,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    weekday: "short",
    hourCycle: "h23",
  }).formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return {
    date: `${part("year")}-${part("month")}-${part("day")}`,
    time: `${part("hour")}:${part("minute")}`,
    weekday: part("weekday"),
  };
}

const addDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

const mealRow = (page: Page, n: number): Locator =>
  page.getByRole("group", { name: `Meal ${n}`, exact: true });
const dayGroup = (page: Page, date: string): Locator =>
  page.getByTestId("meal-calendar").locator(`section[data-date="${date}"]`);
const entry = (group: Locator, label: string): Locator =>
  group.getByTestId("occurrence").filter({ hasText: label });

describe("web UI meal plan (real Chromium)", () => {
  const session = useBrowserSession({ timezoneId: BROWSER_ZONE });

  it("plans meals, shows the server's validation message, keeps the plan and feeds it", {
    timeout: 240_000,
  }, async () => {
    const srv = session.server;
    const page = await session.newPage({ width: 1024, height: 800 });
    await page.goto(srv.httpUrl);

    const { feeder, card } = await session.firstRun(page, "Kitchen", { dispenseMsPerPortion: 50 });
    feederId = feeder.id;

    // From the card to the feeder's meal plan, with the rules for clock changes and downtime in view.
    await card.getByRole("link", { name: "Meal plan for Kitchen" }).click();
    const heading = page.getByRole("heading", { name: "Meal plan: Kitchen" });
    await heading.waitFor();
    expect(new URL(page.url()).hash).toBe(`#/feeders/${feederId}/schedule`);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Meal plan: Kitchen");
    expect(await page.getByText(DST_RULE).isVisible()).toBe(true);
    expect(await page.getByText(GRACE_HINT).isVisible()).toBe(true);
    await page.getByText("No meals planned").waitFor();
    await page
      .getByTestId("meal-calendar")
      .getByRole("heading", { name: /^Today · / })
      .waitFor();

    // Two meals in Tokyo time: breakfast every day but one, and one due a minute or two from now.
    await page.getByLabel("Time zone").selectOption(FEEDER_ZONE);
    const now = feederClock(new Date());
    const today = now.date;
    const dayOff = addDays(today, 3);
    const dayOffLabel = WEEKDAY_LABELS[(new Date(`${dayOff}T00:00:00Z`).getUTCDay() + 6) % 7] ?? "";
    await page.getByRole("button", { name: "Add meal" }).click();
    const breakfast = mealRow(page, 1);
    await breakfast.getByLabel("Time", { exact: true }).fill("07:30");
    await breakfast.getByLabel("Label", { exact: true }).fill("Breakfast");
    await breakfast.getByRole("checkbox", { name: dayOffLabel, exact: true }).uncheck();
    // The browser lets 0 through (the form leaves value rules to the server) and the server refuses it.
    await breakfast.getByLabel("Portions", { exact: true }).fill("0");
    await page.getByRole("button", { name: "Add meal" }).click();
    const soon = mealRow(page, 2);
    await soon.getByLabel("Label", { exact: true }).fill("Soon");
    await soon.getByLabel("Portions", { exact: true }).fill("2");
    await page.getByRole("button", { name: "Save plan" }).click();

    const alert = page.getByRole("alert");
    await alert.filter({ hasText: "portions must be at least 1" }).waitFor();
    expect(await alert.textContent()).toBe("Not saved: Meal 1: portions must be at least 1");
    expect(await breakfast.getByText("portions must be at least 1").isVisible()).toBe(true);
    expect(await breakfast.getByLabel("Portions", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    expect(await breakfast.getByLabel("Label", { exact: true }).inputValue()).toBe("Breakfast");
    expect(await soon.getByLabel("Label", { exact: true }).inputValue()).toBe("Soon");

    // Fixed, and the second meal set to the next minute with at least 15 s to spare, then saved.
    await breakfast.getByLabel("Portions", { exact: true }).fill("1");
    expect(await breakfast.getByText("portions must be at least 1").count()).toBe(0);
    const dueAt = new Date(Date.now() + 75_000);
    dueAt.setSeconds(0, 0);
    const due = feederClock(dueAt);
    await soon.getByLabel("Time", { exact: true }).fill(due.time);
    await page.getByRole("button", { name: "Save plan" }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    expect(await alert.count()).toBe(0);

    // A reload lands on the same plan, as saved.
    await page.reload();
    await heading.waitFor();
    await mealRow(page, 2).waitFor();
    expect(await page.getByLabel("Time zone").inputValue()).toBe(FEEDER_ZONE);
    expect(await mealRow(page, 3).count()).toBe(0);
    expect(await breakfast.getByLabel("Time", { exact: true }).inputValue()).toBe("07:30");
    expect(await breakfast.getByLabel("Label", { exact: true }).inputValue()).toBe("Breakfast");
    expect(await breakfast.getByLabel("Portions", { exact: true }).inputValue()).toBe("1");
    expect(await breakfast.getByRole("checkbox", { name: dayOffLabel, exact: true }).isChecked()).toBe(false);
    expect(await soon.getByLabel("Time", { exact: true }).inputValue()).toBe(due.time);
    expect(await soon.getByLabel("Portions", { exact: true }).inputValue()).toBe("2");

    // The calendar is in Tokyo dates: today and tomorrow hold breakfast, the day off does not.
    const calendar = page.getByTestId("meal-calendar");
    await calendar.getByText(`in ${FEEDER_ZONE} time`).waitFor();
    const todayGroup = dayGroup(page, today);
    const tomorrowGroup = dayGroup(page, addDays(today, 1));
    await entry(todayGroup, "Breakfast").waitFor();
    expect(await todayGroup.getByRole("heading").textContent()).toMatch(/^Today · /);
    expect(await tomorrowGroup.getByRole("heading").textContent()).toMatch(/^Tomorrow · /);
    expect(await entry(tomorrowGroup, "Breakfast").textContent()).toMatch(
      /^07:30Breakfast · 1\s+portion\W+Planned/,
    );
    expect(await entry(tomorrowGroup, "Soon").textContent()).toContain("2\u00a0portions");
    expect(await entry(dayGroup(page, dayOff), "Breakfast").count()).toBe(0);
    expect(await entry(dayGroup(page, dayOff), "Soon").count()).toBe(1);

    // A one-off treat the day after tomorrow shows up in the calendar and in the list of waiting one-offs.
    const treatDay = addDays(today, 2);
    const oneOffs = page.getByRole("region", { name: "Add a one-off meal" });
    await oneOffs.getByLabel("Date", { exact: true }).fill(treatDay);
    await oneOffs.getByLabel("Time", { exact: true }).fill("12:00");
    await oneOffs.getByLabel("Label (optional)", { exact: true }).fill("Treat");
    await oneOffs.getByRole("button", { name: "Add one-off meal" }).click();
    await oneOffs.getByRole("status").filter({ hasText: "Added:" }).waitFor();
    const treat = entry(dayGroup(page, treatDay), "Treat");
    await treat.waitFor();
    expect(await treat.textContent()).toMatch(/^12:00Treat \(one-off\) · 1\s+portion/);
    expect(await oneOffs.getByRole("listitem").count()).toBe(1);

    // A two-day pause later in the week: every meal on those days is paused.
    const pauseFrom = addDays(today, 4);
    const pauseUntil = addDays(today, 5);
    const pausePanel = page.getByRole("region", { name: "Pause meals (vacation, vet)" });
    expect(await pausePanel.getByTestId("pause-state").textContent()).toBe("Meals run as planned.");
    await pausePanel.getByLabel("From", { exact: true }).fill(pauseFrom);
    await pausePanel.getByLabel("Until", { exact: true }).fill(pauseUntil);
    await pausePanel.getByRole("button", { name: "Pause meals" }).click();
    await pausePanel.getByRole("button", { name: "Resume meals" }).waitFor();
    expect(await pausePanel.getByTestId("pause-state").textContent()).toMatch(
      /^Meals are paused from .+ through .+\.$/,
    );
    for (const date of [pauseFrom, pauseUntil]) {
      const states = dayGroup(page, date).getByTestId("occurrence");
      await states.first().and(page.locator('[data-state="paused"]')).waitFor();
      expect(
        new Set(await states.evaluateAll((els) => els.map((el) => el.getAttribute("data-state")))),
      ).toEqual(new Set(["paused"]));
    }

    // The scheduler feeds "Soon" at its minute; the open calendar picks the outcome up by itself.
    const fed = entry(dayGroup(page, due.date), "Soon");
    expect(await fed.getAttribute("data-state")).toBe("planned");
    await fed.and(page.locator('[data-state="dispensed"]')).waitFor({ timeout: 150_000 });
    expect(await fed.textContent()).toMatch(/Dispensed · 20\s+g · by the meal plan$/);
    expect(feeder.dispensed.map((m) => m.portions)).toEqual([2]);

    // Skip the next meal, then take the skip back from its calendar entry.
    const skipped = calendar.locator('[data-testid="occurrence"][data-state="skipped"]');
    await calendar.getByRole("button", { name: "Skip next meal" }).click();
    await calendar
      .getByRole("status")
      .filter({ hasText: /^Skipped: / })
      .waitFor();
    await skipped.waitFor();
    expect(await skipped.count()).toBe(1);

    await mkdir(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: resolve(SCREENSHOT_DIR, "meal-plan.png"), fullPage: true });

    await skipped.getByRole("button", { name: /^Undo skip of / }).click();
    await skipped.waitFor({ state: "detached" });
    await pausePanel.getByRole("button", { name: "Resume meals" }).click();
    await pausePanel.getByTestId("pause-state").filter({ hasText: "Meals run as planned." }).waitFor();
    await calendar.locator('[data-state="paused"]').first().waitFor({ state: "detached" });
    await oneOffs.getByRole("button", { name: /^Remove one-off meal / }).click();
    await treat.waitFor({ state: "detached" });
    expect(await oneOffs.getByRole("listitem").count()).toBe(0);
    expect(session.pageProblems).toEqual([]);
  });

  it("fits a 375×740 phone screen without horizontal scrolling", { timeout: 60_000 }, async () => {
    const srv = session.server;
    const page = await session.newPage({ width: 375, height: 740 }, true);
    await page.goto(`${srv.httpUrl}/#/feeders/${feederId}/schedule`);
    // The hash survives signing in: the plan opens right after.
    await signIn(page);
    await page.getByRole("heading", { name: "Meal plan: Kitchen" }).waitFor();
    await mealRow(page, 2).waitFor();
    await page.getByTestId("meal-calendar").getByTestId("occurrence").first().waitFor();

    for (const name of ["Save plan", "Remove meal 2"]) {
      const box = await page.getByRole("button", { name }).boundingBox();
      expect(box).not.toBeNull();
      if (box) expect(box.x + box.width).toBeLessThanOrEqual(375);
    }
    await noHorizontalScroll(page);

    await page.screenshot({ path: resolve(SCREENSHOT_DIR, "meal-plan-phone.png") });
    expect(session.pageProblems).toEqual([]);
  });

  it("counts unacknowledged alerts in the header until they are acknowledged", {
    timeout: 60_000,
  }, async () => {
    const srv = session.server;
    const page = await session.newPage({ width: 1024, height: 800 });
    await page.goto(srv.httpUrl);
    await signIn(page);
    const alertsLink = page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: /^Alerts/ });
    await alertsLink.waitFor();
    expect(await page.getByTestId("alert-count").count()).toBe(0);

    // A feeder whose clock is ten minutes behind raises an alert as soon as it says hello.
    const { id, password } = await addFeeder(page, "Hallway");
    await session.startFeeder({ id, password, now: () => new Date(Date.now() - 600_000) });

    await page.reload();
    await page.getByTestId("alert-count").filter({ hasText: "1" }).waitFor();
    expect(await alertsLink.textContent()).toBe("Alerts1 1 new");
    await alertsLink.click();
    await page.getByRole("heading", { name: "Alerts", exact: true }).waitFor();
    const alert = page.getByTestId("alert").filter({ hasText: "Feeder's clock is off" });
    await alert.waitFor();
    expect(await alert.textContent()).toContain("Hallway's clock is 10 min");
    expect(await page.getByTestId("alert").count()).toBe(1);

    await alert.getByRole("button", { name: /^Acknowledge: Feeder's clock is off, / }).click();
    await alert.getByText(/Acknowledged /).waitFor();
    await page.getByTestId("alert-count").waitFor({ state: "detached" });
    expect(await alert.getByRole("button").count()).toBe(0);
    await alert.getByRole("link", { name: "Open meal plan" }).click();
    await page.getByRole("heading", { name: "Meal plan: Hallway" }).waitFor();
    expect(session.pageProblems).toEqual([]);
  });
});
