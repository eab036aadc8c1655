import { useState } from "preact/hooks";
import { api, BACKUP_DOWNLOAD_URL, errorMessage, isUnauthorized } from "../../api";
import type { BackupList, RestoreResponse } from "../../api-types";
import { formatInstant, formatNumber } from "../../dates";
import { localized } from "../../i18n";
import { ErrorAlert } from "../../ui";
import { useLoad } from "../../use-load";

type Kind = BackupList["backups"][number]["kind"];

const T = localized({
  en: {
    title: "Backup and restore",
    intro:
      "A backup holds everything the server keeps: feeders, meal plans, history, users and the TLS certificate. It also holds the password hashes and the feeder credentials, so keep it as safe as the server itself: whoever has it can try to crack the passwords or pose as your feeders.",
    download: "Download a backup now",
    loading: "Loading the backups…",
    failed: (message: string) => `Could not load the backups (${message}).`,
    localTitle: "Backups on the server",
    schedule: (hours: number, keep: number) =>
      `The server makes a backup every ${hours} h in the backups folder of its data directory and keeps the ${keep} newest.`,
    scheduleOff: "Scheduled backups are off (FEEDKEEPER_BACKUP_INTERVAL_HOURS=0).",
    next: (at: string) => `Next: ${at}.`,
    lastFailed: (at: string, message: string) => `The scheduled backup at ${at} failed: ${message}`,
    none: "None yet.",
    kinds: {
      scheduled: "scheduled",
      "pre-migration": "before an upgrade",
      "pre-restore": "before a restore",
      manual: "made by hand",
    } satisfies Record<Kind, string>,
    size: (mb: string) => `${mb} MB`,
    restoreTitle: "Restore a backup",
    restoreIntro:
      "Replaces ALL the data on this server with the backup's. The server checks the file first and refuses a damaged one or one from a newer version, changing nothing. The current data is kept as a backup on the server, so a restore can be undone. The server then restarts; everyone signs in again, and every feeder gets its meal plan again.",
    file: "Backup file",
    restore: "Restore…",
    confirm: (name: string) =>
      `Replace all the data on this server with the backup ${name}? The current data is kept as a backup on the server.`,
    restoring: "Checking and restoring…",
    restored: (made: string) =>
      `Restored the backup made ${made}. The server is restarting; sign in again in a moment.`,
    signIn: "Sign in again",
    notRestored: (message: string) => `Not restored: ${message}`,
    unavailable:
      "This server cannot restart itself, so it cannot restore here: stop it and run `feedkeeper restore <file>`.",
  },
  ja: {
    title: "バックアップと復元",
    intro:
      "バックアップには、給餌器、給餌プラン、履歴、ユーザー、TLS 証明書など、サーバーが保存しているすべてが入っています。パスワードのハッシュや給餌器の認証情報も含まれるため、サーバーと同じくらい大切に保管してください。手に入れた人はパスワードの解読を試みたり、給餌器になりすましたりできます。",
    download: "今すぐバックアップをダウンロード",
    loading: "バックアップを読み込み中…",
    failed: (message: string) => `バックアップを読み込めませんでした（${message}）。`,
    localTitle: "サーバー上のバックアップ",
    schedule: (hours: number, keep: number) =>
      `サーバーは ${hours} 時間ごとにデータフォルダー内にバックアップを作成し、新しいものから ${keep} 件を残します。`,
    scheduleOff: "定期バックアップはオフです（FEEDKEEPER_BACKUP_INTERVAL_HOURS=0）。",
    next: (at: string) => `次回: ${at}`,
    lastFailed: (at: string, message: string) => `${at} の定期バックアップに失敗しました: ${message}`,
    none: "まだありません。",
    kinds: {
      scheduled: "定期",
      "pre-migration": "更新前",
      "pre-restore": "復元前",
      manual: "手動",
    },
    size: (mb: string) => `${mb} MB`,
    restoreTitle: "バックアップから復元",
    restoreIntro:
      "このサーバーのすべてのデータをバックアップの内容に置き換えます。サーバーはまずファイルを確認し、破損したものや新しいバージョンのものは何も変更せずに拒否します。現在のデータはサーバー上にバックアップとして残るので、復元は元に戻せます。その後サーバーが再起動します。全員がサインインし直し、各給餌器には給餌プランが送り直されます。",
    file: "バックアップファイル",
    restore: "復元…",
    confirm: (name: string) =>
      `このサーバーのすべてのデータをバックアップ ${name} の内容に置き換えますか？現在のデータはサーバー上にバックアップとして残ります。`,
    restoring: "確認して復元中…",
    restored: (made: string) =>
      `${made} に作成されたバックアップを復元しました。サーバーが再起動しています。少し待ってからサインインし直してください。`,
    signIn: "サインインし直す",
    notRestored: (message: string) => `復元していません: ${message}`,
    unavailable:
      "このサーバーは自分で再起動できないため、ここでは復元できません。サーバーを停止して `feedkeeper restore <ファイル>` を実行してください。",
  },
});

/** The owner's section of the server settings: download a backup, see the local ones, restore one. */
export function BackupSettings({ onUnauthorized }: { onUnauthorized: () => void }) {
  const [list, setList] = useState<BackupList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [restored, setRestored] = useState<RestoreResponse | null>(null);
  const [restoreError, setRestoreError] = useState<string | null>(null);

  useLoad(
    {
      fetch: (signal) => api.backups(signal),
      onData: (data) => {
        setList(data);
        setError(null);
      },
      onError: (message) => setError(T.failed(message)),
      onUnauthorized,
    },
    [],
  );

  async function restore(e: Event) {
    e.preventDefault();
    if (!file || !window.confirm(T.confirm(file.name))) return;
    setBusy(true);
    setRestoreError(null);
    try {
      setRestored(await api.restoreBackup(file));
    } catch (err) {
      if (isUnauthorized(err)) onUnauthorized();
      else setRestoreError(T.notRestored(errorMessage(err)));
    } finally {
      setBusy(false);
    }
  }

  const schedule = list?.schedule;
  return (
    <section class="panel backup-settings" aria-labelledby="backup-title">
      <h3 id="backup-title">{T.title}</h3>
      <p>{T.intro}</p>
      <p>
        <a href={BACKUP_DOWNLOAD_URL} download>
          {T.download}
        </a>
      </p>

      <h4>{T.localTitle}</h4>
      <ErrorAlert message={error} />
      {!list && !error && <p class="muted">{T.loading}</p>}
      {schedule && (
        <p class="muted">
          {schedule.intervalHours > 0 ? T.schedule(schedule.intervalHours, schedule.keep) : T.scheduleOff}{" "}
          {schedule.nextAt && T.next(formatInstant(schedule.nextAt))}
        </p>
      )}
      {schedule?.lastError && (
        <p class="alert" role="alert">
          {T.lastFailed(formatInstant(schedule.lastError.at), schedule.lastError.message)}
        </p>
      )}
      {list && list.backups.length === 0 && <p class="muted">{T.none}</p>}
      {list && list.backups.length > 0 && (
        <ul class="backup-list">
          {list.backups.map((b) => (
            <li key={b.name}>
              <span class="backup-name" translate={false} lang="en">
                {b.name}
              </span>{" "}
              <span class="muted">
                {T.kinds[b.kind]} · {formatInstant(b.modifiedAt)} ·{" "}
                {T.size(formatNumber(b.bytes / 1024 / 1024, 2))}
              </span>
            </li>
          ))}
        </ul>
      )}

      <h4>{T.restoreTitle}</h4>
      <p>{T.restoreIntro}</p>
      {list && !list.restoreAvailable ? (
        <p class="muted">{T.unavailable}</p>
      ) : restored ? (
        <div role="status">
          <p>{T.restored(formatInstant(restored.restored.createdAt))}</p>
          <p>
            <a href="/">{T.signIn}</a>
          </p>
        </div>
      ) : (
        <form class="backup-restore" onSubmit={restore}>
          <label for="backup-file">{T.file}</label>
          <input
            id="backup-file"
            type="file"
            accept=".fkbackup,.db"
            onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)}
          />
          <button type="submit" class="danger" disabled={!file || busy}>
            {busy ? T.restoring : T.restore}
          </button>
          <ErrorAlert message={restoreError} />
        </form>
      )}
    </section>
  );
}
