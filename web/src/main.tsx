import "./styles.css";
import { render } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api, errorMessage, isUnauthorized } from "./api";
import type { User } from "./api-types";
import { initLocale, LOCALE_NAMES, LOCALES, type Locale, localized, setLocale } from "./i18n";
import { type LiveChanges, LiveContext, openLiveChanges } from "./live";
import { Account } from "./pages/Account";
import { Alerts } from "./pages/Alerts";
import { Audit } from "./pages/Audit";
import { ConnectionLog } from "./pages/ConnectionLog";
import { FeederSettings } from "./pages/FeederSettings";
import { Feeders } from "./pages/Feeders";
import { History } from "./pages/History";
import { Login } from "./pages/Login";
import { MealPlan } from "./pages/MealPlan";
import { Pets } from "./pages/Pets";
import { ServerSettings } from "./pages/ServerSettings";
import { Setup } from "./pages/Setup";
import { Users } from "./pages/Users";
import { canEditHousehold, canManageDevices, canManageUsers, canSeeHousehold } from "./roles";
import {
  accountHref,
  alertsHref,
  auditHref,
  connectionsHref,
  feedersHref,
  parseHash,
  petsHref,
  type Route,
  serverHref,
  usersHref,
} from "./routes";
import { ErrorAlert } from "./ui";

type View =
  | { kind: "loading" }
  | { kind: "error"; message: string }
  | { kind: "setup" }
  | { kind: "login"; notice?: string }
  | { kind: "signedIn"; user: User };

const TITLES = localized<Record<Exclude<View["kind"], "signedIn"> | Route["page"], string>>({
  en: {
    loading: "Feedkeeper",
    error: "Feedkeeper",
    setup: "First-run setup · Feedkeeper",
    login: "Sign in · Feedkeeper",
    feeders: "Feeders · Feedkeeper",
    schedule: "Meal plan · Feedkeeper",
    settings: "Feeder settings · Feedkeeper",
    history: "Feeder history · Feedkeeper",
    alerts: "Alerts · Feedkeeper",
    pets: "Pets · Feedkeeper",
    connections: "Connections · Feedkeeper",
    users: "Users · Feedkeeper",
    account: "Your account · Feedkeeper",
    audit: "Audit log · Feedkeeper",
    server: "Server settings · Feedkeeper",
  },
  ja: {
    loading: "Feedkeeper",
    error: "Feedkeeper",
    setup: "初期設定 · Feedkeeper",
    login: "サインイン · Feedkeeper",
    feeders: "給餌器 · Feedkeeper",
    schedule: "給餌プラン · Feedkeeper",
    settings: "給餌器の設定 · Feedkeeper",
    history: "給餌器の履歴 · Feedkeeper",
    alerts: "アラート · Feedkeeper",
    pets: "ペット · Feedkeeper",
    connections: "接続 · Feedkeeper",
    users: "ユーザー · Feedkeeper",
    account: "アカウント · Feedkeeper",
    audit: "監査ログ · Feedkeeper",
    server: "サーバー設定 · Feedkeeper",
  },
});

const NAV = localized({
  en: {
    label: "Pages",
    feeders: "Feeders",
    pets: "Pets",
    alerts: "Alerts",
    connections: "Connections",
    users: "Users",
    account: "Account",
    audit: "Audit log",
    server: "Server",
    accountOf: (username: string) => `Your account: ${username}`,
    notAllowed: "Your role cannot open this page. Ask an owner if you need it.",
    unacknowledged: (n: number) => `${n} new`,
    waiting: (n: number) => `${n} ${n === 1 ? "device" : "devices"} waiting to be adopted`,
    language: "Language",
    signOut: "Sign out",
    loading: "Loading…",
    tryAgain: "Try again",
    sessionEnded: "Your session has ended. Please sign in again.",
    signedOut: "You have signed out.",
    setupDone: "Setup is already complete. Please sign in.",
  },
  ja: {
    label: "ページ",
    feeders: "給餌器",
    pets: "ペット",
    alerts: "アラート",
    connections: "接続",
    users: "ユーザー",
    account: "アカウント",
    audit: "監査ログ",
    server: "サーバー",
    accountOf: (username: string) => `あなたのアカウント: ${username}`,
    notAllowed: "あなたの役割ではこのページを開けません。必要ならオーナーに頼んでください。",
    unacknowledged: (n: number) => `新着 ${n} 件`,
    waiting: (n: number) => `登録待ちのデバイス ${n} 台`,
    language: "言語",
    signOut: "サインアウト",
    loading: "読み込み中…",
    tryAgain: "もう一度試す",
    sessionEnded: "セッションが終了しました。もう一度サインインしてください。",
    signedOut: "サインアウトしました。",
    setupDone: "初期設定はすでに完了しています。サインインしてください。",
  },
});

/** The language switch: each language named in itself, so anyone finds their own. */
function LanguageSwitch({ value, onChange }: { value: Locale; onChange: (locale: Locale) => void }) {
  return (
    <select
      class="language"
      aria-label={NAV.language}
      value={value}
      onChange={(e) => onChange(e.currentTarget.value as Locale)}
    >
      {LOCALES.map((l) => (
        <option key={l} value={l} lang={l}>
          {LOCALE_NAMES[l]}
        </option>
      ))}
    </select>
  );
}

const COUNT_REFRESH_MS = 15_000;

const unacknowledgedAlerts = async (signal: AbortSignal) => (await api.alerts(1, signal)).unacknowledged;
const waitingDevices = async (signal: AbortSignal) => (await api.pendingDevices(signal)).devices.length;

/**
 * A number for a header badge, polled while `enabled`; null until known. The page that lists the things
 * counted reports the count itself through the setter, at once after a change.
 */
function useCount(
  enabled: boolean,
  fetchCount: (signal: AbortSignal) => Promise<number>,
  onUnauthorized: () => void,
  /** A change of this asks again at once (e.g. the live stream said alerts changed). */
  refreshKey = 0,
) {
  const [count, setCount] = useState<number | null>(null);
  useEffect(() => {
    if (!enabled) return;
    const ctrl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      if (!document.hidden) {
        try {
          setCount(await fetchCount(ctrl.signal));
        } catch (err) {
          if (isUnauthorized(err)) return onUnauthorized();
          // The badge is a hint; the pages report failures. Try again next period.
        }
      }
      if (!ctrl.signal.aborted) timer = setTimeout(tick, COUNT_REFRESH_MS);
    };
    void tick();
    return () => {
      ctrl.abort();
      clearTimeout(timer);
    };
  }, [enabled, fetchCount, onUnauthorized, refreshKey]);
  return [count, setCount] as const;
}

/** Alerts call for attention; waiting devices only for a look. */
function CountBadge(props: { count: number | null; label: string; info?: boolean; testId: string }) {
  const { count } = props;
  if (!count) return null;
  return (
    <span class={props.info ? "count info" : "count"} data-testid={props.testId}>
      {count}
      <span class="visually-hidden"> {props.label}</span>
    </span>
  );
}

/** Pages a role cannot read at all; the rest show what the role may see, with fewer controls. */
function mayOpen(user: User, route: Route): boolean {
  if (route.page === "connections" || route.page === "users") return canSeeHousehold(user.role);
  if (route.page === "audit" || route.page === "server") return canManageUsers(user.role);
  return true;
}

function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

function App() {
  const [view, setView] = useState<View>({ kind: "loading" });
  const [lang, setLang] = useState<Locale>(initLocale);
  const changeLanguage = useCallback((next: Locale) => {
    setLocale(next);
    setLang(next);
  }, []);
  const [logoutError, setLogoutError] = useState<string | null>(null);
  const route = useHashRoute();
  const page = view.kind === "signedIn" ? route.page : view.kind;
  const shownRoute = useRef(route.page);

  const boot = useCallback(async () => {
    setView({ kind: "loading" });
    try {
      const { required } = await api.setupStatus();
      if (required) return setView({ kind: "setup" });
      const { user } = await api.session();
      setView({ kind: "signedIn", user });
    } catch (err) {
      if (isUnauthorized(err)) setView({ kind: "login" });
      else setView({ kind: "error", message: errorMessage(err) });
    }
  }, []);

  useEffect(() => {
    void boot();
  }, [boot]);

  useEffect(() => {
    document.title = TITLES[page];
  }, [page, lang]);

  // A hash link replaces the page without a load: start keyboard and screen reader users at its heading.
  useEffect(() => {
    if (shownRoute.current === route.page) return;
    shownRoute.current = route.page;
    document.querySelector<HTMLElement>("main h2[tabindex]")?.focus();
  }, [route.page]);

  const onSignedIn = useCallback((user: User) => setView({ kind: "signedIn", user }), []);
  const onUnauthorized = useCallback(() => setView({ kind: "login", notice: NAV.sessionEnded }), []);
  const signedIn = view.kind === "signedIn";
  const [live, setLive] = useState<LiveChanges | null>(null);
  // One live stream while signed in; a new sign-in opens a new one with the new session.
  useEffect(() => {
    if (!signedIn) return;
    const changes = openLiveChanges();
    setLive(changes);
    return () => {
      changes.close();
      setLive(null);
    };
  }, [signedIn, view]);
  const [liveOn, setLiveOn] = useState(false);
  useEffect(() => {
    setLiveOn(live?.connected() ?? false);
    return live?.onConnectedChange(setLiveOn);
  }, [live]);
  const [alertsChanged, setAlertsChanged] = useState(0);
  useEffect(
    () =>
      live?.subscribe((changes) => {
        if (changes.some((c) => c.kind === "alerts")) setAlertsChanged((n) => n + 1);
      }),
    [live],
  );
  const [alertCount, setAlertCount] = useCount(signedIn, unacknowledgedAlerts, onUnauthorized, alertsChanged);
  // The Feeders page lists the waiting devices, and reports their number itself.
  const role = view.kind === "signedIn" ? view.user.role : null;
  // Only owners adopt devices, so only they are asked how many wait.
  const [pendingCount, setPendingCount] = useCount(
    role !== null && canManageDevices(role) && route.page !== "feeders",
    waitingDevices,
    onUnauthorized,
  );

  async function logout() {
    setLogoutError(null);
    try {
      await api.logout();
    } catch (err) {
      if (!isUnauthorized(err)) {
        setLogoutError(errorMessage(err));
        return;
      }
    }
    setView({ kind: "login", notice: NAV.signedOut });
  }

  return (
    <LiveContext.Provider value={live}>
      {/* data-live: whether the pages hear of changes at once (tests wait for it; pages poll slowly then). */}
      <header class="topbar" data-live={liveOn ? "on" : "off"}>
        <h1>Feedkeeper</h1>
        {view.kind === "signedIn" && (
          <nav class="nav" aria-label={NAV.label}>
            <a href={feedersHref} aria-current={route.page === "feeders" ? "page" : undefined}>
              {NAV.feeders}
              <CountBadge
                count={pendingCount}
                label={NAV.waiting(pendingCount ?? 0)}
                info
                testId="pending-nav-count"
              />
            </a>
            <a href={petsHref} aria-current={route.page === "pets" ? "page" : undefined}>
              {NAV.pets}
            </a>
            <a href={alertsHref} aria-current={route.page === "alerts" ? "page" : undefined}>
              {NAV.alerts}
              <CountBadge
                count={alertCount}
                label={NAV.unacknowledged(alertCount ?? 0)}
                testId="alert-count"
              />
            </a>
            {canSeeHousehold(view.user.role) && (
              <a href={connectionsHref()} aria-current={route.page === "connections" ? "page" : undefined}>
                {NAV.connections}
              </a>
            )}
            {canSeeHousehold(view.user.role) ? (
              <a href={usersHref} aria-current={route.page === "users" ? "page" : undefined}>
                {NAV.users}
              </a>
            ) : (
              <a href={accountHref} aria-current={route.page === "account" ? "page" : undefined}>
                {NAV.account}
              </a>
            )}
            {canManageUsers(view.user.role) && (
              <a href={auditHref} aria-current={route.page === "audit" ? "page" : undefined}>
                {NAV.audit}
              </a>
            )}
            {canManageUsers(view.user.role) && (
              <a href={serverHref} aria-current={route.page === "server" ? "page" : undefined}>
                {NAV.server}
              </a>
            )}
          </nav>
        )}
        {view.kind === "signedIn" && (
          <div class="account">
            <a
              class="muted account-link"
              href={accountHref}
              aria-label={NAV.accountOf(view.user.username)}
              aria-current={route.page === "account" ? "page" : undefined}
            >
              {view.user.username}
            </a>
            <button type="button" onClick={logout}>
              {NAV.signOut}
            </button>
          </div>
        )}
        <LanguageSwitch value={lang} onChange={changeLanguage} />
      </header>
      {/* A new language remounts the page, so every string and format is redrawn in it (a form's input goes). */}
      <main key={lang}>
        <ErrorAlert message={logoutError} />
        {view.kind === "loading" && <p class="muted">{NAV.loading}</p>}
        {view.kind === "error" && (
          <>
            <ErrorAlert message={view.message} />
            <button type="button" onClick={boot}>
              {NAV.tryAgain}
            </button>
          </>
        )}
        {view.kind === "setup" && (
          <Setup
            onDone={onSignedIn}
            onAlreadyDone={() => setView({ kind: "login", notice: NAV.setupDone })}
          />
        )}
        {view.kind === "login" && <Login onDone={onSignedIn} notice={view.notice} />}
        {view.kind === "signedIn" && !mayOpen(view.user, route) && <p class="notice">{NAV.notAllowed}</p>}
        {view.kind === "signedIn" && route.page === "feeders" && (
          <Feeders user={view.user} onPendingCount={setPendingCount} onUnauthorized={onUnauthorized} />
        )}
        {view.kind === "signedIn" && route.page === "schedule" && (
          <MealPlan
            key={route.feederId}
            feederId={route.feederId}
            canEdit={canEditHousehold(view.user.role)}
            onUnauthorized={onUnauthorized}
          />
        )}
        {view.kind === "signedIn" && route.page === "settings" && (
          <FeederSettings
            key={route.feederId}
            feederId={route.feederId}
            canEdit={canManageDevices(view.user.role)}
            onUnauthorized={onUnauthorized}
          />
        )}
        {view.kind === "signedIn" && route.page === "history" && (
          <History
            key={route.feederId}
            feederId={route.feederId}
            showSettings={canSeeHousehold(view.user.role)}
            onUnauthorized={onUnauthorized}
          />
        )}
        {view.kind === "signedIn" && route.page === "pets" && (
          <Pets canEdit={canEditHousehold(view.user.role)} onUnauthorized={onUnauthorized} />
        )}
        {view.kind === "signedIn" && route.page === "alerts" && (
          <Alerts
            onCount={setAlertCount}
            canAcknowledge={canEditHousehold(view.user.role)}
            onUnauthorized={onUnauthorized}
          />
        )}
        {view.kind === "signedIn" && route.page === "connections" && mayOpen(view.user, route) && (
          <ConnectionLog filter={route.filter} onUnauthorized={onUnauthorized} />
        )}
        {view.kind === "signedIn" && route.page === "users" && mayOpen(view.user, route) && (
          <Users user={view.user} onUnauthorized={onUnauthorized} />
        )}
        {view.kind === "signedIn" && route.page === "audit" && mayOpen(view.user, route) && (
          <Audit onUnauthorized={onUnauthorized} />
        )}
        {view.kind === "signedIn" && route.page === "server" && mayOpen(view.user, route) && (
          <ServerSettings onUnauthorized={onUnauthorized} />
        )}
        {view.kind === "signedIn" && route.page === "account" && (
          <Account user={view.user} onUnauthorized={onUnauthorized} />
        )}
      </main>
    </LiveContext.Provider>
  );
}

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<App />, root);
}
