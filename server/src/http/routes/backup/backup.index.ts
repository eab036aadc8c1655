import { createRouter } from "../../context.js";
import { download, list, restore } from "./backup.handlers.js";
import { downloadBackup, listBackupFiles, restoreBackup } from "./backup.routes.js";

export const backupRouter = createRouter()
  .openapi(downloadBackup, download)
  .openapi(listBackupFiles, list)
  .openapi(restoreBackup, restore);
