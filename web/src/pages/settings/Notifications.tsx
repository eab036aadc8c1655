import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, errorMessage, isUnauthorized } from "../../api";
import type {
  Alert,
  NewNotificationChannel,
  NotificationChannel,
  NotificationChannelChanges,
  NotificationDelivery,
} from "../../api-types";
import { formatInstant } from "../../dates";
import { localized } from "../../i18n";
import { complaintsByField } from "../../save-form";
import { describedBy, ErrorAlert, FieldError } from "../../ui";
import { useLoad } from "../../use-load";

type Kind = Alert["kind"];
type ChannelType = NotificationChannel["type"];
type Security = "tls" | "starttls" | "none";
type Language = NotificationChannel["language"];
type DeliveryStatus = NotificationDelivery["status"];

const T = localized({
  en: {
    title: "Notifications",
    intro: (ntfy: ComponentChildren, webhook: ComponentChildren) => [
      "Send alerts to your phone (",
      ntfy,
      "), to another system (",
      webhook,
      ") or by e-mail. Each channel chooses which alerts it gets, may stay quiet at night (alerts are held and sent when the quiet hours end), and is retried when the receiver is down.",
    ],
    loading: "Loading the channels…",
    failed: (message: string) => `Could not load the notification channels (${message}).`,
    none: "No channels yet: alerts only show on the Alerts page.",
    add: "Add a channel",
    types: { ntfy: "ntfy", webhook: "Webhook", email: "E-mail" } satisfies Record<ChannelType, string>,
    on: "On",
    off: "Off",
    lastSent: "Last sent",
    lastFailure: "Last failure",
    never: "never",
    waiting: "Waiting to be sent",
    quietHours: "Quiet hours",
    test: "Send test",
    testing: "Sending…",
    testOk: (at: string) => `Test message sent at ${at}.`,
    testFailed: (why: string) => `The test message was not sent: ${why}`,
    edit: "Edit",
    editOne: (name: string) => `Edit ${name}`,
    del: "Delete",
    deleteOne: (name: string) => `Delete ${name}`,
    confirmDelete: (name: string) =>
      `Delete the channel ${name}? Alerts stop going there; its delivery history is deleted too.`,
    yesDelete: (name: string) => `Yes, delete ${name}`,
    keep: "Keep it",
    deleting: "Deleting…",
    showDeliveries: "Recent deliveries",
    hideDeliveries: "Hide deliveries",
    noDeliveries: "Nothing sent through this channel yet.",
    attempts: (n: number) => (n === 1 ? "1 try" : `${n} tries`),
    heldNote: "held during quiet hours",
    nextTry: (at: string) => `next try ${at}`,
    statuses: {
      pending: "Waiting",
      held: "Held (quiet hours)",
      sent: "Sent",
      failed: "Failed",
    } satisfies Record<DeliveryStatus, string>,
    form: {
      addTitle: "New channel",
      editTitle: (name: string) => `Edit ${name}`,
      type: "Type",
      name: "Name",
      nameHint: "For you, e.g. “Phone” or “Home Assistant”.",
      serverUrl: "ntfy server URL",
      serverUrlHint: "Your own ntfy server (e.g. http://192.168.1.20:8080) or https://ntfy.sh.",
      topic: "Topic",
      token: "Access token (optional)",
      url: "Webhook URL",
      urlHint: "Receives a JSON POST for every alert.",
      signingSecret: "Signing secret (optional)",
      signingHint: "Signs each request (X-Feedkeeper-Signature, HMAC-SHA256) so the receiver can check it.",
      host: "SMTP server",
      port: "Port",
      security: "Security",
      securities: {
        tls: "TLS (usually port 465)",
        starttls: "STARTTLS (usually port 587)",
        none: "None: plain text, only on your own network",
      } satisfies Record<Security, string>,
      username: "User name (optional)",
      password: "Password",
      from: "From address",
      to: "To addresses",
      toHint: "One or more, separated by commas.",
      secretSet: "Set — leave empty to keep it.",
      secretRemove: "Remove the stored secret",
      kinds: "Alerts to send",
      quiet: "Quiet hours",
      quietHint:
        "In the server's time zone. Alerts are held then and sent when they end; 22:00 to 07:00 spans midnight.",
      quietFrom: "From",
      quietTo: "Until",
      language: "Language of the messages",
      languages: { en: "English", ja: "日本語" } satisfies Record<Language, string>,
      enabled: "Send alerts through this channel",
      save: "Save",
      create: "Add",
      saving: "Saving…",
      cancel: "Cancel",
      notSaved: (why: string) => `Not saved: ${why}`,
      added: (name: string) => `Added ${name}. Send a test to check it.`,
    },
    kinds: {
      meal_missed: "Meal missed",
      meal_failed: "Meal failed",
      meal_doubled: "Meal fed twice",
      schedule_drift: "Schedule differs",
      clock_skew: "Clock off",
      food_low: "Food low",
      fault: "Fault (jam)",
      battery_low: "Battery low",
      feeder_offline: "Feeder offline",
    } satisfies Record<Kind, string>,
  },
  ja: {
    title: "通知",
    intro: (ntfy: ComponentChildren, webhook: ComponentChildren) => [
      "アラートをスマートフォン（",
      ntfy,
      "）、ほかのシステム（",
      webhook,
      "）、またはメールに送ります。チャンネルごとに送るアラートを選べ、夜間のおやすみ時間を設定できます（その間のアラートは保留し、終了後に送ります）。受信側が応答しないときは再送します。",
    ],
    loading: "チャンネルを読み込み中…",
    failed: (message: string) => `通知チャンネルを読み込めませんでした（${message}）。`,
    none: "チャンネルはまだありません。アラートはアラートページにだけ表示されます。",
    add: "チャンネルを追加",
    types: { ntfy: "ntfy", webhook: "Webhook", email: "メール" },
    on: "有効",
    off: "無効",
    lastSent: "最後の送信",
    lastFailure: "最後の失敗",
    never: "なし",
    waiting: "送信待ち",
    quietHours: "おやすみ時間",
    test: "テスト送信",
    testing: "送信中…",
    testOk: (at: string) => `${at} にテストメッセージを送信しました。`,
    testFailed: (why: string) => `テストメッセージを送信できませんでした: ${why}`,
    edit: "編集",
    editOne: (name: string) => `${name} を編集`,
    del: "削除",
    deleteOne: (name: string) => `${name} を削除`,
    confirmDelete: (name: string) =>
      `チャンネル「${name}」を削除しますか？ アラートはそこに送られなくなり、送信履歴も削除されます。`,
    yesDelete: (name: string) => `${name} を削除する`,
    keep: "残す",
    deleting: "削除中…",
    showDeliveries: "最近の送信",
    hideDeliveries: "送信履歴を閉じる",
    noDeliveries: "このチャンネルからはまだ何も送っていません。",
    attempts: (n: number) => `${n} 回試行`,
    heldNote: "おやすみ時間中は保留",
    nextTry: (at: string) => `次の試行 ${at}`,
    statuses: {
      pending: "送信待ち",
      held: "保留中（おやすみ時間）",
      sent: "送信済み",
      failed: "失敗",
    },
    form: {
      addTitle: "新しいチャンネル",
      editTitle: (name: string) => `${name} を編集`,
      type: "種類",
      name: "名前",
      nameHint: "自分用の名前です（例: 「スマホ」「Home Assistant」）。",
      serverUrl: "ntfy サーバーの URL",
      serverUrlHint: "自分の ntfy サーバー（例: http://192.168.1.20:8080）または https://ntfy.sh。",
      topic: "トピック",
      token: "アクセストークン（任意）",
      url: "Webhook の URL",
      urlHint: "アラートごとに JSON を POST します。",
      signingSecret: "署名用シークレット（任意）",
      signingHint:
        "各リクエストに署名（X-Feedkeeper-Signature、HMAC-SHA256）を付け、受信側で確認できるようにします。",
      host: "SMTP サーバー",
      port: "ポート",
      security: "暗号化",
      securities: {
        tls: "TLS（通常はポート 465）",
        starttls: "STARTTLS（通常はポート 587）",
        none: "なし: 平文。自宅のネットワーク内でだけ使ってください",
      },
      username: "ユーザー名（任意）",
      password: "パスワード",
      from: "送信元アドレス",
      to: "送信先アドレス",
      toHint: "1 つ以上。カンマで区切ります。",
      secretSet: "設定済み — 変えないときは空のままにしてください。",
      secretRemove: "保存されたシークレットを削除",
      kinds: "送るアラート",
      quiet: "おやすみ時間",
      quietHint:
        "サーバーのタイムゾーンの時刻です。この間のアラートは保留し、終了後に送ります。22:00〜07:00 のように日付をまたげます。",
      quietFrom: "開始",
      quietTo: "終了",
      language: "メッセージの言語",
      languages: { en: "English", ja: "日本語" },
      enabled: "このチャンネルでアラートを送る",
      save: "保存",
      create: "追加",
      saving: "保存中…",
      cancel: "キャンセル",
      notSaved: (why: string) => `保存できませんでした: ${why}`,
      added: (name: string) => `${name} を追加しました。テスト送信で確認してください。`,
    },
    kinds: {
      meal_missed: "食事の抜け",
      meal_failed: "給餌の失敗",
      meal_doubled: "二重の給餌",
      schedule_drift: "スケジュールの違い",
      clock_skew: "時計のずれ",
      food_low: "フード残量低下",
      fault: "異常（詰まり）",
      battery_low: "電池残量低下",
      feeder_offline: "オフライン",
    },
  },
});

const KINDS = Object.keys(T.kinds) as Kind[];

/** ntfy and webhook are names in any language; e-mail is said in the UI's. */
const typeLang = (type: ChannelType) => (type === "email" ? undefined : "en");
const SECRET_FIELD = { ntfy: "token", webhook: "signingSecret", email: "password" } as const;

interface Draft {
  type: ChannelType;
  name: string;
  serverUrl: string;
  topic: string;
  url: string;
  host: string;
  port: string;
  security: Security;
  username: string;
  from: string;
  to: string;
  /** A new secret; empty keeps the stored one. */
  secret: string;
  removeSecret: boolean;
  kinds: Kind[];
  quiet: boolean;
  quietStart: string;
  quietEnd: string;
  language: Language;
  enabled: boolean;
}

const EMPTY: Draft = {
  type: "ntfy",
  name: "",
  serverUrl: "https://ntfy.sh",
  topic: "",
  url: "",
  host: "",
  port: "587",
  security: "starttls",
  username: "",
  from: "",
  to: "",
  secret: "",
  removeSecret: false,
  kinds: KINDS,
  quiet: false,
  quietStart: "22:00",
  quietEnd: "07:00",
  language: "en",
  enabled: true,
};

function draftOf(channel: NotificationChannel): Draft {
  const base = {
    ...EMPTY,
    type: channel.type,
    name: channel.name,
    kinds: channel.kinds,
    quiet: channel.quietHours !== null,
    quietStart: channel.quietHours?.start ?? EMPTY.quietStart,
    quietEnd: channel.quietHours?.end ?? EMPTY.quietEnd,
    language: channel.language,
    enabled: channel.enabled,
  };
  switch (channel.type) {
    case "ntfy":
      return { ...base, serverUrl: channel.config.serverUrl, topic: channel.config.topic };
    case "webhook":
      return { ...base, url: channel.config.url };
    case "email":
      return {
        ...base,
        host: channel.config.host,
        port: String(channel.config.port),
        security: channel.config.security,
        username: channel.config.username ?? "",
        from: channel.config.from,
        to: channel.config.to.join(", "),
      };
  }
}

/** The type's settings as typed, with the secret only when it changes. */
function configOf(d: Draft): Record<string, unknown> {
  const secret = d.removeSecret ? null : d.secret === "" ? undefined : d.secret;
  const settings =
    d.type === "ntfy"
      ? { serverUrl: d.serverUrl, topic: d.topic }
      : d.type === "webhook"
        ? { url: d.url }
        : {
            host: d.host,
            port: Number(d.port),
            security: d.security,
            username: d.username.trim() === "" ? null : d.username,
            from: d.from.trim(),
            to: d.to
              .split(/[,\s]+/)
              .map((s) => s.trim())
              .filter(Boolean),
          };
  return secret === undefined ? settings : { ...settings, [SECRET_FIELD[d.type]]: secret };
}

function commonOf(d: Draft) {
  return {
    name: d.name,
    kinds: d.kinds,
    quietHours: d.quiet ? { start: d.quietStart, end: d.quietEnd } : null,
    language: d.language,
    enabled: d.enabled,
  };
}

/** The owner's section of the server settings: where alerts are sent, and how sending went. */
export function NotificationSettings({ onUnauthorized }: { onUnauthorized: () => void }) {
  const [channels, setChannels] = useState<NotificationChannel[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [notice, setNotice] = useState("");
  const addButton = useRef<HTMLButtonElement>(null);

  const reload = useLoad(
    {
      fetch: (signal) => api.notificationChannels(signal),
      onData: (data) => {
        setChannels(data.channels);
        setError(null);
      },
      onError: (message) => setError(T.failed(message)),
      onUnauthorized,
    },
    [],
    30_000,
  );

  const replace = (channel: NotificationChannel) =>
    setChannels((list) => (list ?? []).map((c) => (c.id === channel.id ? channel : c)));

  return (
    <section class="panel" aria-labelledby="notifications-title">
      <h2 id="notifications-title">{T.title}</h2>
      <p class="muted">{T.intro(<span lang="en">ntfy</span>, <span lang="en">webhook</span>)}</p>
      <ErrorAlert message={error} />
      {channels === null && !error && <p class="muted">{T.loading}</p>}
      {channels?.length === 0 && <p class="muted">{T.none}</p>}
      {channels && channels.length > 0 && (
        <div class="cards">
          {channels.map((channel) => (
            <ChannelCard
              key={channel.id}
              channel={channel}
              onChanged={(next) => (next ? replace(next) : reload())}
              onUnauthorized={onUnauthorized}
            />
          ))}
        </div>
      )}
      <p role="status" class="notice">
        {notice}
      </p>
      {adding ? (
        <ChannelForm
          onSaved={(channel) => {
            setChannels((list) => [...(list ?? []), channel]);
            setNotice(T.form.added(channel.name));
            setAdding(false);
          }}
          onCancel={() => {
            setAdding(false);
            setTimeout(() => addButton.current?.focus());
          }}
          onUnauthorized={onUnauthorized}
        />
      ) : (
        <div class="form-actions">
          <button
            type="button"
            ref={addButton}
            onClick={() => {
              setNotice("");
              setAdding(true);
            }}
          >
            {T.add}
          </button>
        </div>
      )}
    </section>
  );
}

interface CardProps {
  channel: NotificationChannel;
  /** null: deleted. */
  onChanged: (channel: NotificationChannel | null) => void;
  onUnauthorized: () => void;
}

function ChannelCard({ channel, onChanged, onUnauthorized }: CardProps) {
  const [mode, setMode] = useState<"view" | "edit" | "delete">("view");
  const [testing, setTesting] = useState(false);
  const [testResult, setTestResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const [deliveries, setDeliveries] = useState<NotificationDelivery[] | null>(null);
  const [deliveriesError, setDeliveriesError] = useState<string | null>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const titleId = `channel-title-${channel.id}`;
  const { status } = channel;

  useEffect(() => {
    if (mode === "delete") confirmButton.current?.focus();
  }, [mode]);

  async function test() {
    setTesting(true);
    setTestResult(null);
    try {
      const result = await api.testNotificationChannel(channel.id);
      setTestResult(
        result.ok
          ? { ok: true, text: T.testOk(formatInstant(result.sentAt)) }
          : { ok: false, text: T.testFailed(result.error ?? "") },
      );
      onChanged(null);
    } catch (err) {
      if (isUnauthorized(err)) return onUnauthorized();
      setTestResult({ ok: false, text: T.testFailed(errorMessage(err)) });
    } finally {
      setTesting(false);
    }
  }

  async function remove() {
    setDeleting(true);
    setDeleteError(null);
    try {
      await api.deleteNotificationChannel(channel.id);
      onChanged(null);
    } catch (err) {
      if (isUnauthorized(err)) return onUnauthorized();
      setDeleteError(errorMessage(err));
      setDeleting(false);
    }
  }

  async function toggleDeliveries() {
    if (deliveries) return setDeliveries(null);
    setDeliveriesError(null);
    try {
      setDeliveries((await api.notificationDeliveries(channel.id, 20)).deliveries);
    } catch (err) {
      if (isUnauthorized(err)) return onUnauthorized();
      setDeliveriesError(errorMessage(err));
    }
  }

  if (mode === "edit") {
    return (
      <article class="card" aria-labelledby={titleId}>
        <ChannelForm
          channel={channel}
          titleId={titleId}
          onSaved={(saved) => {
            onChanged(saved);
            setMode("view");
          }}
          onCancel={() => setMode("view")}
          onUnauthorized={onUnauthorized}
        />
      </article>
    );
  }

  return (
    <article class="card" aria-labelledby={titleId} data-testid={`channel-${channel.id}`}>
      <div class="card-head">
        <h3 id={titleId}>{channel.name}</h3>
        <span class={`badge ${channel.enabled ? "online" : "offline"}`}>
          <span lang={typeLang(channel.type)}>{T.types[channel.type]}</span> ·{" "}
          {channel.enabled ? T.on : T.off}
        </span>
      </div>
      <dl class="facts">
        <div>
          <dt>{T.lastSent}</dt>
          <dd>{status.lastSuccessAt ? formatInstant(status.lastSuccessAt) : T.never}</dd>
        </div>
        {status.lastFailureAt && (
          <div>
            <dt>{T.lastFailure}</dt>
            <dd>{formatInstant(status.lastFailureAt)}</dd>
          </div>
        )}
        {status.queued > 0 && (
          <div>
            <dt>{T.waiting}</dt>
            <dd>{status.queued}</dd>
          </div>
        )}
        {channel.quietHours && (
          <div>
            <dt>{T.quietHours}</dt>
            <dd>
              {channel.quietHours.start}–{channel.quietHours.end}
            </dd>
          </div>
        )}
      </dl>
      {status.lastError && (
        <p class="muted" lang="en">
          {status.lastError}
        </p>
      )}
      {mode === "delete" ? (
        <fieldset class="warn confirm">
          <legend class="visually-hidden">{T.deleteOne(channel.name)}</legend>
          <p>{T.confirmDelete(channel.name)}</p>
          <ErrorAlert message={deleteError} />
          <div class="form-actions">
            <button type="button" class="danger" ref={confirmButton} disabled={deleting} onClick={remove}>
              {deleting ? T.deleting : T.yesDelete(channel.name)}
            </button>
            <button type="button" disabled={deleting} onClick={() => setMode("view")}>
              {T.keep}
            </button>
          </div>
        </fieldset>
      ) : (
        <div class="form-actions">
          <button type="button" class="primary" disabled={testing} onClick={test}>
            {testing ? T.testing : T.test}
          </button>
          <button type="button" aria-label={T.editOne(channel.name)} onClick={() => setMode("edit")}>
            {T.edit}
          </button>
          <button type="button" aria-label={T.deleteOne(channel.name)} onClick={() => setMode("delete")}>
            {T.del}
          </button>
          <button type="button" aria-expanded={deliveries !== null} onClick={toggleDeliveries}>
            {deliveries ? T.hideDeliveries : T.showDeliveries}
          </button>
        </div>
      )}
      <p role="status" class={testResult && !testResult.ok ? "alert" : "notice"}>
        {testResult?.text ?? ""}
      </p>
      <ErrorAlert message={deliveriesError} />
      {deliveries && <DeliveryList deliveries={deliveries} />}
    </article>
  );
}

function DeliveryList({ deliveries }: { deliveries: NotificationDelivery[] }) {
  if (deliveries.length === 0) return <p class="muted">{T.noDeliveries}</p>;
  return (
    <ul class="timeline">
      {deliveries.map((d) => (
        <li key={d.id} class="timeline-entry">
          <span class="timeline-when">{formatInstant(d.sentAt ?? d.createdAt)}</span>{" "}
          <strong>{T.kinds[d.kind]}</strong> — {T.statuses[d.status]}
          {d.attempts > 0 && ` · ${T.attempts(d.attempts)}`}
          {d.heldDuringQuietHours && ` · ${T.heldNote}`}
          {(d.status === "pending" || d.status === "held") &&
            d.nextAttemptAt &&
            ` · ${T.nextTry(formatInstant(d.nextAttemptAt))}`}
          {d.lastError && (
            <span class="timeline-error" lang="en">
              {" "}
              {d.lastError}
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}

type FieldKey = keyof Draft | "";

function secretIsSet(channel: NotificationChannel): boolean {
  switch (channel.type) {
    case "ntfy":
      return channel.config.token.set;
    case "webhook":
      return channel.config.signingSecret.set;
    case "email":
      return channel.config.password.set;
  }
}

/** Paths of the server's complaints (`config.url`, `quietHours.start`) → the field showing them. */
function fieldOf(path: string): FieldKey {
  const [head, next] = path.split(".");
  if (head === "config") {
    if (next === "token" || next === "signingSecret" || next === "password") return "secret";
    return (next ?? "") as FieldKey;
  }
  if (head === "quietHours") return next === "end" ? "quietEnd" : "quietStart";
  return (head ?? "") as FieldKey;
}

interface FormProps {
  /** Absent: a new channel. */
  channel?: NotificationChannel;
  titleId?: string;
  onSaved: (channel: NotificationChannel) => void;
  onCancel: () => void;
  onUnauthorized: () => void;
}

function ChannelForm({ channel, titleId, onSaved, onCancel, onUnauthorized }: FormProps) {
  const [draft, setDraft] = useState<Draft>(() => (channel ? draftOf(channel) : EMPTY));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [errors, setErrors] = useState<Partial<Record<FieldKey, string>>>({});
  const prefix = channel ? `channel-${channel.id}` : "new-channel";
  const id = (field: string) => `${prefix}-${field}`;
  const secretSet = channel ? secretIsSet(channel) : false;
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));

  async function save(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const saved = channel
        ? await api.updateNotificationChannel(channel.id, {
            ...commonOf(draft),
            config: configOf(draft),
          } as NotificationChannelChanges)
        : await api.createNotificationChannel({
            ...commonOf(draft),
            type: draft.type,
            config: configOf(draft),
          } as NewNotificationChannel);
      onSaved(saved.channel);
    } catch (err) {
      if (isUnauthorized(err)) return onUnauthorized();
      setErrors(complaintsByField(err, fieldOf));
      setError(T.form.notSaved(errorMessage(err)));
    } finally {
      setBusy(false);
    }
  }

  const text = (
    field: "name" | "serverUrl" | "topic" | "url" | "host" | "port" | "username" | "from" | "to",
    label: string,
    options: {
      type?: "text" | "url" | "email";
      hint?: string;
      required?: boolean;
      inputMode?: "url" | "email" | "numeric";
    } = {},
  ) => (
    <div class="field">
      <label for={id(field)}>{label}</label>
      <input
        id={id(field)}
        type="text"
        value={draft[field]}
        required={options.required ?? true}
        inputMode={options.inputMode}
        autoCapitalize="off"
        spellcheck={false}
        aria-invalid={errors[field] ? true : undefined}
        aria-describedby={describedBy(
          options.hint && id(`${field}-hint`),
          errors[field] && id(`${field}-error`),
        )}
        onInput={(e) => set({ [field]: e.currentTarget.value })}
      />
      {options.hint && (
        <small id={id(`${field}-hint`)} class="hint">
          {options.hint}
        </small>
      )}
      <FieldError id={id(`${field}-error`)} message={errors[field]} />
    </div>
  );

  const secretLabel =
    draft.type === "ntfy" ? T.form.token : draft.type === "webhook" ? T.form.signingSecret : T.form.password;

  return (
    <form onSubmit={save} noValidate aria-label={channel ? T.form.editTitle(channel.name) : T.form.addTitle}>
      <h3 id={titleId}>{channel ? T.form.editTitle(channel.name) : T.form.addTitle}</h3>
      <fieldset class="plain" disabled={busy}>
        <legend class="visually-hidden">{channel ? T.form.editTitle(channel.name) : T.form.addTitle}</legend>
        {!channel && (
          <div class="field">
            <label for={id("type")}>{T.form.type}</label>
            <select
              id={id("type")}
              value={draft.type}
              onChange={(e) => set({ type: e.currentTarget.value as ChannelType, secret: "" })}
            >
              {(Object.keys(T.types) as ChannelType[]).map((type) => (
                <option key={type} value={type} lang={typeLang(type)}>
                  {T.types[type]}
                </option>
              ))}
            </select>
          </div>
        )}
        {text("name", T.form.name, { hint: T.form.nameHint })}
        {draft.type === "ntfy" && (
          <>
            {text("serverUrl", T.form.serverUrl, { inputMode: "url", hint: T.form.serverUrlHint })}
            {text("topic", T.form.topic)}
          </>
        )}
        {draft.type === "webhook" && text("url", T.form.url, { inputMode: "url", hint: T.form.urlHint })}
        {draft.type === "email" && (
          <>
            {text("host", T.form.host)}
            {text("port", T.form.port, { inputMode: "numeric" })}
            <div class="field">
              <label for={id("security")}>{T.form.security}</label>
              <select
                id={id("security")}
                value={draft.security}
                onChange={(e) => set({ security: e.currentTarget.value as Security })}
              >
                {(Object.keys(T.form.securities) as Security[]).map((s) => (
                  <option key={s} value={s}>
                    {T.form.securities[s]}
                  </option>
                ))}
              </select>
            </div>
            {text("username", T.form.username, { required: false })}
            {text("from", T.form.from, { inputMode: "email" })}
            {text("to", T.form.to, { hint: T.form.toHint })}
          </>
        )}
        <div class="field">
          <label for={id("secret")}>{secretLabel}</label>
          <input
            id={id("secret")}
            type="password"
            autoComplete="new-password"
            value={draft.secret}
            disabled={draft.removeSecret}
            aria-invalid={errors.secret ? true : undefined}
            aria-describedby={describedBy(
              draft.type === "webhook" && id("secret-hint"),
              secretSet && id("secret-set"),
              errors.secret && id("secret-error"),
            )}
            onInput={(e) => set({ secret: e.currentTarget.value })}
          />
          {draft.type === "webhook" && (
            <small id={id("secret-hint")} class="hint">
              {T.form.signingHint}
            </small>
          )}
          {secretSet && (
            <>
              <small id={id("secret-set")} class="hint">
                {T.form.secretSet}
              </small>
              <label>
                <input
                  type="checkbox"
                  checked={draft.removeSecret}
                  onChange={(e) => set({ removeSecret: e.currentTarget.checked, secret: "" })}
                />{" "}
                {T.form.secretRemove}
              </label>
            </>
          )}
          <FieldError id={id("secret-error")} message={errors.secret} />
        </div>
        <fieldset class="days" aria-describedby={errors.kinds ? id("kinds-error") : undefined}>
          <legend>{T.form.kinds}</legend>
          {KINDS.map((kind) => (
            <label key={kind} class="day">
              <input
                type="checkbox"
                checked={draft.kinds.includes(kind)}
                onChange={(e) =>
                  set({
                    kinds: e.currentTarget.checked
                      ? KINDS.filter((k) => k === kind || draft.kinds.includes(k))
                      : draft.kinds.filter((k) => k !== kind),
                  })
                }
              />
              <span>{T.kinds[kind]}</span>
            </label>
          ))}
        </fieldset>
        <FieldError id={id("kinds-error")} message={errors.kinds} />
        <div class="field">
          <label class="switch">
            <input
              type="checkbox"
              role="switch"
              checked={draft.quiet}
              aria-checked={draft.quiet}
              aria-describedby={id("quiet-hint")}
              onChange={(e) => set({ quiet: e.currentTarget.checked })}
            />
            <span>{T.form.quiet}</span>
          </label>
          <small id={id("quiet-hint")} class="hint">
            {T.form.quietHint}
          </small>
          {draft.quiet && (
            <div class="meal-grid">
              <div class="field">
                <label for={id("quietStart")}>{T.form.quietFrom}</label>
                <input
                  id={id("quietStart")}
                  type="time"
                  value={draft.quietStart}
                  aria-invalid={errors.quietStart ? true : undefined}
                  onInput={(e) => set({ quietStart: e.currentTarget.value })}
                />
              </div>
              <div class="field">
                <label for={id("quietEnd")}>{T.form.quietTo}</label>
                <input
                  id={id("quietEnd")}
                  type="time"
                  value={draft.quietEnd}
                  aria-invalid={errors.quietEnd ? true : undefined}
                  onInput={(e) => set({ quietEnd: e.currentTarget.value })}
                />
              </div>
            </div>
          )}
          <FieldError id={id("quiet-error")} message={errors.quietStart ?? errors.quietEnd} />
        </div>
        <div class="field">
          <label for={id("language")}>{T.form.language}</label>
          <select
            id={id("language")}
            value={draft.language}
            onChange={(e) => set({ language: e.currentTarget.value as Language })}
          >
            {(Object.keys(T.form.languages) as Language[]).map((l) => (
              <option key={l} value={l} lang={l}>
                {T.form.languages[l]}
              </option>
            ))}
          </select>
        </div>
        <label class="switch">
          <input
            type="checkbox"
            role="switch"
            checked={draft.enabled}
            aria-checked={draft.enabled}
            onChange={(e) => set({ enabled: e.currentTarget.checked })}
          />
          <span>{T.form.enabled}</span>
        </label>
      </fieldset>
      <ErrorAlert message={error} />
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? T.form.saving : channel ? T.form.save : T.form.create}
        </button>
        <button type="button" disabled={busy} onClick={onCancel}>
          {T.form.cancel}
        </button>
      </div>
    </form>
  );
}
