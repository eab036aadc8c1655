/**
 * Backup and restore in a real browser on a 360 px phone: the owner downloads a backup from Server
 * settings, adds a feeder afterwards, restores the downloaded file through the page (asked first), the
 * server restarts on it, and after signing in again the feeder added later is gone. Needs `npm run build`
 * and a Chromium.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { addFeeder, createOwner, noHorizontalScroll, signIn, useBrowserSession } from "./helpers.js";

describe("backup and restore on the server settings page (real Chromium)", () => {
  const session = useBrowserSession();

  it("downloads a backup and restores it", { timeout: 120_000 }, async () => {
    const page = await session.newPage({ width: 360, height: 800 }, true);
    await page.goto(session.server.httpUrl);
    await createOwner(page);
    await addFeeder(page, "Kitchen");
    const nav = page.getByRole("navigation", { name: "Pages" });
    await nav.getByRole("link", { name: "Server" }).click();
    const section = page.getByRole("region", { name: "Backup and restore" });
    await section.getByText("keep it as safe as the server itself").waitFor();

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      section.getByRole("link", { name: "Download a backup now" }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^feedkeeper-.+\.fkbackup$/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fk-e2e-backup-"));
    const file = path.join(dir, download.suggestedFilename());
    await download.saveAs(file);
    expect(fs.statSync(file).size).toBeGreaterThan(1000);
    await noHorizontalScroll(page);

    // A change after the backup, which the restore takes back.
    await nav.getByRole("link", { name: "Feeders" }).click();
    await addFeeder(page, "Later");
    await page.getByText("Later").first().waitFor();

    await nav.getByRole("link", { name: "Server" }).click();
    const restore = page.getByRole("region", { name: "Backup and restore" });
    await restore.getByLabel("Backup file", { exact: true }).setInputFiles(file);
    const asked: string[] = [];
    page.once("dialog", (dialog) => {
      asked.push(dialog.message());
      void dialog.accept();
    });
    await restore.getByRole("button", { name: "Restore…" }).click();
    await restore.getByRole("status").filter({ hasText: "Restored the backup made" }).waitFor();
    expect(asked[0]).toContain("Replace all the data on this server");
    await session.server.waitForLogs((l) => l.msg === "restored from a backup");
    fs.rmSync(dir, { recursive: true, force: true });

    // The restarted server has the backup's data and none of its sessions: sign in again.
    await expect
      .poll(
        async () => (await fetch(`${session.server.httpUrl}/api/health`).catch(() => undefined))?.status,
        {
          timeout: 15_000,
        },
      )
      .toBe(200);
    await restore.getByRole("link", { name: "Sign in again" }).click();
    await signIn(page);
    await page.getByText("Kitchen").first().waitFor();
    expect(await page.getByText("Later").count()).toBe(0);
    expect(session.pageProblems).toEqual([]);
  });
});
