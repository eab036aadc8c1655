import { createRouter } from "../../context.js";
import { acknowledge, list } from "./alerts.handlers.js";
import { acknowledgeAlert, listAlerts } from "./alerts.routes.js";

export const alertsRouter = createRouter().openapi(listAlerts, list).openapi(acknowledgeAlert, acknowledge);
