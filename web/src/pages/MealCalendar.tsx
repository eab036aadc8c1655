import { useState } from "preact/hooks";
import { api, errorMessage, isUnauthorized } from "../api";
import type { FeedSource, MealOccurrence, MealState } from "../api-types";
import { addDays, formatDate, localDate, timeIn } from "../dates";
import { ErrorAlert } from "../ui";
import { useLoad } from "../use-load";

const REFRESH_MS = 4000;
const DAYS = 8;

// Every string of the calendar, for the translations to come.
const T = {
  title: "Upcoming meals",
  zoneNote: (zone: string) => `Today and the next 7 days, in ${zone} time.`,
  loading: "Loading meals…",
  retrying: (message: string) => `Could not load the meals (${message}). Retrying…`,
  today: "Today",
  tomorrow: "Tomorrow",
  noMeals: "No meals",
  meal: "Meal",
  extra: "Extra feed",
  oneOff: "one-off",
  portions: (n: number) => `${n}\u00a0${n === 1 ? "portion" : "portions"}`,
  states: {
    planned: "Planned",
    dispatched: "Sent to the feeder",
    dispensed: "Dispensed",
    failed: "Failed",
    missed: "Missed",
    skipped: "Skipped",
    paused: "Paused",
  } satisfies Record<MealState, string>,
  grams: (g: number) => `${g}\u00a0g`,
  sources: {
    schedule: "by the meal plan",
    remote: "by a remote feed",
    button: "by the feeder's button",
  } satisfies Record<FeedSource, string>,
  missedWhy: "the server was down past the grace minutes",
  skipNext: "Skip next meal",
  skipping: "Skipping…",
  skippedNext: (what: string) => `Skipped: ${what}.`,
  skip: "Skip",
  unskip: "Undo skip",
  skipOne: (what: string) => `Skip ${what}`,
  unskipOne: (what: string) => `Undo skip of ${what}`,
};

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
  if (meal.error) parts.push(meal.error);
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
    `${mealName(m)}, ${formatDate(m.localDate)} ${time.format(new Date(m.dueAt))}`;

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
                          {m.kind === "one-off" && ` (${T.oneOff})`} · {T.portions(m.portions)}
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
