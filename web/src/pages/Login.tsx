import { useState } from "preact/hooks";
import { api, errorMessage } from "../api";
import type { User } from "../api-types";
import { ErrorAlert, Field, Panel } from "../ui";

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
    <Panel title="Sign in">
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={submit}>
        <Field
          id="login-username"
          label="Username"
          value={username}
          onInput={setUsername}
          autoComplete="username"
          disabled={busy}
        />
        <Field
          id="login-password"
          label="Password"
          type="password"
          value={password}
          onInput={setPassword}
          autoComplete="current-password"
          disabled={busy}
        />
        <ErrorAlert message={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </Panel>
  );
}
