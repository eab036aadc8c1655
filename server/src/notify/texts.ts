/**
 * What a notification says, in English or Japanese. Each language is written from the alert's kind, the
 * feeder's name and the time, not translated from the stored English message; the English text adds
 * that message as its detail.
 */
import type { AlertKind } from "../store/schema.js";

export type Language = "en" | "ja";

/** ntfy's scale: 1 min … 3 default … 5 max (urgent, may bypass do-not-disturb). */
export type Priority = 1 | 2 | 3 | 4 | 5;

export interface NotificationText {
  title: string;
  body: string;
  /** ntfy tags; the ones that are emoji short codes show as emoji. */
  tags: string[];
  priority: Priority;
}

interface KindWords {
  priority: Priority;
  tag: string;
  en: { title: string; sentence: (feeder: string) => string };
  ja: { title: string; sentence: (feeder: string) => string };
}

/** Record<AlertKind, …>: a new alert kind does not compile until it has its words here. */
const KINDS: Record<AlertKind, KindWords> = {
  meal_missed: {
    priority: 4,
    tag: "warning",
    en: { title: "Meal missed", sentence: (f) => `A planned meal on ${f} was not given.` },
    ja: { title: "食事が与えられていません", sentence: (f) => `${f}の予定の食事が与えられていません。` },
  },
  meal_failed: {
    priority: 4,
    tag: "warning",
    en: { title: "Meal failed", sentence: (f) => `${f} could not dispense a planned meal.` },
    ja: { title: "給餌に失敗しました", sentence: (f) => `${f}が予定の食事を出せませんでした。` },
  },
  meal_doubled: {
    priority: 4,
    tag: "warning",
    en: { title: "Meal given twice", sentence: (f) => `${f} dispensed the same meal twice.` },
    ja: { title: "食事が 2 回出されました", sentence: (f) => `${f}が同じ食事を 2 回出しました。` },
  },
  schedule_drift: {
    priority: 3,
    tag: "calendar",
    en: {
      title: "Feeder schedule out of step",
      sentence: (f) => `The meal plan stored on ${f} differs from the one on the server.`,
    },
    ja: {
      title: "給餌器のスケジュールが違います",
      sentence: (f) => `${f}に保存された給餌プランがサーバーのものと一致しません。`,
    },
  },
  clock_skew: {
    priority: 3,
    tag: "clock3",
    en: {
      title: "Feeder clock is off",
      sentence: (f) => `The clock of ${f} is wrong; meals may come at the wrong time.`,
    },
    ja: {
      title: "給餌器の時計がずれています",
      sentence: (f) => `${f}の時計がずれています。食事の時刻が狂う可能性があります。`,
    },
  },
  food_low: {
    priority: 3,
    tag: "bowl_with_spoon",
    en: { title: "Food running low", sentence: (f) => `${f} is running out of food; refill it soon.` },
    ja: {
      title: "フードが残りわずかです",
      sentence: (f) => `${f}のフードが少なくなっています。早めに補充してください。`,
    },
  },
  fault: {
    priority: 5,
    tag: "rotating_light",
    en: {
      title: "Feeder fault",
      sentence: (f) => `${f} reports a fault (for example a jam) and may not feed.`,
    },
    ja: {
      title: "給餌器の異常",
      sentence: (f) => `${f}が異常（詰まりなど）を報告しました。給餌できない可能性があります。`,
    },
  },
  battery_low: {
    priority: 3,
    tag: "battery",
    en: { title: "Battery low", sentence: (f) => `The battery of ${f} is low.` },
    ja: { title: "電池残量が少なくなっています", sentence: (f) => `${f}の電池残量が少なくなっています。` },
  },
  feeder_offline: {
    priority: 4,
    tag: "electric_plug",
    en: { title: "Feeder offline", sentence: (f) => `${f} has been offline for a while.` },
    ja: { title: "給餌器がオフラインです", sentence: (f) => `${f}がしばらくオフラインです。` },
  },
};

const WORDS = {
  en: {
    server: "Feedkeeper",
    at: (when: string) => `Raised ${when}.`,
    held: "Held during quiet hours; sent when they ended.",
    testTitle: "Feedkeeper test",
    testBody: (channel: string, when: string) =>
      `This is a test message for the notification channel "${channel}", sent ${when}. If you can read it, alerts will reach you here.`,
  },
  ja: {
    server: "Feedkeeper サーバー",
    at: (when: string) => `発生日時: ${when}`,
    held: "おやすみ時間中のため保留し、終了後に送信しました。",
    testTitle: "Feedkeeper テスト通知",
    testBody: (channel: string, when: string) =>
      `通知チャンネル「${channel}」のテストメッセージです（${when} 送信）。これが届いていれば、アラートはここに通知されます。`,
  },
} as const;

function formatTime(at: Date, language: Language, timeZone: string): string {
  return new Intl.DateTimeFormat(language === "ja" ? "ja-JP" : "en-GB", {
    timeZone,
    dateStyle: "medium",
    timeStyle: "short",
  }).format(at);
}

export interface AlertFacts {
  kind: AlertKind;
  /** null: the alert is about the server, not a feeder. */
  feederName: string | null;
  createdAt: Date;
  /** The stored English message, the English text's detail. */
  message: string;
}

export function alertText(
  alert: AlertFacts,
  language: Language,
  timeZone: string,
  options: { held: boolean } = { held: false },
): NotificationText {
  const kind = KINDS[alert.kind];
  const words = WORDS[language];
  const feeder = alert.feederName ?? words.server;
  const when = formatTime(alert.createdAt, language, timeZone);
  const lines = [kind[language].sentence(feeder)];
  if (language === "en" && alert.message) lines.push(alert.message);
  lines.push(words.at(when));
  if (options.held) lines.push(words.held);
  return {
    title: language === "ja" ? `${kind.ja.title}（${feeder}）` : `${kind.en.title}: ${feeder}`,
    body: lines.join("\n"),
    tags: [kind.tag, alert.kind],
    priority: kind.priority,
  };
}

export function testText(
  channelName: string,
  language: Language,
  at: Date,
  timeZone: string,
): NotificationText {
  const words = WORDS[language];
  return {
    title: words.testTitle,
    body: words.testBody(channelName, formatTime(at, language, timeZone)),
    tags: ["white_check_mark", "test"],
    priority: 3,
  };
}
