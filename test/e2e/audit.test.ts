/**
 * The audit log in a real browser: after the owner's first run, a feed from the card, a failed sign-in under
 * the owner's name from another browser and a sign-in, the owner's Audit log page says each in words — who,
 * from where, on which feeder, and whether it was done or refused — newest first, narrows to one user, and
 * has no horizontal scroll on a 360 px phone. Needs `npm run build` and a Chromium.
 */
import { describe, expect, it } from "vitest";
import { ADMIN, feedFromCard, noHorizontalScroll, signIn, useBrowserSession } from "./helpers.js";

describe("the audit log in the web UI (real Chromium)", () => {
  const session = useBrowserSession();

  it("shows who did what, from where, and what was refused", { timeout: 120_000 }, async () => {
    const page = await session.newPage({ width: 360, height: 800 }, true);
    await page.goto(session.server.httpUrl);
    const { card } = await session.firstRun(page, "Kitchen", { dispenseMsPerPortion: 50 });
    await feedFromCard(card);
    await card.locator('[data-testid="feed-status"][data-status="dispensed"]').waitFor();

    const stranger = await session.newPage({ width: 1024, height: 800 });
    await stranger.goto(session.server.httpUrl);
    await signIn(stranger, "a guess at the password");
    await stranger.getByRole("alert").waitFor();

    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Audit log" }).click();
    await page.getByRole("heading", { name: "Audit log" }).waitFor();
    const entries = page.getByTestId("audit-entry");
    await entries.first().waitFor();
    const texts = (await entries.allTextContents()).map((t) => t.replace(/\s+/g, " "));

    // Newest first: the refused sign-in, then the feed, …, the first run at the bottom.
    expect(texts[0]).toContain("Signed in — refused (401)");
    expect(texts[0]).toContain(`${ADMIN.username} from 127.0.0.1`);
    const feed = texts.find((t) => t.includes("Asked to feed now"));
    expect(feed).toContain("— done");
    expect(feed).toContain("Feeder: Kitchen");
    expect(texts.findIndex((t) => t.includes("Asked to feed now"))).toBeGreaterThan(0);
    expect(texts.at(-1)).toContain("Created the first owner account — done");
    expect(texts.some((t) => t.includes("Added a feeder — done"))).toBe(true);
    // Refusals are said in words; the border colour only repeats it.
    expect(await entries.first().getAttribute("class")).toContain("problem");
    expect(await page.getByText("That is everything that was kept.").count()).toBe(1);
    await noHorizontalScroll(page);

    // One user's entries: the failed sign-in named the owner but was nobody signed in, so it goes.
    await page.getByLabel("Show").selectOption({ label: ADMIN.username });
    // Until the narrowed answer is in, the list is empty (loading) or still the old one.
    await expect
      .poll(async () => {
        const shown = await entries.allTextContents();
        return shown.length > 0 && !shown.some((t) => t.includes("refused (401)"));
      })
      .toBe(true);
    for (const text of await entries.allTextContents()) expect(text).toContain(ADMIN.username);
    expect(session.pageProblems).toEqual([]);
  });
});
