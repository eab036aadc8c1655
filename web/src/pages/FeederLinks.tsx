/**
 * The links between a feeder's pages (meal plan, history, settings, connection log), named with the feeder
 * for screen readers, since a card list has one "History" per feeder. A page leaves out itself.
 */
import type { Feeder } from "../api-types";
import { localized } from "../i18n";
import { connectionsHref, historyHref, scheduleHref, settingsHref } from "../routes";

const T = localized({
  en: {
    schedule: "Meal plan",
    scheduleOf: (name: string) => `Meal plan for ${name}`,
    history: "History",
    historyOf: (name: string) => `History of ${name}`,
    settings: "Settings",
    settingsOf: (name: string) => `Settings for ${name}`,
    connections: "Connection log",
    connectionsOf: (name: string) => `Connection log of ${name}`,
  },
  ja: {
    schedule: "給餌プラン",
    scheduleOf: (name: string) => `${name} の給餌プラン`,
    history: "履歴",
    historyOf: (name: string) => `${name} の履歴`,
    settings: "設定",
    settingsOf: (name: string) => `${name} の設定`,
    connections: "接続ログ",
    connectionsOf: (name: string) => `${name} の接続ログ`,
  },
});

type Page = "schedule" | "history" | "settings" | "connections";

const HREF: Record<Page, (feederId: string) => string> = {
  schedule: scheduleHref,
  history: historyHref,
  settings: settingsHref,
  connections: (feederId) => connectionsHref({ feederId }),
};

/** `pages` in the order given; the caller leaves out what the role may not open. */
export function FeederLinks({ feeder, pages }: { feeder: Pick<Feeder, "id" | "name">; pages: Page[] }) {
  if (pages.length === 0) return null;
  return (
    <p class="card-links">
      {pages.map((page) => (
        <a key={page} href={HREF[page](feeder.id)} aria-label={T[`${page}Of`](feeder.name)}>
          {T[page]}
        </a>
      ))}
    </p>
  );
}
