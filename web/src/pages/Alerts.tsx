import { useState } from "preact/hooks";
import { api, errorMessage, isUnauthorized } from "../api";
import type { Alert } from "../api-types";
import { scheduleHref } from "../routes";
import { ErrorAlert } from "../ui";
import { useLoad } from "../use-load";

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
                {alert.feederId && <a href={scheduleHref(alert.feederId)}>{T.mealPlan}</a>}
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
