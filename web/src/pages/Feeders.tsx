import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, errorMessage, isAbort, isTerminal, isUnauthorized, newIdempotencyKey } from "../api";
import type { CreateFeederResponse, Feed, Feeder, FeedStatus } from "../api-types";
import { scheduleHref } from "../routes";
import { ErrorAlert, Field } from "../ui";

const LIST_REFRESH_MS = 3000;
const FEED_POLL_MS = 1000;
/** Stop watching a feed that has no final status after this long (the server expires feeds itself). */
const FEED_WATCH_LIMIT_MS = 10 * 60_000;
export const MQTT_PORT_HINT = 1883;

const STATUS_TEXT: Record<FeedStatus, string> = {
  pending: "waiting to be sent",
  sent: "sent to the feeder",
  accepted: "dispensing",
  dispensed: "dispensed",
  failed: "failed",
  expired: "expired (the feeder did not get it in time)",
  timed_out: "timed out (no confirmation from the feeder)",
};

function formatTime(iso: string | null): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })
    : date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

function percent(fraction: number): string {
  return `${Math.round(Math.min(1, Math.max(0, fraction)) * 100)}%`;
}

function describeFeed(feed: Feed): string {
  const amount = `${feed.portions}\u00a0${feed.portions === 1 ? "portion" : "portions"}`;
  const source = feed.source === "remote" ? "" : ` (${feed.source})`;
  let text = `${amount}${source}: ${STATUS_TEXT[feed.status]}`;
  if (feed.status === "dispensed" && feed.grams !== null) text += `, ${feed.grams}\u00a0g`;
  if (feed.error) text += ` — ${feed.error}`;
  const at = formatTime(feed.completedAt ?? feed.requestedAt);
  return at ? `${text} · ${at}` : text;
}

/** The feed to show on a card: the one this page is watching, or the server's newer/fresher last feed. */
function shownFeed(watched: Feed | null, last: Feed | null): Feed | null {
  if (!watched) return last;
  if (!last) return watched;
  if (watched.id === last.id) return isTerminal(watched.status) || !isTerminal(last.status) ? watched : last;
  return Date.parse(last.requestedAt) > Date.parse(watched.requestedAt) ? last : watched;
}

interface CardProps {
  feeder: Feeder;
  onChanged: () => void;
  onUnauthorized: () => void;
}

function FeederCard({ feeder, onChanged, onUnauthorized }: CardProps) {
  const maxPortions = Math.max(1, Math.floor(feeder.maxPortions));
  const [portions, setPortions] = useState(1);
  const [posting, setPosting] = useState(false);
  const inFlight = useRef(false);
  const [watched, setWatched] = useState<Feed | null>(null);
  const [watchSince, setWatchSince] = useState(0);
  const [gaveUp, setGaveUp] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const chosen = Math.min(portions, maxPortions);
  const waiting = watched !== null && !isTerminal(watched.status) && !gaveUp;

  // Poll the watched feed every second until it reaches a final status.
  useEffect(() => {
    if (!watched || isTerminal(watched.status) || gaveUp) return;
    const ctrl = new AbortController();
    const timer = setTimeout(async () => {
      if (Date.now() - watchSince > FEED_WATCH_LIMIT_MS) {
        setGaveUp(true);
        setError("No final answer from the feeder yet. Check the feeder before feeding again.");
        return;
      }
      try {
        const { feed } = await api.feedStatus(watched.id, ctrl.signal);
        setError(null);
        setWatched(feed);
        if (isTerminal(feed.status)) onChanged();
      } catch (err) {
        if (isAbort(err)) return;
        if (isUnauthorized(err)) return onUnauthorized();
        if (err instanceof ApiError && err.status === 404) {
          setGaveUp(true);
          setError("The server no longer knows this feed.");
          return;
        }
        setError(`Could not check the feed (${errorMessage(err)}). Retrying…`);
        setWatched({ ...watched }); // re-run this effect: try again in a second
      }
    }, FEED_POLL_MS);
    return () => {
      clearTimeout(timer);
      ctrl.abort();
    };
  }, [watched, watchSince, gaveUp, onChanged, onUnauthorized]);

  async function feed(e: Event) {
    e.preventDefault();
    if (inFlight.current || waiting) return;
    inFlight.current = true;
    setPosting(true);
    setError(null);
    // One key per click; api.feed() retries with the same key, so the feeder dispenses at most once.
    const key = newIdempotencyKey();
    try {
      const { feed } = await api.feed(feeder.id, chosen, key);
      setWatched(feed);
      setWatchSince(Date.now());
      setGaveUp(false);
      onChanged();
    } catch (err) {
      if (isUnauthorized(err)) onUnauthorized();
      else setError(errorMessage(err));
    } finally {
      inFlight.current = false;
      setPosting(false);
    }
  }

  const titleId = `feeder-title-${feeder.id}`;
  const selectId = `portions-${feeder.id}`;
  const telemetry = feeder.telemetry;
  const foodLevel = telemetry?.foodLevel;
  const current = shownFeed(watched, feeder.lastFeed);
  const device = [feeder.model, feeder.firmware && `firmware ${feeder.firmware}`].filter(Boolean).join(" · ");

  return (
    <article class="card" aria-labelledby={titleId} data-testid={`feeder-${feeder.id}`}>
      <div class="card-head">
        <h3 id={titleId}>{feeder.name}</h3>
        <span class={feeder.online ? "badge online" : "badge offline"} data-testid="online-state">
          {feeder.online ? "Online" : "Offline"}
        </span>
      </div>
      <dl class="facts">
        <div>
          <dt>Food level</dt>
          <dd class={foodLevel !== undefined && foodLevel < 0.2 ? "low" : undefined}>
            {foodLevel === undefined ? "unknown" : `${percent(foodLevel)}${foodLevel < 0.2 ? " (low)" : ""}`}
          </dd>
        </div>
        {telemetry?.battery !== undefined && (
          <div>
            <dt>Battery</dt>
            <dd>{percent(telemetry.battery)}</dd>
          </div>
        )}
        {!feeder.online && (
          <div>
            <dt>Last seen</dt>
            <dd>{feeder.lastSeenAt ? formatTime(feeder.lastSeenAt) : "never"}</dd>
          </div>
        )}
      </dl>
      {device && <p class="device">{device}</p>}
      {telemetry?.error && <p class="warn">Feeder reports: {telemetry.error}</p>}
      <p class="feed-status" role="status" data-testid="feed-status" data-status={current?.status}>
        <span class="label">{current === watched && current ? "Feed" : "Last feed"}: </span>
        {current ? describeFeed(current) : "none yet"}
      </p>
      <ErrorAlert message={error} />
      <form class="feed-form" onSubmit={feed}>
        <label for={selectId}>Portions</label>
        <select
          id={selectId}
          value={String(chosen)}
          onChange={(e) => setPortions(Number(e.currentTarget.value))}
          disabled={posting || waiting}
        >
          {Array.from({ length: maxPortions }, (_, i) => (
            <option key={i + 1} value={String(i + 1)}>
              {i + 1}
            </option>
          ))}
        </select>
        <button type="submit" class="primary" disabled={posting || waiting}>
          {posting || waiting ? "Feeding…" : "Feed"}
        </button>
      </form>
      <p class="card-links">
        <a href={scheduleHref(feeder.id)} aria-label={`Meal plan for ${feeder.name}`}>
          Meal plan
        </a>
      </p>
    </article>
  );
}

function AddFeeder({
  onCreated,
  onUnauthorized,
}: {
  onCreated: (res: CreateFeederResponse) => void;
  onUnauthorized: () => void;
}) {
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    const trimmed = name.trim();
    if (busy) return;
    if (!trimmed) {
      setError("Enter a name for the feeder.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onCreated(await api.createFeeder(trimmed));
      setName("");
    } catch (err) {
      if (isUnauthorized(err)) onUnauthorized();
      else setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="panel" aria-labelledby="add-title">
      <h2 id="add-title">Add a feeder</h2>
      <form onSubmit={submit}>
        <Field id="feeder-name" label="Name" value={name} onInput={setName} maxLength={64} disabled={busy} />
        <ErrorAlert message={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Adding…" : "Add feeder"}
        </button>
      </form>
    </section>
  );
}

function CredentialsPanel({ created, onDismiss }: { created: CreateFeederResponse; onDismiss: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
  }, []);
  const { credentials } = created;
  const mqttUrl = `mqtt://${location.hostname}:${MQTT_PORT_HINT}`;
  const rows: [string, string, string][] = [
    ["MQTT server", mqttUrl, "cred-mqtt"],
    ["Username", credentials.username, "cred-username"],
    ["Client ID", credentials.clientId, "cred-client-id"],
    ["Password", credentials.password, "cred-password"],
    ["Topic root", credentials.topicRoot, "cred-topic-root"],
  ];
  return (
    <section class="panel credentials" aria-labelledby="cred-title" data-testid="credentials">
      <h2 id="cred-title" tabIndex={-1} ref={heading}>
        Credentials for “{created.feeder.name}”
      </h2>
      <p class="warn">
        <strong>Shown only once.</strong> Copy these into the feeder's configuration now. The password cannot
        be displayed again.
      </p>
      <dl class="creds">
        {rows.map(([label, value, testId]) => (
          <div key={testId}>
            <dt>{label}</dt>
            <dd>
              <code data-testid={testId}>{value}</code>
            </dd>
          </div>
        ))}
      </dl>
      <p class="hint">
        The feeder connects to this server's MQTT broker at {mqttUrl}. If the feeder cannot reach that host
        name, use the server's LAN IP address instead.
      </p>
      <button type="button" onClick={onDismiss}>
        I have saved these credentials
      </button>
    </section>
  );
}

export function Feeders({ onUnauthorized }: { onUnauthorized: () => void }) {
  const [feeders, setFeeders] = useState<Feeder[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [created, setCreated] = useState<CreateFeederResponse | null>(null);
  const listHeading = useRef<HTMLHeadingElement>(null);
  // Responses may arrive out of order (timer refresh vs. refresh after an action): keep the newest.
  const issued = useRef(0);
  const applied = useRef(0);

  const refresh = useCallback(
    async (signal?: AbortSignal) => {
      const n = ++issued.current;
      try {
        const res = await api.feeders(signal);
        if (n < applied.current) return;
        applied.current = n;
        setFeeders(res.feeders);
        setListError(null);
      } catch (err) {
        if (isAbort(err)) return;
        if (isUnauthorized(err)) return onUnauthorized();
        if (n < applied.current) return;
        applied.current = n;
        setListError(errorMessage(err));
      }
    },
    [onUnauthorized],
  );

  const refreshNow = useCallback(() => void refresh(), [refresh]);

  useEffect(() => {
    const ctrl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let first = true;
    const tick = async () => {
      // Skip background refreshes while the tab is hidden; it catches up within one period.
      if (first || !document.hidden) await refresh(ctrl.signal);
      first = false;
      if (!ctrl.signal.aborted) timer = setTimeout(tick, LIST_REFRESH_MS);
    };
    void tick();
    return () => {
      ctrl.abort();
      clearTimeout(timer);
    };
  }, [refresh]);

  function onCreated(res: CreateFeederResponse) {
    setCreated(res);
    setFeeders((list) => (list && !list.some((f) => f.id === res.feeder.id) ? [...list, res.feeder] : list));
    refreshNow();
  }

  function dismissCredentials() {
    setCreated(null);
    listHeading.current?.focus(); // the focused panel disappears; keep keyboard users in place
  }

  return (
    <>
      {created && <CredentialsPanel created={created} onDismiss={dismissCredentials} />}
      <section aria-labelledby="feeders-title">
        <h2 id="feeders-title" tabIndex={-1} ref={listHeading}>
          Feeders
        </h2>
        <ErrorAlert message={listError} />
        {feeders === null && !listError && <p class="muted">Loading feeders…</p>}
        {feeders?.length === 0 && <p class="muted">No feeders yet. Add one below.</p>}
        <div class="cards">
          {feeders?.map((f) => (
            <FeederCard key={f.id} feeder={f} onChanged={refreshNow} onUnauthorized={onUnauthorized} />
          ))}
        </div>
      </section>
      <AddFeeder onCreated={onCreated} onUnauthorized={onUnauthorized} />
    </>
  );
}
