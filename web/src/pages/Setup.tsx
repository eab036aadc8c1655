import { useState } from "preact/hooks";
import { ApiError, api, errorMessage } from "../api";
import type { User } from "../api-types";
import { localized } from "../i18n";
import { ErrorAlert, Field, Panel } from "../ui";

export const MIN_PASSWORD_LENGTH = 10;

const T = localized({
  en: {
    title: "Welcome to Feedkeeper",
    intro:
      "Create the owner account: it may do everything here, including adding the other people of the household later.",
    username: "Username",
    password: "Password",
    passwordHint: (n: number) => `At least ${n} characters.`,
    confirm: "Confirm password",
    tooShort: (n: number) => `The password must have at least ${n} characters.`,
    mismatch: "The two passwords do not match.",
    create: "Create account",
    creating: "Creating account…",
  },
  ja: {
    title: "Feedkeeper へようこそ",
    intro:
      "オーナーのアカウントを作成します。オーナーはここですべての操作ができ、あとから家族の他のメンバーも追加できます。",
    username: "ユーザー名",
    password: "パスワード",
    passwordHint: (n: number) => `${n} 文字以上。`,
    confirm: "パスワード（確認）",
    tooShort: (n: number) => `パスワードは ${n} 文字以上にしてください。`,
    mismatch: "2 つのパスワードが一致しません。",
    create: "アカウントを作成",
    creating: "アカウントを作成中…",
  },
});

interface Props {
  onDone: (user: User) => void;
  /** Someone else finished the setup in the meantime. */
  onAlreadyDone: () => void;
}

export function Setup({ onDone, onAlreadyDone }: Props) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    if (password.length < MIN_PASSWORD_LENGTH) {
      setError(T.tooShort(MIN_PASSWORD_LENGTH));
      return;
    }
    if (password !== confirm) {
      setError(T.mismatch);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { user } = await api.setup({ username: username.trim(), password });
      onDone(user);
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && err.status === 409) onAlreadyDone();
      else setError(errorMessage(err));
    }
  }

  return (
    <Panel title={T.title}>
      <p>{T.intro}</p>
      <form onSubmit={submit}>
        <Field
          id="setup-username"
          label={T.username}
          value={username}
          onInput={setUsername}
          autoComplete="username"
          maxLength={64}
          disabled={busy}
        />
        <Field
          id="setup-password"
          label={T.password}
          type="password"
          value={password}
          onInput={setPassword}
          autoComplete="new-password"
          minLength={MIN_PASSWORD_LENGTH}
          hint={T.passwordHint(MIN_PASSWORD_LENGTH)}
          disabled={busy}
        />
        <Field
          id="setup-confirm"
          label={T.confirm}
          type="password"
          value={confirm}
          onInput={setConfirm}
          autoComplete="new-password"
          minLength={MIN_PASSWORD_LENGTH}
          disabled={busy}
        />
        <ErrorAlert message={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? T.creating : T.create}
        </button>
      </form>
    </Panel>
  );
}
