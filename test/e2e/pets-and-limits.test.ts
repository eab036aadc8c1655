/**
 * Safety limits, feeder settings and pets in a real browser: change a feeder's limits on its settings page (a
 * value the server refuses is explained next to its field, and what was typed stays), feed a simulated feeder
 * twice within the minimum interval and feed anyway past the refusal, add a pet with a daily target, link the
 * feeder to it, and read the pet's intake for today against the target. Needs the built server and web UI
 * (`npm run build`) and a Chromium (see browser.ts).
 */
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  feedFromCard,
  noHorizontalScroll,
  SCREENSHOT_DIR,
  signIn,
  useBrowserSession,
  WAIT,
} from "./helpers.js";

/** The simulator's default portion size. */
const PORTION_GRAMS = 10;

let feederId = "";

const nav = (page: Page, name: string): Locator =>
  page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name, exact: true });
const petCard = (page: Page, name: string): Locator =>
  page.locator('article[data-testid^="pet-"]', { has: page.getByRole("heading", { name, exact: true }) });

describe("web UI safety limits, feeder settings and pets (real Chromium)", () => {
  const session = useBrowserSession();

  it("changes limits, feeds anyway past a refusal and shows a pet's intake against its target", {
    timeout: 90_000,
  }, async () => {
    const srv = session.server;
    const page = await session.newPage({ width: 1024, height: 800 });
    /** Every feed request the page sends: its body and idempotency key. */
    const feedRequests: Array<{ body: unknown; key: string | undefined }> = [];
    page.on("request", (req) => {
      if (req.method() === "POST" && /\/api\/feeders\/[^/]+\/feeds$/.test(new URL(req.url()).pathname))
        feedRequests.push({ body: req.postDataJSON(), key: req.headers()["idempotency-key"] });
    });
    await page.goto(srv.httpUrl);

    const { feeder, card } = await session.firstRun(page, "Kitchen", { dispenseMsPerPortion: 50 });
    feederId = feeder.id;

    // Settings, from the card: the limits with what each does, and that an owner can feed anyway.
    await card.getByRole("link", { name: "Settings for Kitchen" }).click();
    await page.getByRole("heading", { name: "Settings: Kitchen" }).waitFor();
    expect(new URL(page.url()).hash).toBe(`#/feeders/${feederId}/settings`);
    const interval = page.getByLabel("Seconds between remote feeds", { exact: true });
    const daily = page.getByLabel("Portions per day", { exact: true });
    const perFeed = page.getByLabel("Most portions per feed", { exact: true });
    expect(await daily.inputValue()).toBe("40");
    expect(await page.getByText("0 turns this check off").isVisible()).toBe(true);
    expect(await page.getByText("An owner can still feed anyway from the feeder's card").isVisible()).toBe(
      true,
    );

    // A daily limit of 0 goes to the server, which refuses it; its message stands next to the field.
    await perFeed.fill("3");
    await daily.fill("0");
    await interval.fill("60");
    await page.getByRole("button", { name: "Save settings" }).click();
    const dailyError = page.locator("#settings-dailyMaxPortions-error");
    await dailyError.waitFor();
    expect(await dailyError.textContent()).toBe("dailyMaxPortions must be 1-1000");
    expect(await daily.getAttribute("aria-invalid")).toBe("true");
    expect(await daily.getAttribute("aria-describedby")).toContain("settings-dailyMaxPortions-error");
    expect(await page.getByRole("alert").textContent()).toBe(
      "Not saved: Portions per day: dailyMaxPortions must be 1-1000",
    );
    expect(await perFeed.inputValue()).toBe("3");
    expect(await daily.inputValue()).toBe("0");
    expect(await interval.inputValue()).toBe("60");

    await daily.fill("20");
    expect(await dailyError.count()).toBe(0);
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    await page.reload();
    await page.getByRole("heading", { name: "Settings: Kitchen" }).waitFor();
    expect(await daily.inputValue()).toBe("20");
    expect(await perFeed.inputValue()).toBe("3");
    expect(await interval.inputValue()).toBe("60");

    // Feed once: dispensed.
    await page.getByRole("link", { name: "← All feeders" }).click();
    const feedButton = card.getByRole("button", { name: "Feed", exact: true });
    await feedButton.waitFor();
    expect(await card.getByLabel("Portions").locator("option").count()).toBe(3);
    await feedFromCard(card);
    await card.locator('[data-testid="feed-status"][data-status="dispensed"]').waitFor();
    expect(feeder.dispensed).toHaveLength(1);

    // Again within 60 s: refused, with the numbers but without the API's advice, and a way to feed anyway.
    await feedFromCard(card);
    const refusal = card.getByTestId("safety-limit");
    await refusal.waitFor();
    const message = (await refusal.getByRole("alert").textContent()) ?? "";
    expect(message).toMatch(
      /^Not fed: safety limit\. The last remote feed was \d+ s ago; this feeder allows one every 60 s\.$/,
    );
    expect(await refusal.textContent()).not.toMatch(/override/i);
    await new Promise((r) => setTimeout(r, 300));
    expect(feeder.dispensed).toHaveLength(1);

    await refusal.getByRole("button", { name: "Feed anyway" }).click();
    await refusal.waitFor({ state: "detached" });
    await card.locator('[data-testid="feed-status"][data-status="dispensed"]').waitFor();
    await expect.poll(() => feeder.dispensed.length, WAIT).toBe(2);
    expect(feeder.dispensed.map((m) => m.portions)).toEqual([1, 1]);
    // The refused request created no feed: the override is a request of its own, with a new key.
    expect(feedRequests.map((r) => r.body)).toEqual([
      { portions: 1 },
      { portions: 1 },
      { portions: 1, override: true },
    ]);
    const keys = feedRequests.map((r) => r.key);
    expect(new Set(keys).size).toBe(3);
    expect(keys.every((k) => typeof k === "string" && k.length > 0)).toBe(true);

    // A pet with a daily target of 80 g, from the header's Pets page.
    await nav(page, "Pets").click();
    await page.getByRole("heading", { name: "Pets", exact: true }).waitFor();
    expect(new URL(page.url()).hash).toBe("#/pets");
    await page.getByText("No pets yet").waitFor();
    const addPet = page.getByRole("region", { name: "Add a pet" });
    await addPet.getByLabel("Name", { exact: true }).fill("Miso");
    await addPet.getByLabel("Daily target in grams (optional)", { exact: true }).fill("80");
    await addPet.getByRole("button", { name: "Add pet" }).click();
    await addPet.getByRole("status").filter({ hasText: "Added Miso." }).waitFor();
    const miso = petCard(page, "Miso");
    await miso.waitFor();
    expect(await miso.getByText("Daily target: 80").textContent()).toMatch(/^Daily target: 80\s+g$/);
    await miso.getByText("No feeder is linked to this pet").waitFor();

    // Link the feeder to Miso in its settings.
    await nav(page, "Feeders").click();
    await card.getByRole("link", { name: "Settings for Kitchen" }).click();
    await page.getByRole("heading", { name: "Settings: Kitchen" }).waitFor();
    await page.getByLabel("Pet", { exact: true }).selectOption({ label: "Miso" });
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();

    // Today Miso got what the device dispensed, against the target; the card names the feeder.
    await nav(page, "Pets").click();
    await miso.getByText("Fed by:").waitFor();
    expect(await miso.locator(".fed-by").textContent()).toBe("Fed by: Kitchen");
    const dispensedGrams = feeder.dispensed.reduce((sum, m) => sum + m.grams, 0);
    expect(dispensedGrams).toBe(2 * PORTION_GRAMS);
    const days = miso.getByTestId("intake-day");
    expect(await days.count()).toBe(7);
    const today = days.first();
    expect(await today.getByRole("rowheader").textContent()).toBe("Today");
    const percent = Math.round((dispensedGrams / 80) * 100);
    expect(await today.getByRole("cell").textContent()).toMatch(
      new RegExp(`^${dispensedGrams}\\s+g of 80\\s+g \\(${percent}\\s+%\\)$`),
    );
    expect(await days.nth(1).getByRole("cell").textContent()).toMatch(/^0\s+g of 80\s+g \(0\s+%\)$/);
    expect(await miso.getByRole("table", { name: /^Grams dispensed to Miso per day/ }).count()).toBe(1);

    await mkdir(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: resolve(SCREENSHOT_DIR, "pets.png"), fullPage: true });

    // Change the target: the intake follows.
    await miso.getByRole("button", { name: "Edit Miso" }).click();
    await miso.getByLabel("Daily target in grams (optional)", { exact: true }).fill("100");
    await miso.getByRole("button", { name: "Save", exact: true }).click();
    await miso.getByText(/^Daily target: 100\s+g$/).waitFor();
    await today
      .getByRole("cell")
      .filter({ hasText: /^20\s+g of 100\s+g \(20\s+%\)$/ })
      .waitFor();

    // A second pet without a target, deleted after confirming.
    await addPet.getByLabel("Name", { exact: true }).fill("Pebble");
    await addPet.getByRole("button", { name: "Add pet" }).click();
    const pebble = petCard(page, "Pebble");
    await pebble.getByText("No daily target").waitFor();
    await pebble.getByTestId("intake-day").first().waitFor();
    expect(await pebble.getByTestId("intake-day").first().getByRole("cell").textContent()).toMatch(/^0\s+g$/);
    await pebble.getByRole("button", { name: "Delete Pebble" }).click();
    await pebble.getByText("Its feeders stay and keep feeding, unlinked").waitFor();
    await pebble.getByRole("button", { name: "Yes, delete Pebble" }).click();
    await pebble.waitFor({ state: "detached" });
    expect(await page.locator('article[data-testid^="pet-"]').count()).toBe(1);
    expect(session.pageProblems).toEqual([]);
  });

  it("fits a 375×740 phone screen: pets and feeder settings without horizontal scrolling", {
    timeout: 60_000,
  }, async () => {
    const srv = session.server;
    const page = await session.newPage({ width: 375, height: 740 }, true);
    await page.goto(`${srv.httpUrl}/#/pets`);
    await signIn(page);
    await page.getByRole("heading", { name: "Pets", exact: true }).waitFor();
    await petCard(page, "Miso").getByTestId("intake-day").first().waitFor();
    await noHorizontalScroll(page);
    for (const name of ["Edit Miso", "Delete Miso", "Add pet"]) {
      const box = await page.getByRole("button", { name }).boundingBox();
      expect(box).not.toBeNull();
      if (box) expect(box.x + box.width).toBeLessThanOrEqual(375);
    }
    await page.screenshot({ path: resolve(SCREENSHOT_DIR, "pets-phone.png"), fullPage: true });

    await page.goto(`${srv.httpUrl}/#/feeders/${feederId}/settings`);
    await page.getByRole("heading", { name: "Settings: Kitchen" }).waitFor();
    expect(await page.getByLabel("Pet", { exact: true }).inputValue()).not.toBe("");
    await noHorizontalScroll(page);
    expect(session.pageProblems).toEqual([]);
  });
});
