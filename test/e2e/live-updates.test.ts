/**
 * Live updates in a real browser: two signed-in browsers show the same feeder; a feed pressed in one, a meal
 * from the feeder's own button and the feeder going offline all reach the other's card through the event
 * stream, without a reload, well before its fallback poll (60 s while the stream is open) could. Needs
 * `npm run build` and a Chromium.
 */
import { describe, expect, it } from "vitest";
import { feedFromCard, signIn, useBrowserSession } from "./helpers.js";

/** Far below the 60 s fallback poll: only the stream can make the card change this soon. */
const LIVE = { timeout: 8000 };

describe("live updates (real Chromium)", () => {
  const session = useBrowserSession();

  it("updates another browser's card when a feed completes, the button is pressed, the feeder goes offline", {
    timeout: 120_000,
  }, async () => {
    const phone = await session.newPage({ width: 360, height: 740 }, true);
    await phone.goto(session.server.httpUrl);
    const { feeder, card } = await session.firstRun(phone, "Kitchen", { dispenseMsPerPortion: 50 });

    const desk = await session.newPage({ width: 1024, height: 800 });
    await desk.goto(session.server.httpUrl);
    await signIn(desk);
    const deskCard = desk.getByTestId(`feeder-${feeder.id}`);
    await deskCard.getByTestId("online-state").filter({ hasText: "Online" }).waitFor();
    expect(await deskCard.getByTestId("feed-status").textContent()).toContain("none yet");
    // The desk's stream is open: from here on its page polls only once a minute.
    await desk.locator('header[data-live="on"]').waitFor();

    await feedFromCard(card, { portions: 2 });
    await deskCard.locator('[data-testid="feed-status"][data-status="dispensed"]').waitFor(LIVE);
    expect(await deskCard.getByTestId("feed-status").textContent()).toMatch(/2\s+portions: dispensed/);

    await feeder.pressButton(1);
    await deskCard
      .getByTestId("feed-status")
      .filter({ hasText: /1\s+portion\b.*button/ })
      .waitFor(LIVE);

    await feeder.stop();
    await deskCard.getByTestId("online-state").filter({ hasText: "Offline" }).waitFor(LIVE);
    await card.getByTestId("online-state").filter({ hasText: "Offline" }).waitFor(LIVE);
    expect(session.pageProblems).toEqual([]);
  });
});
