import { createRouter } from "../../context.js";
import { feederHistory } from "./history.handlers.js";
import { getFeederHistory } from "./history.routes.js";

export const historyRouter = createRouter().openapi(getFeederHistory, feederHistory);
