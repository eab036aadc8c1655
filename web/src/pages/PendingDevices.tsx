import { useRef, useState } from "preact/hooks";
import { ApiError, api, errorMessage, isUnauthorized } from "../api";
import type { DeviceProfile, Feeder, PendingDevice } from "../api-types";
import { formatInstant, formatNumber } from "../dates";
import { localized } from "../i18n";
import { describedBy, ErrorAlert } from "../ui";
import { useLoad } from "../use-load";

/** Devices show up when they connect: often enough that one is there by the time its owner looks. */
const REFRESH_MS = 3000;

type Model = DeviceProfile["models"][number];

const T = localized({
  en: {
    title: "Waiting devices",
    waiting: (n: number) => `${n} waiting`,
    intro:
      "Devices that connected with credentials of their own and that a device type recognises. Nothing is sent to a device until you adopt it. Dismiss any that is not yours; each is forgotten an hour after it was last seen.",
    loading: "Looking for waiting devices…",
    retrying: (message: string) => `Could not load the waiting devices (${message}). Retrying…`,
    none: "None right now. A device shows up here a few seconds after it connects.",
    deviceId: "Device id",
    clientId: "Client ID",
    address: "Address",
    unknown: "unknown",
    lastSeen: "Last seen",
    connections: "Connections",
    topics: "Published to",
    noTopics: "nothing yet",
    feederName: "Feeder name",
    nameRequired: "Enter a name for the feeder.",
    model: "Model",
    chooseModel: "Choose the model…",
    modelRequired: "Choose the model: models differ in what they report and the faults they know.",
    suggested: "Suggested by the topics it published to.",
    adopt: "Adopt",
    adoptOne: (deviceKey: string) => `Adopt ${deviceKey}`,
    adopting: "Adopting…",
    dismiss: "Dismiss",
    dismissOne: (deviceKey: string) => `Dismiss ${deviceKey}`,
    adopted: (name: string) =>
      `“${name}” adopted. Its connection was closed; it comes online as this feeder when it reconnects.`,
    dismissed: (deviceKey: string) => `${deviceKey} dismissed. If it connects again, it shows up here again.`,
  },
  ja: {
    title: "登録待ちのデバイス",
    waiting: (n: number) => `${n} 台が登録待ち`,
    intro:
      "自身の認証情報で接続し、いずれかのデバイスの種類に認識されたデバイスです。登録するまで、デバイスには何も送信しません。自分のものでないデバイスは却下してください。どのデバイスも最終接続から 1 時間で一覧から消えます。",
    loading: "登録待ちのデバイスを探しています…",
    retrying: (message: string) =>
      `登録待ちのデバイスを読み込めませんでした（${message}）。再試行しています…`,
    none: "現在はありません。デバイスは接続してから数秒でここに表示されます。",
    deviceId: "デバイス ID",
    clientId: "クライアント ID",
    address: "アドレス",
    unknown: "不明",
    lastSeen: "最終接続",
    connections: "接続回数",
    topics: "送信先トピック",
    noTopics: "まだありません",
    feederName: "給餌器の名前",
    nameRequired: "給餌器の名前を入力してください。",
    model: "モデル",
    chooseModel: "モデルを選択…",
    modelRequired: "モデルを選んでください。モデルによって、報告する内容や認識できる故障が異なります。",
    suggested: "送信したトピックから推定しました。",
    adopt: "登録",
    adoptOne: (deviceKey: string) => `${deviceKey} を登録`,
    adopting: "登録中…",
    dismiss: "却下",
    dismissOne: (deviceKey: string) => `${deviceKey} を却下`,
    adopted: (name: string) =>
      `「${name}」を登録しました。デバイスの接続は切断されました。再接続すると、この給餌器としてオンラインになります。`,
    dismissed: (deviceKey: string) =>
      `${deviceKey} を却下しました。再び接続すると、もう一度ここに表示されます。`,
  },
});

/** A required pick among a device type's models; empty until one is picked. */
export function ModelField(props: {
  id: string;
  models: Model[];
  value: string;
  onChange: (model: string) => void;
  disabled?: boolean;
  hint?: string | undefined;
}) {
  const hintId = props.hint ? `${props.id}-hint` : undefined;
  return (
    <div class="field">
      <label for={props.id}>{T.model}</label>
      <select
        id={props.id}
        value={props.value}
        // Not `required`: the browser's own message would not say why the model matters.
        aria-required="true"
        aria-describedby={describedBy(hintId)}
        disabled={props.disabled}
        onChange={(e) => props.onChange(e.currentTarget.value)}
      >
        {props.value === "" && <option value="">{T.chooseModel}</option>}
        {props.models.map((m) => (
          <option key={m.id} value={m.id}>
            {m.name}
          </option>
        ))}
      </select>
      {props.hint && (
        <small id={hintId} class="hint">
          {props.hint}
        </small>
      )}
    </div>
  );
}

interface CardProps {
  device: PendingDevice;
  /** The device type that recognised it; undefined if the profiles could not be loaded. */
  profile: DeviceProfile | undefined;
  onAdopted: (feeder: Feeder) => void;
  onDismissed: () => void;
  /** The server no longer holds it (adopted elsewhere, dismissed, or expired): its message. */
  onGone: (message: string) => void;
  onUnauthorized: () => void;
}

function PendingCard({ device, profile, onAdopted, onDismissed, onGone, onUnauthorized }: CardProps) {
  const [name, setName] = useState("");
  const [model, setModel] = useState(device.suggestedModel ?? "");
  const [busy, setBusy] = useState(false);
  // A second click before the button shows busy would find the device already adopted, or gone.
  const inFlight = useRef(false);
  const [error, setError] = useState<string | null>(null);
  const models = profile?.models ?? [];
  const needsModel = models.length > 1;

  function failed(err: unknown) {
    if (isUnauthorized(err)) onUnauthorized();
    else if (err instanceof ApiError && err.code === "pending_not_found") onGone(errorMessage(err));
    else setError(errorMessage(err));
    inFlight.current = false;
    setBusy(false);
  }

  async function adopt(e: Event) {
    e.preventDefault();
    if (inFlight.current) return;
    const trimmed = name.trim();
    if (!trimmed) return setError(T.nameRequired);
    if (needsModel && !model) return setError(T.modelRequired);
    inFlight.current = true;
    setBusy(true);
    setError(null);
    try {
      const { feeder } = await api.adoptDevice(
        device.id,
        needsModel ? { name: trimmed, model } : { name: trimmed },
      );
      onAdopted(feeder);
    } catch (err) {
      failed(err);
    }
  }

  async function dismiss() {
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    setError(null);
    try {
      await api.dismissDevice(device.id);
      onDismissed();
    } catch (err) {
      failed(err);
    }
  }

  const titleId = `pending-title-${device.id}`;
  const keyId = `pending-key-${device.id}`;
  const nameId = `adopt-name-${device.id}`;
  return (
    <article
      class="card pending"
      aria-labelledby={`${titleId} ${keyId}`}
      data-testid={`pending-${device.id}`}
    >
      <h3 id={titleId}>{profile?.name ?? device.profile}</h3>
      <dl class="facts">
        <div>
          <dt>{T.deviceId}</dt>
          <dd id={keyId}>{device.deviceKey}</dd>
        </div>
        {device.clientId !== device.deviceKey && (
          <div>
            <dt>{T.clientId}</dt>
            <dd>{device.clientId}</dd>
          </div>
        )}
        <div>
          <dt>{T.address}</dt>
          <dd>{device.address ?? T.unknown}</dd>
        </div>
        <div>
          <dt>{T.lastSeen}</dt>
          <dd>{formatInstant(device.lastSeenAt)}</dd>
        </div>
        <div>
          <dt>{T.connections}</dt>
          <dd>{formatNumber(device.connections, 0)}</dd>
        </div>
      </dl>
      <div class="topics">
        <span class="muted">{T.topics}:</span>{" "}
        {device.topics.length === 0 ? (
          <span class="muted">{T.noTopics}</span>
        ) : (
          <ul>
            {device.topics.map((topic) => (
              <li key={topic}>
                <code>{topic}</code>
              </li>
            ))}
          </ul>
        )}
      </div>
      <form class="adopt-form" onSubmit={adopt}>
        <div class="adopt-fields">
          <div class="field">
            <label for={nameId}>{T.feederName}</label>
            <input
              id={nameId}
              type="text"
              value={name}
              maxLength={64}
              required
              disabled={busy}
              onInput={(e) => setName(e.currentTarget.value)}
            />
          </div>
          {needsModel && (
            <ModelField
              id={`adopt-model-${device.id}`}
              models={models}
              value={model}
              onChange={setModel}
              disabled={busy}
              hint={
                device.suggestedModel !== null && model === device.suggestedModel ? T.suggested : undefined
              }
            />
          )}
        </div>
        <ErrorAlert message={error} />
        <div class="form-actions">
          <button type="submit" class="primary" aria-label={T.adoptOne(device.deviceKey)} disabled={busy}>
            {busy ? T.adopting : T.adopt}
          </button>
          <button type="button" aria-label={T.dismissOne(device.deviceKey)} disabled={busy} onClick={dismiss}>
            {T.dismiss}
          </button>
        </div>
      </form>
    </article>
  );
}

interface Props {
  /** The device types the server knows; null until loaded. */
  profiles: DeviceProfile[] | null;
  onAdopted: (feeder: Feeder) => void;
  /** The number of waiting devices, for the header's badge. */
  onCount: (count: number) => void;
  onUnauthorized: () => void;
}

/**
 * Vendor devices held by the server until an owner adopts or dismisses them. Shown when a device type joins
 * by adoption, or when a device waits anyway; a server with none of those has nothing to say here.
 */
export function PendingDevices({ profiles, onAdopted, onCount, onUnauthorized }: Props) {
  const [devices, setDevices] = useState<PendingDevice[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [goneError, setGoneError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  const reload = useLoad(
    {
      fetch: (signal) => api.pendingDevices(signal),
      onData: (res) => {
        setDevices(res.devices);
        setLoadError(null);
        onCount(res.devices.length);
      },
      onError: (message) => setLoadError(T.retrying(message)),
      onUnauthorized,
    },
    [onCount, onUnauthorized],
    REFRESH_MS,
  );

  /** The device's card, with the focused control, is gone: keep keyboard users in this panel. */
  function settle(id: string, message: { notice: string } | { error: string }) {
    const rest = (devices ?? []).filter((d) => d.id !== id);
    setDevices(rest);
    onCount(rest.length);
    setNotice("notice" in message ? message.notice : null);
    setGoneError("error" in message ? message.error : null);
    heading.current?.focus();
    reload();
  }

  const expected = profiles?.some((p) => p.joins === "adoption") ?? false;
  if (!expected && !devices?.length && !notice && !goneError) return null;

  return (
    <section class="panel" aria-labelledby="pending-heading" data-testid="pending-devices">
      <h2 id="pending-heading" tabIndex={-1} ref={heading}>
        {T.title}
        {devices?.length ? (
          <span class="count info" data-testid="pending-count">
            {devices.length}
            <span class="visually-hidden"> {T.waiting(devices.length)}</span>
          </span>
        ) : null}
      </h2>
      <p class="hint">{T.intro}</p>
      <p class="notice" role="status">
        {notice}
      </p>
      <ErrorAlert message={goneError} />
      <ErrorAlert message={loadError} />
      {devices === null && !loadError && <p class="muted">{T.loading}</p>}
      {devices?.length === 0 && <p class="muted">{T.none}</p>}
      <div class="cards">
        {devices?.map((d) => (
          <PendingCard
            key={d.id}
            device={d}
            profile={profiles?.find((p) => p.id === d.profile)}
            onAdopted={(feeder) => {
              onAdopted(feeder);
              settle(d.id, { notice: T.adopted(feeder.name) });
            }}
            onDismissed={() => settle(d.id, { notice: T.dismissed(d.deviceKey) })}
            onGone={(message) => settle(d.id, { error: message })}
            onUnauthorized={onUnauthorized}
          />
        ))}
      </div>
    </section>
  );
}
