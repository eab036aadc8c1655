/**
 * What makes restored data safe for the devices, which kept running while the data went back in time.
 *
 * What a device has seen that the restored database may not know:
 * - schedule versions (`feeders.schedule_version`): a device confirms the version it runs and the server
 *   re-sends only when the numbers differ. A restored, lower number could later be reached again with a
 *   different plan, and a device already running that number would keep its old plan. Every feeder's
 *   version becomes max(restored, current) + SCHEDULE_VERSION_MARGIN, and its confirmed version is
 *   forgotten, so each device gets its plan again when it connects. The margin covers feeders the current
 *   database no longer has (deleted after the backup was made) and plan changes it never saw.
 * - feed command ids: random UUIDs (never reused) and, for planned meals, the occurrence id
 *   `<feeder>/<date>/<meal>`, which the scheduler issues once per occurrence it decides. The restored
 *   data has not decided the meals since the backup; to keep it from deciding them again, the scheduler's
 *   checkpoint (`meals_evaluated_until`) is never moved back, and recent feeds and occurrences the
 *   current data has are carried over (they also keep the daily safety limits counting real meals).
 * - open feed commands in the backup (pending, sent, accepted) are never sent again: they end as expired
 *   (or timed out once accepted), with the restore as the recorded reason.
 *
 * Sessions in the backup end: everyone signs in again (API tokens stay).
 */
import type { SqliteConnection } from "../store/db.js";

export const SCHEDULE_VERSION_MARGIN = 1000;
/** How far back feeds and occurrences the current data has and the backup lacks are carried over. */
export const CARRY_OVER_MS = 48 * 60 * 60 * 1000;
export const CHECKPOINT_KEY = "meals_evaluated_until";
export const RESTORE_REASON = "server restored from a backup";

export interface RestoreSafety {
  feedersBumped: number;
  /** The highest schedule version any feeder now has. */
  highestScheduleVersion: number;
  feedsEnded: number;
  feedsCarriedOver: number;
  occurrencesCarriedOver: number;
  sessionsEnded: number;
  /** Feeders the current data has and the backup does not: they and their history are not restored. */
  feedersNotInBackup: string[];
  /** Feeders whose MQTT credentials differ: their devices need the credentials the backup has. */
  credentialsDiffer: string[];
}

function columns(sqlite: SqliteConnection, schema: string, table: string): string[] {
  return (sqlite.pragma(`${schema}.table_info(${table})`) as Array<{ name: string }>).map((c) => c.name);
}

/** Copies rows the restored table lacks (by any unique key) from the current one, on the columns both have. */
function carryOver(sqlite: SqliteConnection, table: string, where: string, since: number): number {
  const current = columns(sqlite, "main", table);
  if (current.length === 0) return 0;
  const restored = new Set(columns(sqlite, "restored", table));
  const shared = current.filter((c) => restored.has(c)).join(", ");
  return sqlite
    .prepare(
      `insert or ignore into restored.${table} (${shared}) select ${shared} from main.${table} where ${where} and feeder_id in (select id from restored.feeders)`,
    )
    .run(since).changes;
}

export type FeederDifferences = Pick<RestoreSafety, "feedersNotInBackup" | "credentialsDiffer">;

/**
 * What a restore would undo for the feeders that exist now, on a connection whose `main` is the current
 * database (with feeders) and which has the restored one attached as `restored`. Read only: the check of
 * an uploaded backup asks the same before anything is replaced.
 */
export function feederDifferences(sqlite: SqliteConnection): FeederDifferences {
  const names = (sql: string) => (sqlite.prepare(sql).all() as Array<{ name: string }>).map((r) => r.name);
  return {
    feedersNotInBackup: names(
      "select name from main.feeders where id not in (select id from restored.feeders) order by name",
    ),
    credentialsDiffer: names(
      "select r.name from restored.feeders r join main.feeders c on c.id = r.id where c.secret_hash <> r.secret_hash order by r.name",
    ),
  };
}

/**
 * Prepares the restored database (attached as `restored`) on a connection whose `main` is the current
 * database, or an empty one when there is none (`hasCurrent` false). Runs in one transaction.
 */
export function makeRestoredDataSafe(
  sqlite: SqliteConnection,
  options: { hasCurrent: boolean; now: number },
): RestoreSafety {
  const { hasCurrent, now } = options;
  return sqlite.transaction((): RestoreSafety => {
    const hasCurrentFeeders = hasCurrent && columns(sqlite, "main", "feeders").length > 0;
    let feedsCarriedOver = 0;
    let occurrencesCarriedOver = 0;
    let feedersNotInBackup: string[] = [];
    let credentialsDiffer: string[] = [];
    if (hasCurrentFeeders) {
      const since = now - CARRY_OVER_MS;
      feedsCarriedOver = carryOver(sqlite, "feeds", "requested_at >= ?", since);
      occurrencesCarriedOver = carryOver(sqlite, "occurrences", "due_at >= ?", since);
      ({ feedersNotInBackup, credentialsDiffer } = feederDifferences(sqlite));
    }
    if (hasCurrent && columns(sqlite, "main", "server_state").length > 0) {
      // Facts the server keeps about itself (the Petnet API key secret…) that the backup lacks.
      sqlite
        .prepare("insert or ignore into restored.server_state select key, value from main.server_state")
        .run();
    }

    const currentVersion = hasCurrentFeeders
      ? "coalesce((select c.schedule_version from main.feeders c where c.id = restored.feeders.id), 0)"
      : "0";
    const feedersBumped = sqlite
      .prepare(
        `update restored.feeders set schedule_version = max(schedule_version, ${currentVersion}) + ?, device_schedule_version = null`,
      )
      .run(SCHEDULE_VERSION_MARGIN).changes;
    const highest = sqlite
      .prepare("select coalesce(max(schedule_version), 0) as v from restored.feeders")
      .get() as {
      v: number;
    };

    // Never back in time: with no current data, nobody knows what the old server did up to now.
    const checkpoint = (schema: string) =>
      (
        sqlite.prepare(`select value from ${schema}.server_state where key = ?`).get(CHECKPOINT_KEY) as
          | { value: string }
          | undefined
      )?.value;
    const restoredCheckpoint = Number(checkpoint("restored") ?? 0);
    const currentCheckpoint =
      hasCurrent && columns(sqlite, "main", "server_state").length > 0 ? checkpoint("main") : undefined;
    const evaluatedUntil = Math.max(
      restoredCheckpoint,
      currentCheckpoint !== undefined ? Number(currentCheckpoint) : now,
    );
    sqlite
      .prepare(
        "insert into restored.server_state (key, value) values (?, ?) on conflict (key) do update set value = excluded.value",
      )
      .run(CHECKPOINT_KEY, String(evaluatedUntil));

    const expired = sqlite
      .prepare(
        "update restored.feeds set status = 'expired', completed_at = ?, error = ? where status in ('pending', 'sent')",
      )
      .run(now, RESTORE_REASON).changes;
    const timedOut = sqlite
      .prepare(
        "update restored.feeds set status = 'timed_out', completed_at = ?, error = ? where status = 'accepted'",
      )
      .run(now, RESTORE_REASON).changes;
    const sessionsEnded = sqlite.prepare("delete from restored.sessions").run().changes;

    return {
      feedersBumped,
      highestScheduleVersion: highest.v,
      feedsEnded: expired + timedOut,
      feedsCarriedOver,
      occurrencesCarriedOver,
      sessionsEnded,
      feedersNotInBackup,
      credentialsDiffer,
    };
  })();
}
