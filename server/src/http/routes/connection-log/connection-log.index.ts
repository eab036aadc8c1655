import { createRouter } from "../../context.js";
import { list } from "./connection-log.handlers.js";
import { getConnectionLog } from "./connection-log.routes.js";

export const connectionLogRouter = createRouter().openapi(getConnectionLog, list);
