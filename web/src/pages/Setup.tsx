import { useState } from "preact/hooks";
import { ApiError, api, errorMessage } from "../api";
import type { User } from "../api-types";
import { ErrorAlert, Field, Panel } from "../ui";

export const MIN_PASSWORD_LENGTH = 10;

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
      setError(`The password must have at least ${MIN_PASSWORD_LENGTH} characters.`);
      return;
    }
    if (password !== confirm) {
      setError("The two passwords do not match.");
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
    <Panel title="Welcome to Feedkeeper">
      <p>
        Create the owner account: it may do everything here, including adding the other people of the
        household later.
      </p>
      <form onSubmit={submit}>
        <Field
          id="setup-username"
          label="Username"
          value={username}
          onInput={setUsername}
          autoComplete="username"
          maxLength={64}
          disabled={busy}
        />
        <Field
          id="setup-password"
          label="Password"
          type="password"
          value={password}
          onInput={setPassword}
          autoComplete="new-password"
          minLength={MIN_PASSWORD_LENGTH}
          hint={`At least ${MIN_PASSWORD_LENGTH} characters.`}
          disabled={busy}
        />
        <Field
          id="setup-confirm"
          label="Confirm password"
          type="password"
          value={confirm}
          onInput={setConfirm}
          autoComplete="new-password"
          minLength={MIN_PASSWORD_LENGTH}
          disabled={busy}
        />
        <ErrorAlert message={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Creating account…" : "Create account"}
        </button>
      </form>
    </Panel>
  );
}
