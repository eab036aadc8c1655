import { useState } from "preact/hooks";
import { api, errorMessage, isUnauthorized } from "../api";
import type { FeedSource, MealOccurrence, MealState } from "../api-types";
import { addDays, formatDate, formatNumber, localDate, timeIn } from "../dates";
import { localized } from "../i18n";
import { ErrorAlert } from "../ui";
import { useLoad } from "../use-load";

const REFRESH_MS = 4000;
const DAYS = 8;

const T = localized({
  en: {
    title: "Upcoming meals",
    zoneNote: (zone: string) => `Today and the next 7 days, in ${zone} time.`,
    loading: "Loading meals…",
    retrying: (message: string) => `Could not load the meals (${message}). Retrying…`,
    today: "Today",
    tomorrow: "Tomorrow",
    noMeals: "No meals",
    meal: "Meal",
    extra: "Extra feed",
    oneOff: " (one-off)",
    portions: (n: number) => `${formatNumber(n)}\u00a0${n === 1 ? "portion" : "portions"}`,
    states: {
      planned: "Planned",
      dispatched: "Sent to the feeder",
      dispensed: "Dispensed",
      failed: "Failed",
      missed: "Missed",
      skipped: "Skipped",
      paused: "Paused",
    } satisfies Record<MealState, string>,
    grams: (g: number) => `${formatNumber(g)}\u00a0g`,
    sources: {
      schedule: "by the meal plan",
      remote: "by a remote feed",
      button: "by the feeder's button",
      home_assistant: "from Home Assistant",
    } satisfies Record<FeedSource, string>,
    missedWhy: "the server was down past the grace minutes",
    /** The reasons the server words itself; a feeder's own reason is shown as it sent it. */
    noResult: "no result from the feeder",
    noReason: "failed without a reason",
    noReasonGiven: "no reason given",
    rejected: "rejected",
    rejectedBecause: (reason: string) => `rejected: ${reason}`,
    describe: (name: string, date: string, time: string) => `${name}, ${date} ${time}`,
    skipNext: "Skip next meal",
    skipping: "Skipping…",
    skippedNext: (what: string) => `Skipped: ${what}.`,
    skip: "Skip",
    unskip: "Undo skip",
    skipOne: (what: string) => `Skip ${what}`,
    unskipOne: (what: string) => `Undo skip of ${what}`,
  },
  ja: {
    title: "今後の食事",
    zoneNote: (zone: string) => `今日と今後7日間（${zone} の時刻）。`,
    loading: "食事を読み込み中…",
    retrying: (message: string) => `食事を読み込めませんでした（${message}）。再試行しています…`,
    today: "今日",
    tomorrow: "明日",
    noMeals: "食事なし",
    meal: "食事",
    extra: "追加の給餌",
    oneOff: "（単発）",
    portions: (n: number) => `${formatNumber(n)}\u00a0杯`,
    states: {
      planned: "予定",
      dispatched: "給餌器に送信済み",
      dispensed: "完了",
      failed: "失敗",
      missed: "未実施",
      skipped: "スキップ済み",
      paused: "一時停止中",
    },
    grams: (g: number) => `${formatNumber(g)}\u00a0g`,
    sources: {
      schedule: "給餌プランによる",
      remote: "リモートによる",
      button: "本体ボタンによる",
      home_assistant: "Home Assistant から",
    },
    missedWhy: "サーバーの停止が猶予時間を超えました",
    noResult: "給餌器から結果が届きませんでした",
    noReason: "理由の説明なしで失敗しました",
    noReasonGiven: "理由の説明なし",
    rejected: "給餌器が拒否しました",
    rejectedBecause: (reason: string) => `給餌器が拒否しました: ${reason}`,
    describe: (name: string, date: string, time: string) => `${name}（${date} ${time}）`,
    skipNext: "次回をスキップ",
    skipping: "スキップ中…",
    skippedNext: (what: string) => `スキップしました: ${what}`,
    skip: "スキップ",
    unskip: "スキップ解除",
    skipOne: (what: string) => `${what} をスキップ`,
    unskipOne: (what: string) => `${what} のスキップを取り消す`,
  },
});

/**
 * A failed feed's reason in the UI's language where the server worded it (server/src/feeding/meal-calendar.ts,
 * feed-lifecycle.ts, feeds.ts); what a feeder reported stays as the feeder sent it.
 */
function errorText(error: string): string {
  if (error === "no result from the feeder") return T.noResult;
  if (error === "failed without a reason") return T.noReason;
  if (error === "rejected") return T.rejected;
  if (error.startsWith("rejected: ")) {
    const reason = error.slice("rejected: ".length);
    return T.rejectedBecause(reason === "no reason given" ? T.noReasonGiven : reason);
  }
  return error;
}

/** A symbol per state, so the states differ in shape as well as colour. */
const GLYPHS: Record<MealState, string> = {
  planned: "○",
  dispatched: "↻",
  dispensed: "✓",
  failed: "✕",
  missed: "!",
  skipped: "–",
  paused: "‖",
};

function dayHeading(date: string, today: string): string {
  if (date === today) return `${T.today} · ${formatDate(date)}`;
  if (date === addDays(today, 1)) return `${T.tomorrow} · ${formatDate(date)}`;
  return formatDate(date);
}

function describeState(meal: MealOccurrence): string {
  const parts: string[] = [T.states[meal.state]];
  if (meal.state === "dispensed") {
    if (meal.grams !== null) parts.push(T.grams(meal.grams));
    if (meal.source) parts.push(T.sources[meal.source]);
  }
  if (meal.state === "missed") parts.push(T.missedWhy);
  if (meal.error) parts.push(errorText(meal.error));
  return parts.join(" · ");
}

const mealName = (meal: MealOccurrence) => meal.label || (meal.kind === "extra" ? T.extra : T.meal);

interface Props {
  feederId: string;
  timeZone: string;
  /** Changes when the plan changed elsewhere on the page, for an immediate reload. */
  refreshKey: number;
  /** Skipping is the household's; sitters see the days only. */
  canEdit: boolean;
  onUnauthorized: () => void;
}

export function MealCalendar({ feederId, timeZone, refreshKey, canEdit, onUnauthorized }: Props) {
  const [meals, setMeals] = useState<MealOccurrence[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(() => new Date());
  const [ownKey, setOwnKey] = useState(0);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  useLoad(
    {
      fetch: (signal) => api.mealCalendar(feederId, DAYS, signal),
      onData: (res) => {
        setMeals(res.meals);
        setNow(new Date());
        setError(null);
      },
      onError: (message) => setError(T.retrying(message)),
      onUnauthorized,
    },
    [feederId, refreshKey, ownKey, onUnauthorized],
    REFRESH_MS,
  );

  const time = timeIn(timeZone);
  const describe = (m: MealOccurrence) =>
    T.describe(mealName(m), formatDate(m.localDate), time.format(new Date(m.dueAt)));

  async function act(change: () => Promise<unknown>) {
    if (busy) return;
    setBusy(true);
    setActionError(null);
    setNotice(null);
    try {
      await change();
    } catch (err) {
      if (isUnauthorized(err)) return onUnauthorized();
      setActionError(errorMessage(err));
    } finally {
      setBusy(false);
      setOwnKey((k) => k + 1);
    }
  }

  const skipNext = () =>
    act(async () => {
      const { meal } = await api.skipNextMeal(feederId);
      setNotice(T.skippedNext(describe(meal)));
    });

  const today = localDate(now, timeZone);
  const dates = Array.from({ length: DAYS }, (_, i) => addDays(today, i));
  for (const m of meals ?? []) if (!dates.includes(m.localDate)) dates.push(m.localDate);
  dates.sort();

  return (
    <section class="panel calendar" aria-labelledby="calendar-title" data-testid="meal-calendar">
      <h3 id="calendar-title">{T.title}</h3>
      <p class="hint">{T.zoneNote(timeZone)}</p>
      {canEdit && (
        <div class="form-actions">
          <button type="button" onClick={skipNext} disabled={busy}>
            {busy ? T.skipping : T.skipNext}
          </button>
          <span role="status">{notice}</span>
        </div>
      )}
      <ErrorAlert message={actionError} />
      <ErrorAlert message={error} />
      {meals === null && !error && <p class="muted">{T.loading}</p>}
      {meals &&
        dates.map((date) => {
          const due = meals.filter((m) => m.localDate === date);
          return (
            <section key={date} class="day-group" aria-labelledby={`day-${date}`} data-date={date}>
              <h4 id={`day-${date}`}>{dayHeading(date, today)}</h4>
              {due.length === 0 ? (
                <p class="muted">{T.noMeals}</p>
              ) : (
                <ul class="occurrences">
                  {due.map((m) => {
                    const future = m.kind !== "extra" && Date.parse(m.dueAt) > now.getTime();
                    return (
                      <li
                        key={m.occurrenceId ?? m.feedId ?? m.dueAt}
                        class={`occurrence state-${m.state}`}
                        data-testid="occurrence"
                        data-state={m.state}
                      >
                        <span class="occ-time">{time.format(new Date(m.dueAt))}</span>
                        <span class="occ-what">
                          {mealName(m)}
                          {m.kind === "one-off" && T.oneOff} · {T.portions(m.portions)}
                        </span>
                        <span class="occ-state">
                          <span aria-hidden="true">{GLYPHS[m.state]} </span>
                          {describeState(m)}
                        </span>
                        {canEdit && future && m.state === "planned" && (
                          <button
                            type="button"
                            class="small"
                            aria-label={T.skipOne(describe(m))}
                            disabled={busy}
                            onClick={() => act(() => api.skipMeal(feederId, m.localDate, m.mealId))}
                          >
                            {T.skip}
                          </button>
                        )}
                        {canEdit && future && m.state === "skipped" && (
                          <button
                            type="button"
                            class="small"
                            aria-label={T.unskipOne(describe(m))}
                            disabled={busy}
                            onClick={() => act(() => api.unskipMeal(feederId, m.localDate, m.mealId))}
                          >
                            {T.unskip}
                          </button>
                        )}
                      </li>
                    );
                  })}
                </ul>
              )}
            </section>
          );
        })}
    </section>
  );
}
