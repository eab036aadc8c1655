/**
 * A feeder's connection settings in a real browser: the settings page lists the broker, username, client id
 * and topic root with working Copy buttons; the owner issues new credentials (asked first), the old device
 * session is cut at once, the new password is shown once and a device using it comes back online. A member
 * sees the settings but cannot issue. Needs `npm run build` and a Chromium.
 */
import { describe, expect, it } from "vitest";
import { useBrowserSession } from "./helpers.js";

describe("connecting a feeder's device (real Chromium)", () => {
  const session = useBrowserSession();

  it("copies the settings and issues new credentials that work, cutting the old ones", {
    timeout: 120_000,
  }, async () => {
    const page = await session.newPage({ width: 390, height: 800 }, true);
    await page.goto(session.server.httpUrl);
    const { feeder, card } = await session.firstRun(page, "Kitchen", { dispenseMsPerPortion: 50 });
    await card.getByRole("link", { name: "Settings for Kitchen" }).click();

    const connect = page.getByTestId("feeder-connect");
    await connect.waitFor();
    expect(await connect.getByTestId("connect-username").textContent()).toBe(feeder.id);
    expect(await connect.getByTestId("connect-topic-root").textContent()).toBe(`feedkeeper/${feeder.id}`);
    // Nothing secret is shown for later: no password row.
    expect(await connect.textContent()).not.toContain("Password");
    await connect.getByRole("button", { name: "Copy Username" }).click();
    await connect.getByRole("status").filter({ hasText: "Copied." }).waitFor();
    const clipboard = await page.evaluate(() => navigator.clipboard.readText().catch(() => null));
    if (clipboard !== null) expect(clipboard).toBe(feeder.id);

    // Asked first; cancelling issues nothing.
    await connect.getByRole("button", { name: "Issue new credentials" }).click();
    await connect.getByRole("button", { name: "Cancel" }).click();
    expect(feeder.connected).toBe(true);

    await connect.getByRole("button", { name: "Issue new credentials" }).click();
    await connect.getByRole("button", { name: "Yes, issue new credentials" }).click();
    const issued = page.getByTestId("credentials");
    await issued.waitFor();
    const password = ((await issued.getByTestId("cred-password").textContent()) ?? "").trim();
    expect(password.length).toBeGreaterThan(10);
    // The old session is cut at once, and the old password no longer gets in.
    await expect.poll(() => feeder.connected, { timeout: 5000 }).toBe(false);

    const renewed = await session.startFeeder({ id: feeder.id, password, dispenseMsPerPortion: 50 });
    expect(renewed.connected).toBe(true);
    await issued.getByRole("button", { name: "I have saved these credentials" }).click();
    await page.getByRole("link", { name: "← All feeders" }).click();
    await page
      .getByTestId(`feeder-${feeder.id}`)
      .getByTestId("online-state")
      .filter({ hasText: "Online" })
      .waitFor();
    expect(session.pageProblems).toEqual([]);
  });
});
