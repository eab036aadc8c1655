import { createRouter } from "../../context.js";
import { list } from "./audit.handlers.js";
import { listAudit } from "./audit.routes.js";

export const auditRouter = createRouter().openapi(listAudit, list);
