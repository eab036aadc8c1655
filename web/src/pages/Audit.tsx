import { useState } from "preact/hooks";
import { api, errorMessage, isUnauthorized } from "../api";
import type { AuditEntry, Feeder, FeedStatus, User } from "../api-types";
import { formatInstant } from "../dates";
import { localized } from "../i18n";
import { ErrorAlert } from "../ui";
import { useLoad } from "../use-load";

const PAGE = 50;

const T = localized({
  en: {
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
    fromAddress: (address: string) => ` from ${address}`,
    device: "the feeder itself",
    anonymous: "someone not signed in",
    done: "done",
    refused: (status: string) => `refused (${status})`,
    failedWith: (status: string) => `failed (${status})`,
    feed: (status: string) => `feed ${status}`,
    /** A device's feed outcome, as the server records it. */
    feedStatuses: {
      pending: "pending",
      sent: "sent",
      accepted: "accepted",
      dispensed: "dispensed",
      failed: "failed",
      expired: "expired",
      timed_out: "timed_out",
    } satisfies Record<FeedStatus, string>,
    onFeeder: (name: string) => `Feeder: ${name}`,
    /** Meals a device started, by where they came from. */
    deviceSources: {
      button: "Fed from the feeder's button",
      schedule: "Fed by the feeder's own meal plan",
      home_assistant: "Asked to feed from Home Assistant",
    },
    fedFrom: (source: string) => `Fed (${source})`,
    /** The route keys the server records, in words; anything else is shown as recorded. */
    actions: {
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
      "GET /api/backup": "Downloaded a backup",
      "POST /api/backup/check": "Checked a backup",
      "POST /api/backup/restore": "Restored the data from a backup",
      "restore from backup": "Restored the data from a backup",
      "PUT /api/server/log-level": "Changed the server's log level",
      "POST /api/notification-channels": "Added a notification channel",
      "PATCH /api/notification-channels/{id}": "Changed a notification channel",
      "DELETE /api/notification-channels/{id}": "Removed a notification channel",
      "POST /api/notification-channels/{id}/test": "Sent a test notification",
    },
  },
  ja: {
    title: "監査ログ",
    intro:
      "誰が、どこから、何をしたか。サインインとその失敗、このアプリや API で行われたすべての変更（サーバーが拒否したものも含む）、給餌器が自ら始めた食事を記録します。パスワードなどのリクエストの内容は記録しません。記録は 1 年間保持されます（サーバーの FEEDKEEPER_AUDIT_DAYS で変更できます）。",
    show: "表示",
    everyone: "全員",
    loading: "監査ログを読み込み中…",
    failed: (message: string) => `監査ログを読み込めませんでした（${message}）。`,
    none: "まだ記録はありません。",
    older: "古い記録を表示",
    end: "保持されている記録はこれですべてです。",
    fromAddress: (address: string) => `（${address} から）`,
    device: "給餌器自身",
    anonymous: "サインインしていない人",
    done: "完了",
    refused: (status: string) => `拒否（${status}）`,
    failedWith: (status: string) => `失敗（${status}）`,
    feed: (status: string) => `給餌: ${status}`,
    feedStatuses: {
      pending: "待機中",
      sent: "送信済み",
      accepted: "給餌中",
      dispensed: "完了",
      failed: "失敗",
      expired: "期限切れ",
      timed_out: "結果不明",
    },
    onFeeder: (name: string) => `給餌器: ${name}`,
    deviceSources: {
      button: "給餌器の本体ボタンで給餌",
      schedule: "給餌器自身の給餌プランで給餌",
      home_assistant: "Home Assistant から給餌を指示",
    },
    fedFrom: (source: string) => `給餌（${source}）`,
    actions: {
      "POST /api/setup": "最初のオーナーアカウントを作成",
      "POST /api/session": "サインイン",
      "DELETE /api/session": "サインアウト",
      "POST /api/users/me/password": "自分のパスワードを変更",
      "DELETE /api/users/me/sessions/{id}": "別のセッションをサインアウト",
      "POST /api/users": "ユーザーを追加",
      "PATCH /api/users/{id}": "ユーザーを変更",
      "DELETE /api/users/{id}": "ユーザーを削除",
      "POST /api/tokens": "API トークンを作成",
      "DELETE /api/tokens/{id}": "API トークンを無効化",
      "POST /api/feeders": "給餌器を追加",
      "PATCH /api/feeders/{id}": "給餌器の設定を変更",
      "DELETE /api/feeders/{id}": "給餌器を削除",
      "POST /api/feeders/{id}/credentials": "デバイスの認証情報を新たに発行",
      "POST /api/feeders/{id}/feeds": "今すぐ給餌を指示",
      "PUT /api/feeders/{id}/schedule": "給餌プランを変更",
      "POST /api/feeders/{id}/schedule/skip-next": "次回の食事をスキップ",
      "PUT /api/feeders/{id}/schedule/skips/{date}/{mealId}": "食事をスキップ",
      "DELETE /api/feeders/{id}/schedule/skips/{date}/{mealId}": "食事のスキップを取り消し",
      "PUT /api/feeders/{id}/schedule/pause": "給餌プランを一時停止",
      "DELETE /api/feeders/{id}/schedule/pause": "給餌プランの一時停止を終了",
      "POST /api/feeders/{id}/schedule/one-offs": "単発の食事を追加",
      "DELETE /api/feeders/{id}/schedule/one-offs/{mealId}": "単発の食事を削除",
      "POST /api/devices/pending/{id}/adopt": "登録待ちのデバイスを登録",
      "DELETE /api/devices/pending/{id}": "登録待ちのデバイスを却下",
      "POST /api/alerts/{id}/ack": "アラートを確認済みに設定",
      "POST /api/pets": "ペットを追加",
      "PATCH /api/pets/{id}": "ペットを変更",
      "DELETE /api/pets/{id}": "ペットを削除",
      "GET /api/backup": "バックアップをダウンロード",
      "POST /api/backup/check": "バックアップを確認",
      "POST /api/backup/restore": "バックアップからデータを復元",
      "restore from backup": "バックアップからデータを復元",
      "PUT /api/server/log-level": "サーバーのログレベルを変更",
      "POST /api/notification-channels": "通知チャネルを追加",
      "PATCH /api/notification-channels/{id}": "通知チャネルを変更",
      "DELETE /api/notification-channels/{id}": "通知チャネルを削除",
      "POST /api/notification-channels/{id}/test": "テスト通知を送信",
    },
  },
});

/** Meals a device started: `feed (button)`, `feed (schedule)` (its own plan). */
const DEVICE_FEED = /^feed \((.+)\)$/;

/** `map`'s words for `key`, when it has its own (a key like "toString" is not one). */
function wordsFor<M extends object>(map: M, key: string): string | undefined {
  return Object.hasOwn(map, key) ? String(map[key as keyof M]) : undefined;
}

function actionText(entry: AuditEntry): string {
  const deviceFeed = DEVICE_FEED.exec(entry.action);
  const source = deviceFeed?.[1];
  if (source) return wordsFor(T.deviceSources, source) ?? T.fedFrom(source);
  return wordsFor(T.actions, entry.action) ?? entry.action;
}

/** HTTP statuses in words, with the number kept for those who look further; a device's feed says its outcome. */
function outcome(entry: AuditEntry): { text: string; problem: boolean } {
  if (!/^\d{3}$/.test(entry.outcome)) {
    const status = wordsFor(T.feedStatuses, entry.outcome) ?? entry.outcome;
    return { text: T.feed(status), problem: entry.outcome !== "dispensed" };
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
        {entry.address && T.fromAddress(entry.address)}
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
