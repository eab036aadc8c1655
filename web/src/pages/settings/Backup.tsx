import { useState } from "preact/hooks";
import { api, BACKUP_DOWNLOAD_URL, errorMessage, isUnauthorized } from "../../api";
import type { BackupCheck, BackupList, RestoreResponse } from "../../api-types";
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
    notDownloaded: (message: string) => `Not downloaded: ${message}`,
    restoreTitle: "Restore a backup",
    restoreIntro:
      "A restore replaces ALL the data on this server with the backup's. Check the file first: the server says what it holds and what restoring it would change here, and changes nothing. It refuses a damaged backup or one from a newer version. The current data is kept as a backup on the server, so a restore can be undone. The server then restarts; everyone signs in again, and every feeder gets its meal plan again.",
    file: "Backup file",
    check: "Check this backup",
    checking: "Checking…",
    notUsable: (message: string) => `This backup cannot be restored: ${message}`,
    checkTitle: "What this backup holds",
    made: "Made",
    madeBy: "Made by",
    kind: "File",
    fileKinds: {
      archive: "backup archive, every checksum matches",
      database: "bare database (no checksums to compare)",
    } satisfies Record<BackupCheck["backup"]["kind"], string>,
    counts: {
      users: "Users",
      feeders: "Feeders",
      pets: "Pets",
      meals: "Meals in meal plans",
      feeds: "Feeds",
      telemetry: "Sensor readings",
      audit_log: "Audit log entries",
    } as Record<string, string>,
    migrated: (steps: number) =>
      `It comes from an older version of Feedkeeper: its data will be migrated to this one (${steps} ${steps === 1 ? "step" : "steps"}).`,
    current: "It is from this version of Feedkeeper: nothing needs migrating.",
    tls: "It holds the server's TLS certificate, which is restored too: feeders that trust it keep connecting.",
    noTls: "It has no TLS certificate: the current one stays.",
    changesTitle: "Restoring it would change these feeders:",
    notInBackup: (name: string) =>
      `${name} is not in this backup: it would be removed and must be added again.`,
    otherCredentials: (name: string) =>
      `${name} has other credentials in this backup: it must be given new credentials or be re-connected.`,
    noChanges: "Every feeder on this server now is in this backup, with the same credentials.",
    restore: "Restore this backup…",
    confirm: (name: string) =>
      `Replace all the data on this server with the backup ${name}? The current data is kept as a backup on the server.`,
    restoring: "Restoring…",
    restored: (made: string) =>
      `Restored the backup made ${made}. The server is restarting; sign in again in a moment.`,
    signIn: "Sign in again",
    notRestored: (message: string) => `Not restored: ${message}`,
    unavailable:
      "This server cannot restart itself, so it cannot restore here (checking a backup works): stop it and run `feedkeeper restore <file>`.",
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
    notDownloaded: (message: string) => `ダウンロードできませんでした: ${message}`,
    restoreTitle: "バックアップから復元",
    restoreIntro:
      "復元すると、このサーバーのすべてのデータがバックアップの内容に置き換わります。まずファイルを確認してください。サーバーはバックアップの中身と、復元するとここで何が変わるかを示し、何も変更しません。破損したバックアップや新しいバージョンのものは拒否します。現在のデータはサーバー上にバックアップとして残るので、復元は元に戻せます。その後サーバーが再起動します。全員がサインインし直し、各給餌器には給餌プランが送り直されます。",
    file: "バックアップファイル",
    check: "このバックアップを確認",
    checking: "確認中…",
    notUsable: (message: string) => `このバックアップは復元できません: ${message}`,
    checkTitle: "このバックアップの中身",
    made: "作成日時",
    madeBy: "作成したバージョン",
    kind: "ファイル",
    fileKinds: {
      archive: "バックアップアーカイブ（すべてのチェックサムが一致）",
      database: "データベースのみ（照合するチェックサムなし）",
    },
    counts: {
      users: "ユーザー",
      feeders: "給餌器",
      pets: "ペット",
      meals: "給餌プランの食事",
      feeds: "給餌の記録",
      telemetry: "センサーの測定値",
      audit_log: "監査ログの記録",
    },
    migrated: (steps: number) =>
      `古いバージョンの Feedkeeper で作成されたものです。データはこのバージョンに合わせて移行されます（${steps} 段階）。`,
    current: "このバージョンの Feedkeeper で作成されたものです。移行は不要です。",
    tls: "サーバーの TLS 証明書が含まれており、これも復元されます。この証明書を信頼している給餌器はそのまま接続できます。",
    noTls: "TLS 証明書は含まれていません。現在の証明書がそのまま使われます。",
    changesTitle: "復元すると、次の給餌器が変わります:",
    notInBackup: (name: string) =>
      `${name} はこのバックアップにありません。削除されるため、もう一度追加する必要があります。`,
    otherCredentials: (name: string) =>
      `${name} はこのバックアップでは別の認証情報です。新しい認証情報を発行するか、接続し直す必要があります。`,
    noChanges: "このサーバーにある給餌器はすべて、同じ認証情報でこのバックアップに含まれています。",
    restore: "このバックアップから復元…",
    confirm: (name: string) =>
      `このサーバーのすべてのデータをバックアップ ${name} の内容に置き換えますか？現在のデータはサーバー上にバックアップとして残ります。`,
    restoring: "復元中…",
    restored: (made: string) =>
      `${made} に作成されたバックアップを復元しました。サーバーが再起動しています。少し待ってからサインインし直してください。`,
    signIn: "サインインし直す",
    notRestored: (message: string) => `復元していません: ${message}`,
    unavailable:
      "このサーバーは自分で再起動できないため、ここでは復元できません（バックアップの確認はできます）。サーバーを停止して `feedkeeper restore <ファイル>` を実行してください。",
  },
});

/** What a check found, in words: where the backup came from, what it holds, what restoring it would undo. */
function CheckSummary({ check }: { check: BackupCheck }) {
  const { backup } = check;
  const changes = [
    ...check.feedersNotInBackup.map(T.notInBackup),
    ...check.credentialsDiffer.map(T.otherCredentials),
  ];
  return (
    <section class="backup-check" aria-labelledby="backup-check-title">
      <h5 id="backup-check-title">{T.checkTitle}</h5>
      <dl class="facts">
        <div>
          <dt>{T.made}</dt>
          <dd>{formatInstant(backup.createdAt)}</dd>
        </div>
        {backup.appVersion && (
          <div>
            <dt>{T.madeBy}</dt>
            <dd translate={false}>Feedkeeper {backup.appVersion}</dd>
          </div>
        )}
        <div>
          <dt>{T.kind}</dt>
          <dd>{T.fileKinds[backup.kind]}</dd>
        </div>
      </dl>
      <dl class="facts">
        {Object.entries(backup.counts).map(([table, n]) => (
          <div key={table}>
            <dt>{T.counts[table] ?? table}</dt>
            <dd>{formatNumber(n, 0)}</dd>
          </div>
        ))}
      </dl>
      <p>{backup.migrated > 0 ? T.migrated(backup.migrated) : T.current}</p>
      <p>{backup.tlsIdentity ? T.tls : T.noTls}</p>
      {changes.length > 0 ? (
        <div class="warn">
          <p>{T.changesTitle}</p>
          <ul>
            {changes.map((text) => (
              <li key={text}>{text}</li>
            ))}
          </ul>
        </div>
      ) : (
        <p>{T.noChanges}</p>
      )}
    </section>
  );
}

/** The owner's section of the server settings: download a backup, see the local ones, check and restore one. */
export function BackupSettings({ onUnauthorized }: { onUnauthorized: () => void }) {
  const [list, setList] = useState<BackupList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const [file, setFile] = useState<File | null>(null);
  // Kept with the file it is about, so an answer for a file since replaced is never shown for the new one.
  const [checked, setChecked] = useState<{ file: File; check: BackupCheck } | null>(null);
  const [busy, setBusy] = useState<"check" | "restore" | null>(null);
  const [restored, setRestored] = useState<RestoreResponse | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const preview = checked && checked.file === file ? checked : null;

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

  /**
   * A download the server refuses (the session ended, say) would leave the browser on its JSON error, so a
   * cheap owner-only request goes first and the link is followed only when it passes. The backup itself
   * still streams straight to a file, never through this page's memory.
   */
  async function download(e: Event) {
    e.preventDefault();
    setDownloadError(null);
    try {
      setList(await api.backups());
    } catch (err) {
      if (isUnauthorized(err)) onUnauthorized();
      else setDownloadError(T.notDownloaded(errorMessage(err)));
      return;
    }
    const link = document.createElement("a");
    link.href = BACKUP_DOWNLOAD_URL;
    link.download = "";
    link.click();
  }

  function choose(e: Event) {
    setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null);
    setChecked(null);
    setActionError(null);
  }

  async function check(e: Event) {
    e.preventDefault();
    if (!file) return;
    setBusy("check");
    setActionError(null);
    try {
      const result = await api.checkBackup(file);
      setChecked({ file, check: result });
    } catch (err) {
      if (isUnauthorized(err)) onUnauthorized();
      else setActionError(T.notUsable(errorMessage(err)));
    } finally {
      setBusy(null);
    }
  }

  async function restore() {
    if (!preview || !window.confirm(T.confirm(preview.file.name))) return;
    setBusy("restore");
    setActionError(null);
    try {
      setRestored(await api.restoreBackup(preview.file));
    } catch (err) {
      if (isUnauthorized(err)) onUnauthorized();
      else setActionError(T.notRestored(errorMessage(err)));
    } finally {
      setBusy(null);
    }
  }

  const schedule = list?.schedule;
  return (
    <section class="panel backup-settings" aria-labelledby="backup-title">
      <h3 id="backup-title">{T.title}</h3>
      <p>{T.intro}</p>
      <p>
        <a href={BACKUP_DOWNLOAD_URL} download onClick={download}>
          {T.download}
        </a>
      </p>
      <ErrorAlert message={downloadError} />

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
      {restored ? (
        <div role="status">
          <p>{T.restored(formatInstant(restored.restored.createdAt))}</p>
          <p>
            <a href="/">{T.signIn}</a>
          </p>
        </div>
      ) : (
        <>
          {list && !list.restoreAvailable && <p class="muted">{T.unavailable}</p>}
          <form class="backup-restore" onSubmit={check}>
            <label for="backup-file">{T.file}</label>
            <input id="backup-file" type="file" accept=".fkbackup,.db" onChange={choose} />
            <button type="submit" disabled={!file || busy !== null}>
              {busy === "check" ? T.checking : T.check}
            </button>
          </form>
          {preview && <CheckSummary check={preview.check} />}
          {preview && list?.restoreAvailable !== false && (
            <p>
              <button type="button" class="danger" disabled={busy !== null} onClick={restore}>
                {busy === "restore" ? T.restoring : T.restore}
              </button>
            </p>
          )}
          <ErrorAlert message={actionError} />
        </>
      )}
    </section>
  );
}
