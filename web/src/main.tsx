import "./styles.css";
import { render } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { api, errorMessage, isUnauthorized } from "./api";
import type { User } from "./api-types";
import { Feeders } from "./pages/Feeders";
import { Login } from "./pages/Login";
import { Setup } from "./pages/Setup";
import { ErrorAlert } from "./ui";

type View =
  | { kind: "loading" }
  | { kind: "error"; message: string }
  | { kind: "setup" }
  | { kind: "login"; notice?: string }
  | { kind: "feeders"; user: User };

const TITLES: Record<View["kind"], string> = {
  loading: "Feedkeeper",
  error: "Feedkeeper",
  setup: "First-run setup · Feedkeeper",
  login: "Sign in · Feedkeeper",
  feeders: "Feeders · Feedkeeper",
};

function App() {
  const [view, setView] = useState<View>({ kind: "loading" });
  const [logoutError, setLogoutError] = useState<string | null>(null);

  const boot = useCallback(async () => {
    setView({ kind: "loading" });
    try {
      const { required } = await api.setupStatus();
      if (required) return setView({ kind: "setup" });
      const { user } = await api.session();
      setView({ kind: "feeders", user });
    } catch (err) {
      if (isUnauthorized(err)) setView({ kind: "login" });
      else setView({ kind: "error", message: errorMessage(err) });
    }
  }, []);

  useEffect(() => {
    void boot();
  }, [boot]);

  useEffect(() => {
    document.title = TITLES[view.kind];
  }, [view.kind]);

  const onSignedIn = useCallback((user: User) => setView({ kind: "feeders", user }), []);
  const onUnauthorized = useCallback(
    () => setView({ kind: "login", notice: "Your session has ended. Please sign in again." }),
    [],
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
    setView({ kind: "login", notice: "You have signed out." });
  }

  return (
    <>
      <header class="topbar">
        <h1>Feedkeeper</h1>
        {view.kind === "feeders" && (
          <div class="account">
            <span class="muted">{view.user.username}</span>
            <button type="button" onClick={logout}>
              Sign out
            </button>
          </div>
        )}
      </header>
      <main>
        <ErrorAlert message={logoutError} />
        {view.kind === "loading" && <p class="muted">Loading…</p>}
        {view.kind === "error" && (
          <>
            <ErrorAlert message={view.message} />
            <button type="button" onClick={boot}>
              Try again
            </button>
          </>
        )}
        {view.kind === "setup" && (
          <Setup
            onDone={onSignedIn}
            onAlreadyDone={() =>
              setView({ kind: "login", notice: "Setup is already complete. Please sign in." })
            }
          />
        )}
        {view.kind === "login" && <Login onDone={onSignedIn} notice={view.notice} />}
        {view.kind === "feeders" && <Feeders onUnauthorized={onUnauthorized} />}
      </main>
    </>
  );
}

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<App />, root);
}
