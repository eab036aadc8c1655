import fs from "node:fs";
import { Readable } from "node:stream";
import type { RouteHandler } from "@hono/zod-openapi";
import { type AppEnv, currentUser } from "../../context.js";
import { peerAddress } from "../../peer-address.js";
import type { checkBackup, downloadBackup, listBackupFiles, restoreBackup } from "./backup.routes.js";

type UploadBody = Parameters<AppEnv["Variables"]["services"]["backups"]["checkUpload"]>[0];

export const download: RouteHandler<typeof downloadBackup, AppEnv> = async (c) => {
  const { backups, audit } = c.get("services");
  const user = currentUser(c);
  const backup = await backups.forDownload();
  // Reads are not audited by the middleware; taking every secret hash home is worth a line.
  audit.record({
    householdId: user.householdId,
    actor:
      c.get("tokenName") === undefined ? user.username : `${user.username} (token "${c.get("tokenName")}")`,
    userId: user.id,
    action: "GET /api/backup",
    target: JSON.stringify({ file: backup.name }),
    outcome: "200",
    address: peerAddress(c) ?? null,
  });
  const stream = fs.createReadStream(backup.file);
  stream.once("close", backup.done);
  return c.body(Readable.toWeb(stream) as ReadableStream, 200, {
    "Content-Type": "application/octet-stream",
    "Content-Length": String(backup.bytes),
    "Content-Disposition": `attachment; filename="${backup.name}"`,
    "Cache-Control": "no-store",
  });
};

export const list: RouteHandler<typeof listBackupFiles, AppEnv> = (c) => {
  const { backups, schedule, restoreAvailable } = c.get("services").backups.list();
  return c.json(
    {
      backups: backups.map((b) => ({
        name: b.name,
        bytes: b.bytes,
        modifiedAt: b.modifiedAt.toISOString(),
        kind: b.kind,
      })),
      schedule: {
        intervalHours: schedule.intervalHours,
        keep: schedule.keep,
        nextAt: schedule.nextAt?.toISOString() ?? null,
        lastError: schedule.lastError
          ? { at: schedule.lastError.at.toISOString(), message: schedule.lastError.message }
          : null,
      },
      restoreAvailable,
    },
    200,
  );
};

export const restore: RouteHandler<typeof restoreBackup, AppEnv> = async (c) => {
  const user = currentUser(c);
  const restored = await c.get("services").backups.restoreUpload(c.req.raw.body as UploadBody, {
    actor: user.username,
    userId: user.id,
    householdId: user.householdId,
    address: peerAddress(c) ?? null,
  });
  return c.json({ restored, restarting: true as const }, 200);
};

export const check: RouteHandler<typeof checkBackup, AppEnv> = async (c) => {
  const checked = await c.get("services").backups.checkUpload(c.req.raw.body as UploadBody);
  return c.json(checked, 200);
};
