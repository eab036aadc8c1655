/**
 * How a feed is said in words, for every page that lists feeds. The Feeders page still has its own copy of
 * the status words (the same ones); it can use these instead.
 */
import type { FeedSource, FeedStatus } from "./api-types";
import { formatNumber } from "./dates";
import { localized } from "./i18n";

export const FEED_WORDS = localized({
  en: {
    status: {
      pending: "waiting to be sent",
      sent: "sent to the feeder",
      accepted: "dispensing",
      dispensed: "dispensed",
      failed: "failed",
      expired: "expired (the feeder did not get it in time)",
      timed_out: "timed out (no confirmation from the feeder)",
    } satisfies Record<FeedStatus, string>,
    source: {
      remote: "remote",
      schedule: "meal plan",
      button: "feeder's button",
      home_assistant: "Home Assistant",
    } satisfies Record<FeedSource, string>,
    portions: (n: number) => `${formatNumber(n)}\u00a0${n === 1 ? "portion" : "portions"}`,
    grams: (g: number) => `${formatNumber(g)}\u00a0g`,
    /** Portions × the feeder's portion size, when the feeder measured nothing. */
    aboutGrams: (g: number) => `about ${formatNumber(g)}\u00a0g`,
  },
  ja: {
    status: {
      pending: "待機中（送信待ち）",
      sent: "送信済み",
      accepted: "給餌中",
      dispensed: "完了",
      failed: "失敗",
      expired: "期限切れ（給餌器が時間内に受け取りませんでした）",
      timed_out: "結果不明（給餌器から完了の確認がありません）",
    },
    source: {
      remote: "リモート",
      schedule: "給餌プラン",
      button: "本体ボタン",
      home_assistant: "Home Assistant",
    },
    portions: (n: number) => `${formatNumber(n)}\u00a0杯`,
    grams: (g: number) => `${formatNumber(g)}\u00a0g`,
    aboutGrams: (g: number) => `約 ${formatNumber(g)}\u00a0g`,
  },
});

/** A feed that may not have come out: the owner should look (failed, or no word from the feeder). */
export function isProblem(status: FeedStatus): boolean {
  return status === "failed" || status === "expired" || status === "timed_out";
}
