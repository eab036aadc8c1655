/**
 * How to connect a feeder's device, for later: the broker, the username and client id, the topic root, each
 * with a Copy button. The password is shown only when it is issued; an owner can issue a new one here,
 * which ends the old one at once (the device must then be given the new one).
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { api, errorMessage, isUnauthorized } from "../api";
import type { CreateFeederResponse, Feeder } from "../api-types";
import { localized } from "../i18n";
import { ErrorAlert } from "../ui";
import { type CredentialRow, CredentialRows, CredentialsPanel, MQTT_PORT_HINT } from "./Feeders";

const T = localized({
  en: {
    title: "Connect the device",
    intro:
      "The device's MQTT settings. The password was shown once, when it was issued; it is stored only as a hash.",
    mqttServer: "MQTT server",
    username: "Username",
    clientId: "Client ID",
    topicRoot: "Topic root",
    ownCredentials: "This device logs in with credentials of its own; Feedkeeper issues none for it.",
    lostPassword:
      "Lost the password, or a device you no longer trust has it? Issue new credentials: the old password stops working at once and the device is disconnected until it is given the new one.",
    issue: "Issue new credentials",
    issuing: "Issuing…",
    confirm: (name: string) =>
      `Issue new credentials for ${name}? The device is disconnected now and cannot feed until you enter the new password on it.`,
    yes: "Yes, issue new credentials",
    cancel: "Cancel",
    ownerOnly: "Only an owner can issue new credentials.",
  },
  ja: {
    title: "デバイスの接続",
    intro:
      "デバイスの MQTT 設定です。パスワードは発行したときに 1 度だけ表示され、サーバーにはハッシュとしてだけ保存されています。",
    mqttServer: "MQTT サーバー",
    username: "ユーザー名",
    clientId: "クライアント ID",
    topicRoot: "トピックのルート",
    ownCredentials: "このデバイスは自身の認証情報でログインします。Feedkeeper は発行しません。",
    lostPassword:
      "パスワードを紛失した、または信頼できなくなったデバイスが知っている場合は、新しい認証情報を発行してください。古いパスワードはすぐに使えなくなり、新しいパスワードを設定するまでデバイスは切断されます。",
    issue: "新しい認証情報を発行",
    issuing: "発行中…",
    confirm: (name: string) =>
      `${name} の新しい認証情報を発行しますか？デバイスは今すぐ切断され、新しいパスワードを設定するまで給餌できません。`,
    yes: "発行する",
    cancel: "キャンセル",
    ownerOnly: "新しい認証情報を発行できるのはオーナーだけです。",
  },
});

export function FeederConnect({
  feeder,
  canIssue,
  onUnauthorized,
}: {
  feeder: Feeder;
  /** Owners issue credentials; the others see the settings. */
  canIssue: boolean;
  onUnauthorized: () => void;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [issued, setIssued] = useState<CreateFeederResponse | null>(null);
  const yes = useRef<HTMLButtonElement>(null);
  const issueButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);

  if (feeder.deviceKey !== null) {
    return (
      <section class="panel" aria-labelledby="connect-title" data-testid="feeder-connect">
        <h3 id="connect-title">{T.title}</h3>
        <p>{T.ownCredentials}</p>
      </section>
    );
  }

  async function issue() {
    setBusy(true);
    setError(null);
    try {
      setIssued(await api.rotateCredentials(feeder.id));
      setAsking(false);
    } catch (err) {
      if (isUnauthorized(err)) return onUnauthorized();
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  if (issued?.credentials) {
    return (
      <CredentialsPanel
        feeder={issued.feeder}
        credentials={issued.credentials}
        onDismiss={() => {
          setIssued(null);
          // The panel held the focus; give it back to where the owner started.
          requestAnimationFrame(() => issueButton.current?.focus());
        }}
      />
    );
  }

  const rows: CredentialRow[] = [
    [T.mqttServer, `mqtt://${location.hostname}:${MQTT_PORT_HINT}`, "connect-mqtt"],
    [T.username, feeder.id, "connect-username"],
    [T.clientId, feeder.id, "connect-client-id"],
    [T.topicRoot, `feedkeeper/${feeder.id}`, "connect-topic-root"],
  ];
  return (
    <section class="panel" aria-labelledby="connect-title" data-testid="feeder-connect">
      <h3 id="connect-title">{T.title}</h3>
      <p class="hint">{T.intro}</p>
      <CredentialRows rows={rows} />
      <p class="hint">{T.lostPassword}</p>
      <ErrorAlert message={error} />
      {!canIssue && <p class="muted">{T.ownerOnly}</p>}
      {canIssue && !asking && (
        <button type="button" ref={issueButton} onClick={() => setAsking(true)}>
          {T.issue}
        </button>
      )}
      {canIssue && asking && (
        <fieldset
          class="warn confirm"
          onKeyDown={(e) => {
            if (e.key === "Escape") setAsking(false);
          }}
        >
          <p>{T.confirm(feeder.name)}</p>
          <div class="form-actions">
            <button type="button" class="danger" ref={yes} disabled={busy} onClick={issue}>
              {busy ? T.issuing : T.yes}
            </button>
            <button type="button" disabled={busy} onClick={() => setAsking(false)}>
              {T.cancel}
            </button>
          </div>
        </fieldset>
      )}
    </section>
  );
}
