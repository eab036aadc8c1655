import { useEffect, useRef, useState } from "preact/hooks";
import { api, errorMessage, isAbort, isUnauthorized } from "../api";
import type { Alert } from "../api-types";
import { scheduleHref } from "../routes";
import { ErrorAlert } from "../ui";

const REFRESH_MS = 10_000;
const LIMIT = 50;

// Every string of this page, for the translations to come.
const T = {
  title: "Alerts",
  intro:
    "Feedkeeper raises an alert when a planned meal is missed or fails, a meal is fed twice, or a feeder's own schedule or clock is off.",
  loading: "Loading alerts…",
  retrying: (message: string) => `Could not load the alerts (${message}). Retrying…`,
  none: "No alerts.",
  kinds: {
    meal_missed: "Meal missed",
    meal_failed: "Meal failed",
    meal_doubled: "Meal fed twice",
    schedule_drift: "Feeder's schedule differs from the plan",
    clock_skew: "Feeder's clock is off",
  } satisfies Record<Alert["kind"], string>,
  new: "New",
  acknowledged: (at: string) => `Acknowledged ${at}`,
  acknowledge: "Acknowledge",
  acknowledgeOne: (what: string) => `Acknowledge: ${what}`,
  mealPlan: "Open meal plan",
};

function formatTime(iso: string): string {
  return new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

interface Props {
  /** Unacknowledged alerts in all, for the header's badge. */
  onCount: (count: number) => void;
  onUnauthorized: () => void;
}

export function Alerts({ onCount, onUnauthorized }: Props) {
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [reloadKey, setReloadKey] = useState(0);
  // An acknowledgement's reload may overtake a timer refresh: keep only the newest answer.
  const issued = useRef(0);
  const applied = useRef(0);

  useEffect(() => {
    const ctrl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let first = true;
    const load = async () => {
      const n = ++issued.current;
      try {
        const res = await api.alerts(LIMIT, ctrl.signal);
        if (n < applied.current) return;
        applied.current = n;
        setAlerts(res.alerts);
        onCount(res.unacknowledged);
        setError(null);
      } catch (err) {
        if (isAbort(err)) return;
        if (isUnauthorized(err)) return onUnauthorized();
        if (n < applied.current) return;
        applied.current = n;
        setError(T.retrying(errorMessage(err)));
      }
    };
    const tick = async () => {
      // Skip background refreshes while the tab is hidden; it catches up within one period.
      if (first || !document.hidden) await load();
      first = false;
      if (!ctrl.signal.aborted) timer = setTimeout(tick, REFRESH_MS);
    };
    void tick();
    return () => {
      ctrl.abort();
      clearTimeout(timer);
    };
  }, [reloadKey, onCount, onUnauthorized]);

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
          const what = `${T.kinds[alert.kind]}, ${formatTime(alert.createdAt)}`;
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
              <p class="alert-message">{alert.message}</p>
              <p class="muted">
                {formatTime(alert.createdAt)}
                {alert.acknowledgedAt && ` · ${T.acknowledged(formatTime(alert.acknowledgedAt))}`}
              </p>
              <div class="form-actions">
                {!alert.acknowledgedAt && (
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
                {alert.feederId && <a href={scheduleHref(alert.feederId)}>{T.mealPlan}</a>}
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
