/**
 * The log level in a real browser: the owner opens Server settings on a 360 px phone, sees the level the
 * server started with, changes it to debug and back, and the server's own log says so each time (its
 * children follow: see log-level.test.ts). The scrape example never holds a token, and it all reads in Japanese.
 * Needs `npm run build` and a Chromium.
 */
import { describe, expect, it } from "vitest";
import { ADMIN, createOwner, noHorizontalScroll, useBrowserSession } from "./helpers.js";

describe("the log level on the server settings page (real Chromium)", () => {
  const session = useBrowserSession({ env: { FEEDKEEPER_LOG_LEVEL: "info" } });

  it("changes the server's log level until the next restart", { timeout: 120_000 }, async () => {
    const page = await session.newPage({ width: 360, height: 800 }, true);
    await page.goto(session.server.httpUrl);
    await createOwner(page);
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Server" }).click();
    const section = page.getByRole("region", { name: "Logging and metrics" });
    await section.waitFor();
    const now = section.getByTestId("log-level-now");
    await expect.poll(() => now.textContent()).toBe("info");
    expect(await section.getByText("lasts until the server restarts").count()).toBe(1);

    const select = section.getByLabel("Log level", { exact: true });
    const change = section.getByRole("button", { name: "Change" });
    expect(await change.isDisabled()).toBe(true);
    await select.selectOption("debug");
    expect(await section.locator("#log-level-hint").textContent()).toContain("why a feeder misbehaves");
    await change.click();
    await section.getByRole("status").filter({ hasText: "now logs at debug, until it restarts" }).waitFor();
    expect(await now.textContent()).toBe("debug");
    const changed = (l: Record<string, unknown>) => l.msg === "log level changed";
    await session.server.waitForLogs((l) => changed(l) && l.to === "debug" && l.by === ADMIN.username);

    // The page reads what the server has, also after a reload.
    await page.reload();
    await expect.poll(() => page.getByTestId("log-level-now").textContent()).toBe("debug");
    await noHorizontalScroll(page);

    const example = await page.getByTestId("scrape-config").textContent();
    expect(example).toContain("metrics_path: /api/metrics");
    expect(example).toContain(`targets: ["${new URL(session.server.httpUrl).host}"]`);
    expect(example).toContain("credentials_file:");
    expect(example).not.toMatch(/fkt_/);

    await page.getByLabel("Log level", { exact: true }).selectOption("warn");
    await page.getByRole("button", { name: "Change" }).click();
    await expect.poll(() => page.getByTestId("log-level-now").textContent()).toBe("warn");
    // Said before the change, at info, while info still showed.
    await session.server.waitForLogs((l) => changed(l) && l.from === "debug" && l.to === "warn");

    // The same in Japanese, still within a phone's width.
    await page.getByLabel("Language").selectOption("ja");
    const ja = page.getByRole("region", { name: "ログとメトリクス" });
    await ja.getByText("再起動するまで続きます").waitFor();
    await ja.getByRole("button", { name: "変更" }).waitFor();
    await noHorizontalScroll(page);
    expect(session.pageProblems).toEqual([]);
  });
});
