import { useState } from "preact/hooks";
import { api, errorMessage } from "../api";
import type { User } from "../api-types";
import { localized } from "../i18n";
import { ErrorAlert, Field, Panel } from "../ui";

const T = localized({
  en: {
    title: "Sign in",
    username: "Username",
    password: "Password",
    signIn: "Sign in",
    signingIn: "Signing in…",
  },
  ja: {
    title: "サインイン",
    username: "ユーザー名",
    password: "パスワード",
    signIn: "サインイン",
    signingIn: "サインイン中…",
  },
});

interface Props {
  onDone: (user: User) => void;
  notice?: string | undefined;
}

export function Login({ onDone, notice }: Props) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const { user } = await api.login({ username: username.trim(), password });
      onDone(user);
    } catch (err) {
      setBusy(false);
      setPassword("");
      setError(errorMessage(err));
    }
  }

  return (
    <Panel title={T.title}>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={submit}>
        <Field
          id="login-username"
          label={T.username}
          value={username}
          onInput={setUsername}
          autoComplete="username"
          disabled={busy}
        />
        <Field
          id="login-password"
          label={T.password}
          type="password"
          value={password}
          onInput={setPassword}
          autoComplete="current-password"
          disabled={busy}
        />
        <ErrorAlert message={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? T.signingIn : T.signIn}
        </button>
      </form>
    </Panel>
  );
}
