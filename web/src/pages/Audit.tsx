import { useState } from "preact/hooks";
import { api, errorMessage, isUnauthorized } from "../api";
import type { AuditEntry, Feeder, User } from "../api-types";
import { formatInstant } from "../dates";
import { ErrorAlert } from "../ui";
import { useLoad } from "../use-load";

const PAGE = 50;

// Every string of this page, for the translations to come.
const T = {
  title: "Audit log",
  intro:
    "Who did what, and from where: sign-ins and failed sign-ins, every change made in this app or through the API (also the ones the server refused), and meals a feeder started by itself. Passwords and other request contents are never recorded. Entries are kept for a year unless the server is configured otherwise (FEEDKEEPER_AUDIT_DAYS).",
  show: "Show",
  everyone: "Everyone",
  loading: "Loading the audit log…",
  failed: (message: string) => `Could not load the audit log (${message}).`,
  none: "Nothing recorded yet.",
  older: "Show older entries",
  end: "That is everything that was kept.",
  from: "from",
  device: "the feeder itself",
  anonymous: "someone not signed in",
  done: "done",
  refused: (status: string) => `refused (${status})`,
  failedWith: (status: string) => `failed (${status})`,
  feed: (status: string) => `feed ${status}`,
  onFeeder: (name: string) => `Feeder: ${name}`,
};

/** The route keys the server records, in words; anything else is shown as recorded. */
const ACTIONS: Record<string, string> = {
  "POST /api/setup": "Created the first owner account",
  "POST /api/session": "Signed in",
  "DELETE /api/session": "Signed out",
  "POST /api/users/me/password": "Changed their password",
  "DELETE /api/users/me/sessions/{id}": "Signed out another session",
  "POST /api/users": "Added a user",
  "PATCH /api/users/{id}": "Changed a user",
  "DELETE /api/users/{id}": "Removed a user",
  "POST /api/tokens": "Created an API token",
  "DELETE /api/tokens/{id}": "Revoked an API token",
  "POST /api/feeders": "Added a feeder",
  "PATCH /api/feeders/{id}": "Changed a feeder's settings",
  "DELETE /api/feeders/{id}": "Removed a feeder",
  "POST /api/feeders/{id}/credentials": "Issued new device credentials",
  "POST /api/feeders/{id}/feeds": "Asked to feed now",
  "PUT /api/feeders/{id}/schedule": "Changed the meal plan",
  "POST /api/feeders/{id}/schedule/skip-next": "Skipped the next meal",
  "PUT /api/feeders/{id}/schedule/skips/{date}/{mealId}": "Skipped a meal",
  "DELETE /api/feeders/{id}/schedule/skips/{date}/{mealId}": "Took back a skipped meal",
  "PUT /api/feeders/{id}/schedule/pause": "Paused the meal plan",
  "DELETE /api/feeders/{id}/schedule/pause": "Ended a pause of the meal plan",
  "POST /api/feeders/{id}/schedule/one-offs": "Added a one-off meal",
  "DELETE /api/feeders/{id}/schedule/one-offs/{mealId}": "Removed a one-off meal",
  "POST /api/devices/pending/{id}/adopt": "Adopted a waiting device",
  "DELETE /api/devices/pending/{id}": "Dismissed a waiting device",
  "POST /api/alerts/{id}/ack": "Acknowledged an alert",
  "POST /api/pets": "Added a pet",
  "PATCH /api/pets/{id}": "Changed a pet",
  "DELETE /api/pets/{id}": "Removed a pet",
};

/** Meals a device started: `feed (button)`, `feed (schedule)` (its own plan). */
const DEVICE_FEED = /^feed \((.+)\)$/;
const DEVICE_SOURCES: Record<string, string> = {
  button: "Fed from the feeder's button",
  schedule: "Fed by the feeder's own meal plan",
};

function actionText(entry: AuditEntry): string {
  const deviceFeed = DEVICE_FEED.exec(entry.action);
  if (deviceFeed?.[1]) return DEVICE_SOURCES[deviceFeed[1]] ?? `Fed (${deviceFeed[1]})`;
  return ACTIONS[entry.action] ?? entry.action;
}

/** HTTP statuses in words, with the number kept for those who look further; a device's feed says its outcome. */
function outcome(entry: AuditEntry): { text: string; problem: boolean } {
  if (!/^\d{3}$/.test(entry.outcome)) {
    return { text: T.feed(entry.outcome), problem: entry.outcome !== "dispensed" };
  }
  const status = Number(entry.outcome);
  if (status < 400) return { text: T.done, problem: false };
  if (status === 401 || status === 403 || status === 429)
    return { text: T.refused(entry.outcome), problem: true };
  return { text: T.failedWith(entry.outcome), problem: true };
}

/** The feeder an entry is about, from the route's ids (`id` on feeder routes, `feederId` for device feeds). */
function feederOf(entry: AuditEntry): string | undefined {
  if (entry.target === null) return undefined;
  const onFeeder = entry.action.startsWith("feed (") || /\/api\/feeders\/\{id\}/.test(entry.action);
  if (!onFeeder) return undefined;
  try {
    const ids = JSON.parse(entry.target) as Record<string, unknown>;
    const id = ids.feederId ?? ids.id;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

function Entry({ entry, feeders }: { entry: AuditEntry; feeders: Map<string, string> }) {
  const result = outcome(entry);
  const feederId = feederOf(entry);
  const who = entry.actor.startsWith("device:")
    ? T.device
    : entry.actor === "anonymous"
      ? T.anonymous
      : entry.actor;
  return (
    <li class={`card audit-entry${result.problem ? " problem" : ""}`} data-testid="audit-entry">
      <p class="audit-what">
        {actionText(entry)} <span class="muted">— {result.text}</span>
      </p>
      <p>
        <span class="audit-who">{who}</span>
        {entry.address && ` ${T.from} ${entry.address}`}
      </p>
      {feederId !== undefined && <p>{T.onFeeder(feeders.get(feederId) ?? feederId)}</p>}
      <p class="muted">
        <time dateTime={entry.at}>{formatInstant(entry.at)}</time>
      </p>
    </li>
  );
}

/** The owners' view of the audit log, newest first, with older entries on request. */
export function Audit({ onUnauthorized }: { onUnauthorized: () => void }) {
  const [userId, setUserId] = useState("");
  const [log, setLog] = useState<{ userId: string; entries: AuditEntry[]; more: boolean } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [users, setUsers] = useState<User[]>([]);
  const [feeders, setFeeders] = useState<Feeder[]>([]);
  const [loadingOlder, setLoadingOlder] = useState(false);

  const filter = userId === "" ? {} : { userId };
  useLoad(
    {
      fetch: async (signal) => ({ userId, entries: (await api.audit(PAGE, filter, signal)).entries }),
      onData: (res) => {
        setLog({ ...res, more: res.entries.length === PAGE });
        setError(null);
      },
      onError: (message) => setError(T.failed(message)),
      onUnauthorized,
    },
    [userId, onUnauthorized],
  );

  // Names only: without them the filter offers "Everyone" and entries show ids, so failures stay quiet.
  useLoad(
    {
      fetch: async (signal) => {
        const [u, f] = await Promise.all([api.users(signal), api.feeders(signal)]);
        return { users: u.users, feeders: f.feeders };
      },
      onData: (res) => {
        setUsers(res.users);
        setFeeders(res.feeders);
      },
      onError: () => {},
      onUnauthorized,
    },
    [onUnauthorized],
  );

  async function older() {
    const last = log?.entries.at(-1);
    if (!log || !last) return;
    setLoadingOlder(true);
    try {
      const { entries } = await api.audit(PAGE, { ...filter, before: last.at });
      setLog({ userId: log.userId, entries: [...log.entries, ...entries], more: entries.length === PAGE });
      setError(null);
    } catch (err) {
      if (isUnauthorized(err)) return onUnauthorized();
      setError(T.failed(errorMessage(err)));
    } finally {
      setLoadingOlder(false);
    }
  }

  const names = new Map(feeders.map((f) => [f.id, f.name]));
  // The entries of the user chosen before stay hidden until the new choice's answer is in.
  const entries = log?.userId === userId ? log.entries : null;

  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title" tabIndex={-1}>
        {T.title}
      </h2>
      <p class="hint">{T.intro}</p>
      <div class="field connection-filter">
        <label for="audit-user">{T.show}</label>
        <select id="audit-user" value={userId} onChange={(e) => setUserId(e.currentTarget.value)}>
          <option value="">{T.everyone}</option>
          {users.map((u) => (
            <option key={u.id} value={u.id}>
              {u.username}
            </option>
          ))}
        </select>
      </div>
      <ErrorAlert message={error} />
      {entries === null && !error && <p class="muted">{T.loading}</p>}
      {entries?.length === 0 && <p class="muted">{T.none}</p>}
      <ul class="connections">
        {entries?.map((entry) => (
          <Entry key={entry.id} entry={entry} feeders={names} />
        ))}
      </ul>
      {entries !== null && entries.length > 0 && log?.more && (
        <button type="button" onClick={older} disabled={loadingOlder}>
          {T.older}
        </button>
      )}
      {entries !== null && entries.length > 0 && !log?.more && <p class="muted">{T.end}</p>}
    </section>
  );
}
