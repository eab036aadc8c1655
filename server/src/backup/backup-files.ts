/**
 * Where backups live and what they are called. Every backup holds password hashes and feeder credential
 * hashes, so the folder is 0700 and each file 0600 whatever the umask.
 */
import fs from "node:fs";
import path from "node:path";

export const BACKUP_EXTENSION = ".fkbackup";

/** What made a backup, from its name: the timer, an upgrade, a restore (the data it replaced), or someone. */
export type BackupKind = "scheduled" | "pre-migration" | "pre-restore" | "manual";

export interface BackupFile {
  name: string;
  path: string;
  bytes: number;
  modifiedAt: Date;
  kind: BackupKind;
}

export function backupsDir(dataDir: string): string {
  return path.join(dataDir, "backups");
}

export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
}

/** 2026-11-26T07-30-00Z: sorts by time, and holds no character a file system or a shell minds. */
export function timestampForFile(at: Date): string {
  return at
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replaceAll(":", "-");
}

export function backupFileName(kind: BackupKind, at: Date): string {
  return `${kind === "manual" ? "feedkeeper" : kind}-${timestampForFile(at)}${BACKUP_EXTENSION}`;
}

function kindOf(name: string): BackupKind {
  for (const kind of ["scheduled", "pre-migration", "pre-restore"] as const) {
    if (name.startsWith(`${kind}-`)) return kind;
  }
  return "manual";
}

/** The finished backups in the folder, newest first (files being written end in .partial and are left out). */
export function listBackups(dir: string): BackupFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const files: BackupFile[] = [];
  for (const name of names) {
    if (!name.endsWith(BACKUP_EXTENSION) && !name.endsWith(".db")) continue;
    const file = path.join(dir, name);
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (!stat?.isFile()) continue;
    files.push({ name, path: file, bytes: stat.size, modifiedAt: stat.mtime, kind: kindOf(name) });
  }
  return files.sort(
    (a, b) => b.modifiedAt.getTime() - a.modifiedAt.getTime() || b.name.localeCompare(a.name),
  );
}

/**
 * Keeps the `keep` newest scheduled backups and deletes the rest, so the timer can never fill the disk.
 * Backups someone made, and those an upgrade or a restore made, are never deleted here: they are rare and
 * each is somebody's way back. Returns the names deleted.
 */
export function pruneScheduledBackups(dir: string, keep: number): string[] {
  const old = listBackups(dir)
    .filter((b) => b.kind === "scheduled")
    .slice(keep);
  for (const backup of old) fs.rmSync(backup.path, { force: true });
  return old.map((b) => b.name);
}

/**
 * Work folders (".backup-…", ".download-…", ".upload-…", ".check-…") a crash or a kill left behind: gone
 * at start.
 */
export function removeWorkLeftovers(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(".") || name.endsWith(".partial"))
      fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}
