import { localized } from "../i18n";
import { BackupSettings } from "./settings/Backup";
import { LoggingSettings } from "./settings/Logging";
import { NotificationSettings } from "./settings/Notifications";

const T = localized({
  en: {
    title: "Server settings",
    intro: "How this server reaches you and keeps your data: for the owner only.",
  },
  ja: {
    title: "サーバー設定",
    intro: "このサーバーからの通知とデータの保管に関する設定です。オーナーだけが使えます。",
  },
});

/**
 * The owner's page for the server as a whole. Each section is its own component in ./settings/, loading
 * its own data, so one failing section leaves the others usable. Notifications first: they are what an
 * owner comes back to change.
 */
export function ServerSettings({ onUnauthorized }: { onUnauthorized: () => void }) {
  return (
    <section class="server-settings">
      <h2>{T.title}</h2>
      <p class="muted">{T.intro}</p>
      <NotificationSettings onUnauthorized={onUnauthorized} />
      <BackupSettings onUnauthorized={onUnauthorized} />
      <LoggingSettings onUnauthorized={onUnauthorized} />
    </section>
  );
}
