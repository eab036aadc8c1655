/**
 * The condition alerts in a real browser: a simulated feeder reports low food, a jam and a low battery; the
 * Alerts page titles each by its kind in English, then in Japanese, keeps the server's English message
 * marked as English, and links them to the feeder's history. Needs `npm run build` and a Chromium.
 */
import { describe, expect, it } from "vitest";
import { noHorizontalScroll, useBrowserSession } from "./helpers.js";

describe("condition alerts in the web UI", () => {
  const session = useBrowserSession({ timezoneId: "Europe/Berlin" });

  it("names the new kinds in English and Japanese and links them to the history", {
    timeout: 60_000,
  }, async () => {
    const page = await session.newPage({ width: 360, height: 800 }, true);
    await page.goto(session.server.httpUrl);
    const { feeder } = await session.firstRun(page, "Kitchen");
    await feeder.sendTelemetry({ foodLevel: 0.1, battery: 0.05, error: "jam" }, 1);

    await page.goto(`${session.server.httpUrl}/#/alerts`);
    const alerts = page.getByTestId("alert");
    await alerts.nth(2).waitFor();
    const titles = async () => (await alerts.getByRole("heading", { level: 3 }).allTextContents()).sort();
    expect(await titles()).toEqual(["Battery is low", "Feeder reports a fault", "Food is running low"]);
    const food = alerts.filter({ hasText: "Food is running low" });
    expect(await food.locator(".alert-message").textContent()).toBe(
      "Kitchen is low on food: 10 % left (the alert is set below 20 %); refill it soon.",
    );
    expect(await food.locator(".alert-message").getAttribute("lang")).toBe("en");
    await noHorizontalScroll(page);

    await page.evaluate(() => localStorage.setItem("feedkeeper.locale", "ja"));
    await page.reload();
    await page.getByRole("heading", { level: 2, name: "アラート" }).waitFor();
    await alerts.nth(2).waitFor();
    await noHorizontalScroll(page);
    expect(await titles()).toEqual(
      [
        "フードの残りが少なくなっています",
        "給餌器が異常を報告しています",
        "電池残量が少なくなっています",
      ].sort(),
    );
    await alerts
      .filter({ hasText: "給餌器が異常を報告しています" })
      .getByRole("link", { name: "履歴を開く" })
      .click();
    await page.getByRole("heading", { level: 2 }).filter({ hasText: "履歴" }).first().waitFor();
    expect(page.url()).toContain(`/feeders/${feeder.id}/history`);
    expect(session.pageProblems).toEqual([]);
  });
});
