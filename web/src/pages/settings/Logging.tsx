import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { api, errorMessage, isUnauthorized } from "../../api";
import type { LogLevelSettings } from "../../api-types";
import { CopyButton } from "../../copy-button";
import { localized } from "../../i18n";
import { ErrorAlert } from "../../ui";
import { useLoad } from "../../use-load";

type Level = LogLevelSettings["level"];

/** Most to least detailed, as an owner looking for a problem goes down the list. */
const LEVELS: readonly Level[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

const T = localized({
  en: {
    title: "Logging and metrics",
    loading: "Loading the log level…",
    failed: (message: string) => `Could not load the log level (${message}).`,
    intro:
      "How much the server writes to its log (docker logs, or the terminal it runs in). A change applies at once and lasts until the server restarts; then it goes back to the level the server was started with (FEEDKEEPER_LOG_LEVEL).",
    now: "Log level now",
    configured: "At start",
    level: "Log level",
    apply: "Change",
    applying: "Changing…",
    changed: (level: ComponentChildren) => <>The server now logs at {level}, until it restarts.</>,
    notChanged: (message: string) => `The log level was not changed: ${message}`,
    levels: {
      trace: "Everything, message by message: very verbose, for a developer chasing a bug.",
      debug: "Details of connections and device messages: for finding out why a feeder misbehaves.",
      info: "What happens: feeders connecting, feeds, meals, sign-ins. The usual level.",
      warn: "Only what went wrong or may need you: refused connections, dropped messages, missed meals.",
      error: "Only failures.",
      fatal: "Only what stops the server.",
      silent: "Nothing at all.",
    } satisfies Record<Level, string>,
    metricsTitle: (product: ComponentChildren) => <>Metrics for {product}</>,
    metricsIntro: (path: ComponentChildren, product: ComponentChildren) => (
      <>
        The server reports its feeders, feeds, missed meals, MQTT traffic, request times and database size at{" "}
        {path}, in {product}' format. Only an owner may read them: create an API token on your Account page,
        save it in a file next to {product} and point the scrape configuration at it, as below. Never put the
        token itself in the configuration.
      </>
    ),
    scrapeConfig: "the scrape configuration",
    allLevels: "What each level writes",
  },
  ja: {
    title: "ログとメトリクス",
    loading: "ログレベルを読み込み中…",
    failed: (message: string) => `ログレベルを読み込めませんでした（${message}）。`,
    intro:
      "サーバーがログ（コンテナのログ、または実行中の端末）にどれだけ書くかを決めます。変更はすぐに反映され、サーバーを再起動するまで続きます。再起動すると、起動時のレベル（FEEDKEEPER_LOG_LEVEL）に戻ります。",
    now: "現在のログレベル",
    configured: "起動時",
    level: "ログレベル",
    apply: "変更",
    applying: "変更中…",
    changed: (level: ComponentChildren) => <>サーバーは再起動するまで {level} でログを書きます。</>,
    notChanged: (message: string) => `ログレベルを変更できませんでした: ${message}`,
    levels: {
      trace: "すべてをメッセージごとに。非常に多く、開発者が不具合を調べるためのものです。",
      debug: "接続や機器のメッセージの詳細。給餌器の不調の原因を調べるときに。",
      info: "給餌器の接続、給餌、食事、サインインなどの出来事。通常のレベルです。",
      warn: "問題や対応が必要かもしれないことだけ（拒否した接続、破棄したメッセージ、食べ損ねた食事など）。",
      error: "失敗だけ。",
      fatal: "サーバーが止まるような問題だけ。",
      silent: "何も書きません。",
    },
    metricsTitle: (product: ComponentChildren) => <>{product} 用のメトリクス</>,
    metricsIntro: (path: ComponentChildren, product: ComponentChildren) => (
      <>
        サーバーは給餌器、給餌、食べ損ねた食事、MQTT の通信量、リクエストの所要時間、データベースの大きさを{" "}
        {path} で{product} の形式で提供します。読めるのはオーナーだけです。アカウントページで API
        トークンを作成し、{product}
        のそばのファイルに保存して、下の例のようにスクレイプ設定からそのファイルを指定してください。トークンそのものを設定に書かないでください。
      </>
    ),
    scrapeConfig: "スクレイプ設定",
    allLevels: "各レベルで書かれる内容",
  },
});

/** The scrape configuration for this server as the browser reaches it; the token stays in a file. */
function scrapeConfig(host: string, https: boolean): string {
  return [
    "scrape_configs:",
    "  - job_name: feedkeeper",
    "    metrics_path: /api/metrics",
    `    scheme: ${https ? "https" : "http"}`,
    "    authorization:",
    "      type: Bearer",
    "      # holds an owner's API token and nothing else",
    "      credentials_file: /etc/prometheus/feedkeeper-token",
    "    static_configs:",
    `      - targets: ["${host}"]`,
  ].join("\n");
}

/** The owner's section of the server settings for the log level (until restart) and how to scrape metrics. */
export function LoggingSettings({ onUnauthorized }: { onUnauthorized: () => void }) {
  const [settings, setSettings] = useState<LogLevelSettings | null>(null);
  const [choice, setChoice] = useState<Level>("info");
  const [error, setError] = useState<string | null>(null);
  const [changedTo, setChangedTo] = useState<Level | null>(null);
  const [busy, setBusy] = useState(false);

  useLoad(
    {
      fetch: (signal) => api.logLevel(signal),
      onData: (data) => {
        setSettings(data);
        setChoice(data.level);
        setError(null);
      },
      onError: (message) => setError(T.failed(message)),
      onUnauthorized,
    },
    [],
  );

  async function apply(e: Event) {
    e.preventDefault();
    setBusy(true);
    setChangedTo(null);
    setError(null);
    try {
      const now = await api.setLogLevel({ level: choice });
      setSettings(now);
      setChoice(now.level);
      setChangedTo(now.level);
    } catch (err) {
      if (isUnauthorized(err)) return onUnauthorized();
      setError(T.notChanged(errorMessage(err)));
    } finally {
      setBusy(false);
    }
  }

  const config = scrapeConfig(location.host, location.protocol === "https:");
  const product = <span translate={false}>Prometheus</span>;
  return (
    <section class="panel" aria-labelledby="logging-title">
      <h3 id="logging-title">{T.title}</h3>
      <p class="hint">{T.intro}</p>
      <ErrorAlert message={error} />
      {settings === null && !error && <p class="muted">{T.loading}</p>}
      {settings && (
        <form onSubmit={apply}>
          <dl class="facts">
            <div>
              <dt>{T.now}</dt>
              <dd>
                <code data-testid="log-level-now">{settings.level}</code>
              </dd>
            </div>
            <div>
              <dt>{T.configured}</dt>
              <dd>
                <code>{settings.configured}</code>
              </dd>
            </div>
          </dl>
          <fieldset disabled={busy}>
            <div class="field">
              <label for="log-level">{T.level}</label>
              <select
                id="log-level"
                value={choice}
                aria-describedby="log-level-hint"
                onChange={(e) => setChoice(e.currentTarget.value as Level)}
              >
                {LEVELS.map((level) => (
                  <option key={level} value={level}>
                    {level}
                  </option>
                ))}
              </select>
              <small id="log-level-hint" class="hint">
                {T.levels[choice]}
              </small>
            </div>
            <button type="submit" disabled={choice === settings.level}>
              {busy ? T.applying : T.apply}
            </button>
          </fieldset>
          <p role="status" class="notice">
            {changedTo && T.changed(<code>{changedTo}</code>)}
          </p>
          <details>
            <summary>{T.allLevels}</summary>
            <dl class="facts">
              {LEVELS.map((level) => (
                <div key={level}>
                  <dt>
                    <code>{level}</code>
                  </dt>
                  <dd>{T.levels[level]}</dd>
                </div>
              ))}
            </dl>
          </details>
        </form>
      )}
      <h4>{T.metricsTitle(product)}</h4>
      <p class="hint">{T.metricsIntro(<code>/api/metrics</code>, product)}</p>
      {/* Wrapped rather than scrolled: a long host name must not widen a phone's page. */}
      <pre
        lang="en"
        translate={false}
        data-testid="scrape-config"
        style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}
      >
        {config}
      </pre>
      <CopyButton text={config} what={T.scrapeConfig} />
    </section>
  );
}
