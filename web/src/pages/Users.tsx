import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, errorDetails, errorMessage, isUnauthorized } from "../api";
import type { User } from "../api-types";
import { intlLocale, localized } from "../i18n";
import { canManageUsers, ROLE_HINTS, ROLE_NAMES, ROLES, type Role } from "../roles";
import { describedBy, ErrorAlert, FieldError } from "../ui";
import { useLoad } from "../use-load";

const REFRESH_MS = 30_000;
/** A sitter's account is suggested to end after this many days, the usual holiday. */
const SITTER_DAYS = 7;
const MIN_PASSWORD = 10;

const T = localized({
  en: {
    title: "Users",
    intro: "Everyone who can sign in to this Feedkeeper, and what they may do.",
    readOnly: "Only an owner can add, change or remove users.",
    loading: "Loading users…",
    retrying: (message: string) => `Could not load the users (${message}). Retrying…`,
    you: "(you)",
    noEnd: "no end date",
    until: (date: string) => `until ${date}`,
    ended: "ended",
    edit: "Change",
    editOne: (name: string) => `Change ${name}`,
    remove: "Remove",
    removeOne: (name: string) => `Remove ${name}`,
    confirmRemove: (name: string) =>
      `Remove ${name}? They are signed out everywhere and can no longer sign in; their API tokens stop working.`,
    confirmRemoveSelf: "Remove your own account? You are signed out at once.",
    yesRemove: (name: string) => `Yes, remove ${name}`,
    keep: "Keep",
    removing: "Removing…",
    removed: (name: string) => `Removed ${name}.`,
    username: "Username",
    usernameHint: "Letters, digits and . _ @ - only.",
    password: "Password",
    passwordHint: `At least ${MIN_PASSWORD} characters, and not a common one. Give it to them in person.`,
    role: "Role",
    endDate: "Last day (optional)",
    endDateHint: "The account ends at the end of this day. Leave empty for no end date.",
    sitterEndHint: `Sitters usually get one: their last day. Suggested: in ${SITTER_DAYS} days.`,
    save: "Save",
    saving: "Saving…",
    cancel: "Cancel",
    notSaved: "Not saved:",
    addTitle: "Add a user",
    add: "Add user",
    adding: "Adding…",
    added: (name: string) => `Added ${name}. Tell them their username and password.`,
    // The change-password form, here and on the account page.
    passwordTitle: "Change your password",
    currentPassword: "Current password",
    newPassword: "New password",
    newPasswordHint: `At least ${MIN_PASSWORD} characters, and not a common one.`,
    confirmPassword: "Confirm new password",
    mismatch: "The two new passwords differ.",
    /** A wrong current password: the server's words, which name the field (its code's own words speak of a username). */
    wrongCurrent: (message: string) => message,
    change: "Change password",
    changing: "Changing…",
    changed: "Password changed. Your other browsers were signed out.",
    notChanged: "Not changed:",
  },
  ja: {
    title: "ユーザー",
    intro: "この Feedkeeper にサインインできる人と、それぞれができること。",
    readOnly: "ユーザーの追加・変更・削除はオーナーだけができます。",
    loading: "ユーザーを読み込み中…",
    retrying: (message: string) => `ユーザーを読み込めませんでした（${message}）。再試行しています…`,
    you: "（あなた）",
    noEnd: "終了日なし",
    until: (date: string) => `${date} まで`,
    ended: "終了済み",
    edit: "変更",
    editOne: (name: string) => `${name} を変更`,
    remove: "削除",
    removeOne: (name: string) => `${name} を削除`,
    confirmRemove: (name: string) =>
      `${name} を削除しますか？すべての場所でサインアウトされ、以後サインインできなくなります。API トークンも使えなくなります。`,
    confirmRemoveSelf: "自分のアカウントを削除しますか？すぐにサインアウトされます。",
    yesRemove: (name: string) => `${name} を削除する`,
    keep: "やめる",
    removing: "削除中…",
    removed: (name: string) => `${name} を削除しました。`,
    username: "ユーザー名",
    usernameHint: "英字、数字と . _ @ - のみ使えます。",
    password: "パスワード",
    passwordHint: `${MIN_PASSWORD} 文字以上で、よく使われるものは不可。本人に直接伝えてください。`,
    role: "役割",
    endDate: "最終日（任意）",
    endDateHint: "この日の終わりにアカウントが終了します。終了日を設けないなら空欄のままにします。",
    sitterEndHint: `シッターには通常、最終日を設定します。提案: ${SITTER_DAYS} 日後。`,
    save: "保存",
    saving: "保存中…",
    cancel: "キャンセル",
    notSaved: "保存できませんでした:",
    addTitle: "ユーザーを追加",
    add: "ユーザーを追加",
    adding: "追加中…",
    added: (name: string) => `${name} を追加しました。ユーザー名とパスワードを本人に伝えてください。`,
    // The change-password form, here and on the account page.
    passwordTitle: "パスワードの変更",
    currentPassword: "現在のパスワード",
    newPassword: "新しいパスワード",
    newPasswordHint: `${MIN_PASSWORD} 文字以上で、よく使われるものは不可。`,
    confirmPassword: "新しいパスワード（確認）",
    mismatch: "2 つの新しいパスワードが一致しません。",
    wrongCurrent: (_message: string) => "現在のパスワードが違います。",
    change: "パスワードを変更",
    changing: "変更中…",
    changed: "パスワードを変更しました。他のブラウザーはサインアウトされました。",
    notChanged: "変更できませんでした:",
  },
});

// ---- Dates: an end date is picked as a day, and the account ends at the end of that local day. ----

const pad = (n: number) => String(n).padStart(2, "0");
const dayOf = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

function daysFromToday(days: number): string {
  const d = new Date();
  d.setDate(d.getDate() + days);
  return dayOf(d);
}

/** "" (no end) → null; a day → the last second of it, in the browser's time zone. */
function expiresAtOf(day: string): string | null {
  if (day === "") return null;
  const end = new Date(`${day}T23:59:59`);
  return Number.isNaN(end.getTime()) ? null : end.toISOString();
}

const dayInput = (iso: string | null) => (iso ? dayOf(new Date(iso)) : "");

export function describeEnd(iso: string | null, now = Date.now()): string {
  if (!iso) return T.noEnd;
  const at = new Date(iso);
  if (at.getTime() <= now) return T.ended;
  return T.until(at.toLocaleDateString(intlLocale(), { dateStyle: "medium" }));
}

// ---- Server complaints ----

type FieldErrors = Record<string, string>;

export function fieldErrorsOf(err: unknown, rename: Record<string, string> = {}): FieldErrors {
  const errors: FieldErrors = {};
  for (const { path, message } of errorDetails(err)) {
    const key = rename[path] ?? path;
    errors[key] = errors[key] ? `${errors[key]}; ${message}` : message;
  }
  return errors;
}

/** The server's words: each field's complaint, or the error's message. */
export function summary(prefix: string, err: unknown): string {
  const details = errorDetails(err);
  if (details.length === 0) return `${prefix} ${errorMessage(err)}`;
  return `${prefix} ${details.map((d) => d.message).join("; ")}`;
}

// ---- Shared fields ----

export function RoleField({
  id,
  value,
  roles = ROLES,
  error,
  onChange,
}: {
  id: string;
  value: Role;
  /** The roles offered. */
  roles?: readonly Role[];
  error?: string | undefined;
  onChange: (role: Role) => void;
}) {
  return (
    <div class="field">
      <label for={id}>{T.role}</label>
      <select
        id={id}
        value={value}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(`${id}-hint`, error && `${id}-error`)}
        onChange={(e) => onChange(e.currentTarget.value as Role)}
      >
        {roles.map((r) => (
          <option key={r} value={r}>
            {ROLE_NAMES[r]}
          </option>
        ))}
      </select>
      <FieldError id={`${id}-error`} message={error} />
      <small id={`${id}-hint`} class="hint">
        {ROLE_HINTS[value]}
      </small>
    </div>
  );
}

function EndDateField({
  id,
  value,
  role,
  error,
  onInput,
}: {
  id: string;
  value: string;
  role: Role;
  error?: string | undefined;
  onInput: (day: string) => void;
}) {
  return (
    <div class="field">
      <label for={id}>{T.endDate}</label>
      <input
        id={id}
        type="date"
        class="narrow"
        value={value}
        min={daysFromToday(0)}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(`${id}-hint`, error && `${id}-error`)}
        onInput={(e) => onInput(e.currentTarget.value)}
      />
      <FieldError id={`${id}-error`} message={error} />
      <small id={`${id}-hint`} class="hint">
        {T.endDateHint} {role === "sitter" && T.sitterEndHint}
      </small>
    </div>
  );
}

function TextField(props: {
  id: string;
  label: string;
  type: "text" | "password";
  value: string;
  autoComplete: string;
  hint?: string;
  error?: string | undefined;
  onInput: (value: string) => void;
}) {
  const { id, error, hint } = props;
  const common = {
    id,
    name: id,
    value: props.value,
    autoComplete: props.autoComplete,
    autoCapitalize: "off" as const,
    spellcheck: false,
    required: true,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": describedBy(hint && `${id}-hint`, error && `${id}-error`),
    onInput: (e: { currentTarget: HTMLInputElement }) => props.onInput(e.currentTarget.value),
  };
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.type === "password" ? <input type="password" {...common} /> : <input type="text" {...common} />}
      <FieldError id={`${id}-error`} message={error} />
      {hint && (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      )}
    </div>
  );
}

// ---- One user ----

interface RowProps {
  user: User;
  me: User;
  manage: boolean;
  onChanged: (user: User | null) => void;
  onUnauthorized: () => void;
}

function UserRow({ user, me, manage, onChanged, onUnauthorized }: RowProps) {
  const [mode, setMode] = useState<"view" | "edit" | "remove">("view");
  const [role, setRole] = useState<Role>(user.role);
  const [day, setDay] = useState(dayInput(user.expiresAt));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const editButton = useRef<HTMLButtonElement>(null);
  const removeButton = useRef<HTMLButtonElement>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const self = user.id === me.id;
  const titleId = `user-title-${user.id}`;
  const ended = user.expiresAt !== null && Date.parse(user.expiresAt) <= Date.now();

  useEffect(() => {
    if (mode === "remove") confirmButton.current?.focus();
  }, [mode]);

  function open(next: "edit" | "remove") {
    setRole(user.role);
    setDay(dayInput(user.expiresAt));
    setErrors({});
    setError(null);
    setMode(next);
  }

  function back(focus: "edit" | "remove") {
    setMode("view");
    setError(null);
    // The focused control is gone with the form; put keyboard users back on the button that opened it.
    setTimeout(() => (focus === "edit" ? editButton : removeButton).current?.focus());
  }

  async function save(e: Event) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const { user: saved } = await api.updateUser(user.id, { role, expiresAt: expiresAtOf(day) });
      onChanged(saved);
      back("edit");
    } catch (err) {
      if (isUnauthorized(err)) return onUnauthorized();
      setErrors(fieldErrorsOf(err));
      setError(summary(T.notSaved, err));
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await api.deleteUser(user.id);
      onChanged(null);
    } catch (err) {
      if (isUnauthorized(err)) return onUnauthorized();
      setError(errorMessage(err));
      setBusy(false);
    }
  }

  return (
    <li class="card user" aria-labelledby={titleId} data-testid={`user-${user.username}`}>
      <div class="card-head">
        <h3 id={titleId}>
          {user.username} {self && <span class="muted">{T.you}</span>}
        </h3>
        <span class={`badge role role-${user.role}`} data-testid="user-role">
          {ROLE_NAMES[user.role]}
        </span>
      </div>
      <p class={ended ? "warn user-end" : "muted user-end"} data-testid="user-end">
        {describeEnd(user.expiresAt)}
      </p>
      {manage && mode === "edit" && (
        <form onSubmit={save} noValidate>
          <fieldset class="plain" disabled={busy}>
            <legend class="visually-hidden">{T.editOne(user.username)}</legend>
            <div class="user-fields">
              <RoleField id={`user-${user.id}-role`} value={role} error={errors.role} onChange={setRole} />
              <EndDateField
                id={`user-${user.id}-end`}
                value={day}
                role={role}
                error={errors.expiresAt}
                onInput={setDay}
              />
            </div>
          </fieldset>
          <ErrorAlert message={error} />
          <div class="form-actions">
            <button type="submit" class="primary" disabled={busy}>
              {busy ? T.saving : T.save}
            </button>
            <button type="button" disabled={busy} onClick={() => back("edit")}>
              {T.cancel}
            </button>
          </div>
        </form>
      )}
      {manage && mode === "remove" && (
        <fieldset class="warn confirm">
          <legend class="visually-hidden">{T.removeOne(user.username)}</legend>
          <p>{self ? T.confirmRemoveSelf : T.confirmRemove(user.username)}</p>
          <ErrorAlert message={error} />
          <div class="form-actions">
            <button type="button" class="danger" ref={confirmButton} disabled={busy} onClick={remove}>
              {busy ? T.removing : T.yesRemove(user.username)}
            </button>
            <button type="button" disabled={busy} onClick={() => back("remove")}>
              {T.keep}
            </button>
          </div>
        </fieldset>
      )}
      {manage && mode === "view" && (
        <div class="form-actions">
          <button
            type="button"
            ref={editButton}
            aria-label={T.editOne(user.username)}
            onClick={() => open("edit")}
          >
            {T.edit}
          </button>
          <button
            type="button"
            ref={removeButton}
            aria-label={T.removeOne(user.username)}
            onClick={() => open("remove")}
          >
            {T.remove}
          </button>
        </div>
      )}
    </li>
  );
}

// ---- Adding one ----

interface NewDraft {
  username: string;
  password: string;
  role: Role;
  day: string;
}

const EMPTY: NewDraft = { username: "", password: "", role: "member", day: "" };

function AddUser({ onAdded, onUnauthorized }: { onAdded: (user: User) => void; onUnauthorized: () => void }) {
  const [draft, setDraft] = useState<NewDraft>(EMPTY);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState("");
  const [busy, setBusy] = useState(false);

  const edit = (next: Partial<NewDraft>, field: string) => {
    setDraft((d) => ({ ...d, ...next }));
    setNotice("");
    if (errors[field]) setErrors(Object.fromEntries(Object.entries(errors).filter(([k]) => k !== field)));
  };

  function pickRole(role: Role) {
    // A sitter's stay ends: suggest a last day, which the owner may change or clear.
    const day = role === "sitter" && draft.day === "" ? daysFromToday(SITTER_DAYS) : draft.day;
    edit({ role, day }, "role");
  }

  async function add(e: Event) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    setNotice("");
    try {
      const { user } = await api.createUser({
        username: draft.username,
        password: draft.password,
        role: draft.role,
        expiresAt: expiresAtOf(draft.day),
      });
      onAdded(user);
      setDraft(EMPTY);
      setErrors({});
      setNotice(T.added(user.username));
    } catch (err) {
      if (isUnauthorized(err)) return onUnauthorized();
      setErrors(fieldErrorsOf(err));
      setError(summary(T.notSaved, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="panel" aria-labelledby="add-user-title">
      <h2 id="add-user-title">{T.addTitle}</h2>
      <form onSubmit={add} noValidate>
        <fieldset class="plain" disabled={busy}>
          <legend class="visually-hidden">{T.addTitle}</legend>
          <div class="user-fields">
            <TextField
              id="new-user-username"
              label={T.username}
              type="text"
              value={draft.username}
              autoComplete="off"
              hint={T.usernameHint}
              error={errors.username}
              onInput={(username) => edit({ username }, "username")}
            />
            <TextField
              id="new-user-password"
              label={T.password}
              type="password"
              value={draft.password}
              autoComplete="new-password"
              hint={T.passwordHint}
              error={errors.password}
              onInput={(password) => edit({ password }, "password")}
            />
            <RoleField id="new-user-role" value={draft.role} error={errors.role} onChange={pickRole} />
            <EndDateField
              id="new-user-end"
              value={draft.day}
              role={draft.role}
              error={errors.expiresAt}
              onInput={(day) => edit({ day }, "expiresAt")}
            />
          </div>
        </fieldset>
        <ErrorAlert message={error} />
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? T.adding : T.add}
          </button>
          <span role="status">{notice}</span>
        </div>
      </form>
    </section>
  );
}

// ---- One's own password ----

export function ChangePassword({
  onChanged,
  onUnauthorized,
}: {
  /** The password changed, and every other session of the user ended. */
  onChanged?: () => void;
  onUnauthorized: () => void;
}) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [confirm, setConfirm] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    setNotice("");
    if (next !== confirm) {
      setErrors({ confirm: T.mismatch });
      setError(`${T.notChanged} ${T.mismatch}`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.changePassword({ currentPassword: current, newPassword: next });
      setCurrent("");
      setNext("");
      setConfirm("");
      setErrors({});
      setNotice(T.changed);
      onChanged?.();
    } catch (err) {
      // A wrong current password answers 401 too, but the session is fine: say so, do not sign out.
      if (err instanceof ApiError && err.code === "invalid_credentials") {
        const message = T.wrongCurrent(errorMessage(err));
        setErrors({ current: message });
        setError(`${T.notChanged} ${message}`);
      } else if (isUnauthorized(err)) {
        onUnauthorized();
      } else {
        setErrors(fieldErrorsOf(err, { currentPassword: "current", newPassword: "next" }));
        setError(summary(T.notChanged, err));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="panel" aria-labelledby="password-title">
      <h2 id="password-title">{T.passwordTitle}</h2>
      <form onSubmit={submit} noValidate>
        <fieldset class="plain" disabled={busy}>
          <legend class="visually-hidden">{T.passwordTitle}</legend>
          <div class="user-fields">
            <TextField
              id="password-current"
              label={T.currentPassword}
              type="password"
              value={current}
              autoComplete="current-password"
              error={errors.current}
              onInput={setCurrent}
            />
            <TextField
              id="password-new"
              label={T.newPassword}
              type="password"
              value={next}
              autoComplete="new-password"
              hint={T.newPasswordHint}
              error={errors.next}
              onInput={setNext}
            />
            <TextField
              id="password-confirm"
              label={T.confirmPassword}
              type="password"
              value={confirm}
              autoComplete="new-password"
              error={errors.confirm}
              onInput={setConfirm}
            />
          </div>
        </fieldset>
        <ErrorAlert message={error} />
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? T.changing : T.change}
          </button>
          <span role="status">{notice}</span>
        </div>
      </form>
    </section>
  );
}

// ---- The pages ----

interface PageProps {
  user: User;
  onUnauthorized: () => void;
}

/** Who has access (owners and members), managed by owners; and one's own password. */
export function Users({ user, onUnauthorized }: PageProps) {
  const [users, setUsers] = useState<User[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState("");
  const heading = useRef<HTMLHeadingElement>(null);
  const manage = canManageUsers(user.role);
  const reload = useLoad(
    {
      fetch: (signal) => api.users(signal),
      onData: (res) => {
        setUsers(res.users);
        setError(null);
      },
      onError: (message) => setError(T.retrying(message)),
      onUnauthorized,
    },
    [onUnauthorized],
    REFRESH_MS,
  );

  function changed(id: string, next: User | null) {
    const gone = users?.find((u) => u.id === id);
    setUsers(
      (list) => list && (next ? list.map((u) => (u.id === id ? next : u)) : list.filter((u) => u.id !== id)),
    );
    if (!next) {
      setNotice(gone ? T.removed(gone.username) : "");
      heading.current?.focus(); // the removed user's card, and the focus in it, is gone
    }
    reload();
  }

  function added(next: User) {
    setUsers((list) => list && [...list.filter((u) => u.id !== next.id), next]);
    reload();
  }

  return (
    <>
      <section aria-labelledby="users-title">
        <h2 id="users-title" tabIndex={-1} ref={heading}>
          {T.title}
        </h2>
        <p class="hint">
          {T.intro} {!manage && T.readOnly}
        </p>
        <ErrorAlert message={error} />
        <p role="status" class="muted">
          {notice}
        </p>
        {users === null && !error && <p class="muted">{T.loading}</p>}
        <ul class="cards users" data-testid="users">
          {users?.map((u) => (
            <UserRow
              key={u.id}
              user={u}
              me={user}
              manage={manage}
              onChanged={(next) => changed(u.id, next)}
              onUnauthorized={onUnauthorized}
            />
          ))}
        </ul>
      </section>
      {manage && <AddUser onAdded={added} onUnauthorized={onUnauthorized} />}
      <ChangePassword onUnauthorized={onUnauthorized} />
    </>
  );
}
