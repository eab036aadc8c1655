import { useEffect, useRef, useState } from "preact/hooks";
import { api, errorMessage, isUnauthorized } from "../api";
import type { Alert } from "../api-types";
import { formatInstant } from "../dates";
import { localized } from "../i18n";
import { historyHref, scheduleHref } from "../routes";
import { ErrorAlert } from "../ui";
import { useLoad } from "../use-load";

const REFRESH_MS = 10_000;
const LIMIT = 50;

const T = localized({
  en: {
    title: "Alerts",
    intro:
      "Feedkeeper raises an alert when a planned meal is missed or fails, a meal is fed twice, a feeder's own schedule or clock is off, food or battery runs low, a feeder reports a fault such as a jam, or a feeder stays offline.",
    loading: "Loading alerts…",
    retrying: (message: string) => `Could not load the alerts (${message}). Retrying…`,
    none: "No alerts.",
    kinds: {
      meal_missed: "Meal missed",
      meal_failed: "Meal failed",
      meal_doubled: "Meal fed twice",
      schedule_drift: "Feeder's schedule differs from the plan",
      clock_skew: "Feeder's clock is off",
      food_low: "Food is running low",
      fault: "Feeder reports a fault",
      battery_low: "Battery is low",
      feeder_offline: "Feeder is offline",
    } satisfies Record<Alert["kind"], string>,
    /** An alert named in one line, for its button's label. */
    what: (kind: string, at: string) => `${kind}, ${at}`,
    new: "New",
    separator: " · ",
    acknowledged: (at: string) => `Acknowledged ${at}`,
    acknowledge: "Acknowledge",
    acknowledgeOne: (what: string) => `Acknowledge: ${what}`,
    mealPlan: "Open meal plan",
    history: "Open history",
  },
  ja: {
    title: "アラート",
    intro:
      "予定の食事が抜けたり失敗したりしたとき、食事が二度出たとき、給餌器自身のスケジュールや時計がずれているとき、フードや電池の残りが少なくなったとき、給餌器が詰まりなどの異常を報告したとき、給餌器がオフラインのままのときに、Feedkeeper はアラートを出します。",
    loading: "アラートを読み込み中…",
    retrying: (message: string) => `アラートを読み込めませんでした（${message}）。再試行しています…`,
    none: "アラートはありません。",
    kinds: {
      meal_missed: "食事が抜けました",
      meal_failed: "食事の給餌に失敗しました",
      meal_doubled: "食事が二度出ました",
      schedule_drift: "給餌器のスケジュールが給餌プランと違います",
      clock_skew: "給餌器の時計がずれています",
      food_low: "フードの残りが少なくなっています",
      fault: "給餌器が異常を報告しています",
      battery_low: "電池残量が少なくなっています",
      feeder_offline: "給餌器がオフラインです",
    },
    what: (kind: string, at: string) => `${kind}、${at}`,
    new: "新着",
    separator: " · ",
    acknowledged: (at: string) => `${at} に確認済み`,
    acknowledge: "確認済みにする",
    acknowledgeOne: (what: string) => `確認済みにする: ${what}`,
    mealPlan: "給餌プランを開く",
    history: "履歴を開く",
  },
});

/** Alerts about the feeder itself rather than its meals: its history shows the readings behind them. */
const CONDITION_KINDS: ReadonlySet<Alert["kind"]> = new Set([
  "food_low",
  "fault",
  "battery_low",
  "feeder_offline",
]);

/**
 * Each alerted feeder's time zone (its meal plan's), asked once per feeder, so an alert's time reads on the
 * feeder's wall clock. Until it is known, or when it cannot be, times are in the browser's zone.
 */
function useFeederZones(alerts: Alert[] | null): Record<string, string> {
  const [zones, setZones] = useState<Record<string, string>>({});
  const [ctrl] = useState(() => new AbortController());
  const asked = useRef(new Set<string>());
  useEffect(() => () => ctrl.abort(), [ctrl]);
  const ids = [...new Set((alerts ?? []).flatMap((a) => (a.feederId ? [a.feederId] : [])))].sort().join(" ");
  useEffect(() => {
    for (const id of ids.split(" ")) {
      if (!id || asked.current.has(id)) continue;
      asked.current.add(id);
      api.schedule(id, ctrl.signal).then(
        ({ schedule }) => setZones((z) => ({ ...z, [id]: schedule.effectiveTimezone })),
        () => {}, // a feeder gone since, or no answer: its alerts keep the browser's zone
      );
    }
  }, [ids, ctrl]);
  return zones;
}

interface Props {
  /** Unacknowledged alerts in all, for the header's badge. */
  onCount: (count: number) => void;
  /** Owners and members acknowledge alerts; sitters see them. */
  canAcknowledge: boolean;
  onUnauthorized: () => void;
}

export function Alerts({ onCount, canAcknowledge, onUnauthorized }: Props) {
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [reloadKey, setReloadKey] = useState(0);
  useLoad(
    {
      fetch: (signal) => api.alerts(LIMIT, signal),
      onData: (res) => {
        setAlerts(res.alerts);
        onCount(res.unacknowledged);
        setError(null);
      },
      onError: (message) => setError(T.retrying(message)),
      onUnauthorized,
    },
    [reloadKey, onCount, onUnauthorized],
    REFRESH_MS,
  );

  const zones = useFeederZones(alerts);

  async function acknowledge(alert: Alert) {
    if (busy) return;
    setBusy(alert.id);
    setActionError(null);
    try {
      const { alert: updated } = await api.acknowledgeAlert(alert.id);
      setAlerts((list) => list?.map((a) => (a.id === updated.id ? updated : a)) ?? list);
    } catch (err) {
      if (isUnauthorized(err)) return onUnauthorized();
      setActionError(errorMessage(err));
    } finally {
      setBusy(null);
      setReloadKey((k) => k + 1);
    }
  }

  return (
    <section aria-labelledby="alerts-title">
      <h2 id="alerts-title" tabIndex={-1}>
        {T.title}
      </h2>
      <p class="hint">{T.intro}</p>
      <ErrorAlert message={error} />
      <ErrorAlert message={actionError} />
      {alerts === null && !error && <p class="muted">{T.loading}</p>}
      {alerts?.length === 0 && <p class="muted">{T.none}</p>}
      <ul class="alerts">
        {alerts?.map((alert) => {
          const zone = alert.feederId ? zones[alert.feederId] : undefined;
          const created = formatInstant(alert.createdAt, zone);
          const what = T.what(T.kinds[alert.kind], created);
          return (
            <li
              key={alert.id}
              class={alert.acknowledgedAt ? "card alert-item" : "card alert-item unread"}
              data-testid="alert"
            >
              <div class="card-head">
                <h3>{T.kinds[alert.kind]}</h3>
                {!alert.acknowledgedAt && <span class="badge new">{T.new}</span>}
              </div>
              {/* The server's own words, in English: the title above says what happened in the UI's language. */}
              <p class="alert-message" lang="en">
                {alert.message}
              </p>
              <p class="muted">
                {created}
                {alert.acknowledgedAt &&
                  `${T.separator}${T.acknowledged(formatInstant(alert.acknowledgedAt, zone))}`}
              </p>
              <div class="form-actions">
                {canAcknowledge && !alert.acknowledgedAt && (
                  <button
                    type="button"
                    class="primary"
                    aria-label={T.acknowledgeOne(what)}
                    disabled={busy !== null}
                    onClick={() => acknowledge(alert)}
                  >
                    {T.acknowledge}
                  </button>
                )}
                {alert.feederId &&
                  (CONDITION_KINDS.has(alert.kind) ? (
                    <a href={historyHref(alert.feederId)}>{T.history}</a>
                  ) : (
                    <a href={scheduleHref(alert.feederId)}>{T.mealPlan}</a>
                  ))}
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
