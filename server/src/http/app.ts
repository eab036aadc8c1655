/**
 * The HTTP application: middleware order, the routes, the OpenAPI document.
 * Every /api route needs a signed-in user or an API token unless its
 * definition says `security: []`: a new route is private until someone
 * decides otherwise, and the document always tells the truth about it.
 */
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { AppError } from "../errors.js";
import { httpMetrics } from "../integrations/metrics/http-metrics.js";
import { type AppEnv, createRouter, type Services } from "./context.js";
import { appErrorBody, errorBody } from "./error-response.js";
import { auditRequests } from "./middleware/audit.js";
import { authenticate, requireUser } from "./middleware/authenticate.js";
import { authorize } from "./middleware/authorize.js";
import { assertObjectAccessCovers, objectAccess } from "./middleware/object-access.js";
import { sameOrigin } from "./middleware/same-origin.js";
import { alertsRouter } from "./routes/alerts/alerts.index.js";
import { auditRouter } from "./routes/audit/audit.index.js";
import { backupRouter } from "./routes/backup/backup.index.js";
import { BACKUP_UPLOAD_PATHS } from "./routes/backup/backup.routes.js";
import { connectionLogRouter } from "./routes/connection-log/connection-log.index.js";
import { createDocsRouter } from "./routes/docs/docs.index.js";
import { eventsRouter } from "./routes/events/events.index.js";
import { feedersRouter } from "./routes/feeders/feeders.index.js";
import { feedsRouter } from "./routes/feeds/feeds.index.js";
import { healthRouter } from "./routes/health/health.index.js";
import { historyRouter } from "./routes/history/history.index.js";
import { logLevelRouter } from "./routes/log-level/log-level.index.js";
import { metricsRouter } from "./routes/metrics/metrics.index.js";
import { notificationChannelsRouter } from "./routes/notification-channels/notification-channels.index.js";
import { pendingDevicesRouter } from "./routes/pending-devices/pending-devices.index.js";
import { petsRouter } from "./routes/pets/pets.index.js";
import { profilesRouter } from "./routes/profiles/profiles.index.js";
import { scheduleRouter } from "./routes/schedule/schedule.index.js";
import { sessionRouter } from "./routes/session/session.index.js";
import { setupRouter } from "./routes/setup/setup.index.js";
import { tokensRouter } from "./routes/tokens/tokens.index.js";
import { usersRouter } from "./routes/users/users.index.js";
import { createWebUiRouter } from "./web-ui.js";

export const API_BODY_LIMIT_BYTES = 64 * 1024;

export function createApp(services: Services) {
  const app = createRouter();
  // Filled from the route definitions below, read per request.
  const publicRoutes = new Set<string>();

  app.onError((err, c) => {
    if (err instanceof AppError) return c.json(appErrorBody(err), err.status as 400);
    if (err instanceof HTTPException) {
      if (err.status === 413) return c.json(errorBody("payload_too_large"), 413);
      return c.json(
        errorBody(err.status === 401 ? "unauthorized" : "validation_failed", err.message),
        err.status,
      );
    }
    services.logger.error({ err, method: c.req.method, path: c.req.path }, "unhandled error in request");
    return c.json(errorBody("internal"), 500);
  });
  app.notFound((c) => c.json(errorBody("not_found"), 404));

  // First, so the time of every request counts, refused ones too.
  app.use("*", httpMetrics(services.metrics));
  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // Swagger UI sets inline style attributes; scripts stay strictly same-origin.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      referrerPolicy: "same-origin",
      crossOriginResourcePolicy: "same-origin",
      strictTransportSecurity: false,
    }),
  );
  app.use("*", async (c, next) => {
    c.set("services", services);
    await next();
  });
  const limitBody = bodyLimit({
    maxSize: API_BODY_LIMIT_BYTES,
    onError: (c) => c.json(errorBody("payload_too_large"), 413),
  });
  // An uploaded backup is streamed to disk under a limit of its own (BackupService), never held in memory.
  app.use("/api/*", (c, next) =>
    c.req.method === "POST" && BACKUP_UPLOAD_PATHS.has(c.req.path) ? next() : limitBody(c, next),
  );
  app.use("/api/*", authenticate);
  app.use("/api/*", async (c, next) => {
    if (publicRoutes.has(`${c.req.method} ${c.req.path}`)) return next();
    return requireUser(c, next);
  });
  app.use("/api/*", sameOrigin);
  app.use("/api/*", auditRequests);
  app.use(
    "/api/*",
    authorize((key) => publicRoutes.has(key)),
  );
  app.use("/api/*", objectAccess);

  const api = app
    .route("/", healthRouter)
    .route("/", setupRouter)
    .route("/", sessionRouter)
    .route("/", tokensRouter)
    .route("/", feedersRouter)
    .route("/", feedsRouter)
    .route("/", historyRouter)
    .route("/", scheduleRouter)
    .route("/", alertsRouter)
    .route("/", profilesRouter)
    .route("/", connectionLogRouter)
    .route("/", pendingDevicesRouter)
    .route("/", usersRouter)
    .route("/", auditRouter)
    .route("/", backupRouter)
    .route("/", petsRouter)
    .route("/", notificationChannelsRouter)
    .route("/", eventsRouter)
    .route("/", metricsRouter)
    .route("/", logLevelRouter);

  const documented = app.openAPIRegistry.definitions.flatMap((def) =>
    def.type === "route" ? [def.route] : [],
  );
  for (const route of documented) {
    // Public routes have no path parameters, so the documented path is the request path.
    if (route.security?.length === 0) publicRoutes.add(`${route.method.toUpperCase()} ${route.path}`);
  }
  app.openAPIRegistry.registerComponent("securitySchemes", "session", {
    type: "apiKey",
    in: "cookie",
    name: "fk_session",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "An API token from POST /api/tokens",
  });
  app.doc31("/api/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Feedkeeper API",
      version: services.version,
      description:
        'Self-hosted control server for smart pet feeders. Errors are `{"error":{"code","message"}}`.',
    },
    security: [{ session: [] }, { bearer: [] }],
  });
  app.route("/", createDocsRouter());
  assertObjectAccessCovers(
    app.routes.filter((r) => r.method !== "ALL" && r.path.startsWith("/api/")).map((r) => r.path),
  );
  app.all("/api/*", (c) => c.json(errorBody("not_found"), 404));
  // Prometheus' usual path, for scrape configs written from habit: the same route, through the same sign-in,
  // role check and audit as /api/metrics (the request is handed to the app again under that path).
  app.get("/metrics", (c) => app.fetch(new Request(new URL("/api/metrics", c.req.url), c.req.raw), c.env));
  if (services.config.webDir) app.route("/", createWebUiRouter(services.config.webDir));

  return api;
}

export type { AppEnv };
