import { useState } from "preact/hooks";
import { api } from "../api";
import type { ConnectionLogEntry, Feeder } from "../api-types";
import { formatInstant, formatNumber } from "../dates";
import { localized } from "../i18n";
import { type ConnectionFilter, connectionsHref } from "../routes";
import { ErrorAlert } from "../ui";
import { useLoad } from "../use-load";

/** A device that cannot get in retries every few seconds: each try shows up while its owner watches. */
const REFRESH_MS = 3000;
const LIMIT = 100;

type Kind = ConnectionLogEntry["kind"];

const T = localized({
  en: {
    title: "Connections",
    intro:
      "What happened lately between devices and this server: each connect and disconnect, and each connection, message or subscription the server refused, with the reason and the address the device came from. Look here when a feeder does not come online, e.g. after re-pointing it. The server keeps the last 500 events in memory, so the list starts empty after a restart.",
    show: "Show",
    all: "All devices",
    unknownOnly: "Unknown devices only",
    feeders: "Feeders",
    loading: "Loading the connection log…",
    retrying: (message: string) => `Could not load the connection log (${message}). Retrying…`,
    none: {
      all: "Nothing yet. A device shows up here a few seconds after it connects or is refused.",
      unknown:
        "No unknown devices. A device that tries to connect with credentials of no feeder (a wrong password, a reset device, or a device type Feedkeeper does not recognise) shows up here with the reason.",
      feeder:
        "Nothing from this feeder since the server started. Its connects, disconnects and refusals show up here.",
    },
    newest: (n: string) => `The newest ${n} entries.`,
    kinds: {
      connected: "Connected",
      disconnected: "Disconnected",
      refused: "Refused",
      publish_refused: "Publish refused",
      subscribe_refused: "Subscription refused",
      dropped: "Message dropped",
      pending: "Waiting for adoption",
    } satisfies Record<Kind, string>,
    clientId: "Client ID",
    address: "Address",
    repeated: (count: string, firstAt: string) => `×${count}, first ${firstAt}`,
  },
  ja: {
    title: "接続",
    intro:
      "デバイスとこのサーバーの間で最近起きたこと: 接続と切断、サーバーが拒否した接続・メッセージ・購読を、理由とデバイスの接続元アドレスとともに表示します。給餌器がオンラインにならないとき（接続先を変えた後など）はここを確認してください。サーバーは直近 500 件をメモリーに保持するため、再起動後は空から始まります。",
    show: "表示",
    all: "すべてのデバイス",
    unknownOnly: "不明なデバイスのみ",
    feeders: "給餌器",
    loading: "接続ログを読み込み中…",
    retrying: (message: string) => `接続ログを読み込めませんでした（${message}）。再試行しています…`,
    none: {
      all: "まだ何もありません。デバイスが接続するか拒否されると、数秒後にここに表示されます。",
      unknown:
        "不明なデバイスはありません。どの給餌器のものでもない認証情報で接続しようとしたデバイス（パスワードの誤り、リセットされたデバイス、Feedkeeper が認識しないデバイスの種類）は、理由とともにここに表示されます。",
      feeder:
        "サーバーの起動以降、この給餌器からの記録はありません。接続・切断・拒否があるとここに表示されます。",
    },
    newest: (n: string) => `最新の ${n} 件です。`,
    kinds: {
      connected: "接続",
      disconnected: "切断",
      refused: "接続を拒否",
      publish_refused: "送信を拒否",
      subscribe_refused: "購読を拒否",
      dropped: "メッセージを破棄",
      pending: "登録待ち",
    },
    clientId: "クライアント ID",
    address: "アドレス",
    repeated: (count: string, firstAt: string) => `×${count}、初回 ${firstAt}`,
  },
});

/** Entries that keep a device from working; the label says so, the colour only repeats it. */
const PROBLEMS: ReadonlySet<Kind> = new Set<Kind>([
  "refused",
  "publish_refused",
  "subscribe_refused",
  "dropped",
]);

/** The select's value for a filter; the prefix keeps a feeder's id from passing for "all" or "unknown". */
function optionValue(filter: ConnectionFilter): string {
  return typeof filter === "string" ? filter : `feeder:${filter.feederId}`;
}

function filterOf(value: string): ConnectionFilter {
  if (value === "all" || value === "unknown") return value;
  return { feederId: value.slice("feeder:".length) };
}

function Entry({ entry, feederName }: { entry: ConnectionLogEntry; feederName: string | undefined }) {
  const state = PROBLEMS.has(entry.kind) ? " problem" : entry.kind === "connected" ? " ok" : "";
  // Vendor firmware connects under a client id of its own; a native feeder's is its feeder id, said already.
  const showClientId = feederName !== undefined && entry.clientId !== entry.feederId;
  return (
    <li class={`card connection${state}`} data-testid="connection-entry">
      <h3>{T.kinds[entry.kind]}</h3>
      <p class="connection-who">{feederName ?? entry.clientId}</p>
      {entry.detail && <p>{entry.detail}</p>}
      {(showClientId || entry.address) && (
        <dl class="facts">
          {showClientId && (
            <div>
              <dt>{T.clientId}</dt>
              <dd>{entry.clientId}</dd>
            </div>
          )}
          {entry.address && (
            <div>
              <dt>{T.address}</dt>
              <dd>{entry.address}</dd>
            </div>
          )}
        </dl>
      )}
      <p class="muted">
        <time dateTime={entry.lastAt}>{formatInstant(entry.lastAt)}</time>
        {entry.count > 1 && ` · ${T.repeated(formatNumber(entry.count), formatInstant(entry.firstAt))}`}
      </p>
    </li>
  );
}

interface Props {
  filter: ConnectionFilter;
  onUnauthorized: () => void;
}

/** The server's connection log, so an owner sees why a device is not talking without reading server logs. */
export function ConnectionLog({ filter, onUnauthorized }: Props) {
  const shown = optionValue(filter);
  const [log, setLog] = useState<{ shown: string; entries: ConnectionLogEntry[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [feeders, setFeeders] = useState<Feeder[] | null>(null);

  useLoad(
    {
      fetch: async (signal) => {
        const query =
          filter === "all" ? {} : filter === "unknown" ? { unknown: true } : { feederId: filter.feederId };
        return { shown, entries: (await api.connectionLog(LIMIT, query, signal)).entries };
      },
      onData: (res) => {
        setLog(res);
        setError(null);
      },
      onError: (message) => setError(T.retrying(message)),
      onUnauthorized,
    },
    [shown, onUnauthorized],
    REFRESH_MS,
  );

  // Only names for the entries and the filter: without them the ids are shown, so a failure is not worth a word.
  useLoad(
    {
      fetch: (signal) => api.feeders(signal),
      onData: (res) => setFeeders(res.feeders),
      onError: () => {},
      onUnauthorized,
    },
    [onUnauthorized],
  );

  const names = new Map(feeders?.map((f) => [f.id, f.name]));
  // Entries of the filter chosen before stay hidden until the new filter's answer is in.
  const entries = log?.shown === shown ? log.entries : null;
  const chosenFeeder = typeof filter === "object" ? filter.feederId : null;
  const scope = typeof filter === "object" ? "feeder" : filter;

  return (
    <section aria-labelledby="connections-title">
      <h2 id="connections-title" tabIndex={-1}>
        {T.title}
      </h2>
      <p class="hint">{T.intro}</p>
      <div class="field connection-filter">
        <label for="connections-show">{T.show}</label>
        <select
          id="connections-show"
          value={shown}
          onChange={(e) => {
            location.hash = connectionsHref(filterOf(e.currentTarget.value));
          }}
        >
          <option value={optionValue("all")}>{T.all}</option>
          <option value={optionValue("unknown")}>{T.unknownOnly}</option>
          <optgroup label={T.feeders}>
            {feeders?.map((f) => (
              <option key={f.id} value={optionValue({ feederId: f.id })}>
                {f.name}
              </option>
            ))}
            {chosenFeeder !== null && !names.has(chosenFeeder) && (
              <option value={shown}>{chosenFeeder}</option>
            )}
          </optgroup>
        </select>
      </div>
      <ErrorAlert message={error} />
      {entries === null && !error && <p class="muted">{T.loading}</p>}
      {entries?.length === 0 && <p class="muted">{T.none[scope]}</p>}
      {entries?.length === LIMIT && <p class="muted">{T.newest(formatNumber(LIMIT))}</p>}
      <ul class="connections">
        {entries?.map((entry) => (
          <Entry
            key={`${entry.firstAt}-${entry.kind}-${entry.clientId}`}
            entry={entry}
            feederName={entry.feederId === null ? undefined : names.get(entry.feederId)}
          />
        ))}
      </ul>
    </section>
  );
}
