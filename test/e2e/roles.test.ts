/**
 * Roles in a real browser: the owner adds a sitter on the Users page (an end date is suggested for sitters); the
 * sitter, signed in in a browser of their own, feeds from the feeder's card but sees no Users or Connections in
 * the nav, no way to add feeders and a meal plan without a save button; the owner's own demotion is refused
 * with the server's message, and the owner removes the sitter, whose session ends with it. A member sees the
 * users without controls and changes their password, with the server's rules and a wrong current password
 * shown as messages, and signs in with the new one. The Users page has no horizontal scroll at 360 px. Needs `npm run build` and a Chromium.
 */
import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { ADMIN, feedFromCard, noHorizontalScroll, signIn, useBrowserSession } from "./helpers.js";

const SITTER = { username: "sam.sitter", password: "holiday-cover-2026" };
const MEMBER = { username: "mia", password: "household-member-1", newPassword: "a-new-secret-for-mia" };

/** Signs in and waits for the page the URL names: Feeders, unless the hash names another. */
async function signInAs(page: Page, username: string, password: string, landing = "Feeders"): Promise<void> {
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await page.getByLabel("Username", { exact: true }).fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: landing, exact: true }).waitFor();
}

const nav = (page: Page) => page.getByRole("navigation", { name: "Pages" });

async function openUsers(page: Page): Promise<void> {
  await nav(page).getByRole("link", { name: "Users", exact: true }).click();
  await page.getByRole("heading", { name: "Users", exact: true }).waitFor();
  await page.getByTestId(`user-${ADMIN.username}`).waitFor();
}

/** Adds a user with the owner's form; returns the form for more checks. */
async function addUser(
  page: Page,
  user: { username: string; password: string },
  role: string,
): Promise<Locator> {
  const form = page.getByRole("region", { name: "Add a user" });
  await form.getByLabel("Username", { exact: true }).fill(user.username);
  await form.getByLabel("Password", { exact: true }).fill(user.password);
  await form.getByLabel("Role", { exact: true }).selectOption({ label: role });
  return form;
}

describe("roles and users in the web UI (real Chromium)", () => {
  const session = useBrowserSession();
  let owner: Page;
  let feederId = "";

  it("an owner adds a sitter, who can feed and nothing more, and removes them", {
    timeout: 120_000,
  }, async () => {
    owner = await session.newPage({ width: 1024, height: 900 });
    await owner.goto(session.server.httpUrl);
    const { feeder, card } = await session.firstRun(owner, "Kitchen", { dispenseMsPerPortion: 50 });
    feederId = feeder.id;
    expect(await card.getByRole("link", { name: "Settings for Kitchen" }).count()).toBe(1);

    // A sitter, with the suggested end date kept.
    await openUsers(owner);
    const form = await addUser(owner, SITTER, "Sitter");
    const end = form.getByLabel("Last day (optional)");
    expect(await end.inputValue()).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // A password the server refuses comes back with its rule.
    await form.getByLabel("Password", { exact: true }).fill("short");
    await form.getByRole("button", { name: "Add user" }).click();
    await form.getByRole("alert").filter({ hasText: "at least 10 characters" }).waitFor();
    await form.getByLabel("Password", { exact: true }).fill(SITTER.password);
    await form.getByRole("button", { name: "Add user" }).click();
    await form
      .getByRole("status")
      .filter({ hasText: `Added ${SITTER.username}` })
      .waitFor();
    const sitterCard = owner.getByTestId(`user-${SITTER.username}`);
    await sitterCard.waitFor();
    expect(await sitterCard.getByTestId("user-role").textContent()).toBe("Sitter");
    expect(await sitterCard.getByTestId("user-end").textContent()).toMatch(/^until /);

    // The sitter, in a browser of their own.
    const sitter = await session.newPage({ width: 1024, height: 900 });
    await sitter.goto(session.server.httpUrl);
    await signInAs(sitter, SITTER.username, SITTER.password);
    const sitterFeeder = sitter.getByTestId(`feeder-${feederId}`);
    await sitterFeeder.waitFor();
    await feedFromCard(sitterFeeder);
    await sitterFeeder.locator('[data-testid="feed-status"][data-status="dispensed"]').waitFor();
    expect(feeder.dispensed).toHaveLength(1);

    const links = await nav(sitter).getByRole("link").allTextContents();
    expect(links.map((l) => l.trim())).not.toContain("Users");
    expect(links.some((l) => l.includes("Connections"))).toBe(false);
    expect(links.map((l) => l.trim())).not.toContain("Audit log");
    expect(links.map((l) => l.trim())).toContain("Account");
    expect(await sitter.getByRole("region", { name: "Add a feeder" }).count()).toBe(0);
    expect(await sitter.getByRole("button", { name: "Add feeder" }).count()).toBe(0);
    expect(await sitter.getByTestId("pending-devices").count()).toBe(0);
    expect(await sitterFeeder.getByRole("link", { name: "Settings for Kitchen" }).count()).toBe(0);

    // The meal plan, read-only.
    await sitterFeeder.getByRole("link", { name: "Meal plan for Kitchen" }).click();
    await sitter.getByTestId("plan-read-only").waitFor();
    await sitter.getByTestId("meal-calendar").waitFor();
    expect(await sitter.getByRole("button", { name: "Save" }).count()).toBe(0);
    expect(await sitter.getByRole("button", { name: "Add meal" }).count()).toBe(0);
    expect(await sitter.getByRole("button", { name: "Skip next meal" }).count()).toBe(0);
    expect(await sitter.getByRole("region", { name: "Pause meals (vacation, vet)" }).count()).toBe(0);

    // The sitter's own account, one click away, at a phone's width too.
    await nav(sitter).getByRole("link", { name: "Account", exact: true }).click();
    await sitter.getByRole("heading", { name: "Your account" }).waitFor();
    await sitter.getByRole("region", { name: "Change your password" }).waitFor();
    await sitter.setViewportSize({ width: 360, height: 800 });
    await noHorizontalScroll(sitter);

    // The only owner cannot demote themselves: the server says why.
    const adminCard = owner.getByTestId(`user-${ADMIN.username}`);
    await adminCard.getByRole("button", { name: `Change ${ADMIN.username}` }).click();
    await adminCard.getByLabel("Role", { exact: true }).selectOption({ label: "Member" });
    await adminCard.getByRole("button", { name: "Save" }).click();
    await adminCard.getByRole("alert").filter({ hasText: "only owner" }).waitFor();
    await adminCard.getByRole("button", { name: "Cancel" }).click();

    // The owner removes the sitter, after a confirmation; the sitter's session ends.
    await sitterCard.getByRole("button", { name: `Remove ${SITTER.username}` }).click();
    await sitterCard.getByRole("button", { name: `Yes, remove ${SITTER.username}` }).click();
    await sitterCard.waitFor({ state: "detached" });
    await owner
      .getByRole("status")
      .filter({ hasText: `Removed ${SITTER.username}` })
      .waitFor();
    await sitter.reload();
    await sitter.getByRole("heading", { name: "Sign in" }).waitFor();

    expect(session.pageProblems).toEqual([]);
  });

  it("a member sees the users read-only and changes their password", { timeout: 120_000 }, async () => {
    await openUsers(owner);
    const form = await addUser(owner, MEMBER, "Member");
    expect(await form.getByLabel("Last day (optional)").inputValue()).toBe("");
    await form.getByRole("button", { name: "Add user" }).click();
    await owner.getByTestId(`user-${MEMBER.username}`).waitFor();

    const member = await session.newPage({ width: 360, height: 800 }, true);
    await member.goto(session.server.httpUrl);
    await signInAs(member, MEMBER.username, MEMBER.password);
    // Members feed and plan, but add no feeders.
    await member.getByTestId(`feeder-${feederId}`).waitFor();
    expect(await member.getByRole("button", { name: "Add feeder" }).count()).toBe(0);
    expect(await nav(member).getByRole("link", { name: "Connections" }).count()).toBe(1);
    // The audit log is the owners': no link, and its address says so instead of showing it.
    expect(await nav(member).getByRole("link", { name: "Audit log" }).count()).toBe(0);
    await member.goto(`${session.server.httpUrl}/#/audit`);
    await member.getByText("Your role cannot open this page.").waitFor();
    expect(await member.getByRole("heading", { name: "Audit log" }).count()).toBe(0);
    await member.goto(session.server.httpUrl);
    await member.getByRole("heading", { name: "Feeders", exact: true }).waitFor();

    await openUsers(member);
    await member.getByTestId(`user-${MEMBER.username}`).waitFor();
    expect(await member.getByRole("region", { name: "Add a user" }).count()).toBe(0);
    const manageButton = new RegExp(`^(Change|Remove) (${ADMIN.username}|${MEMBER.username})$`);
    expect(await member.getByRole("button", { name: manageButton }).count()).toBe(0);
    await noHorizontalScroll(member);

    const pw = member.getByRole("region", { name: "Change your password" });
    const fill = async (current: string, next: string) => {
      await pw.getByLabel("Current password").fill(current);
      await pw.getByLabel("New password", { exact: true }).fill(next);
      await pw.getByLabel("Confirm new password").fill(next);
      await pw.getByRole("button", { name: "Change password" }).click();
    };
    // The server's rules, as it words them.
    await fill(MEMBER.password, "password123");
    await pw.getByRole("alert").filter({ hasText: "most common" }).waitFor();
    // A wrong current password is said so, and does not sign the member out.
    await fill("not-my-password", MEMBER.newPassword);
    await pw.getByRole("alert").filter({ hasText: "current password is wrong" }).waitFor();
    expect(await member.getByRole("heading", { name: "Sign in" }).count()).toBe(0);

    await fill(MEMBER.password, MEMBER.newPassword);
    await pw.getByRole("status").filter({ hasText: "Password changed" }).waitFor();
    expect(await pw.getByLabel("Current password").inputValue()).toBe("");

    // The new password signs in (the old one failing is the server's own test: a wrong sign-in is throttled).
    await member.getByRole("button", { name: "Sign out" }).click();
    await signInAs(member, MEMBER.username, MEMBER.newPassword, "Users");

    // The owner's Users page on a phone: no sideways scrolling.
    const phone = await session.newPage({ width: 360, height: 800 }, true);
    await phone.goto(`${session.server.httpUrl}/#/users`);
    await signIn(phone);
    await phone.getByTestId(`user-${MEMBER.username}`).waitFor();
    await phone.getByRole("region", { name: "Add a user" }).waitFor();
    await noHorizontalScroll(phone);

    expect(session.pageProblems).toEqual([]);
  });
});
