/**
 * `feedkeeper create-feeder <name> [--profile id] [--model m] [--device-key key] [--json]`: a feeder made on
 * the machine, for scripted installs and fleets of DIY feeders. It does what "Add feeder" in the UI does
 * (same checks, same household as the owner) and prints the device's MQTT login once: the password is kept
 * only as a hash.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import pino from "pino";
import { systemClock } from "../clock.js";
import type { Config } from "../config.js";
import { AppError } from "../errors.js";
import { FeederService } from "../feeding/feeders.js";
import { builtInProfilesDir, NATIVE_PROFILE_ID, ProfileRegistry } from "../profiles/profile-registry.js";
import { topics } from "../protocol/native-v1.js";
import { openStore } from "../store/db.js";
import { households } from "../store/schema.js";
import type { CliIo, Command } from "./commands.js";

export const CREATE_FEEDER_USAGE = `Usage: feedkeeper create-feeder <name> [--profile <id>] [--model <model>] [--device-key <key>] [--json]

Adds a feeder to the database under FEEDKEEPER_DATA_DIR (default ./data), as "Add feeder" in the web UI does.
  --profile     the device profile (default ${NATIVE_PROFILE_ID}); \`--profile list\` shows them
  --model       a model of the profile, when it has several
  --device-key  the device's id on an external broker (e.g. its Zigbee2MQTT friendly name)
  --json        print the feeder and its credentials as JSON
The MQTT password is printed once, on stdout; it cannot be shown again (issue new credentials in the UI).
The server may keep running.
`;

export async function createFeederCli(args: string[], config: Config, io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (err) {
    io.stderr.write(`feedkeeper: ${(err as Error).message}\n\n${CREATE_FEEDER_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(CREATE_FEEDER_USAGE);
    return 0;
  }
  const logger = pino({ level: "silent" });
  const profiles = ProfileRegistry.load({ builtIn: builtInProfilesDir(), user: config.profilesDir }, logger);
  if (values.profile === "list") {
    for (const { profile } of profiles.list()) io.stdout.write(`${profile.id}\t${profile.name}\n`);
    return 0;
  }
  const name = positionals.join(" ").trim();
  if (!name) {
    io.stderr.write(CREATE_FEEDER_USAGE);
    return 2;
  }
  const file = path.join(config.dataDir, "feedkeeper.db");
  // Never create an empty database for a mistyped data directory.
  if (!fs.existsSync(file)) {
    io.stderr.write(
      `feedkeeper: no database at ${file}; start the server once (and set it up), or set FEEDKEEPER_DATA_DIR to its data directory\n`,
    );
    return 1;
  }
  const store = openStore(config.dataDir);
  try {
    const household = store.db.select({ id: households.id }).from(households).limit(1).get();
    if (!household) {
      io.stderr.write(
        "feedkeeper: the database has no household yet; finish the first-run setup in the web UI\n",
      );
      return 1;
    }
    const feeders = new FeederService(store, systemClock, logger, profiles, {
      externalBroker: config.externalBroker !== undefined,
    });
    const { feeder, password } = feeders.create({
      householdId: household.id,
      name,
      profile: values.profile ?? NATIVE_PROFILE_ID,
      model: values.model,
      deviceKey: values["device-key"],
    });
    feeders.telemetryWriter.close();
    const credentials =
      password === undefined
        ? null
        : { username: feeder.id, clientId: feeder.id, password, topicRoot: topics.root(feeder.id) };
    if (values.json) {
      io.stdout.write(
        `${JSON.stringify({ feeder: { id: feeder.id, name: feeder.name, profile: feeder.profile }, credentials })}\n`,
      );
    } else {
      io.stdout.write(`feeder   ${feeder.id}  ${JSON.stringify(feeder.name)} (${feeder.profile})\n`);
      if (credentials) {
        io.stdout.write(
          `broker   port ${config.mqttPort} of this server${config.mqttsPort ? ` (TLS: ${config.mqttsPort})` : ""}\n` +
            `username ${credentials.username}\nclientId ${credentials.clientId}\npassword ${credentials.password}\n` +
            `topics   ${credentials.topicRoot}/…\n`,
        );
      }
    }
    io.stderr.write(
      credentials
        ? "feedkeeper: feeder added; its password is shown only this once.\n"
        : "feedkeeper: feeder added; it logs in with its own identity (no password from Feedkeeper).\n",
    );
    return 0;
  } catch (err) {
    if (err instanceof AppError) {
      io.stderr.write(`feedkeeper: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    store.close();
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      profile: { type: "string" },
      model: { type: "string" },
      "device-key": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

export const createFeederCommand: Command = {
  summary: "add a feeder and print its MQTT login once (as Add feeder in the web UI)",
  run: createFeederCli,
};
