import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, errorMessage, isAbort, isTerminal, isUnauthorized, newIdempotencyKey } from "../api";
import type {
  CreateFeederResponse,
  DeviceProfile,
  Feed,
  Feeder,
  FeederCredentials,
  ProfileProblem,
  ProfilesResponse,
  User,
} from "../api-types";
import { CopyButton } from "../copy-button";
import { formatInstant, formatNumber } from "../dates";
import { FEED_WORDS as W } from "../feed-words";
import { intlLocale, localized } from "../i18n";
import { useLiveChanges } from "../live";
import { canManageDevices, canSeeHousehold } from "../roles";
import { alertsHref } from "../routes";
import { ErrorAlert, Field } from "../ui";
import { useLoad } from "../use-load";
import { FeederLinks } from "./FeederLinks";
import { ModelField, PendingDevices } from "./PendingDevices";

const LIST_REFRESH_MS = 3000;
/** While the live stream is open it says when to reload; this only catches what it could have missed. */
const LIVE_REFRESH_MS = 60_000;
const FEED_POLL_MS = 1000;
/** Stop watching a feed that has no final status after this long (the server expires feeds itself). */
const FEED_WATCH_LIMIT_MS = 10 * 60_000;
export const MQTT_PORT_HINT = 1883;
const DEFAULT_PROFILE = "feedkeeper";
/** The one profile whose firmware is configured by hand in a YAML file with its own names for the credentials. */
const ESPHOME_PROFILE = "esphome-mqtt";

type FeedUnit = DeviceProfile["capabilities"]["feed"]["unit"];

const T = localized({
  en: {
    title: "Feeders",
    loading: "Loading feeders…",
    none: "No feeders yet. Add one below.",
    noneToSee: "No feeders yet. An owner adds them.",
    /** "<portions> (<source>): <status>, <grams> — <error> · <when>", each part but the first optional. */
    feedLine: (portions: string, source: string | null, status: string) =>
      `${portions}${source ? ` (${source})` : ""}: ${status}`,
    feedGrams: (grams: string) => `, ${grams}`,
    online: "Online",
    offline: "Offline",
    foodLevel: "Food level",
    unknown: "unknown",
    low: " (low)",
    battery: "Battery",
    lastSeen: "Last seen",
    never: "never",
    nextMeal: "Next meal",
    noNextMeal: "none planned",
    nextMealLine: (portions: string, at: string, label: string) =>
      `${label ? `${label}: ` : ""}${portions} · ${at}`,
    openAlerts: (n: number) => `${n} open ${n === 1 ? "alert" : "alerts"}`,
    firmware: (version: string) => `firmware ${version}`,
    reports: "Feeder reports:",
    feed: "Feed",
    lastFeed: "Last feed",
    noFeed: "none yet",
    portionsLabel: "Portions",
    feedButton: "Feed",
    feeding: "Feeding…",
    confirmQuestion: (portions: string, grams: string | null, name: string) =>
      `Feed ${portions}${grams ? ` (about ${grams})` : ""} from ${name} now?`,
    confirmYes: "Yes, feed",
    gaveUp: "No final answer from the feeder yet. Check the feeder before feeding again.",
    feedGone: "The server no longer knows this feed.",
    checkFailed: (message: string) => `Could not check the feed (${message}). Retrying…`,
    limitTitle: "Not fed: safety limit.",
    overrideHint: (n: number): string =>
      `Feed anyway sends ${W.portions(n)} past the limit, once; it is logged. Only do this if you know the pet needs it.`,
    ownerOnly: "Only an owner can feed past a safety limit.",
    feedAnyway: "Feed anyway",
    cancel: "Cancel",
    addTitle: "Add a feeder",
    name: "Name",
    nameRequired: "Enter a name for the feeder.",
    deviceType: "Device type",
    profileOption: (p: DeviceProfile) => `${p.name} — ${p.vendor}`,
    profilesLoading: "Loading device types…",
    profilesFailed: (message: string) =>
      `Could not load the device types (${message}); the feeder is added for the “${DEFAULT_PROFILE}” profile.`,
    feedRange: (feed: DeviceProfile["capabilities"]["feed"]): string => {
      const units = ({ portion: "portions", cup: "cups", gram: "grams" } satisfies Record<FeedUnit, string>)[
        feed.unit
      ];
      const step = feed.step === 1 ? "" : ` in steps of ${formatNumber(feed.step, 3)}`;
      const grams =
        feed.portionGrams === undefined ? "" : ` (${W.grams(feed.portionGrams)} per ${feed.unit})`;
      return `Feeds ${formatNumber(feed.min, 3)}–${formatNumber(feed.max, 3)} ${units}${step}${grams}`;
    },
    /** The profile's summary: what it feeds, where its meal plan lives, then the notes that apply. */
    profileSummary: (range: string, schedule: string, notes: string[]) =>
      [`${range}; ${schedule}.`, ...notes].join(" "),
    scheduleOn: {
      server: "meal plans run on the server, which sends each meal as a feed",
      device: "the feeder stores its meal plan (the server sends it over) and feeds on its own",
    } satisfies Record<DeviceProfile["capabilities"]["schedule"]["storage"], string>,
    externalBroker:
      "Its devices are on an external MQTT broker (Zigbee2MQTT's, for example), which this server reads.",
    externalBrokerMissing:
      "Its devices are on an external MQTT broker (Zigbee2MQTT's, for example), and this server reads none: set FEEDKEEPER_MQTT_URL and restart it to add these feeders.",
    guide: (path: string) => `Setup guide: ${path} in the Feedkeeper repository.`,
    profileProblems: (files: number) =>
      `${files} device profile ${files === 1 ? "file" : "files"} could not be loaded:`,
    profileProblem: (p: ProfileProblem) => `${p.file}${p.line > 0 ? ` line ${p.line}` : ""}: ${p.message}`,
    modelRequired: "Choose the model: models differ in what they report and the faults they know.",
    deviceKey: "Device id on the broker",
    deviceKeyHint: "For Zigbee2MQTT, the device's friendly name.",
    deviceKeyRequired: "Enter the device's id on the broker.",
    adoptionHow: (hasGuide: boolean) =>
      `These devices bring their own credentials, so they are not added here. Point the device at this server${hasGuide ? " as its setup guide describes" : ""}; once it connects it shows up under “Waiting devices” on this page, where you adopt it.`,
    add: "Add feeder",
    adding: "Adding…",
    credentialsFor: (name: string) => `Credentials for “${name}”`,
    mqttServer: "MQTT server",
    username: "Username",
    clientId: "Client ID",
    password: "Password",
    topicRoot: "Topic root",
    shownOnce: "Shown only once.",
    copyNow: "Copy these into the feeder's configuration now. The password cannot be displayed again.",
    brokerHint: (url: string) =>
      `The feeder connects to this server's MQTT broker at ${url}. If the feeder cannot reach that host name, use the server's LAN IP address instead.`,
    espHomeTitle: "For the ESPHome configuration",
    espHomeHint:
      "The settings of the mqtt: block in the YAML of docs/devices/esphome-mqtt.md (Feedkeeper repository). There, set the substitution feeder_id to the client_id and feedkeeper_host to the broker, and put the password in secrets.yaml as feedkeeper_password.",
    saved: "I have saved these credentials",
    addedTitle: (name: string) => `“${name}” added`,
    onBroker: (deviceKey: string) =>
      `Nothing to copy: Feedkeeper follows the device on the external broker as “${deviceKey}”. The feeder shows online once the device reports there.`,
    nothingIssued: "Nothing to copy: the device logs in with credentials of its own.",
    done: "Done",
  },
  ja: {
    title: "給餌器",
    loading: "給餌器を読み込み中…",
    none: "給餌器はまだありません。下から追加してください。",
    noneToSee: "給餌器はまだありません。オーナーが追加します。",
    feedLine: (portions: string, source: string | null, status: string) =>
      `${portions}${source ? `（${source}）` : ""} ${status}`,
    feedGrams: (grams: string) => `、${grams}`,
    online: "オンライン",
    offline: "オフライン",
    foodLevel: "フード残量",
    unknown: "不明",
    low: "（残りわずか）",
    battery: "バッテリー",
    lastSeen: "最終接続",
    never: "なし",
    nextMeal: "次の食事",
    noNextMeal: "予定なし",
    nextMealLine: (portions: string, at: string, label: string) =>
      `${label ? `${label}: ` : ""}${portions} · ${at}`,
    openAlerts: (n: number) => `未確認のアラート ${n} 件`,
    firmware: (version: string) => `ファームウェア ${version}`,
    reports: "給餌器からの報告:",
    feed: "給餌",
    lastFeed: "前回の給餌",
    noFeed: "まだありません",
    portionsLabel: "杯数",
    feedButton: "給餌",
    feeding: "給餌中…",
    confirmQuestion: (portions: string, grams: string | null, name: string) =>
      `${name}で今すぐ ${portions}${grams ? `（約 ${grams}）` : ""}を給餌しますか？`,
    confirmYes: "給餌する",
    gaveUp: "給餌器からまだ最終的な応答がありません。もう一度給餌する前に給餌器を確認してください。",
    feedGone: "この給餌はもうサーバーにありません。",
    checkFailed: (message: string) => `給餌の状態を確認できませんでした（${message}）。再試行しています…`,
    limitTitle: "安全上限のため給餌しませんでした。",
    overrideHint: (n: number): string =>
      `「それでも給餌」を押すと、上限を超えて ${W.portions(n)}を 1 回だけ給餌し、記録に残ります。ペットに必要だと分かっている場合だけ使ってください。`,
    ownerOnly: "安全上限を超えて給餌できるのはオーナーだけです。",
    feedAnyway: "それでも給餌",
    cancel: "キャンセル",
    addTitle: "給餌器の追加",
    name: "名前",
    nameRequired: "給餌器の名前を入力してください。",
    deviceType: "デバイスの種類",
    profileOption: (p: DeviceProfile) => `${p.name} — ${p.vendor}`,
    profilesLoading: "デバイスの種類を読み込み中…",
    profilesFailed: (message: string) =>
      `デバイスの種類を読み込めませんでした（${message}）。給餌器は「${DEFAULT_PROFILE}」プロファイルで追加されます。`,
    feedRange: (feed: DeviceProfile["capabilities"]["feed"]): string => {
      const units = ({ portion: "杯", cup: "カップ", gram: "g" } satisfies Record<FeedUnit, string>)[
        feed.unit
      ];
      const notes = [
        feed.step !== 1 && `${formatNumber(feed.step, 3)}\u00a0${units}刻み`,
        feed.portionGrams !== undefined && `1\u00a0${units}あたり ${W.grams(feed.portionGrams)}`,
      ].filter(Boolean);
      const range = `給餌量 ${formatNumber(feed.min, 3)}–${formatNumber(feed.max, 3)}\u00a0${units}`;
      return notes.length > 0 ? `${range}（${notes.join("、")}）` : range;
    },
    profileSummary: (range: string, schedule: string, notes: string[]) =>
      [`${range}。${schedule}。`, ...notes].join(""),
    scheduleOn: {
      server: "給餌プランはサーバーで動き、食事ごとに給餌を送ります",
      device: "給餌プランは給餌器に保存され（サーバーが送ります）、給餌器が自分で給餌します",
    },
    externalBroker:
      "この種類のデバイスは外部の MQTT ブローカー（Zigbee2MQTT のものなど）につながっていて、このサーバーがそれを読み取ります。",
    externalBrokerMissing:
      "この種類のデバイスは外部の MQTT ブローカー（Zigbee2MQTT のものなど）につながっていますが、このサーバーは外部ブローカーを読み取っていません。これらの給餌器を追加するには、FEEDKEEPER_MQTT_URL を設定してサーバーを再起動してください。",
    guide: (path: string) => `セットアップガイド: Feedkeeper リポジトリの ${path}。`,
    profileProblems: (files: number) => `デバイスプロファイルのファイル ${files} 件を読み込めませんでした:`,
    profileProblem: (p: ProfileProblem) => `${p.file}${p.line > 0 ? ` ${p.line} 行目` : ""}: ${p.message}`,
    modelRequired: "モデルを選んでください。モデルによって、報告する内容や認識できる故障が異なります。",
    deviceKey: "ブローカー上のデバイス ID",
    deviceKeyHint: "Zigbee2MQTT では、デバイスのフレンドリー名（friendly_name）です。",
    deviceKeyRequired: "ブローカー上のデバイス ID を入力してください。",
    adoptionHow: (hasGuide: boolean) =>
      `この種類のデバイスは自身の認証情報を使うため、ここでは追加しません。${hasGuide ? "セットアップガイドの説明に従って、" : ""}デバイスの接続先をこのサーバーにしてください。接続すると、このページの「登録待ちのデバイス」に表示されるので、そこで登録します。`,
    add: "給餌器を追加",
    adding: "追加中…",
    credentialsFor: (name: string) => `「${name}」の認証情報`,
    mqttServer: "MQTT サーバー",
    username: "ユーザー名",
    clientId: "クライアント ID",
    password: "パスワード",
    topicRoot: "トピックのルート",
    shownOnce: "一度だけ表示されます。",
    copyNow: "今すぐ給餌器の設定にコピーしてください。パスワードは二度と表示できません。",
    brokerHint: (url: string) =>
      `給餌器はこのサーバーの MQTT ブローカー（${url}）に接続します。給餌器からこのホスト名に届かない場合は、代わりにサーバーの LAN の IP アドレスを使ってください。`,
    espHomeTitle: "ESPHome の設定用",
    espHomeHint:
      "docs/devices/esphome-mqtt.md（Feedkeeper リポジトリ）の YAML にある mqtt: ブロックの設定値です。そこで substitution の feeder_id に client_id を、feedkeeper_host にブローカーを設定し、パスワードは secrets.yaml に feedkeeper_password として書いてください。",
    saved: "この認証情報を控えました",
    addedTitle: (name: string) => `「${name}」を追加しました`,
    onBroker: (deviceKey: string) =>
      `コピーするものはありません。Feedkeeper は外部ブローカー上のデバイスを「${deviceKey}」として追跡します。デバイスがそこで報告すると、給餌器はオンラインになります。`,
    nothingIssued: "コピーするものはありません。デバイスは自身の認証情報でログインします。",
    done: "完了",
  },
});

/** The API's refusal ends with how to override it in a request; here the "Feed anyway" button says that. */
function limitMessage(message: string): string {
  return message.replace(/\s*Send override: true to feed anyway\.?\s*$/i, "").trim() || message;
}

/** A fraction as a whole percentage, in the UI's language. */
function percent(fraction: number): string {
  const clamped = Math.round(Math.min(1, Math.max(0, fraction)) * 100) / 100;
  return new Intl.NumberFormat(intlLocale(), { style: "percent", maximumFractionDigits: 0 }).format(clamped);
}

function describeFeed(feed: Feed, timeZone: string): string {
  const source = feed.source === "remote" ? null : W.source[feed.source];
  let text = T.feedLine(W.portions(feed.portions), source, W.status[feed.status]);
  if (feed.status === "dispensed" && feed.grams !== null) text += T.feedGrams(W.grams(feed.grams));
  if (feed.error) text += ` — ${feed.error}`;
  const at = formatInstant(feed.completedAt ?? feed.requestedAt, timeZone);
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
  /** Owners may feed past a safety limit. */
  canOverride: boolean;
  /** Sitters see no settings: they can change none of them, and the card shows what matters to them. */
  showSettings: boolean;
  onChanged: () => void;
  onUnauthorized: () => void;
}

/** A feed the server refused for a safety limit: what it said, and what was asked for. */
interface Refusal {
  message: string;
  portions: number;
}

function FeederCard({ feeder, canOverride, showSettings, onChanged, onUnauthorized }: CardProps) {
  const maxPortions = Math.max(1, Math.floor(feeder.maxPortions));
  const [portions, setPortions] = useState(1);
  const [posting, setPosting] = useState(false);
  const inFlight = useRef(false);
  const [watched, setWatched] = useState<Feed | null>(null);
  const [watchSince, setWatchSince] = useState(0);
  const [gaveUp, setGaveUp] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const feedButton = useRef<HTMLButtonElement>(null);
  const yesButton = useRef<HTMLButtonElement>(null);
  /** The portions asked for, waiting for a yes: a pet's meal is one tap too easy to give by accident. */
  const [confirming, setConfirming] = useState<number | null>(null);

  const chosen = Math.min(portions, maxPortions);
  const waiting = watched !== null && !isTerminal(watched.status) && !gaveUp;

  // Poll the watched feed every second until it reaches a final status.
  useEffect(() => {
    if (!watched || isTerminal(watched.status) || gaveUp) return;
    const ctrl = new AbortController();
    const timer = setTimeout(async () => {
      if (Date.now() - watchSince > FEED_WATCH_LIMIT_MS) {
        setGaveUp(true);
        setError(T.gaveUp);
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
          setError(T.feedGone);
          return;
        }
        setError(T.checkFailed(errorMessage(err)));
        setWatched({ ...watched }); // re-run this effect: try again in a second
      }
    }, FEED_POLL_MS);
    return () => {
      clearTimeout(timer);
      ctrl.abort();
    };
  }, [watched, watchSince, gaveUp, onChanged, onUnauthorized]);

  async function send(count: number, override: boolean) {
    if (inFlight.current || waiting) return;
    inFlight.current = true;
    setPosting(true);
    setError(null);
    // One key per click; api.feed() retries with the same key, so the feeder dispenses at most once. A refused
    // request created no feed, so "Feed anyway" is a new action with a key of its own.
    const key = newIdempotencyKey();
    try {
      const { feed } = await api.feed(feeder.id, count, key, override);
      setRefusal(null);
      setWatched(feed);
      setWatchSince(Date.now());
      setGaveUp(false);
      onChanged();
      if (override) feedButton.current?.focus(); // the focused "Feed anyway" button is gone
    } catch (err) {
      if (isUnauthorized(err)) onUnauthorized();
      else if (err instanceof ApiError && err.code === "safety_limit" && !override)
        setRefusal({
          message: errorMessage(new ApiError(err.status, err.code, limitMessage(err.message))),
          portions: count,
        });
      else setError(errorMessage(err));
    } finally {
      inFlight.current = false;
      setPosting(false);
    }
  }

  function feed(e: Event) {
    e.preventDefault();
    setRefusal(null);
    setConfirming(chosen);
  }

  function confirmFeed() {
    const count = confirming;
    setConfirming(null);
    if (count !== null) void send(count, false);
    feedButton.current?.focus();
  }

  function cancelFeed() {
    setConfirming(null);
    feedButton.current?.focus();
  }

  // The question takes the focus, so Enter or Space answers it and a screen reader reads it. Escape says no
  // wherever the focus is (the Feed button it came from is disabled meanwhile and lets go of it). A layout
  // effect: the yes button has the focus by the time it is painted, so a quick Enter never goes astray.
  useLayoutEffect(() => {
    if (confirming === null) return;
    yesButton.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") cancelFeed();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [confirming]);

  function dismissRefusal() {
    setRefusal(null);
    feedButton.current?.focus();
  }

  const titleId = `feeder-title-${feeder.id}`;
  const selectId = `portions-${feeder.id}`;
  const refusalId = `refusal-${feeder.id}`;
  const telemetry = feeder.telemetry;
  const foodLevel = telemetry?.foodLevel;
  const current = shownFeed(watched, feeder.lastFeed);
  const device = [feeder.model, feeder.firmware && T.firmware(feeder.firmware)].filter(Boolean).join(" · ");

  return (
    <article class="card" aria-labelledby={titleId} data-testid={`feeder-${feeder.id}`}>
      <div class="card-head">
        <h3 id={titleId}>{feeder.name}</h3>
        <span class={feeder.online ? "badge online" : "badge offline"} data-testid="online-state">
          {feeder.online ? T.online : T.offline}
        </span>
      </div>
      <dl class="facts">
        <div>
          <dt>{T.foodLevel}</dt>
          <dd class={foodLevel !== undefined && foodLevel < 0.2 ? "low" : undefined}>
            {foodLevel === undefined ? T.unknown : `${percent(foodLevel)}${foodLevel < 0.2 ? T.low : ""}`}
          </dd>
        </div>
        {telemetry?.battery !== undefined && (
          <div>
            <dt>{T.battery}</dt>
            <dd>{percent(telemetry.battery)}</dd>
          </div>
        )}
        {!feeder.online && (
          <div>
            <dt>{T.lastSeen}</dt>
            <dd>{feeder.lastSeenAt ? formatInstant(feeder.lastSeenAt, feeder.timeZone) : T.never}</dd>
          </div>
        )}
        <div data-testid="next-meal">
          <dt>{T.nextMeal}</dt>
          <dd>
            {feeder.nextMeal
              ? T.nextMealLine(
                  W.portions(feeder.nextMeal.portions),
                  formatInstant(feeder.nextMeal.dueAt, feeder.timeZone, { seconds: false }),
                  feeder.nextMeal.label,
                )
              : T.noNextMeal}
          </dd>
        </div>
      </dl>
      {feeder.openAlerts > 0 && (
        <p class="warn">
          <a href={alertsHref} data-testid="open-alerts">
            {T.openAlerts(feeder.openAlerts)}
          </a>
        </p>
      )}
      {/* What the device says it is: its own words. */}
      {device && (
        <p class="device" translate={false}>
          {device}
        </p>
      )}
      {telemetry?.error && (
        <p class="warn">
          {T.reports} {telemetry.error}
        </p>
      )}
      <p class="feed-status" role="status" data-testid="feed-status" data-status={current?.status}>
        <span class="label">{current === watched && current ? T.feed : T.lastFeed}: </span>
        {current ? describeFeed(current, feeder.timeZone) : T.noFeed}
      </p>
      <ErrorAlert message={error} />
      {refusal && (
        <div class="warn refusal" data-testid="safety-limit">
          <p id={refusalId} role="alert">
            <strong>{T.limitTitle}</strong> {refusal.message}
          </p>
          <p class="hint">{canOverride ? T.overrideHint(refusal.portions) : T.ownerOnly}</p>
          <div class="form-actions">
            {canOverride && (
              <button
                type="button"
                class="override"
                aria-describedby={refusalId}
                disabled={posting || waiting}
                onClick={() => void send(refusal.portions, true)}
              >
                {T.feedAnyway}
              </button>
            )}
            <button type="button" disabled={posting} onClick={dismissRefusal}>
              {T.cancel}
            </button>
          </div>
        </div>
      )}
      <form class="feed-form" onSubmit={feed}>
        <label for={selectId}>{T.portionsLabel}</label>
        <select
          id={selectId}
          value={String(chosen)}
          onChange={(e) => {
            setPortions(Number(e.currentTarget.value));
            setRefusal(null); // a different request: the refusal was about the old one
          }}
          disabled={posting || waiting}
        >
          {Array.from({ length: maxPortions }, (_, i) => (
            <option key={i + 1} value={String(i + 1)}>
              {i + 1}
            </option>
          ))}
        </select>
        <button
          type="submit"
          class="primary feed-button"
          ref={feedButton}
          disabled={posting || waiting || confirming !== null}
        >
          {posting || waiting ? T.feeding : T.feedButton}
        </button>
      </form>
      {confirming !== null && (
        <fieldset class="feed-confirm" data-testid="feed-confirm">
          <legend>
            {T.confirmQuestion(
              W.portions(confirming),
              feeder.portionGrams === null ? null : W.grams(confirming * feeder.portionGrams),
              feeder.name,
            )}
          </legend>
          <div class="form-actions">
            <button type="button" class="primary" ref={yesButton} onClick={confirmFeed}>
              {T.confirmYes}
            </button>
            <button type="button" onClick={cancelFeed}>
              {T.cancel}
            </button>
          </div>
        </fieldset>
      )}
      <FeederLinks
        feeder={feeder}
        pages={showSettings ? ["schedule", "history", "settings"] : ["schedule", "history"]}
      />
    </article>
  );
}

/** What a device type can do, where its meal plan lives, and where its setup guide is. */
function describeProfile(profile: DeviceProfile, externalBroker: boolean): string {
  const { feed, schedule } = profile.capabilities;
  const notes = [
    profile.broker === "external" ? (externalBroker ? T.externalBroker : T.externalBrokerMissing) : "",
    profile.guide ? T.guide(profile.guide) : "",
  ].filter(Boolean);
  return T.profileSummary(T.feedRange(feed), T.scheduleOn[schedule.storage], notes);
}

function AddFeeder({
  profiles,
  externalBroker,
  profilesError,
  onCreated,
  onUnauthorized,
}: {
  /** The device types the server knows; null until loaded. */
  profiles: DeviceProfile[] | null;
  /** The server reads an external broker, so its profiles can be added. */
  externalBroker: boolean;
  profilesError: string | null;
  onCreated: (res: CreateFeederResponse) => void;
  onUnauthorized: () => void;
}) {
  const [name, setName] = useState("");
  const [profileId, setProfileId] = useState(DEFAULT_PROFILE);
  const [model, setModel] = useState("");
  const [deviceKey, setDeviceKey] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  // The default may be missing from a server's list: then the select shows, and adds, its first entry.
  const chosen = profiles?.find((p) => p.id === profileId) ?? profiles?.[0];
  const joins = chosen?.joins ?? "credentials";
  const models = chosen?.models ?? [];
  // With one model the server knows which it is; with several, only the owner does.
  const needsModel = joins !== "adoption" && models.length > 1;
  const chosenModel = models.some((m) => m.id === model) ? model : "";

  async function submit(e: Event) {
    e.preventDefault();
    const trimmed = name.trim();
    const key = deviceKey.trim();
    if (busy || joins === "adoption") return;
    if (!trimmed) return setError(T.nameRequired);
    if (needsModel && !chosenModel) return setError(T.modelRequired);
    if (joins === "deviceKey" && !key) return setError(T.deviceKeyRequired);
    setBusy(true);
    setError(null);
    try {
      onCreated(
        await api.createFeeder({
          name: trimmed,
          profile: chosen?.id ?? profileId,
          ...(needsModel && { model: chosenModel }),
          ...(joins === "deviceKey" && { deviceKey: key }),
        }),
      );
      setName("");
      setDeviceKey("");
    } catch (err) {
      if (isUnauthorized(err)) onUnauthorized();
      else setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  // The device type comes first: it decides which of the other fields there are.
  return (
    <section class="panel" aria-labelledby="add-title">
      <h2 id="add-title">{T.addTitle}</h2>
      <form onSubmit={submit}>
        <div class="field">
          <label for="feeder-profile">{T.deviceType}</label>
          <select
            id="feeder-profile"
            value={chosen?.id ?? profileId}
            aria-describedby="feeder-profile-hint"
            disabled={busy || profiles === null}
            onChange={(e) => {
              setProfileId(e.currentTarget.value);
              setModel("");
              setError(null);
            }}
          >
            {profiles === null ? (
              <option value={profileId}>{profileId}</option>
            ) : (
              profiles.map((p) => (
                <option key={p.id} value={p.id}>
                  {T.profileOption(p)}
                </option>
              ))
            )}
          </select>
          <small id="feeder-profile-hint" class="hint" data-testid="profile-summary">
            {chosen
              ? describeProfile(chosen, externalBroker)
              : profilesError
                ? T.profilesFailed(profilesError)
                : profiles === null && T.profilesLoading}
          </small>
        </div>
        {joins === "adoption" ? (
          <p class="warn" data-testid="adoption-how">
            {T.adoptionHow(Boolean(chosen?.guide))}
          </p>
        ) : (
          <>
            <Field
              id="feeder-name"
              label={T.name}
              value={name}
              onInput={setName}
              maxLength={64}
              disabled={busy}
            />
            {needsModel && (
              <ModelField
                id="feeder-model"
                models={models}
                value={chosenModel}
                onChange={setModel}
                disabled={busy}
              />
            )}
            {joins === "deviceKey" && (
              <Field
                id="feeder-device-key"
                label={T.deviceKey}
                hint={T.deviceKeyHint}
                value={deviceKey}
                onInput={setDeviceKey}
                maxLength={128}
                disabled={busy}
              />
            )}
            <ErrorAlert message={error} />
            <button type="submit" class="primary" disabled={busy}>
              {busy ? T.adding : T.add}
            </button>
          </>
        )}
      </form>
    </section>
  );
}

/** Profile files the server skipped at start: the owner fixes them there, and restarts it. */
function ProfileProblems({ problems }: { problems: ProfileProblem[] }) {
  if (problems.length === 0) return null;
  const files = new Set(problems.map((p) => p.file)).size;
  return (
    <div class="warn problems" data-testid="profile-problems">
      <p>{T.profileProblems(files)}</p>
      <ul>
        {problems.map((p) => (
          <li key={`${p.file}:${p.line}:${p.column}:${p.message}`}>{T.profileProblem(p)}</li>
        ))}
      </ul>
    </div>
  );
}

/** [label, value, test id] */
export type CredentialRow = [string, string, string];

export function CredentialRows({ rows }: { rows: CredentialRow[] }) {
  return (
    <dl class="creds">
      {rows.map(([label, value, testId]) => (
        <div key={testId}>
          <dt>{label}</dt>
          <dd>
            <code data-testid={testId}>{value}</code> <CopyButton text={value} what={label} />
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** A new feeder whose device logs in with nothing Feedkeeper issued: only what happens next. */
function AddedPanel({ feeder, onDismiss }: { feeder: Feeder; onDismiss: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
  }, []);
  return (
    <section class="panel" aria-labelledby="added-title" data-testid="feeder-added">
      <h2 id="added-title" tabIndex={-1} ref={heading}>
        {T.addedTitle(feeder.name)}
      </h2>
      <p>{feeder.deviceKey === null ? T.nothingIssued : T.onBroker(feeder.deviceKey)}</p>
      <button type="button" onClick={onDismiss}>
        {T.done}
      </button>
    </section>
  );
}

export function CredentialsPanel({
  feeder,
  credentials,
  onDismiss,
}: {
  feeder: Feeder;
  credentials: FeederCredentials;
  onDismiss: () => void;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
  }, []);
  const mqttUrl = `mqtt://${location.hostname}:${MQTT_PORT_HINT}`;
  const rows: CredentialRow[] = [
    [T.mqttServer, mqttUrl, "cred-mqtt"],
    [T.username, credentials.username, "cred-username"],
    [T.clientId, credentials.clientId, "cred-client-id"],
    [T.password, credentials.password, "cred-password"],
    [T.topicRoot, credentials.topicRoot, "cred-topic-root"],
  ];
  // The same values under the names of ESPHome's mqtt: block (docs/devices/esphome-mqtt.md).
  const espHomeRows: CredentialRow[] = [
    ["broker", location.hostname, "esphome-broker"],
    ["port", String(MQTT_PORT_HINT), "esphome-port"],
    ["client_id", credentials.clientId, "esphome-client-id"],
    ["username", credentials.username, "esphome-username"],
    ["password", credentials.password, "esphome-password"],
    ["topic_prefix", credentials.topicRoot, "esphome-topic-prefix"],
  ];
  return (
    <section class="panel credentials" aria-labelledby="cred-title" data-testid="credentials">
      <h2 id="cred-title" tabIndex={-1} ref={heading}>
        {T.credentialsFor(feeder.name)}
      </h2>
      <p class="warn">
        <strong>{T.shownOnce}</strong> {T.copyNow}
      </p>
      <CredentialRows rows={rows} />
      <p class="hint">{T.brokerHint(mqttUrl)}</p>
      {feeder.profile === ESPHOME_PROFILE && (
        <section aria-labelledby="cred-esphome-title" data-testid="esphome-settings">
          <h3 id="cred-esphome-title">{T.espHomeTitle}</h3>
          <p class="hint">{T.espHomeHint}</p>
          <CredentialRows rows={espHomeRows} />
        </section>
      )}
      <button type="button" onClick={onDismiss}>
        {T.saved}
      </button>
    </section>
  );
}

interface Props {
  user: User;
  /** The number of devices waiting to be adopted, for the header's badge. */
  onPendingCount: (count: number) => void;
  onUnauthorized: () => void;
}

export function Feeders({ user, onPendingCount, onUnauthorized }: Props) {
  const [feeders, setFeeders] = useState<Feeder[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [created, setCreated] = useState<CreateFeederResponse | null>(null);
  const [profiles, setProfiles] = useState<ProfilesResponse | null>(null);
  const [profilesError, setProfilesError] = useState<string | null>(null);
  const listHeading = useRef<HTMLHeadingElement>(null);
  const manage = canManageDevices(user.role);
  const canOverride = manage;
  const showSettings = canSeeHousehold(user.role);

  // A stale answer lands before a newer one is asked for, so one trailing reload after a burst is enough.
  const reload = useRef<() => void>(() => undefined);
  const live = useLiveChanges(
    (c) => c.kind === "feeders" || c.kind === "feeder" || c.kind === "alerts",
    () => reload.current(),
  );
  const refreshNow = useLoad(
    {
      fetch: (signal) => api.feeders(signal),
      onData: (res) => {
        setFeeders(res.feeders);
        setListError(null);
      },
      onError: setListError,
      onUnauthorized,
    },
    [onUnauthorized],
    live ? LIVE_REFRESH_MS : LIST_REFRESH_MS,
  );
  reload.current = refreshNow;

  // The profiles are read once: the server loads them at start only.
  useLoad(
    {
      fetch: (signal) => api.profiles(signal),
      onData: (res) => {
        setProfiles(res);
        setProfilesError(null);
      },
      onError: setProfilesError,
      onUnauthorized,
    },
    [onUnauthorized],
  );

  const onAdded = useCallback(
    (feeder: Feeder) => {
      setFeeders((list) => (list && !list.some((f) => f.id === feeder.id) ? [...list, feeder] : list));
      refreshNow();
    },
    [refreshNow],
  );

  function onCreated(res: CreateFeederResponse) {
    setCreated(res);
    onAdded(res.feeder);
  }

  function dismissCredentials() {
    setCreated(null);
    listHeading.current?.focus(); // the focused panel disappears; keep keyboard users in place
  }

  return (
    <>
      {created?.credentials ? (
        <CredentialsPanel
          feeder={created.feeder}
          credentials={created.credentials}
          onDismiss={dismissCredentials}
        />
      ) : (
        created && <AddedPanel feeder={created.feeder} onDismiss={dismissCredentials} />
      )}
      <section aria-labelledby="feeders-title">
        <h2 id="feeders-title" tabIndex={-1} ref={listHeading}>
          {T.title}
        </h2>
        <ErrorAlert message={listError} />
        {manage && <ProfileProblems problems={profiles?.problems ?? []} />}
        {feeders === null && !listError && <p class="muted">{T.loading}</p>}
        {feeders?.length === 0 && <p class="muted">{manage ? T.none : T.noneToSee}</p>}
        <div class="cards">
          {feeders?.map((f) => (
            <FeederCard
              key={f.id}
              feeder={f}
              canOverride={canOverride}
              showSettings={showSettings}
              onChanged={refreshNow}
              onUnauthorized={onUnauthorized}
            />
          ))}
        </div>
      </section>
      {manage && (
        <PendingDevices
          profiles={profiles?.profiles ?? null}
          onAdopted={onAdded}
          onCount={onPendingCount}
          onUnauthorized={onUnauthorized}
        />
      )}
      {manage && (
        <AddFeeder
          profiles={profiles?.profiles ?? null}
          externalBroker={profiles?.externalBroker ?? false}
          profilesError={profilesError}
          onCreated={onCreated}
          onUnauthorized={onUnauthorized}
        />
      )}
    </>
  );
}
