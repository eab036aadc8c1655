import { useEffect, useRef, useState } from "preact/hooks";
import { api, errorMessage, isUnauthorized } from "../api";
import type { ApiToken, CreatedApiToken, Session, User } from "../api-types";
import { copyText } from "../copy-button";
import { formatInstant } from "../dates";
import { localized } from "../i18n";
import { ROLE_HINTS, ROLE_NAMES, type Role, rolesUpTo } from "../roles";
import { isWholeNumber } from "../save-form";
import { describedBy, ErrorAlert, FieldError } from "../ui";
import { useLoad } from "../use-load";
import { ChangePassword, describeEnd, fieldErrorsOf, RoleField, summary } from "./Users";

/** Sessions and tokens are also ended elsewhere (a password change, another browser): show it in time. */
const REFRESH_MS = 30_000;

const T = localized({
  en: {
    accountTitle: "Your account",
    signedInAs: "Signed in as",
    yourRole: "Role",
    ends: "Account ends",
    keep: "Keep",
    // Signed-in browsers
    sessionsTitle: "Signed-in browsers",
    sessionsIntro:
      "Everywhere you are signed in. Sign out a browser you do not recognise or no longer use; changing your password signs out all but this one.",
    loadingSessions: "Loading signed-in browsers…",
    sessionsRetrying: (message: string) => `Could not load the signed-in browsers (${message}). Retrying…`,
    signedInAt: (when: string) => `Signed in at ${when}`,
    thisBrowser: "This browser",
    sessionEnds: "Session ends",
    signedInFrom: "From",
    browser: "Browser",
    unknown: "not known",
    signOut: "Sign out",
    signOutOne: (when: string) => `Sign out the browser signed in at ${when}`,
    confirmSignOut: "Sign that browser out? Whoever uses it has to sign in again with the password.",
    yesSignOut: "Yes, sign it out",
    signingOut: "Signing out…",
    signedOut: (when: string) => `Signed out the browser signed in at ${when}.`,
    // API tokens
    tokensTitle: "API tokens",
    tokensIntro:
      "For scripts and home automation: they send the token as “Authorization: Bearer <token>”. A token does what its role allows, never more than you.",
    loadingTokens: "Loading API tokens…",
    tokensRetrying: (message: string) => `Could not load the API tokens (${message}). Retrying…`,
    noTokens: "You have no API tokens.",
    role: "Role",
    sameAsYours: "Same as yours",
    created: "Created",
    expires: "Expires",
    never: "never",
    expired: (when: string) => `expired ${when}`,
    lastUsed: "Last used",
    neverUsed: "never",
    revoke: "Revoke",
    revokeOne: (name: string) => `Revoke ${name}`,
    confirmRevoke: (name: string) => `Revoke ${name}? Whatever uses it is refused from now on.`,
    yesRevoke: (name: string) => `Yes, revoke ${name}`,
    revoking: "Revoking…",
    revoked: (name: string) => `Revoked ${name}.`,
    newTitle: "Create a token",
    name: "Name",
    nameHint: "What will use it, e.g. “kitchen button”.",
    days: "Expires after (days, optional)",
    daysHint: "Leave empty for a token that works until you revoke it.",
    notANumber: "Enter a whole number of days, or leave it empty.",
    create: "Create token",
    creating: "Creating…",
    notCreated: "Not created:",
    // The new token's secret
    secretTitle: (name: string) => `Token “${name}” created`,
    shownOnce: "Shown only once: you will not see it again.",
    copyNow: "Copy it now and keep it somewhere safe. If you lose it, revoke it and create another.",
    secret: "Token",
    copy: "Copy",
    copied: "Copied.",
    copyByHand:
      "Could not copy it for you: the token is selected; copy it yourself (Ctrl+C, ⌘C on a Mac, or press and hold on a phone).",
    done: "I have copied the token",
  },
  ja: {
    accountTitle: "あなたのアカウント",
    signedInAs: "サインイン中のユーザー",
    yourRole: "役割",
    ends: "アカウントの終了",
    keep: "やめる",
    // Signed-in browsers
    sessionsTitle: "サインイン中のブラウザー",
    sessionsIntro:
      "サインインしているすべての場所です。心当たりのないブラウザーや、もう使わないブラウザーはサインアウトしてください。パスワードを変更すると、このブラウザー以外はすべてサインアウトされます。",
    loadingSessions: "サインイン中のブラウザーを読み込み中…",
    sessionsRetrying: (message: string) =>
      `サインイン中のブラウザーを読み込めませんでした（${message}）。再試行しています…`,
    signedInAt: (when: string) => `${when} にサインイン`,
    thisBrowser: "このブラウザー",
    sessionEnds: "セッションの終了",
    signedInFrom: "接続元",
    browser: "ブラウザー",
    unknown: "不明",
    signOut: "サインアウト",
    signOutOne: (when: string) => `${when} にサインインしたブラウザーをサインアウト`,
    confirmSignOut:
      "そのブラウザーをサインアウトしますか？使っている人は、もう一度パスワードでサインインする必要があります。",
    yesSignOut: "サインアウトする",
    signingOut: "サインアウト中…",
    signedOut: (when: string) => `${when} にサインインしたブラウザーをサインアウトしました。`,
    // API tokens
    tokensTitle: "API トークン",
    tokensIntro:
      "スクリプトやホームオートメーション用です。トークンは「Authorization: Bearer <トークン>」として送ります。トークンはその役割で許されたことだけができ、あなた以上のことはできません。",
    loadingTokens: "API トークンを読み込み中…",
    tokensRetrying: (message: string) =>
      `API トークンを読み込めませんでした（${message}）。再試行しています…`,
    noTokens: "API トークンはありません。",
    role: "役割",
    sameAsYours: "あなたと同じ",
    created: "作成日時",
    expires: "有効期限",
    never: "なし",
    expired: (when: string) => `${when} に期限切れ`,
    lastUsed: "最終使用",
    neverUsed: "未使用",
    revoke: "無効化",
    revokeOne: (name: string) => `${name} を無効化`,
    confirmRevoke: (name: string) => `${name} を無効化しますか？これを使うものは今後すべて拒否されます。`,
    yesRevoke: (name: string) => `${name} を無効化する`,
    revoking: "無効化中…",
    revoked: (name: string) => `${name} を無効化しました。`,
    newTitle: "トークンを作成",
    name: "名前",
    nameHint: "使う機器や用途。例:「キッチンのボタン」",
    days: "有効日数（任意）",
    daysHint: "無効化するまで使えるトークンにするなら空欄のままにします。",
    notANumber: "日数を整数で入力するか、空欄にしてください。",
    create: "トークンを作成",
    creating: "作成中…",
    notCreated: "作成できませんでした:",
    // The new token's secret
    secretTitle: (name: string) => `トークン「${name}」を作成しました`,
    shownOnce: "表示されるのはこの一度だけです。",
    copyNow:
      "今すぐコピーして安全な場所に保管してください。なくした場合は無効化して、新しく作成してください。",
    secret: "トークン",
    copy: "コピー",
    copied: "コピーしました。",
    copyByHand:
      "自動でコピーできませんでした。トークンは選択済みなので、手動でコピーしてください（Ctrl+C、Mac では ⌘C、スマートフォンでは長押し）。",
    done: "トークンをコピーしました",
  },
});

// ---- Asking before an action that cannot be undone ----

interface ConfirmProps {
  /** The button's visible text, and its full name for screen readers (which of the list it acts on). */
  label: string;
  name: string;
  question: string;
  yes: string;
  busy: string;
  /** Does it; the list it is in then drops the item, and this with it. */
  run: () => Promise<void>;
  onUnauthorized: () => void;
}

function ConfirmAction({ label, name, question, yes, busy, run, onUnauthorized }: ConfirmProps) {
  const [asking, setAsking] = useState(false);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const askButton = useRef<HTMLButtonElement>(null);
  const yesButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (asking) yesButton.current?.focus();
  }, [asking]);

  function back() {
    setAsking(false);
    setError(null);
    // The focused button is gone with the question; put keyboard users back on the one that asked it.
    setTimeout(() => askButton.current?.focus());
  }

  async function confirm() {
    if (running) return;
    setRunning(true);
    setError(null);
    try {
      await run();
    } catch (err) {
      if (isUnauthorized(err)) return onUnauthorized();
      setError(errorMessage(err));
      setRunning(false);
    }
  }

  if (!asking) {
    return (
      <div class="form-actions">
        <button type="button" ref={askButton} aria-label={name} onClick={() => setAsking(true)}>
          {label}
        </button>
      </div>
    );
  }
  return (
    <fieldset class="warn confirm">
      <legend class="visually-hidden">{name}</legend>
      <p>{question}</p>
      <ErrorAlert message={error} />
      <div class="form-actions">
        <button type="button" class="danger" ref={yesButton} disabled={running} onClick={confirm}>
          {running ? busy : yes}
        </button>
        <button type="button" disabled={running} onClick={back}>
          {T.keep}
        </button>
      </div>
    </fieldset>
  );
}

// ---- Signed-in browsers ----

function Sessions({
  passwordChanges,
  onUnauthorized,
}: {
  /** Changes when the password does, which ends the other sessions. */
  passwordChanges: number;
  onUnauthorized: () => void;
}) {
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState("");
  const heading = useRef<HTMLHeadingElement>(null);
  const reload = useLoad(
    {
      fetch: (signal) => api.sessions(signal),
      onData: (res) => {
        setSessions(res.sessions);
        setError(null);
      },
      onError: (message) => setError(T.sessionsRetrying(message)),
      onUnauthorized,
    },
    [onUnauthorized, passwordChanges],
    REFRESH_MS,
  );

  async function signOut(session: Session) {
    try {
      await api.revokeSession(session.id);
    } finally {
      // Signed out or not, the list shows what the server has now (e.g. a session that had already ended).
      reload();
    }
    setSessions((list) => list?.filter((s) => s.id !== session.id) ?? null);
    setNotice(T.signedOut(formatInstant(session.createdAt)));
    heading.current?.focus(); // the signed-out browser's card, and the focus in it, is gone
  }

  return (
    <section class="panel" aria-labelledby="sessions-title">
      <h2 id="sessions-title" tabIndex={-1} ref={heading}>
        {T.sessionsTitle}
      </h2>
      <p class="hint">{T.sessionsIntro}</p>
      <ErrorAlert message={error} />
      <p role="status" class="muted notice">
        {notice}
      </p>
      {sessions === null && !error && <p class="muted">{T.loadingSessions}</p>}
      <ul class="cards account-list">
        {sessions?.map((s) => {
          const when = formatInstant(s.createdAt);
          return (
            <li key={s.id} class="card" aria-labelledby={`session-${s.id}`}>
              <div class="card-head">
                <h3 id={`session-${s.id}`}>{T.signedInAt(when)}</h3>
                {s.current && <span class="badge current">{T.thisBrowser}</span>}
              </div>
              <dl class="facts">
                <div>
                  <dt>{T.signedInFrom}</dt>
                  <dd>{s.address ?? T.unknown}</dd>
                </div>
                <div>
                  <dt>{T.sessionEnds}</dt>
                  <dd>{formatInstant(s.expiresAt)}</dd>
                </div>
                <div class="user-agent">
                  <dt>{T.browser}</dt>
                  {/* As the browser names itself: long, but it tells a phone from a laptop. */}
                  <dd translate={s.userAgent === null}>{s.userAgent ?? T.unknown}</dd>
                </div>
              </dl>
              {!s.current && (
                <ConfirmAction
                  label={T.signOut}
                  name={T.signOutOne(when)}
                  question={T.confirmSignOut}
                  yes={T.yesSignOut}
                  busy={T.signingOut}
                  run={() => signOut(s)}
                  onUnauthorized={onUnauthorized}
                />
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

// ---- API tokens ----

function TokenCard({
  token,
  onRevoke,
  onUnauthorized,
}: {
  token: ApiToken;
  onRevoke: () => Promise<void>;
  onUnauthorized: () => void;
}) {
  const titleId = `token-title-${token.id}`;
  const expired = token.expiresAt !== null && Date.parse(token.expiresAt) <= Date.now();
  const expires = token.expiresAt ? formatInstant(token.expiresAt) : T.never;
  return (
    <li class="card" aria-labelledby={titleId}>
      <h3 id={titleId}>{token.name}</h3>
      <dl class="facts">
        <div>
          <dt>{T.role}</dt>
          <dd>{token.role ? ROLE_NAMES[token.role] : T.sameAsYours}</dd>
        </div>
        <div>
          <dt>{T.created}</dt>
          <dd>{formatInstant(token.createdAt)}</dd>
        </div>
        <div>
          <dt>{T.expires}</dt>
          <dd class={expired ? "low" : undefined}>{expired ? T.expired(expires) : expires}</dd>
        </div>
        <div>
          <dt>{T.lastUsed}</dt>
          <dd>{token.lastUsedAt ? formatInstant(token.lastUsedAt) : T.neverUsed}</dd>
        </div>
      </dl>
      <ConfirmAction
        label={T.revoke}
        name={T.revokeOne(token.name)}
        question={T.confirmRevoke(token.name)}
        yes={T.yesRevoke(token.name)}
        busy={T.revoking}
        run={onRevoke}
        onUnauthorized={onUnauthorized}
      />
    </li>
  );
}

/** The new token's secret, the only time it is shown. */
function NewSecret({ created, onDone }: { created: CreatedApiToken; onDone: () => void }) {
  const [copyState, setCopyState] = useState("");
  const heading = useRef<HTMLHeadingElement>(null);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    heading.current?.focus();
  }, []);

  async function copy() {
    if (!input.current) return;
    setCopyState(""); // so that copying again is announced again
    const copied = await copyText(input.current.value);
    // Selected either way, so that copying by hand is one keystroke or one long press away.
    input.current.select();
    setCopyState(copied ? T.copied : T.copyByHand);
  }

  return (
    <section class="card secret-card" aria-labelledby="token-secret-title">
      <h3 id="token-secret-title" tabIndex={-1} ref={heading}>
        {T.secretTitle(created.apiToken.name)}
      </h3>
      <p class="warn" id="token-secret-warning">
        <strong>{T.shownOnce}</strong> {T.copyNow}
      </p>
      <div class="field">
        <label for="token-secret">{T.secret}</label>
        <div class="copy-row">
          <input
            id="token-secret"
            ref={input}
            type="text"
            class="secret"
            readOnly
            value={created.token}
            autoComplete="off"
            spellcheck={false}
            aria-describedby="token-secret-warning"
            onFocus={(e) => e.currentTarget.select()}
          />
          <button type="button" onClick={copy}>
            {T.copy}
          </button>
        </div>
      </div>
      <p role="status" class="notice">
        {copyState}
      </p>
      <button type="button" class="primary" onClick={onDone}>
        {T.done}
      </button>
    </section>
  );
}

interface TokenDraft {
  name: string;
  role: Role;
  days: string;
}

function NewTokenForm({
  userRole,
  onCreated,
  onUnauthorized,
}: {
  userRole: Role;
  onCreated: (created: CreatedApiToken) => void;
  onUnauthorized: () => void;
}) {
  const roles = rolesUpTo(userRole);
  // The least a token may do is the safest start; a script that needs more is given more on purpose.
  const [draft, setDraft] = useState<TokenDraft>({ name: "", role: roles.at(-1) ?? userRole, days: "" });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  function edit(change: Partial<TokenDraft>, field: string) {
    setDraft((d) => ({ ...d, ...change }));
    setErrors(({ [field]: _, ...rest }) => rest);
  }

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    const days = draft.days.trim();
    if (days !== "" && !isWholeNumber(days)) {
      setErrors({ expiresInDays: T.notANumber });
      setError(`${T.notCreated} ${T.notANumber}`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const created = await api.createToken({
        name: draft.name,
        role: draft.role,
        expiresInDays: days === "" ? undefined : Number(days),
      });
      onCreated(created);
    } catch (err) {
      if (isUnauthorized(err)) return onUnauthorized();
      setErrors(fieldErrorsOf(err));
      setError(summary(T.notCreated, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="new-token" aria-labelledby="new-token-title">
      <h3 id="new-token-title">{T.newTitle}</h3>
      <form onSubmit={submit} noValidate>
        <fieldset class="plain" disabled={busy}>
          <legend class="visually-hidden">{T.newTitle}</legend>
          <div class="user-fields">
            <div class="field">
              <label for="token-name">{T.name}</label>
              <input
                id="token-name"
                type="text"
                value={draft.name}
                maxLength={64}
                required
                autoComplete="off"
                aria-invalid={errors.name ? true : undefined}
                aria-describedby={describedBy("token-name-hint", errors.name && "token-name-error")}
                onInput={(e) => edit({ name: e.currentTarget.value }, "name")}
              />
              <FieldError id="token-name-error" message={errors.name} />
              <small id="token-name-hint" class="hint">
                {T.nameHint}
              </small>
            </div>
            <RoleField
              id="token-role"
              value={draft.role}
              roles={roles}
              error={errors.role}
              onChange={(role) => edit({ role }, "role")}
            />
            <div class="field">
              <label for="token-days">{T.days}</label>
              <input
                id="token-days"
                class="narrow"
                type="number"
                inputMode="numeric"
                min={1}
                step={1}
                value={draft.days}
                aria-invalid={errors.expiresInDays ? true : undefined}
                aria-describedby={describedBy("token-days-hint", errors.expiresInDays && "token-days-error")}
                onInput={(e) => edit({ days: e.currentTarget.value }, "expiresInDays")}
              />
              <FieldError id="token-days-error" message={errors.expiresInDays} />
              <small id="token-days-hint" class="hint">
                {T.daysHint}
              </small>
            </div>
          </div>
        </fieldset>
        <ErrorAlert message={error} />
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? T.creating : T.create}
          </button>
        </div>
      </form>
    </section>
  );
}

function ApiTokens({ user, onUnauthorized }: { user: User; onUnauthorized: () => void }) {
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState("");
  const [created, setCreated] = useState<CreatedApiToken | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const reload = useLoad(
    {
      fetch: (signal) => api.tokens(signal),
      onData: (res) => {
        setTokens(res.apiTokens);
        setError(null);
      },
      onError: (message) => setError(T.tokensRetrying(message)),
      onUnauthorized,
    },
    [onUnauthorized],
    REFRESH_MS,
  );

  function onCreated(next: CreatedApiToken) {
    setNotice("");
    setCreated(next);
    setTokens((list) => list && [next.apiToken, ...list.filter((t) => t.id !== next.apiToken.id)]);
    reload();
  }

  function secretCopied() {
    setCreated(null);
    heading.current?.focus(); // the focused panel disappears; keep keyboard users in place
  }

  async function revoke(token: ApiToken) {
    try {
      await api.revokeToken(token.id);
    } finally {
      reload();
    }
    setTokens((list) => list?.filter((t) => t.id !== token.id) ?? null);
    setNotice(T.revoked(token.name));
    heading.current?.focus();
  }

  return (
    <section class="panel" aria-labelledby="tokens-title">
      <h2 id="tokens-title" tabIndex={-1} ref={heading}>
        {T.tokensTitle}
      </h2>
      <p class="hint">{T.tokensIntro}</p>
      <ErrorAlert message={error} />
      <p role="status" class="muted notice">
        {notice}
      </p>
      {tokens === null && !error && <p class="muted">{T.loadingTokens}</p>}
      {tokens?.length === 0 && <p class="muted">{T.noTokens}</p>}
      <ul class="cards account-list">
        {tokens?.map((t) => (
          <TokenCard key={t.id} token={t} onRevoke={() => revoke(t)} onUnauthorized={onUnauthorized} />
        ))}
      </ul>
      {created ? (
        <NewSecret created={created} onDone={secretCopied} />
      ) : (
        <NewTokenForm userRole={user.role} onCreated={onCreated} onUnauthorized={onUnauthorized} />
      )}
    </section>
  );
}

// ---- The page ----

/** One's own account, for every role: who one is, until when, the password, browsers and API tokens. */
export function Account({ user, onUnauthorized }: { user: User; onUnauthorized: () => void }) {
  const [passwordChanges, setPasswordChanges] = useState(0);
  return (
    <>
      <section class="panel" aria-labelledby="account-title">
        <h2 id="account-title" tabIndex={-1}>
          {T.accountTitle}
        </h2>
        <dl class="facts">
          <div>
            <dt>{T.signedInAs}</dt>
            <dd>{user.username}</dd>
          </div>
          <div>
            <dt>{T.yourRole}</dt>
            <dd>{ROLE_NAMES[user.role]}</dd>
          </div>
          <div>
            <dt>{T.ends}</dt>
            <dd>{describeEnd(user.expiresAt)}</dd>
          </div>
        </dl>
        <p class="hint">{ROLE_HINTS[user.role]}</p>
      </section>
      <ChangePassword onChanged={() => setPasswordChanges((n) => n + 1)} onUnauthorized={onUnauthorized} />
      <Sessions passwordChanges={passwordChanges} onUnauthorized={onUnauthorized} />
      <ApiTokens user={user} onUnauthorized={onUnauthorized} />
    </>
  );
}
