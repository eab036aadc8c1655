/**
 * One's own account in a real browser: the owner, signed in in two browsers, sees both under "Signed-in
 * browsers" and signs the other out, which is back at the sign-in screen on its next click. The owner creates
 * an API token limited to sitter with an expiry: its secret is shown once, read-only, with a Copy button; it
 * feeds (a sitter's action) and is refused adding a feeder (an owner's); revoked, it is refused altogether. A
 * sitter is offered sitter tokens only. The page has no horizontal scroll at 360 px. Needs `npm run build` and
 * a Chromium.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { ADMIN, fact, noHorizontalScroll, signIn, useBrowserSession } from "./helpers.js";

const SITTER = { username: "sam.sitter", password: "holiday-cover-2026" };
const TOKEN_NAME = "Kitchen button";

const nav = (page: Page) => page.getByRole("navigation", { name: "Pages" });

/** Whether `text` is anywhere on the page: in its text or in a field. */
const shows = (page: Page, text: string) =>
  page.evaluate(
    (t) =>
      document.body.textContent?.includes(t) ||
      Array.from(document.querySelectorAll("input"), (i) => i.value).some((v) => v.includes(t)),
    text,
  );

async function openAccount(page: Page, username: string): Promise<void> {
  await page.getByRole("link", { name: `Your account: ${username}` }).click();
  await page.getByRole("heading", { name: "Your account" }).waitFor();
}

describe("one's own account in the web UI (real Chromium)", () => {
  const session = useBrowserSession();

  it("signs out another browser, and creates, uses and revokes an API token", {
    timeout: 120_000,
  }, async () => {
    const first = await session.newPage({ width: 1024, height: 900 });
    await first.goto(session.server.httpUrl);
    const { feeder } = await session.firstRun(first, "Kitchen", { dispenseMsPerPortion: 50 });
    const { httpUrl } = session.server;

    const second = await session.newPage({ width: 1024, height: 900 });
    await second.goto(httpUrl);
    await signIn(second);
    await second.getByRole("heading", { name: "Feeders", exact: true }).waitFor();

    // Two browsers, this one marked in words; only the other has a Sign out button.
    await openAccount(first, ADMIN.username);
    const browsers = first.getByRole("region", { name: "Signed-in browsers" });
    const cards = browsers.getByRole("listitem");
    await expect.poll(() => cards.count()).toBe(2);
    const here = cards.filter({ hasText: "This browser" });
    const other = cards.filter({ hasNotText: "This browser" });
    expect(await here.count()).toBe(1);
    expect(await here.getByRole("button").count()).toBe(0);
    expect(await fact(other, "Session ends")).toBeTruthy();
    // Each says where it signed in from and as which browser, so a stranger's session stands out.
    expect(await fact(other, "From")).toBe("127.0.0.1");
    expect(await fact(other, "Browser")).toMatch(/Chrome/);

    const signOut = other.getByRole("button", { name: /^Sign out the browser signed in at / });
    await signOut.click();
    // Keep asks nothing of the server, and hands the focus back.
    await other.getByRole("button", { name: "Keep" }).click();
    await expect.poll(() => signOut.evaluate((el) => el === document.activeElement)).toBe(true);
    await signOut.click();
    await other.getByRole("button", { name: "Yes, sign it out" }).click();
    await browsers.getByRole("status").filter({ hasText: "Signed out the browser" }).waitFor();
    await expect.poll(() => cards.count()).toBe(1);
    expect(await cards.filter({ hasText: "This browser" }).count()).toBe(1);

    // The other browser finds out on its next click.
    await nav(second).getByRole("link", { name: "Pets", exact: true }).click();
    await second.getByRole("heading", { name: "Sign in" }).waitFor();
    await second.getByText("Your session has ended").waitFor();

    // A token limited to sitter, for 30 days.
    const tokens = first.getByRole("region", { name: "API tokens" });
    await tokens.getByText("You have no API tokens.").waitFor();
    const role = tokens.getByLabel("Role", { exact: true });
    expect(await role.locator("option").allTextContents()).toEqual(["Owner", "Member", "Sitter"]);
    // The least a token may do is what the form starts with.
    expect(await role.inputValue()).toBe("sitter");
    await tokens.getByLabel("Name", { exact: true }).fill(TOKEN_NAME);
    await tokens.getByLabel("Expires after (days, optional)").fill("1.5");
    await tokens.getByRole("button", { name: "Create token" }).click();
    await tokens.getByRole("alert").filter({ hasText: "whole number of days" }).waitFor();
    await tokens.getByLabel("Expires after (days, optional)").fill("30");
    await tokens.getByRole("button", { name: "Create token" }).click();

    const shown = tokens.getByRole("region", { name: /^Token “.+” created$/ });
    await shown.getByText("you will not see it again").waitFor();
    const field = shown.getByLabel("Token", { exact: true });
    const secret = await field.inputValue();
    expect(secret).toMatch(/^fkt_/);
    expect(await field.isEditable()).toBe(false);
    expect(await shows(first, secret)).toBe(true);
    await first.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: httpUrl });
    await shown.getByRole("button", { name: "Copy" }).click();
    await shown.getByRole("status").filter({ hasText: "Copied." }).waitFor();
    expect(await first.evaluate(() => navigator.clipboard.readText())).toBe(secret);

    // On a phone, with the secret and the lists on the page: no sideways scrolling.
    await first.setViewportSize({ width: 360, height: 800 });
    await noHorizontalScroll(first);
    await first.setViewportSize({ width: 1024, height: 900 });

    await shown.getByRole("button", { name: "I have copied the token" }).click();
    await shown.waitFor({ state: "detached" });
    expect(await shows(first, secret)).toBe(false);

    const bearer = { authorization: `Bearer ${secret}`, "content-type": "application/json" };
    const feed = () =>
      fetch(`${httpUrl}/api/feeders/${feeder.id}/feeds`, {
        method: "POST",
        headers: { ...bearer, "idempotency-key": crypto.randomUUID() },
        body: JSON.stringify({ portions: 1 }),
      });
    expect((await feed()).status).toBe(202);
    const addFeeder = await fetch(`${httpUrl}/api/feeders`, {
      method: "POST",
      headers: bearer,
      body: JSON.stringify({ name: "Hall", profile: "feedkeeper" }),
    });
    expect(addFeeder.status).toBe(403);

    // Listed with what it is, and when it was last used; the secret is never shown again.
    await first.reload();
    const card = tokens.getByRole("listitem").filter({ hasText: TOKEN_NAME });
    await card.waitFor();
    expect(await fact(card, "Role")).toBe("Sitter");
    expect(await fact(card, "Expires")).not.toBe("never");
    expect(await fact(card, "Last used")).not.toBe("never");
    expect(await shows(first, secret)).toBe(false);

    await card.getByRole("button", { name: `Revoke ${TOKEN_NAME}` }).click();
    await card.getByRole("button", { name: `Yes, revoke ${TOKEN_NAME}` }).click();
    await card.waitFor({ state: "detached" });
    await tokens
      .getByRole("status")
      .filter({ hasText: `Revoked ${TOKEN_NAME}.` })
      .waitFor();
    expect((await feed()).status).toBe(401);

    expect(session.pageProblems).toEqual([]);
  });

  it("offers a sitter only sitter tokens, copies without the Clipboard API, and fits a phone", {
    timeout: 60_000,
  }, async () => {
    const owner = await session.newPage({ width: 1024, height: 900 });
    await owner.goto(`${session.server.httpUrl}/#/account`);
    await signIn(owner);
    await owner.getByRole("heading", { name: "Your account" }).waitFor();
    // Same origin and the session cookie: as the Users page would add them.
    const added = await owner.evaluate(async (sitter) => {
      const res = await fetch("/api/users", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...sitter, role: "sitter" }),
      });
      return res.status;
    }, SITTER);
    expect(added).toBe(201);

    const phone = await session.newPage({ width: 360, height: 800 }, true);
    // As over plain HTTP on a home network, where browsers have no Clipboard API.
    await phone.addInitScript(() => Object.defineProperty(navigator, "clipboard", { value: undefined }));
    await phone.goto(`${session.server.httpUrl}/#/account`);
    await phone.getByRole("heading", { name: "Sign in" }).waitFor();
    await phone.getByLabel("Username", { exact: true }).fill(SITTER.username);
    await phone.getByLabel("Password", { exact: true }).fill(SITTER.password);
    await phone.getByRole("button", { name: "Sign in" }).click();
    await phone.getByRole("heading", { name: "Your account" }).waitFor();

    const tokens = phone.getByRole("region", { name: "API tokens" });
    const role = tokens.getByLabel("Role", { exact: true });
    expect(await role.locator("option").allTextContents()).toEqual(["Sitter"]);
    const browsers = phone.getByRole("region", { name: "Signed-in browsers" });
    await browsers.getByRole("listitem").filter({ hasText: "This browser" }).waitFor();
    await tokens.getByText("You have no API tokens.").waitFor();
    await noHorizontalScroll(phone);

    await tokens.getByLabel("Name", { exact: true }).fill("Feed button");
    await tokens.getByRole("button", { name: "Create token" }).click();
    const shown = tokens.getByRole("region", { name: /^Token “.+” created$/ });
    await shown.getByRole("button", { name: "Copy" }).click();
    // Copied by the older command, or else selected for copying by hand: either way the whole token.
    await shown
      .getByRole("status")
      .filter({ hasText: /^(Copied\.|Could not copy it for you)/ })
      .waitFor();
    const field = shown.getByLabel("Token", { exact: true });
    const selected = await field.evaluate((el: HTMLInputElement) =>
      el.value.slice(el.selectionStart ?? 0, el.selectionEnd ?? 0),
    );
    expect(selected).toBe(await field.inputValue());
    expect(selected).toMatch(/^fkt_/);
    await noHorizontalScroll(phone);

    expect(session.pageProblems).toEqual([]);
  });
});
