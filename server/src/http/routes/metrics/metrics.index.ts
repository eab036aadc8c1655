import { createRouter } from "../../context.js";
import { metrics } from "./metrics.handlers.js";
import { getMetrics } from "./metrics.routes.js";

export const metricsRouter = createRouter().openapi(getMetrics, metrics);
