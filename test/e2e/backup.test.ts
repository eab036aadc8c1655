/**
 * Backup and restore in a real browser on a 360 px phone: the owner downloads a backup from Server
 * settings (and, signed out meanwhile, is asked to sign in rather than shown the server's refusal), adds a
 * feeder afterwards, checks the downloaded file through the page (what it holds, and that the later feeder
 * would go), restores it (asked first), the server restarts on it, and after signing in again the feeder
 * added later is gone. Needs `npm run build` and a Chromium.
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

    // With the session gone, the link asks the owner to sign in instead of leaving the page for the
    // server's refusal.
    let downloads = 0;
    page.on("download", () => {
      downloads += 1;
    });
    await page.context().clearCookies();
    await section.getByRole("link", { name: "Download a backup now" }).click();
    await signIn(page);
    await nav.waitFor();
    expect(new URL(page.url()).pathname).toBe("/");
    expect(downloads).toBe(0);

    // A change after the backup, which the restore takes back.
    await nav.getByRole("link", { name: "Feeders" }).click();
    await addFeeder(page, "Later");
    await page.getByText("Later").first().waitFor();

    await nav.getByRole("link", { name: "Server" }).click();
    const restore = page.getByRole("region", { name: "Backup and restore" });
    const chooser = restore.getByLabel("Backup file", { exact: true });
    // A file that is no backup is refused with the server's reason, and cannot be restored.
    const junk = path.join(dir, "notes.fkbackup");
    fs.writeFileSync(junk, "not a backup");
    await chooser.setInputFiles(junk);
    await restore.getByRole("button", { name: "Check this backup" }).click();
    await restore.getByRole("alert").filter({ hasText: "This backup cannot be restored" }).waitFor();
    expect(await restore.getByRole("button", { name: "Restore this backup…" }).count()).toBe(0);

    // The real one: what it holds, and what restoring it would undo, before anything changes.
    await chooser.setInputFiles(file);
    expect(await restore.getByRole("alert").count()).toBe(0);
    await restore.getByRole("button", { name: "Check this backup" }).click();
    const summary = restore.getByRole("region", { name: "What this backup holds" });
    await summary.waitFor();
    const fact = async (name: string) =>
      (
        await summary
          .locator("dt", { hasText: new RegExp(`^${name}$`) })
          .locator("xpath=../dd")
          .textContent()
      )?.trim();
    expect(await fact("Feeders")).toBe("1");
    expect(await fact("Users")).toBe("1");
    await summary
      .getByText("Later is not in this backup: it would be removed and must be added again.")
      .waitFor();
    expect(await summary.getByText("has other credentials").count()).toBe(0);
    await noHorizontalScroll(page);
    // The check changed nothing: the feeder added after the backup is still there.
    const names = await page.evaluate(async () => {
      const res = await fetch("/api/feeders");
      return ((await res.json()) as { feeders: Array<{ name: string }> }).feeders.map((f) => f.name);
    });
    expect(names.sort()).toEqual(["Kitchen", "Later"]);

    // Choosing another file puts the preview away; choosing the backup again needs another check.
    await chooser.setInputFiles(junk);
    expect(await summary.count()).toBe(0);
    await chooser.setInputFiles(file);
    await restore.getByRole("button", { name: "Check this backup" }).click();
    await summary.waitFor();

    const asked: string[] = [];
    page.once("dialog", (dialog) => {
      asked.push(dialog.message());
      void dialog.accept();
    });
    await restore.getByRole("button", { name: "Restore this backup…" }).click();
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
