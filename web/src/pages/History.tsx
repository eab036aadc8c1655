import type { ComponentChildren } from "preact";
import { useMemo, useRef, useState } from "preact/hooks";
import { api, errorMessage, isUnauthorized } from "../api";
import type { Feed, Feeder, FeederHistory, HistoryDay } from "../api-types";
import { Chart, ChartLegend, type DailyBarsSpec, type LevelLineSpec } from "../charts/Chart";
import {
  addDays,
  formatDate,
  formatInstant,
  formatNumber,
  formatShortDate,
  localDate,
  startOfDay,
  timeIn,
} from "../dates";
import { FEED_WORDS, isProblem } from "../feed-words";
import { intlLocale, localized } from "../i18n";
import { useLiveChanges } from "../live";
import { feedersHref } from "../routes";
import { ErrorAlert } from "../ui";
import { useLoad } from "../use-load";
import { FeederLinks } from "./FeederLinks";

const PERIODS = [7, 14, 30] as const;
const DEFAULT_PERIOD = 14;
const PAGE = 50;
/** The most feeds one request may ask for (the API's limit). */
const MAX_PAGE = 500;
/** The live stream says when to reload; this only catches what it could have missed. */
const LIVE_REFRESH_MS = 60_000;
const REFRESH_MS = 15_000;
/** A feeder reporting every few seconds would otherwise redraw the charts with each reading. */
const LIVE_THROTTLE_MS = 2000;

const g = (n: number) => `${formatNumber(n)}\u00a0g`;
const percent = (fraction: number) =>
  new Intl.NumberFormat(intlLocale(), { style: "percent", maximumFractionDigits: 0 }).format(fraction);

const T = localized({
  en: {
    back: "← All feeders",
    title: "History",
    titleFor: (name: string) => `History: ${name}`,
    loading: "Loading the history…",
    failed: (message: string) => `Could not load the history (${message}).`,
    period: "Period",
    lastDays: (n: number) => `Last ${n} days`,
    zoneNote: (zone: string) => `Days and times are the feeder's, in ${zone} time.`,
    today: "Today",
    yesterday: "Yesterday",
    unknown: "unknown",
    showNumbers: "The numbers as a table",
    gramsTitle: "Grams per day",
    gramsLegend: "Grams dispensed",
    gramsChart: (days: number, summary: string) =>
      `Bar chart of the grams dispensed on each of the last ${days} days. ${summary}`,
    gramsSummary: (total: number, average: number, today: string) =>
      `${g(total)} in all, ${g(average)} a day on average; today ${today}.`,
    unknownDays: (n: number) =>
      ` The weight is unknown on ${n} ${n === 1 ? "day" : "days"}: the feeder reports no grams and no portion size.`,
    gramsCaption: "Grams, portions and feeds per day, newest first",
    day: "Day",
    grams: "Grams",
    portions: "Portions",
    feeds: "Feeds",
    feedsCell: (feeds: number, failed: number) =>
      failed > 0 ? `${formatNumber(feeds)} (${formatNumber(failed)} failed)` : formatNumber(feeds),
    levelTitle: "Food level",
    levelLegend: "Food level",
    levelChart: (summary: string) => `Line chart of the food level, from 0 to 100 %. ${summary}`,
    levelSummary: (latest: string, at: string, lowest: string, highest: string) =>
      `Latest reading: ${latest} (${at}). In this period, lowest ${lowest}, highest ${highest}.`,
    noLevel: "The feeder reported no food level in this period.",
    levelCaption: "Food level per day, newest first",
    lastReading: "Last reading",
    lowest: "Lowest",
    timelineTitle: "Feeds",
    timelineHint: "Every feed of this feeder, newest first, at the feeder's time.",
    noFeeds: "No feeds yet.",
    older: "Show older feeds",
    loadingOlder: "Loading…",
    end: "That is every feed.",
    amount: (portions: string, grams: string | null) => (grams ? `${portions} · ${grams}` : portions),
    source: "Source",
    outcome: "Outcome",
    deviceError: "The feeder said:",
  },
  ja: {
    back: "← すべての給餌器",
    title: "履歴",
    titleFor: (name: string) => `履歴: ${name}`,
    loading: "履歴を読み込み中…",
    failed: (message: string) => `履歴を読み込めませんでした（${message}）。`,
    period: "期間",
    lastDays: (n: number) => `過去 ${n} 日間`,
    zoneNote: (zone: string) => `日付と時刻は給餌器のもので、${zone} の時刻です。`,
    today: "今日",
    yesterday: "昨日",
    unknown: "不明",
    showNumbers: "数値を表で見る",
    gramsTitle: "1日あたりのグラム数",
    gramsLegend: "給餌量",
    gramsChart: (days: number, summary: string) =>
      `過去 ${days} 日間の 1 日ごとの給餌量（グラム）の棒グラフ。${summary}`,
    gramsSummary: (total: number, average: number, today: string) =>
      `合計 ${g(total)}、1日あたり平均 ${g(average)}。今日は ${today}。`,
    unknownDays: (n: number) =>
      `重さが不明な日が ${n} 日あります（給餌器がグラム数も 1 杯の量も報告していません）。`,
    gramsCaption: "1日ごとのグラム数・杯数・給餌回数（新しい順）",
    day: "日付",
    grams: "グラム",
    portions: "杯数",
    feeds: "給餌回数",
    feedsCell: (feeds: number, failed: number) =>
      failed > 0 ? `${formatNumber(feeds)}（失敗 ${formatNumber(failed)}）` : formatNumber(feeds),
    levelTitle: "フード残量",
    levelLegend: "フード残量",
    levelChart: (summary: string) => `フード残量（0〜100%）の折れ線グラフ。${summary}`,
    levelSummary: (latest: string, at: string, lowest: string, highest: string) =>
      `最新の値: ${latest}（${at}）。この期間の最低 ${lowest}、最高 ${highest}。`,
    noLevel: "この期間、給餌器からフード残量の報告はありません。",
    levelCaption: "1日ごとのフード残量（新しい順）",
    lastReading: "最後の値",
    lowest: "最低",
    timelineTitle: "給餌の記録",
    timelineHint: "この給餌器のすべての給餌を新しい順に、給餌器の時刻で表示します。",
    noFeeds: "まだ給餌はありません。",
    older: "以前の給餌を表示",
    loadingOlder: "読み込み中…",
    end: "給餌の記録はこれですべてです。",
    amount: (portions: string, grams: string | null) => (grams ? `${portions} · ${grams}` : portions),
    source: "給餌元",
    outcome: "結果",
    deviceError: "給餌器からの報告:",
  },
});

function dayName(date: string, today: string): string {
  if (date === today) return T.today;
  if (date === addDays(today, -1)) return T.yesterday;
  return formatDate(date, "short");
}

function gramsText(day: HistoryDay): string {
  return day.grams === null ? T.unknown : g(day.grams);
}

/** Grams per day: the chart, its key, a sentence with the totals, and the numbers as a table. */
function GramsPerDay({ history }: { history: FeederHistory }) {
  const { days } = history;
  const today = days.at(-1);
  const spec = useMemo<DailyBarsSpec>(
    () => ({
      kind: "daily-bars",
      dates: days.map((d) => d.date),
      values: days.map((d) => d.grams),
      target: null,
      formatDate: formatShortDate,
      formatValue: g,
    }),
    // Reloads bring equal numbers in new objects: draw again only when a number changed.
    [days.map((d) => `${d.date}=${d.grams}`).join()],
  );
  const known = days.filter((d) => d.grams !== null);
  const total = known.reduce((sum, d) => sum + (d.grams ?? 0), 0);
  const unknownDays = days.length - known.length;
  const summary =
    T.gramsSummary(total, known.length > 0 ? total / known.length : 0, today ? gramsText(today) : T.unknown) +
    (unknownDays > 0 ? T.unknownDays(unknownDays) : "");
  return (
    <section class="panel" aria-labelledby="history-grams-title">
      <h3 id="history-grams-title">{T.gramsTitle}</h3>
      <figure class="chart-figure">
        <Chart spec={spec} label={T.gramsChart(days.length, summary)} testId="grams-chart" />
        <ChartLegend items={[{ mark: "bar", label: T.gramsLegend }]} />
        <figcaption class="hint" data-testid="grams-summary">
          {summary}
        </figcaption>
      </figure>
      <ChartNumbers
        caption={T.gramsCaption}
        columns={[T.day, T.grams, T.portions, T.feeds]}
        testId="grams-table"
      >
        {[...days].reverse().map((day) => (
          <tr key={day.date} data-testid="history-day" data-date={day.date}>
            <th scope="row">{dayName(day.date, today?.date ?? "")}</th>
            <td>{gramsText(day)}</td>
            <td>{formatNumber(day.portions)}</td>
            <td>{T.feedsCell(day.feeds, day.failed)}</td>
          </tr>
        ))}
      </ChartNumbers>
    </section>
  );
}

/** A chart's numbers as a table, folded away: for screen readers, and for anyone who wants the figures. */
function ChartNumbers(props: {
  caption: string;
  columns: string[];
  testId: string;
  children: ComponentChildren;
}) {
  return (
    <details class="chart-numbers">
      <summary>{T.showNumbers}</summary>
      <div class="table-scroll">
        <table class="history-table" data-testid={props.testId}>
          <caption class="visually-hidden">{props.caption}</caption>
          <thead>
            <tr>
              {props.columns.map((column) => (
                <th key={column} scope="col">
                  {column}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>{props.children}</tbody>
        </table>
      </div>
    </details>
  );
}

/** Each local day's last reading and lowest one, for the table. */
function levelByDay(history: FeederHistory): Array<{ date: string; last: number; lowest: number }> {
  const byDay = new Map<string, { date: string; last: number; lowest: number }>();
  for (const point of history.foodLevel) {
    const date = localDate(new Date(point.at), history.timeZone);
    const day = byDay.get(date);
    if (day) {
      day.last = point.foodLevel;
      day.lowest = Math.min(day.lowest, point.foodLevel);
    } else byDay.set(date, { date, last: point.foodLevel, lowest: point.foodLevel });
  }
  return [...byDay.values()].reverse();
}

function FoodLevel({ history, loadedAt }: { history: FeederHistory; loadedAt: number }) {
  const { foodLevel, timeZone } = history;
  const first = history.days[0]?.date;
  const spec = useMemo<LevelLineSpec | null>(() => {
    if (!first || foodLevel.length === 0) return null;
    const dateIn = new Intl.DateTimeFormat(intlLocale(), { timeZone, month: "numeric", day: "numeric" });
    const clock = timeIn(timeZone);
    return {
      kind: "level-line",
      times: foodLevel.map((p) => Date.parse(p.at)),
      values: foodLevel.map((p) => p.foodLevel * 100),
      from: startOfDay(first, timeZone),
      to: loadedAt,
      timeZone,
      formatTime: (ms, timeOfDay) => (timeOfDay ? clock : dateIn).format(ms),
      formatValue: (v) => percent(v / 100),
    };
  }, [foodLevel, timeZone, first, loadedAt]);
  const latest = foodLevel.at(-1);
  const levels = foodLevel.map((p) => p.foodLevel);
  const summary = latest
    ? T.levelSummary(
        percent(latest.foodLevel),
        formatInstant(latest.at, timeZone),
        percent(Math.min(...levels)),
        percent(Math.max(...levels)),
      )
    : T.noLevel;
  const today = history.days.at(-1)?.date ?? "";
  return (
    <section class="panel" aria-labelledby="history-level-title">
      <h3 id="history-level-title">{T.levelTitle}</h3>
      {spec ? (
        <>
          <figure class="chart-figure">
            <Chart spec={spec} label={T.levelChart(summary)} height={160} testId="level-chart" />
            <ChartLegend items={[{ mark: "line", label: T.levelLegend }]} />
            <figcaption class="hint" data-testid="level-summary">
              {summary}
            </figcaption>
          </figure>
          <ChartNumbers
            caption={T.levelCaption}
            columns={[T.day, T.lastReading, T.lowest]}
            testId="level-table"
          >
            {levelByDay(history).map((day) => (
              <tr key={day.date}>
                <th scope="row">{dayName(day.date, today)}</th>
                <td>{percent(day.last)}</td>
                <td>{percent(day.lowest)}</td>
              </tr>
            ))}
          </ChartNumbers>
        </>
      ) : (
        <p class="muted" data-testid="level-summary">
          {summary}
        </p>
      )}
    </section>
  );
}

function FeedEntry({ feed, feeder }: { feed: Feed; feeder: Feeder }) {
  const W = FEED_WORDS;
  const grams =
    feed.status !== "dispensed"
      ? null
      : feed.grams !== null
        ? W.grams(feed.grams)
        : feeder.portionGrams !== null
          ? W.aboutGrams(feed.portions * feeder.portionGrams)
          : null;
  const at = feed.completedAt ?? feed.requestedAt;
  const open = feed.status === "pending" || feed.status === "sent" || feed.status === "accepted";
  return (
    <li
      class={`card timeline-entry${isProblem(feed.status) ? " problem" : open ? " open" : ""}`}
      data-testid="timeline-feed"
      data-status={feed.status}
    >
      <p class="timeline-when">
        <time dateTime={at}>{formatInstant(at, feeder.timeZone)}</time>
      </p>
      <p class="timeline-amount">{T.amount(W.portions(feed.portions), grams)}</p>
      <dl class="facts">
        <div>
          <dt>{T.source}</dt>
          <dd>{W.source[feed.source]}</dd>
        </div>
        <div>
          <dt>{T.outcome}</dt>
          <dd>{W.status[feed.status]}</dd>
        </div>
      </dl>
      {feed.error && (
        <p class="timeline-error">
          {/* The feeder's own word for what went wrong (jam, empty…), as it sent it. */}
          {T.deviceError} <span translate={false}>{feed.error}</span>
        </p>
      )}
    </li>
  );
}

interface Props {
  feederId: string;
  /** Sitters have no settings page to go to. */
  showSettings: boolean;
  onUnauthorized: () => void;
}

export function History({ feederId, showSettings, onUnauthorized }: Props) {
  const [period, setPeriod] = useState<number>(DEFAULT_PERIOD);
  const [data, setData] = useState<{ feeder: Feeder; history: FeederHistory; loadedAt: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [feeds, setFeeds] = useState<{ list: Feed[]; more: boolean } | null>(null);
  const [feedsError, setFeedsError] = useState<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  /** How many feeds are shown: a reload asks for as many, so older pages opened stay open. */
  const shown = useRef(PAGE);

  const reload = useRef({ history: () => {}, feeds: () => {} });
  const live = useLiveChanges(
    (c) => c.kind === "feeder" && c.feederId === feederId,
    () => {
      reload.current.history();
      reload.current.feeds();
    },
    LIVE_THROTTLE_MS,
  );
  const refresh = live ? LIVE_REFRESH_MS : REFRESH_MS;

  reload.current.history = useLoad(
    {
      fetch: async (signal) => {
        const [f, history] = await Promise.all([
          api.feeder(feederId, signal),
          api.feederHistory(feederId, period, signal),
        ]);
        return { feeder: f.feeder, history, loadedAt: Date.now() };
      },
      onData: (loaded) => {
        setData(loaded);
        setError(null);
      },
      onError: (message) => setError(T.failed(message)),
      onUnauthorized,
    },
    [feederId, period, onUnauthorized],
    refresh,
  );

  reload.current.feeds = useLoad(
    {
      fetch: (signal) => api.feederFeeds(feederId, { limit: Math.min(MAX_PAGE, shown.current) }, signal),
      onData: ({ feeds: list }) => {
        setFeeds({ list, more: list.length === Math.min(MAX_PAGE, shown.current) });
        setFeedsError(null);
      },
      onError: (message) => setFeedsError(T.failed(message)),
      onUnauthorized,
    },
    [feederId, onUnauthorized],
    refresh,
  );

  async function older() {
    const last = feeds?.list.at(-1);
    if (!feeds || !last) return;
    setLoadingOlder(true);
    try {
      const page = await api.feederFeeds(feederId, { limit: PAGE, before: last.requestedAt });
      const list = [...feeds.list, ...page.feeds];
      shown.current = Math.max(PAGE, list.length);
      setFeeds({ list, more: page.feeds.length === PAGE });
      setFeedsError(null);
    } catch (err) {
      if (isUnauthorized(err)) return onUnauthorized();
      setFeedsError(T.failed(errorMessage(err)));
    } finally {
      setLoadingOlder(false);
    }
  }

  const feeder = data?.feeder;
  const history = data?.history;
  return (
    <>
      <p class="back">
        <a href={feedersHref}>{T.back}</a>
      </p>
      <h2 tabIndex={-1}>{feeder ? T.titleFor(feeder.name) : T.title}</h2>
      {feeder && (
        <FeederLinks feeder={feeder} pages={showSettings ? ["schedule", "settings"] : ["schedule"]} />
      )}
      <div class="field connection-filter">
        <label for="history-period">{T.period}</label>
        <select
          id="history-period"
          value={String(period)}
          onChange={(e) => setPeriod(Number(e.currentTarget.value))}
        >
          {PERIODS.map((days) => (
            <option key={days} value={String(days)}>
              {T.lastDays(days)}
            </option>
          ))}
        </select>
      </div>
      <ErrorAlert message={error} />
      {!data && !error && <p class="muted">{T.loading}</p>}
      {history && data && (
        <>
          <GramsPerDay history={history} />
          <FoodLevel history={history} loadedAt={data.loadedAt} />
          <p class="hint">{T.zoneNote(history.timeZone)}</p>
        </>
      )}
      <section aria-labelledby="history-feeds-title">
        <h3 id="history-feeds-title">{T.timelineTitle}</h3>
        <p class="hint">{T.timelineHint}</p>
        <ErrorAlert message={feedsError} />
        {feeds?.list.length === 0 && <p class="muted">{T.noFeeds}</p>}
        {feeder && feeds && feeds.list.length > 0 && (
          <ol class="timeline">
            {feeds.list.map((feed) => (
              <FeedEntry key={feed.id} feed={feed} feeder={feeder} />
            ))}
          </ol>
        )}
        {feeds && feeds.list.length > 0 && feeds.more && (
          <button type="button" onClick={older} disabled={loadingOlder}>
            {loadingOlder ? T.loadingOlder : T.older}
          </button>
        )}
        {feeds && feeds.list.length > 0 && !feeds.more && <p class="muted">{T.end}</p>}
      </section>
    </>
  );
}
