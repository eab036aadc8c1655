/**
 * A feeder's History page and a pet's chart in a real browser on a 360 px phone: feeds from the feeder's
 * button (one jammed) and one through the API, food level readings, then the History page from the Meal plan
 * page: both charts drawn, today's grams in the table behind them and in words, the feeds newest first in
 * words, a new feed arriving live, another period, the page in Japanese; then the Pets page draws the linked
 * pet's grams against its target. No horizontal scroll, no script or CSP error. Needs `npm run build` and a
 * Chromium (see browser.ts).
 */
import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { noHorizontalScroll, useBrowserSession, WAIT } from "./helpers.js";

/** The canvas a chart drew: there, and with a size. */
async function expectDrawn(chart: Locator): Promise<void> {
  const canvas = chart.locator("canvas").first();
  await canvas.waitFor();
  const box = await canvas.boundingBox();
  expect(box?.width ?? 0).toBeGreaterThan(200);
  expect(box?.height ?? 0).toBeGreaterThan(50);
  // Never wider than the phone: the chart follows its box.
  expect(box?.width ?? 0).toBeLessThanOrEqual(360);
}

/** A request as the signed-in page would send it: its cookie, and its origin for a change. */
function asPage(page: Page, origin: string) {
  return {
    post: (path: string, data: unknown) =>
      page.request.post(`${origin}${path}`, { data, headers: { origin } }),
    patch: (path: string, data: unknown) =>
      page.request.patch(`${origin}${path}`, { data, headers: { origin } }),
  };
}

const timeline = (page: Page) => page.getByTestId("timeline-feed");

describe("feeder history and pet charts (real Chromium)", () => {
  const session = useBrowserSession();

  it("charts a feeder's grams and food level, lists its feeds in words, and charts a pet against its target", {
    timeout: 120_000,
  }, async () => {
    const url = session.server.httpUrl;
    const page = await session.newPage({ width: 360, height: 740 }, true);
    const chartChunks: string[] = [];
    page.on("response", (res) => {
      if (/\/assets\/draw-[^/]+\.js$/.test(new URL(res.url()).pathname)) chartChunks.push(res.url());
    });
    await page.goto(url);
    const { feeder, card } = await session.firstRun(page, "Kitchen", { dispenseMsPerPortion: 20 });
    const api = asPage(page, url);

    // 2 + 1 portions from the button, 1 jammed, 1 through the API: 4 dispensed portions of the simulator's
    // 10 g, 40 g.
    await feeder.pressButton(2);
    await feeder.pressButton(1);
    feeder.setJammed(true);
    await feeder.pressButton(1);
    feeder.setJammed(false);
    const fed = await api.post(`/api/feeders/${feeder.id}/feeds`, { portions: 1 });
    expect(fed.status()).toBe(202);
    await card.locator('[data-testid="feed-status"][data-status="dispensed"]').waitFor();
    await feeder.sendTelemetry({ foodLevel: 0.8 }, 1);
    await feeder.sendTelemetry({ foodLevel: 0.62 }, 1);
    // The first screen loads no chart code.
    expect(chartChunks).toEqual([]);

    // From the card to the Meal plan, and from there to the History.
    await card.getByRole("link", { name: "Meal plan for Kitchen" }).click();
    await page.getByRole("link", { name: "History of Kitchen" }).click();
    await page.getByRole("heading", { name: "History: Kitchen" }).waitFor();
    expect(new URL(page.url()).hash).toBe(`#/feeders/${feeder.id}/history`);
    expect(await page.title()).toBe("Feeder history · Feedkeeper");

    const grams = page.getByTestId("grams-chart");
    const level = page.getByTestId("level-chart");
    await expectDrawn(grams);
    await expectDrawn(level);
    expect(chartChunks).toHaveLength(1);
    expect(await grams.getAttribute("role")).toBe("img");
    expect(await grams.getAttribute("aria-label")).toMatch(
      /^Bar chart of the grams dispensed on each of the last 14 days\. 40\s+g in all, .*; today 40\s+g\.$/,
    );
    expect(await page.getByTestId("level-summary").textContent()).toMatch(
      // Seconds apart, the two readings share one slice of the period: the later one is kept.
      /^Latest reading: 62\s*% \(.+\)\. In this period, lowest 62\s*%, highest 62\s*%\.$/,
    );
    expect(await level.getAttribute("aria-label")).toContain("Line chart of the food level");

    // The numbers behind the bars, for anyone who cannot see them: today's row first.
    await page.getByText("The numbers as a table").first().click();
    const rows = page.getByTestId("grams-table").getByTestId("history-day");
    expect(await rows.count()).toBe(14);
    const todayRow = rows.first();
    expect(await todayRow.locator("th").textContent()).toBe("Today");
    expect(await todayRow.locator("td").allTextContents()).toEqual([
      expect.stringMatching(/^40\s+g$/),
      "4",
      "3 (1 failed)",
    ]);

    // The feeds, newest first, in words.
    await expect.poll(() => timeline(page).count(), WAIT).toBe(4);
    const newest = timeline(page).first();
    expect(await newest.getAttribute("data-status")).toBe("dispensed");
    expect(await newest.textContent()).toMatch(/1\s+portion · 10\s+g.*Source:?remote.*Outcome:?dispensed/);
    const jammed = timeline(page).nth(1);
    expect(await jammed.getAttribute("data-status")).toBe("failed");
    expect(await jammed.textContent()).toMatch(
      /Source:?feeder's button.*Outcome:?failed.*The feeder said: jam$/,
    );
    expect(await timeline(page).nth(3).textContent()).toMatch(/^\d{1,2}:\d{2}:\d{2}\D*2\s+portions · 20\s+g/);
    await page.getByText("That is every feed.").waitFor();
    await noHorizontalScroll(page);
    // The table fits the phone too, without scrolling sideways inside its box.
    const table = await page.getByTestId("grams-table").evaluate((t) => ({
      table: t.scrollWidth,
      box: t.parentElement?.clientWidth ?? 0,
    }));
    expect(table.table).toBeLessThanOrEqual(table.box);

    // A feed from the button reaches the open page through the live stream.
    await page.locator('header[data-live="on"]').waitFor();
    await feeder.pressButton(3);
    await expect.poll(() => timeline(page).count(), WAIT).toBe(5);
    await todayRow
      .locator("td")
      .first()
      .filter({ hasText: /^70\s+g$/ })
      .waitFor();

    await page.getByLabel("Period", { exact: true }).selectOption({ label: "Last 7 days" });
    await expect.poll(() => rows.count(), WAIT).toBe(7);
    await expectDrawn(grams);
    await noHorizontalScroll(page);

    // In Japanese, the same page with the glossary's words.
    await page.getByLabel("Language").selectOption("ja");
    await page.getByRole("heading", { name: "履歴: Kitchen" }).waitFor();
    expect(await page.title()).toBe("給餌器の履歴 · Feedkeeper");
    await expectDrawn(page.getByTestId("grams-chart"));
    expect(await page.getByTestId("grams-chart").getAttribute("aria-label")).toContain("棒グラフ");
    expect(await timeline(page).nth(2).textContent()).toMatch(/給餌元:?本体ボタン.*結果:?失敗/);
    expect(await timeline(page).first().textContent()).toMatch(/3\s+杯 · 30\s+g.*結果:?完了/);
    for (const numbers of await page.getByText("数値を表で見る").all()) await numbers.click();
    await page.getByTestId("level-table").waitFor();
    // None of the page's English is left (the feeder's name and its error word are data, not the UI's).
    expect(await page.locator("main").textContent()).not.toMatch(
      /\b(History|Period|Last|Grams?|Portions?|Feeds?|Food|Today|Yesterday|Source|Outcome|numbers|reading|unknown|failed|dispensed)\b/,
    );
    await noHorizontalScroll(page);
    await page.getByLabel("言語").selectOption("en");
    await page.getByRole("heading", { name: "History: Kitchen" }).waitFor();

    // A pet with a target, linked to the feeder: its card charts the week against the target.
    const created = await api.post("/api/pets", { name: "Miso", dailyGramsTarget: 80 });
    expect(created.status()).toBe(201);
    const pet = ((await created.json()) as { pet: { id: string } }).pet;
    expect((await api.patch(`/api/feeders/${feeder.id}`, { petId: pet.id })).status()).toBe(200);
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Pets" }).click();
    const petCard = page.getByTestId(`pet-${pet.id}`);
    const intakeChart = petCard.getByTestId("intake-chart");
    await expectDrawn(intakeChart);
    expect(await intakeChart.getAttribute("aria-label")).toBe(
      "Bar chart of the grams dispensed to Miso on each of the last 7 days, with the daily target of 80\u00a0g as a dashed line. The same numbers are in the table below.",
    );
    expect(await petCard.locator(".chart-legend li").allTextContents()).toEqual([
      "Grams dispensed",
      "Daily target 80\u00a0g",
    ]);
    // What the page showed before stays, under the chart.
    expect(await petCard.getByTestId("intake-day").first().textContent()).toMatch(/^Today70\s+g of 80\s+g/);
    await noHorizontalScroll(page);
    // The chart code came once, for every chart.
    expect(chartChunks).toHaveLength(1);
    expect(session.pageProblems).toEqual([]);
  });
});
