import { createRouter } from "../../context.js";
import { check, download, list, restore } from "./backup.handlers.js";
import { checkBackup, downloadBackup, listBackupFiles, restoreBackup } from "./backup.routes.js";

export const backupRouter = createRouter()
  .openapi(downloadBackup, download)
  .openapi(listBackupFiles, list)
  .openapi(checkBackup, check)
  .openapi(restoreBackup, restore);
