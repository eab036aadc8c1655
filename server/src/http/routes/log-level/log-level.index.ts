import { createRouter } from "../../context.js";
import { get, put } from "./log-level.handlers.js";
import { getLogLevel, putLogLevel } from "./log-level.routes.js";

export const logLevelRouter = createRouter().openapi(getLogLevel, get).openapi(putLogLevel, put);
