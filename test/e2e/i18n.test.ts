/**
 * Japanese in a real browser: a browser whose language is Japanese gets the whole UI in Japanese from the
 * first-run page on (html lang="ja"); every signed-in page is scanned for English words left over (only
 * names, units and data may stay Latin) and for form controls without a label; the language switch turns the UI English at once, the choice
 * survives a reload, and switching back works. Dates follow the language. Needs `npm run build` and a
 * Chromium.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { feedFromCard, noHorizontalScroll, useBrowserSession } from "./helpers.js";

const OWNER = { username: "hana", password: "ねこのごはん-2026" };
const FEEDER_NAME = "台所の給餌器";

/**
 * Latin words a Japanese UI keeps: product, protocol and brand names, units, identifiers, and data the
 * server or the device sends as it is (profile names and their one-line summaries, model strings).
 */
const ALLOWED = new Set(
  [
    "Feedkeeper",
    "MQTT",
    "API",
    "ID",
    "URL",
    "Wi-Fi",
    "mqtt",
    "feedkeeper",
    "TLS",
    "YAML",
    "ESPHome",
    "Tasmota",
    "Tuya",
    "TuyaMCU",
    "Petlibro",
    "Petnet",
    "Aqara",
    "Zigbee2MQTT",
    "Zigbee",
    "SmartFeeder",
    "docs",
    "protocol",
    "md",
    "sim",
    "ws",
    "UTC",
    "GMT",
    "OK",
    // The HTTP header a script sends its token in.
    "Authorization",
    "Bearer",
    "hana",
  ].map((w) => w.toLowerCase()),
);

/** Words of three or more Latin letters in the page's own text, minus data marked as such and the allowed. */
async function englishLeft(page: Page): Promise<string[]> {
  const text = await page.evaluate(() => {
    const body = document.body.cloneNode(true) as HTMLElement;
    // Data shown as it came: marked lang="en" (server texts) or translate="no" (device and profile words),
    // options naming device profiles, credentials.
    for (const el of body.querySelectorAll(
      '[lang="en"], [translate="no"], option, code, [data-testid^="cred-"], script, style',
    ))
      el.remove();
    // Text nodes one by one, so words of neighbouring elements are not run together; hidden labels too.
    const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
    const parts: string[] = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) parts.push(node.nodeValue ?? "");
    // Labels that only assistive technology reads count as much as visible ones.
    for (const el of body.querySelectorAll("[aria-label], [title], [placeholder]")) {
      for (const attr of ["aria-label", "title", "placeholder"]) parts.push(el.getAttribute(attr) ?? "");
    }
    return parts.join(" ");
  });
  // Identifiers (FEEDKEEPER_AUDIT_DAYS, a feeder id like k3x9q2m4p7ab) are names, not English.
  const words = (text.match(/[A-Za-z0-9_][A-Za-z0-9_-]*/g) ?? []).filter((w) => !/[_0-9]/.test(w));
  return [...new Set(words.filter((w) => /[A-Za-z]{3}/.test(w) && !ALLOWED.has(w.toLowerCase())))];
}

/** Form controls a screen reader would announce without a name: each needs a label, aria-label or text. */
async function unlabelled(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>("input, select, textarea, button"))
      .filter((el) => el.getAttribute("type") !== "hidden")
      .filter((el) => {
        const labels = (el as HTMLInputElement).labels;
        const named =
          (labels && labels.length > 0) ||
          el.getAttribute("aria-label") ||
          el.getAttribute("aria-labelledby") ||
          (el.tagName === "BUTTON" && el.textContent?.trim());
        return !named;
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  );
}

describe("the web UI in Japanese (real Chromium)", () => {
  const session = useBrowserSession({ locale: "ja-JP" });

  it("speaks Japanese from the first run on, leaves no English behind, and switches language", {
    timeout: 180_000,
  }, async () => {
    const page = await session.newPage({ width: 360, height: 740 }, true);
    await page.goto(session.server.httpUrl);

    await page.getByRole("heading", { name: "Feedkeeper へようこそ" }).waitFor();
    expect(await page.getAttribute("html", "lang")).toBe("ja");
    await page.getByLabel("ユーザー名", { exact: true }).fill(OWNER.username);
    await page.getByLabel("パスワード", { exact: true }).fill(OWNER.password);
    await page.getByLabel("パスワード（確認）", { exact: true }).fill(OWNER.password);
    await page.getByRole("button", { name: "アカウントを作成" }).click();

    const nav = page.getByRole("navigation", { name: "ページ" });
    await nav.getByRole("link", { name: "給餌器" }).waitFor();
    await page.getByLabel("名前", { exact: true }).fill(FEEDER_NAME);
    await page.getByRole("button", { name: "給餌器を追加" }).click();
    const credentials = page.getByTestId("credentials");
    const read = async (id: string) => ((await credentials.getByTestId(id).textContent()) ?? "").trim();
    const feeder = await session.startFeeder({
      id: await read("cred-username"),
      password: await read("cred-password"),
      dispenseMsPerPortion: 50,
    });
    await page.getByRole("button", { name: "この認証情報を控えました" }).click();
    const card = page.getByTestId(`feeder-${feeder.id}`);
    await card.getByTestId("online-state").filter({ hasText: "オンライン" }).waitFor();
    const question = await feedFromCard(card, { feed: "給餌", yes: "給餌する" });
    expect(question).toContain("台所の給餌器で今すぐ 1\u00a0杯");
    await card.locator('[data-testid="feed-status"][data-status="dispensed"]').waitFor();
    expect(await card.getByTestId("feed-status").textContent()).toContain("杯");

    const leftovers: Record<string, string[]> = {};
    const pages = [
      ["#/", "給餌器"],
      [`#/feeders/${feeder.id}/schedule`, "給餌プラン"],
      [`#/feeders/${feeder.id}/settings`, "設定"],
      [`#/feeders/${feeder.id}/history`, "履歴"],
      ["#/pets", "ペット"],
      ["#/alerts", "アラート"],
      ["#/connections", "接続"],
      ["#/users", "ユーザー"],
      ["#/account", "アカウント"],
      ["#/audit", "監査ログ"],
      ["#/server", "サーバー設定"],
    ] as const;
    for (const [hash, heading] of pages) {
      await page.goto(`${session.server.httpUrl}/${hash}`);
      await page.getByRole("heading", { level: 2 }).filter({ hasText: heading }).first().waitFor();
      // Lists load after the heading: give them their first answer.
      await page.waitForLoadState("networkidle").catch(() => undefined);
      const left = await englishLeft(page);
      if (left.length > 0) leftovers[hash] = left;
      const nameless = await unlabelled(page);
      if (nameless.length > 0) leftovers[`${hash} unlabelled`] = nameless;
      await noHorizontalScroll(page);
    }
    expect(leftovers).toEqual({});

    // Dates in Japanese: the meal plan's calendar days are formatted by Intl in the UI's language.
    await page.goto(`${session.server.httpUrl}/#/feeders/${feeder.id}/schedule`);
    await page
      .getByText(/\d+月\d+日/)
      .first()
      .waitFor();

    // The switch: English at once, kept over a reload, and back.
    await page.goto(`${session.server.httpUrl}/#/`);
    await page.getByLabel("言語").selectOption("en");
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Feeders" }).waitFor();
    expect(await page.getAttribute("html", "lang")).toBe("en");
    expect(await card.getByTestId("feed-status").textContent()).toMatch(/portion/);
    await page.reload();
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Feeders" }).waitFor();
    await page.getByLabel("Language").selectOption("ja");
    await nav.getByRole("link", { name: "給餌器" }).waitFor();
    expect(session.pageProblems).toEqual([]);
  });
});
