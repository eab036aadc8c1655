/**
 * Notification channels in a real browser, on a 360 px phone: the owner adds a signed webhook pointing at a
 * fake receiver on 127.0.0.1, presses "Send test" and sees it arrive (the receiver got it, signed); the
 * secret is never shown again, only that one is set; deleting asks first. Needs `npm run build` and a
 * Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyWebhook } from "../../server/src/notify/webhook.js";
import { FakeHttpReceiver } from "../helpers/fake-http.js";
import { createOwner, noHorizontalScroll, useBrowserSession } from "./helpers.js";

const SECRET = "browser signing secret 42";

describe("notification channels on the server settings page (real Chromium)", () => {
  const session = useBrowserSession();
  const receiver = new FakeHttpReceiver();
  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());

  it("adds a webhook, sends a test that arrives signed, and deletes it after asking (in Japanese)", {
    timeout: 120_000,
  }, async () => {
    const page = await session.newPage({ width: 360, height: 800 }, true);
    await page.goto(session.server.httpUrl);
    await createOwner(page);
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Server" }).click();
    const section = page.getByRole("region", { name: "Notifications" });
    await section.getByText("No channels yet").waitFor();

    await section.getByRole("button", { name: "Add a channel" }).click();
    const form = section.getByRole("form", { name: "New channel" });
    await form.getByLabel("Type", { exact: true }).selectOption("webhook");
    await form.getByLabel("Name", { exact: true }).fill("Home Assistant");
    await form.getByLabel("Webhook URL", { exact: true }).fill(`${receiver.url}/hook`);
    await form.getByLabel("Signing secret (optional)", { exact: true }).fill(SECRET);
    // Only meal problems for this one.
    for (const kind of ["Food low", "Battery low", "Clock off"]) {
      await form.getByRole("checkbox", { name: kind, exact: true }).uncheck();
    }
    await noHorizontalScroll(page);
    await form.getByRole("button", { name: "Add", exact: true }).click();
    await section.getByRole("status").filter({ hasText: "Added Home Assistant." }).waitFor();

    const card = section.locator('article[data-testid^="channel-"]', {
      has: page.getByRole("heading", { name: "Home Assistant", exact: true }),
    });
    expect(await card.locator(".badge").textContent()).toBe("Webhook · On");
    await card.getByRole("button", { name: "Send test" }).click();
    await card.getByRole("status").filter({ hasText: "Test message sent at" }).waitFor();

    const [request] = receiver.to("/hook");
    expect(JSON.parse(request?.body ?? "{}")).toMatchObject({ kind: "test", test: true, language: "en" });
    const signed = {
      signature: request?.headers["x-feedkeeper-signature"] as string,
      timestamp: request?.headers["x-feedkeeper-timestamp"] as string,
    };
    expect(verifyWebhook(SECRET, signed, request?.body ?? "", Date.now())).toBe(true);
    await expect.poll(() => card.getByText("never").count()).toBe(0);

    // The channel as saved: its kinds, and the secret only as "set".
    const channels = await page.evaluate(async () => (await fetch("/api/notification-channels")).json());
    expect(channels.channels[0].kinds).toEqual([
      "meal_missed",
      "meal_failed",
      "meal_doubled",
      "schedule_drift",
      "fault",
      "feeder_offline",
    ]);
    expect(JSON.stringify(channels)).not.toContain(SECRET);
    await card.getByRole("button", { name: "Edit Home Assistant" }).click();
    const edit = section.getByRole("form", { name: "Edit Home Assistant" });
    expect(await edit.getByLabel("Signing secret (optional)", { exact: true }).inputValue()).toBe("");
    expect(await edit.getByText("Set — leave empty to keep it.").count()).toBe(1);
    await edit.getByRole("button", { name: "Cancel" }).click();

    // The same in Japanese, still within a phone's width.
    await page.getByLabel("Language").selectOption("ja");
    const ja = page.getByRole("region", { name: "通知" });
    await ja.getByRole("button", { name: "テスト送信" }).waitFor();
    await noHorizontalScroll(page);
    await ja.getByRole("button", { name: "Home Assistant を削除" }).click();
    await ja.getByText("チャンネル「Home Assistant」を削除しますか？").waitFor();
    await ja.getByRole("button", { name: "Home Assistant を削除する" }).click();
    await ja.getByText("チャンネルはまだありません").waitFor();
    expect(receiver.requests).toHaveLength(1);
    expect(session.pageProblems).toEqual([]);
  });
});
