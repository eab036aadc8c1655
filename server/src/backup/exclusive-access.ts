/**
 * A restore replaces the database file, which must never happen under a running server: it would keep
 * writing to the file it has open and lose everything it wrote after. A server holds its database open in
 * WAL mode, and while any connection does, no other can take SQLite's exclusive lock; so taking it is
 * the check, and holding it keeps a server from starting halfway through.
 */
import { openSqlite, type SqliteConnection } from "../store/db.js";

export class ServerRunningError extends Error {
  override name = "ServerRunningError";
  constructor(file: string) {
    super(
      `a Feedkeeper server has the database ${file} open. Stop the server first (docker compose stop, systemctl stop feedkeeper…), or restore through the web UI (Server settings → Backup), which restarts the server itself.`,
    );
  }
}

/** The database opened with an exclusive lock held, or ServerRunningError if something else has it open. */
export function openExclusive(file: string): SqliteConnection {
  const sqlite = openSqlite(file, { fileMustExist: true, timeout: 0 });
  try {
    sqlite.pragma("locking_mode = EXCLUSIVE");
    // In EXCLUSIVE locking mode the lock taken here is kept after the commit, until close.
    sqlite.exec("begin exclusive; commit");
    return sqlite;
  } catch (err) {
    sqlite.close();
    if ((err as { code?: string }).code === "SQLITE_BUSY") throw new ServerRunningError(file);
    throw err;
  }
}
