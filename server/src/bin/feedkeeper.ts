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
import { ConfigError, loadConfig } from "../config.js";
import { createLogger } from "../logger.js";
import { start } from "../main.js";
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

const logger = createLogger(config.logLevel);
process.on("uncaughtException", (err) => {
  logger.fatal({ err }, "uncaught exception");
  process.exit(1);
});

const running = await start(config, logger).catch((err: unknown) => {
  logger.fatal({ err }, "could not start");
  process.exit(1);
});

// Under `docker stop`'s 10 s, so a stuck shutdown is logged as such before the engine kills the process.
const SHUTDOWN_DEADLINE_MS = 8_000;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    setTimeout(() => {
      logger.error("shutdown took too long; exiting");
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "error while stopping");
        process.exit(1);
      },
    );
  });
}
