/**
 * manifest.json, the first entry of every .fkbackup: what the archive holds and what made it, checked
 * before anything in the archive is trusted. `files` has the size and SHA-256 of every other entry, so a
 * truncated or altered archive is refused instead of restored.
 */
import { z } from "zod";
import { AppError } from "../errors.js";
import { isNewerThan, type SchemaLevel } from "./schema-level.js";

export const FORMAT = "feedkeeper-backup";
/** Raised only when an older Feedkeeper could no longer read what a newer one writes. */
export const FORMAT_VERSION = 1;

export const DATABASE_ENTRY = "feedkeeper.db";
export const MANIFEST_ENTRY = "manifest.json";
export const CONFIG_ENTRY = "config.json";
/** The generated MQTTS/Kronos certificate: devices that pinned it keep trusting the restored server. */
export const TLS_ENTRIES = ["tls/mqtts-cert.pem", "tls/mqtts-key.pem"] as const;
export const ARCHIVE_ENTRIES: readonly string[] = [
  MANIFEST_ENTRY,
  DATABASE_ENTRY,
  CONFIG_ENTRY,
  ...TLS_ENTRIES,
];

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "must be a SHA-256 in hex");
const count = z.number().int().min(0);

export const manifestSchema = z.object({
  format: z.literal(FORMAT),
  formatVersion: z.number().int().min(1),
  appVersion: z.string().min(1).max(64),
  createdAt: z.iso.datetime(),
  schema: z.object({ migrations: count, lastMigrationAt: count }),
  files: z.record(z.string().max(64), z.object({ bytes: count, sha256 })),
  counts: z.record(z.string().max(64), count),
});
export type Manifest = z.infer<typeof manifestSchema>;

export function invalidBackup(reason: string): AppError {
  return new AppError("backup_invalid", `This is not a usable Feedkeeper backup: ${reason}.`);
}

/** Parses manifest.json; a newer format is "too new", anything else malformed is "invalid". */
export function parseManifest(text: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalidBackup("its manifest is not JSON");
  }
  const head = z.object({ format: z.literal(FORMAT), formatVersion: z.number().int() }).safeParse(json);
  if (!head.success) throw invalidBackup("its manifest is not a Feedkeeper backup manifest");
  if (head.data.formatVersion > FORMAT_VERSION) {
    throw new AppError(
      "backup_too_new",
      `This backup is in format ${head.data.formatVersion}, made by a newer Feedkeeper than this one (which reads format ${FORMAT_VERSION}); upgrade Feedkeeper, then restore it.`,
    );
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidBackup(`its manifest is malformed (${issue?.path.join(".")}: ${issue?.message})`);
  }
  if (!parsed.data.files[DATABASE_ENTRY]) throw invalidBackup("its manifest lists no database");
  return parsed.data;
}

/** Refuses a database whose schema this build does not know; older ones are fine (they get migrated). */
export function assertNotNewer(level: SchemaLevel, journal: number[], madeBy: string | undefined): void {
  if (!isNewerThan(level, journal)) return;
  throw new AppError(
    "backup_too_new",
    `This backup${madeBy ? ` was made by Feedkeeper ${madeBy} and` : ""} has ${level.migrations} database migrations; this Feedkeeper knows ${journal.length}. Upgrade Feedkeeper, then restore it.`,
  );
}
