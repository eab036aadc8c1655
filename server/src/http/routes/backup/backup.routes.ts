import { createRoute, z } from "@hono/zod-openapi";
import { backupCheckSchema } from "../../../backup/check-backup.js";
import { stagedRestoreSchema } from "../../../backup/stage-restore.js";
import { errorResponses } from "../../schemas.js";

const isoTime = z.string().openapi({ example: "2026-11-26T07:30:00.000Z" });

export const BackupFileSchema = z
  .object({
    name: z.string().openapi({ example: "scheduled-2026-11-26T07-30-00Z.fkbackup" }),
    bytes: z.number().int(),
    modifiedAt: isoTime,
    kind: z.enum(["scheduled", "pre-migration", "pre-restore", "manual"]).openapi({
      description:
        "scheduled: made by the timer (the oldest are deleted); pre-migration: made before an upgrade changed the database; pre-restore: the data a restore replaced; manual: put there by someone",
    }),
  })
  .openapi("BackupFile");

export const BackupListSchema = z
  .object({
    backups: z.array(BackupFileSchema),
    schedule: z.object({
      intervalHours: z.number().int().openapi({ description: "FEEDKEEPER_BACKUP_INTERVAL_HOURS; 0: off" }),
      keep: z.number().int().openapi({ description: "FEEDKEEPER_BACKUP_KEEP" }),
      nextAt: isoTime.nullable(),
      lastError: z.object({ at: isoTime, message: z.string() }).nullable(),
    }),
    restoreAvailable: z
      .boolean()
      .openapi({ description: "False when this server cannot restart itself to restore (use the CLI)" }),
  })
  .openapi("BackupList");

export const RestoreResponseSchema = z
  .object({
    restored: stagedRestoreSchema.describe("What the backup holds and where it came from"),
    restarting: z.literal(true),
  })
  .openapi("RestoreResponse");

// Made here, where zod has .openapi(), from the shape the check module defines.
export const BackupCheckResponseSchema = z.object(backupCheckSchema.shape).openapi("BackupCheck");

const backupFileBody = {
  required: true,
  content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } },
} as const;

export const downloadBackup = createRoute({
  method: "get",
  path: "/api/backup",
  tags: ["Backup"],
  summary: "Download a backup now (owners only)",
  description:
    "A consistent copy of everything the server keeps, made while it runs: the database (SQLite's online backup), the settings in effect without secrets, and the generated TLS certificate if there is one, as one gzip'd tar (`.fkbackup`) with a manifest of checksums. It holds password hashes and feeder credential hashes: keep it as safe as the server. Recorded in the audit log.",
  responses: {
    200: {
      description: "The backup file",
      content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } },
    },
    ...errorResponses(401, 403),
  },
});

export const listBackupFiles = createRoute({
  method: "get",
  path: "/api/backups",
  tags: ["Backup"],
  summary: "The local backups and the backup schedule (owners only)",
  description:
    "The backups in `<data dir>/backups`, newest first: scheduled ones (every FEEDKEEPER_BACKUP_INTERVAL_HOURS, the FEEDKEEPER_BACKUP_KEEP newest kept), those made before an upgrade migrated the database, and those a restore made of the data it replaced.",
  responses: {
    200: { description: "Newest first", content: { "application/json": { schema: BackupListSchema } } },
    ...errorResponses(401, 403),
  },
});

export const restoreBackup = createRoute({
  method: "post",
  path: "/api/backup/restore",
  tags: ["Backup"],
  summary: "Restore an uploaded backup (owners only)",
  description:
    "The request body is the backup file itself (`.fkbackup`, or a bare SQLite database such as a pre-migration copy), up to 2 GB. It is checked completely first (manifest, checksums, integrity, version): a damaged, altered or newer-version backup is refused with 422 and nothing changes. An older one is migrated. Then the answer goes out and the server restarts on the restored data: the current data is kept as a pre-restore backup, open feed commands from the backup are never sent again, schedule versions move past anything the devices have seen so every feeder gets its plan again, and every session ends (sign in again).",
  request: { body: backupFileBody },
  responses: {
    200: {
      description: "Checked and staged; the server restarts now",
      content: { "application/json": { schema: RestoreResponseSchema } },
    },
    ...errorResponses(401, 403, 409, 413, 422, 503),
  },
});

export const checkBackup = createRoute({
  method: "post",
  path: "/api/backup/check",
  tags: ["Backup"],
  summary: "Check an uploaded backup without restoring it (owners only)",
  description:
    "The request body is the backup file itself, as for `POST /api/backup/restore`, up to 2 GB. It goes through exactly the checks a restore makes (and is refused with the same 422 errors), then the answer says what it holds and what restoring it would undo on this server now: feeders that are not in the backup, and feeders whose credentials differ. Nothing changes: the upload is unpacked in a work folder that is removed before the answer.",
  request: { body: backupFileBody },
  responses: {
    200: {
      description: "A usable backup: what it holds, and what restoring it would undo",
      content: { "application/json": { schema: BackupCheckResponseSchema } },
    },
    ...errorResponses(401, 403, 409, 413, 422),
  },
});

/** Routes whose body is a backup file: streamed to disk under a limit of their own, never held in memory. */
export const BACKUP_UPLOAD_PATHS: ReadonlySet<string> = new Set([restoreBackup.path, checkBackup.path]);
