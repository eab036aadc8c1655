/**
 * Process entry: read the environment, start, and stop cleanly on SIGTERM/SIGINT.
 * A bad configuration exits with code 2 and names the variable at fault.
 *
 * `feedkeeper <command>` runs one of the subcommands in commands.ts instead (backups, password recovery,
 * checks); they read the same environment, e.g. for the data directory.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { applyStagedRestore, type RestoreActor } from "../backup/apply-restore.js";
import { systemClock } from "../clock.js";
import { ConfigError, loadConfig } from "../config.js";
import { createLogger } from "../logger.js";
import { type Running, start } from "../main.js";
import { VERSION } from "../version.js";
import { COMMANDS, helpText } from "./commands.js";

// Everything the server writes (database, WAL, certificates) is private to its user.
process.umask(0o077);

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`feedkeeper: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

const commandName = process.argv[2];
if (commandName === "help" || commandName === "--help" || commandName === "-h") {
  process.stdout.write(await helpText());
  process.exit(0);
}
if (commandName !== undefined) {
  const load = Object.hasOwn(COMMANDS, commandName) ? COMMANDS[commandName] : undefined;
  if (!load) {
    process.stderr.write(`feedkeeper: unknown command ${JSON.stringify(commandName)}\n\n${await helpText()}`);
    process.exit(2);
  }
  const command = await load();
  process.exit(await command.run(process.argv.slice(3), config, process));
}

// The built UI sits beside the built server (dist/web next to dist/server); run from source
// (`npm run dev`), this file is three levels deeper than dist/.
if (!config.webDir) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  config.webDir = [path.resolve(here, "../web"), path.resolve(here, "../../../dist/web")].find((dir) =>
    fs.existsSync(path.join(dir, "index.html")),
  );
}

const logger = createLogger(config.logLevel, { format: config.logFormat });
process.on("uncaughtException", (err) => {
  logger.fatal({ err }, "uncaught exception");
  process.exit(1);
});

/**
 * A restore uploaded through the web UI: this server stops, the checked and staged backup replaces the
 * data, and the server starts again on the same ports (those it took, when configured as 0). If applying
 * fails the data is as it was, and the server starts on it.
 */
let restarting: Promise<void> | undefined;
function restartForRestore(by: RestoreActor): void {
  restarting ??= (async () => {
    const ports = {
      httpPort: running.httpPort,
      mqttPort: running.mqttPort,
      mqttsPort: running.mqttsPort,
      kronosPort: running.kronosPort,
    };
    logger.warn("stopping to restore a backup");
    await running.stop();
    try {
      const result = await applyStagedRestore({
        dataDir: config.dataDir,
        config,
        version: VERSION,
        now: new Date(),
        by,
      });
      const { backup, ...outcome } = result;
      logger.warn({ backupCreatedAt: backup.createdAt, ...outcome }, "restored from a backup");
    } catch (err) {
      logger.error({ err }, "the restore failed; starting again on the data as it was");
    }
    running = await start({ ...config, ...ports }, logger, systemClock, { restartForRestore });
  })()
    .catch((err: unknown) => {
      logger.fatal({ err }, "could not start again after the restore");
      process.exit(1);
    })
    .finally(() => {
      restarting = undefined;
    });
}

let running: Running = await start(config, logger, systemClock, { restartForRestore }).catch(
  (err: unknown) => {
    logger.fatal({ err }, "could not start");
    process.exit(1);
  },
);

// Under `docker stop`'s 10 s, so a stuck shutdown is logged as such before the engine kills the process.
const SHUTDOWN_DEADLINE_MS = 8_000;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    setTimeout(() => {
      logger.error("shutdown took too long; exiting");
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    // A restore under way finishes first: its rename is atomic, but the server it starts must be stopped.
    Promise.resolve(restarting)
      .then(() => running.stop())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, "error while stopping");
          process.exit(1);
        },
      );
  });
}
