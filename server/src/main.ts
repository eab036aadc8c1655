/**
 * The composition root: config → store → core → broker → bridge → http, and
 * shutdown in reverse. Nothing else in the server starts listeners or timers.
 */
import type { Server } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { Registry } from "prom-client";
import { WebSocketServer } from "ws";
import { AccountService } from "./auth/accounts.js";
import { AttemptThrottle } from "./auth/attempt-throttle.js";
import { AuditLog } from "./auth/audit-log.js";
import type { RestoreActor } from "./backup/apply-restore.js";
import { BackupService } from "./backup/backup-service.js";
import { ScheduledBackups } from "./backup/scheduled-backups.js";
import { DeviceBridge } from "./bridge/device-bridge.js";
import { ExternalBroker } from "./bridge/external-broker.js";
import { PendingDevices } from "./bridge/pending-devices.js";
import { startEmbeddedBroker } from "./broker/embedded-broker.js";
import { loadTlsIdentity } from "./broker/tls-identity.js";
import { type Clock, systemClock } from "./clock.js";
import type { Config } from "./config.js";
import { ChangeFeed } from "./events/change-feed.js";
import { LiveNotifier } from "./events/live-notifier.js";
import { AlertService, LogNotifier } from "./feeding/alerts.js";
import { ConditionWatch } from "./feeding/condition-watch.js";
import { DeviceScheduleSync } from "./feeding/device-schedule-sync.js";
import { FeederHistoryService } from "./feeding/feeder-history.js";
import { FeederService } from "./feeding/feeders.js";
import { FeedService } from "./feeding/feeds.js";
import { MealCalendar } from "./feeding/meal-calendar.js";
import { MealPlanService } from "./feeding/meal-plans.js";
import { MealReconciler } from "./feeding/meal-reconciler.js";
import { MealScheduler } from "./feeding/meal-scheduler.js";
import { MealWatch } from "./feeding/meal-watch.js";
import { PetService } from "./feeding/pets.js";
import { createApp } from "./http/app.js";
import { HomeAssistant } from "./integrations/home-assistant/index.js";
import { registerServerMetrics } from "./integrations/metrics/server-metrics.js";
import { type Logger, logLevelControl } from "./logger.js";
import { NotificationChannelService } from "./notify/channels.js";
import { NotificationQueue } from "./notify/delivery-queue.js";
import { builtInProfilesDir, ProfileRegistry } from "./profiles/profile-registry.js";
import { DEFAULT_MIGRATIONS, openStore } from "./store/db.js";
import { VERSION } from "./version.js";

export interface Running {
  httpPort: number;
  mqttPort: number;
  mqttsPort: number | undefined;
  kronosPort: number | undefined;
  stop(): Promise<void>;
}

const WEBSOCKET_PATH = "/mqtt";

export interface StartOptions {
  /**
   * Stops this server, applies the restore staged in the data directory and starts again (the process
   * entry does this); without it, restoring through the API is refused.
   */
  restartForRestore?: (by: RestoreActor) => void;
}

/** The zone meal plans use when a feeder has none: the host's (TZ in a container). */
function serverTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export async function start(
  config: Config,
  logger: Logger,
  clock: Clock = systemClock,
  options: StartOptions = {},
): Promise<Running> {
  const startedAt = performance.now();
  const store = openStore(config.dataDir);
  const accounts = new AccountService(store, clock, logger.child({ component: "accounts" }));
  const profiles = ProfileRegistry.load(
    { builtIn: builtInProfilesDir(), user: config.profilesDir },
    logger.child({ component: "profiles" }),
  );
  const feeders = new FeederService(store, clock, logger.child({ component: "feeders" }), profiles, {
    externalBroker: config.externalBroker !== undefined,
  });
  const timeZone = serverTimeZone();
  const feeds = new FeedService(
    store,
    feeders,
    clock,
    config.feeds,
    logger.child({ component: "feeds" }),
    timeZone,
  );
  const plans = new MealPlanService(store, feeders, clock, timeZone);
  const mealLogger = logger.child({ component: "meals" });
  const changes = new ChangeFeed((feederId) => feeders.find(feederId)?.householdId);
  feeders.onChange((feederId) => changes.feederChanged(feederId));
  feeds.onChange((feederId) => changes.feederChanged(feederId));
  feeders.onAdded((feeder) => changes.publish(feeder.householdId, { kind: "feeders" }));
  const notificationChannels = new NotificationChannelService(store, clock);
  const notifications = new NotificationQueue(
    store,
    notificationChannels,
    clock,
    logger.child({ component: "notifications" }),
    { timeZone },
  );
  const alerts = new AlertService(
    store,
    clock,
    [new LogNotifier(logger.child({ component: "alerts" })), new LiveNotifier(changes), notifications],
    logger.child({ component: "alerts" }),
  );
  const scheduler = new MealScheduler(store, plans, feeds, clock, mealLogger);
  new MealReconciler(store, plans, alerts, clock, mealLogger).attach(feeds);
  const audit = new AuditLog(store, clock, logger.child({ component: "audit" }), config.auditDays);
  // Meals the devices started (their button, their own plan) are feeds nobody asked for through the API.
  feeds.onDeviceFeed((feed) =>
    audit.record({
      householdId: feeders.find(feed.feederId)?.householdId ?? null,
      actor: `device:${feed.feederId}`,
      action: `feed (${feed.source})`,
      target: JSON.stringify({ feederId: feed.feederId, feedId: feed.id }),
      outcome: feed.status,
    }),
  );
  audit.start();
  const watch = new MealWatch(store, alerts, clock, mealLogger);
  const backupLogger = logger.child({ component: "backup" });
  const scheduledBackups = new ScheduledBackups(store, config, clock, backupLogger, VERSION);
  const backups = new BackupService({
    source: store,
    config,
    clock,
    logger: backupLogger,
    version: VERSION,
    migrationsFolder: DEFAULT_MIGRATIONS,
    scheduled: scheduledBackups,
    restart: options.restartForRestore,
  });
  const conditions = new ConditionWatch(
    store,
    feeders,
    alerts,
    clock,
    logger.child({ component: "conditions" }),
    config.conditionAlerts,
  );
  const deviceSchedules = new DeviceScheduleSync(plans, feeders, alerts, clock, mealLogger);
  const pending = new PendingDevices(clock);
  const bridge = new DeviceBridge(
    feeders,
    feeds,
    deviceSchedules,
    profiles,
    logger.child({ component: "bridge" }),
    clock,
    pending,
  );

  const homeAssistant = config.homeAssistant.discovery
    ? new HomeAssistant(
        {
          store,
          feeders,
          feeds,
          plans,
          calendar: new MealCalendar(store, plans),
          alerts,
          profiles,
          audit,
          accounts,
          clock,
          logger,
        },
        { prefix: config.homeAssistant.prefix, version: VERSION },
      )
    : undefined;

  const metrics = new Registry();
  const brokerTraffic = registerServerMetrics(metrics, {
    version: VERSION,
    feeders,
    db: store.db,
    databaseFile: store.file,
    mqttConnections: () => broker.connectedCount(),
  });

  const external = config.externalBroker
    ? new ExternalBroker(config.externalBroker, bridge, feeders, profiles, deviceSchedules, logger)
    : undefined;
  const tlsIdentity =
    config.mqttsPort !== undefined || config.kronosPort !== undefined
      ? await loadTlsIdentity(config.tls, config.dataDir)
      : undefined;
  const broker = await startEmbeddedBroker({
    bind: config.bind,
    port: config.mqttPort,
    tls:
      config.mqttsPort !== undefined && tlsIdentity
        ? { port: config.mqttsPort, cert: tlsIdentity.cert, key: tlsIdentity.key }
        : undefined,
    maxPacketBytes: config.mqttMaxPacketBytes,
    logger,
    // No `clock`: flapping bans and stalled readers measure sockets, which live in real time even when a
    // test moves the meal clock (a fake clock standing still would ban a feeder after 15 reconnects).
    // Home Assistant logs in on the embedded broker only when there is no external one to meet it on.
    hooks: (!external && homeAssistant?.brokerHooks(bridge)) || bridge,
    traffic: brokerTraffic,
  });
  feeders.onRemoved((feederId) => broker.disconnect({ feederId }));
  await bridge.attach(broker);
  if (external) {
    bridge.attachExternal(external);
    homeAssistant?.attachExternal(external);
    await external.start();
  } else await homeAssistant?.attachEmbedded(broker);
  feeds.start(bridge);
  deviceSchedules.start(bridge);
  scheduler.start();
  watch.start();
  notifications.start();
  scheduledBackups.start();
  conditions.start();

  const app = createApp({
    config,
    logger: logger.child({ component: "http" }),
    accounts,
    loginThrottle: new AttemptThrottle(clock, {}, logger.child({ component: "login-throttle" })),
    audit,
    feeders,
    feeds,
    plans,
    pets: new PetService(store, clock, timeZone),
    history: new FeederHistoryService(store, clock, feeders, timeZone),
    alerts,
    changes,
    profiles,
    connections: bridge.connections,
    calendar: new MealCalendar(store, plans),
    clock,
    pending,
    disconnect: (session) => broker.disconnect(session),
    notificationChannels,
    notifications,
    backups,
    metrics,
    logLevel: logLevelControl(logger, config.logLevel),
    version: VERSION,
  });
  const http = createAdaptorServer({ fetch: app.fetch, hostname: config.bind }) as Server;
  http.requestTimeout = 30_000;
  http.headersTimeout = 10_000;
  // MQTT over WebSocket shares the HTTP port, for devices and browsers that cannot open raw TCP.
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.mqttMaxPacketBytes + 16 });
  http.on("upgrade", (req, socket, head) => {
    const url = req.url ?? "";
    if (url !== WEBSOCKET_PATH && !url.startsWith(`${WEBSOCKET_PATH}?`)) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => broker.handleWebSocket(ws, req.socket.remoteAddress));
  });
  const httpPort = await listen(http, config.httpPort, config.bind);
  const kronos =
    config.kronosPort !== undefined && tlsIdentity
      ? (createAdaptorServer({
          // Only Petnet owners turn this on: its module is loaded then.
          fetch: (await import("./http/kronos/kronos-app.js")).createKronosApp({ store, pending, logger })
            .fetch,
          createServer: https.createServer,
          serverOptions: { cert: tlsIdentity.cert, key: tlsIdentity.key },
        }) as Server)
      : undefined;
  const kronosPort =
    kronos && config.kronosPort !== undefined
      ? await listen(kronos, config.kronosPort, config.bind)
      : undefined;
  logger.info(
    {
      httpPort,
      mqttPort: broker.port,
      ...(tlsIdentity && {
        mqttsPort: broker.tlsPort,
        kronosPort,
        tlsFingerprint: tlsIdentity.fingerprint,
        tlsCertificate: tlsIdentity.generated ? "generated, kept in the data directory" : "the owner's",
      }),
      bind: config.bind,
      dataDir: config.dataDir,
      startupMs: Math.round(performance.now() - startedAt),
      version: VERSION,
    },
    "feedkeeper ready",
  );

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info("shutting down");
      const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      kronos?.close();
      kronos?.closeAllConnections();
      scheduler.stop();
      // Cuts sends in flight; they go out again after the next start.
      const notificationsStopped = notifications.stop();
      audit.stop();
      watch.stop();
      conditions.stop();
      deviceSchedules.stop();
      feeds.stop();
      // Home Assistant hears the server go before the broker it listens on closes.
      await homeAssistant?.stop().catch(() => undefined);
      // Said while every feeder (TCP and WebSocket) is still connected, so all of them hear it.
      await bridge.detach().catch(() => undefined);
      for (const ws of wss.clients) ws.close(1001, "server shutting down");
      await broker.close();
      await external?.stop().catch(() => undefined);
      wss.close();
      await httpClosed;
      feeders.telemetryWriter.close();
      await scheduledBackups.stop();
      await notificationsStopped;
      store.close();
      logger.info("stopped");
    })();
    return stopping;
  };
  return { httpPort, mqttPort: broker.port, mqttsPort: broker.tlsPort, kronosPort, stop };
}

async function listen(server: Server, port: number, bind: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, bind, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
