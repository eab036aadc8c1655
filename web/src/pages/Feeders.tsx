import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, errorMessage, isAbort, isTerminal, isUnauthorized, newIdempotencyKey } from "../api";
import type {
  CreateFeederResponse,
  DeviceProfile,
  Feed,
  Feeder,
  FeederCredentials,
  FeedStatus,
  ProfileProblem,
  ProfilesResponse,
  User,
} from "../api-types";
import { formatInstant } from "../dates";
import { canManageDevices, canSeeHousehold } from "../roles";
import { scheduleHref, settingsHref } from "../routes";
import { ErrorAlert, Field } from "../ui";
import { useLoad } from "../use-load";
import { ModelField, PendingDevices } from "./PendingDevices";

const LIST_REFRESH_MS = 3000;
const FEED_POLL_MS = 1000;
/** Stop watching a feed that has no final status after this long (the server expires feeds itself). */
const FEED_WATCH_LIMIT_MS = 10 * 60_000;
export const MQTT_PORT_HINT = 1883;
const DEFAULT_PROFILE = "feedkeeper";
/** The one profile whose firmware is configured by hand in a YAML file with its own names for the credentials. */
const ESPHOME_PROFILE = "esphome-mqtt";

const portionsText = (n: number) => `${n}\u00a0${n === 1 ? "portion" : "portions"}`;

// Every string of this page, for the translations to come.
const T = {
  title: "Feeders",
  loading: "Loading feeders…",
  none: "No feeders yet. Add one below.",
  noneToSee: "No feeders yet. An owner adds them.",
  status: {
    pending: "waiting to be sent",
    sent: "sent to the feeder",
    accepted: "dispensing",
    dispensed: "dispensed",
    failed: "failed",
    expired: "expired (the feeder did not get it in time)",
    timed_out: "timed out (no confirmation from the feeder)",
  } satisfies Record<FeedStatus, string>,
  portions: portionsText,
  grams: (g: number) => `${g}\u00a0g`,
  online: "Online",
  offline: "Offline",
  foodLevel: "Food level",
  unknown: "unknown",
  low: " (low)",
  battery: "Battery",
  lastSeen: "Last seen",
  never: "never",
  firmware: (version: string) => `firmware ${version}`,
  reports: "Feeder reports:",
  feed: "Feed",
  lastFeed: "Last feed",
  noFeed: "none yet",
  portionsLabel: "Portions",
  feedButton: "Feed",
  feeding: "Feeding…",
  gaveUp: "No final answer from the feeder yet. Check the feeder before feeding again.",
  feedGone: "The server no longer knows this feed.",
  checkFailed: (message: string) => `Could not check the feed (${message}). Retrying…`,
  limitTitle: "Not fed: safety limit.",
  overrideHint: (n: number) =>
    `Feed anyway sends ${portionsText(n)} past the limit, once; it is logged. Only do this if you know the pet needs it.`,
  ownerOnly: "Only an owner can feed past a safety limit.",
  feedAnyway: "Feed anyway",
  cancel: "Cancel",
  mealPlan: "Meal plan",
  mealPlanFor: (name: string) => `Meal plan for ${name}`,
  settings: "Settings",
  settingsFor: (name: string) => `Settings for ${name}`,
  addTitle: "Add a feeder",
  name: "Name",
  nameRequired: "Enter a name for the feeder.",
  deviceType: "Device type",
  profileOption: (p: DeviceProfile) => `${p.name} — ${p.vendor}`,
  profilesLoading: "Loading device types…",
  profilesFailed: (message: string) =>
    `Could not load the device types (${message}); the feeder is added for the “${DEFAULT_PROFILE}” profile.`,
  feedRange: (feed: DeviceProfile["capabilities"]["feed"]) => {
    const units = { portion: "portions", cup: "cups", gram: "grams" }[feed.unit];
    const step = feed.step === 1 ? "" : ` in steps of ${feed.step}`;
    const grams = feed.portionGrams === undefined ? "" : ` (${feed.portionGrams}\u00a0g per ${feed.unit})`;
    return `Feeds ${feed.min}–${feed.max} ${units}${step}${grams}`;
  },
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
};

/** The API's refusal ends with how to override it in a request; here the "Feed anyway" button says that. */
function limitMessage(message: string): string {
  return message.replace(/\s*Send override: true to feed anyway\.?\s*$/i, "").trim() || message;
}

function percent(fraction: number): string {
  return `${Math.round(Math.min(1, Math.max(0, fraction)) * 100)}%`;
}

function describeFeed(feed: Feed): string {
  const source = feed.source === "remote" ? "" : ` (${feed.source})`;
  let text = `${T.portions(feed.portions)}${source}: ${T.status[feed.status]}`;
  if (feed.status === "dispensed" && feed.grams !== null) text += `, ${T.grams(feed.grams)}`;
  if (feed.error) text += ` — ${feed.error}`;
  const at = formatInstant(feed.completedAt ?? feed.requestedAt);
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
        setRefusal({ message: limitMessage(err.message), portions: count });
      else setError(errorMessage(err));
    } finally {
      inFlight.current = false;
      setPosting(false);
    }
  }

  function feed(e: Event) {
    e.preventDefault();
    setRefusal(null);
    void send(chosen, false);
  }

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
            <dd>{feeder.lastSeenAt ? formatInstant(feeder.lastSeenAt) : T.never}</dd>
          </div>
        )}
      </dl>
      {device && <p class="device">{device}</p>}
      {telemetry?.error && (
        <p class="warn">
          {T.reports} {telemetry.error}
        </p>
      )}
      <p class="feed-status" role="status" data-testid="feed-status" data-status={current?.status}>
        <span class="label">{current === watched && current ? T.feed : T.lastFeed}: </span>
        {current ? describeFeed(current) : T.noFeed}
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
        <button type="submit" class="primary" ref={feedButton} disabled={posting || waiting}>
          {posting || waiting ? T.feeding : T.feedButton}
        </button>
      </form>
      <p class="card-links">
        <a href={scheduleHref(feeder.id)} aria-label={T.mealPlanFor(feeder.name)}>
          {T.mealPlan}
        </a>
        {showSettings && (
          <a href={settingsHref(feeder.id)} aria-label={T.settingsFor(feeder.name)}>
            {T.settings}
          </a>
        )}
      </p>
    </article>
  );
}

/** What a device type can do, where its meal plan lives, and where its setup guide is. */
function describeProfile(profile: DeviceProfile, externalBroker: boolean): string {
  const { feed, schedule } = profile.capabilities;
  const parts = [
    `${T.feedRange(feed)}; ${T.scheduleOn[schedule.storage]}.`,
    profile.broker === "external" && (externalBroker ? T.externalBroker : T.externalBrokerMissing),
    profile.guide && T.guide(profile.guide),
  ];
  return parts.filter(Boolean).join(" ");
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
type CredentialRow = [string, string, string];

function CredentialRows({ rows }: { rows: CredentialRow[] }) {
  return (
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

function CredentialsPanel({
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
    LIST_REFRESH_MS,
  );

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
