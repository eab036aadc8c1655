/**
 * `npm run simulate`: runs one or many simulated feeders against a Feedkeeper server, printing one line per
 * event: native feeders (profile `feedkeeper`) or DIY ESPHome feeders (profile `esphome-mqtt`). Run with
 * `--help` for usage.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { z } from "zod";
import { CAPABILITY_SCHEDULE, type TelemetryPayload } from "../protocol/native-v1.js";
import { EspHomeFeeder } from "./esphome-feeder.js";
import { DEFAULT_CAPABILITIES, type SimLogger, SimulatedFeeder } from "./native-feeder.js";

const USAGE = `Usage: npm run simulate -- [options]

Feeders (choose one):
  --id <id> --password <pw>       simulate one feeder with these credentials
  --credentials <file.json>       simulate every feeder in a JSON array of {"id","password"}
  --provision <N> --api <url> --token <token>
                                  create N feeders through the REST API, then simulate them

Options:
  --url <mqtt url>                broker address (default mqtt://127.0.0.1:1883)
  --profile <id>                  what the feeders are: feedkeeper (the native protocol, default) or
                                  esphome-mqtt (a DIY ESPHome feeder set up as in docs/devices/esphome-mqtt.md);
                                  --provision creates the feeders with this profile
  --jam                           every feeder is jammed: its meals fail with "jam"
  --dispense-ms <ms>              time to dispense one portion (default 200)
  --stores-schedule               announce the "schedule" capability: keep the server's meal plan and feed
                                  from it on the feeder's own clock, also while the server is down
                                  (feedkeeper profile only)
  --telemetry-interval <seconds>  send food level, battery and signal strength this often
  --help                          show this text`;

/** Exit status for unusable arguments, distinct from failures while running. */
const EXIT_USAGE = 2;
/** Opening hundreds of connections at once only measures the broker's accept queue. */
const START_CONCURRENCY = 50;
/** Grams a full hopper holds, to turn dispensed meals into a falling food level. */
const HOPPER_GRAMS = 2000;
/** Grams in one portion of a simulated ESPHome feeder, which does not weigh its meals. */
const ESPHOME_PORTION_GRAMS = 10;

const PROFILES = ["feedkeeper", "esphome-mqtt"] as const;
type Feeder = SimulatedFeeder | EspHomeFeeder;

function numberOption(option: string, min: number, max: number, whole: boolean) {
  const error = `${option} must be a ${whole ? "whole " : ""}number from ${min} to ${max}`;
  const number = z.coerce.number({ error }).min(min, { error }).max(max, { error });
  return whole ? number.int({ error }) : number;
}

const argsSchema = z
  .object({
    url: z.url({ protocol: /^mqtts?$/, error: "--url must be an mqtt:// or mqtts:// URL" }),
    profile: z.enum(PROFILES, { error: `--profile must be one of ${PROFILES.join(", ")}` }),
    id: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    credentials: z.string().min(1).optional(),
    provision: numberOption("--provision", 1, 10_000, true).optional(),
    api: z.url({ protocol: /^https?$/, error: "--api must be an http:// or https:// URL" }).optional(),
    token: z.string().min(1).optional(),
    jam: z.boolean(),
    storesSchedule: z.boolean(),
    dispenseMs: numberOption("--dispense-ms", 0, 600_000, true),
    telemetryInterval: numberOption("--telemetry-interval", 1, 86_400, false).optional(),
  })
  .superRefine((args, ctx) => {
    const modes = [args.id !== undefined, args.credentials !== undefined, args.provision !== undefined];
    if (modes.filter(Boolean).length !== 1) {
      ctx.addIssue({ code: "custom", message: "use exactly one of --id, --credentials or --provision" });
    }
    if (args.id !== undefined && args.password === undefined) {
      ctx.addIssue({ code: "custom", message: "--id needs --password" });
    }
    if (args.password !== undefined && args.id === undefined) {
      ctx.addIssue({ code: "custom", message: "--password needs --id" });
    }
    if (args.provision !== undefined && (args.api === undefined || args.token === undefined)) {
      ctx.addIssue({ code: "custom", message: "--provision needs --api and --token" });
    }
    if (args.storesSchedule && args.profile !== "feedkeeper") {
      ctx.addIssue({
        code: "custom",
        message: `--stores-schedule: ${args.profile} feeders keep no schedule`,
      });
    }
  });
type Args = z.infer<typeof argsSchema>;

const credentialsFileSchema = z
  .array(z.object({ id: z.string().min(1), password: z.string().min(1) }))
  .min(1, "the file lists no feeders");
type Credentials = z.infer<typeof credentialsFileSchema>[number];

const provisionResponseSchema = z.object({
  feeder: z.object({ id: z.string().min(1) }),
  credentials: z.object({ username: z.string(), clientId: z.string(), password: z.string().min(1) }),
});

class UsageError extends Error {}

function parseCommandLine(argv: string[]): Args | "help" {
  let values: ReturnType<typeof parseRaw>["values"];
  try {
    values = parseRaw(argv).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return "help";
  const parsed = argsSchema.safeParse({
    url: values.url,
    profile: values.profile,
    id: values.id,
    password: values.password,
    credentials: values.credentials,
    provision: values.provision,
    api: values.api,
    token: values.token,
    jam: values.jam,
    storesSchedule: values["stores-schedule"],
    dispenseMs: values["dispense-ms"],
    telemetryInterval: values["telemetry-interval"],
  });
  if (!parsed.success) {
    throw new UsageError(parsed.error.issues.map((issue) => describeIssue(issue)).join("\n"));
  }
  return parsed.data;
}

function parseRaw(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      url: { type: "string", default: "mqtt://127.0.0.1:1883" },
      profile: { type: "string", default: "feedkeeper" },
      id: { type: "string" },
      password: { type: "string" },
      credentials: { type: "string" },
      provision: { type: "string" },
      api: { type: "string" },
      token: { type: "string" },
      jam: { type: "boolean", default: false },
      "stores-schedule": { type: "boolean", default: false },
      "dispense-ms": { type: "string", default: "200" },
      "telemetry-interval": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path[0];
  if (field === undefined || issue.code === "custom" || issue.message.startsWith("--")) return issue.message;
  return `--${String(field)}: ${issue.message}`;
}

async function loadCredentials(file: string): Promise<Credentials[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not JSON: ${(error as Error).message}`);
  }
  const parsed = credentialsFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new UsageError(
      `${file} must be a JSON array of {"id","password"}: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

async function feederCredentials(args: Args): Promise<Credentials[]> {
  if (args.credentials !== undefined) return loadCredentials(args.credentials);
  if (args.provision !== undefined && args.api !== undefined && args.token !== undefined) {
    return provision(args.provision, args.api, args.token, args.profile);
  }
  if (args.id !== undefined && args.password !== undefined) return [{ id: args.id, password: args.password }];
  throw new UsageError("no feeders to simulate");
}

async function provision(count: number, api: string, token: string, profile: string): Promise<Credentials[]> {
  const endpoint = new URL("/api/feeders", api);
  const created: Credentials[] = [];
  // One at a time: names stay in order and a failure stops before creating a pile of half-used feeders.
  for (let n = 1; n <= count; n++) {
    const name = `sim-${n}`;
    let response: Response;
    try {
      response = await fetch(endpoint, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ name, profile }),
      });
    } catch (error) {
      // fetch hides the useful part (ECONNREFUSED, DNS failure) in `cause`.
      const cause = (error as Error & { cause?: Error }).cause;
      throw new Error(`cannot reach ${endpoint.href}: ${cause?.message ?? (error as Error).message}`);
    }
    const body = await response.text();
    if (response.status !== 201) {
      throw new Error(`creating ${name} failed: HTTP ${response.status} ${body.slice(0, 500)}`);
    }
    const parsed = provisionResponseSchema.safeParse(parseJsonOrUndefined(body));
    if (!parsed.success) throw new Error(`unexpected response creating ${name}: ${body.slice(0, 500)}`);
    const { feeder, credentials } = parsed.data;
    if (credentials.username !== feeder.id || credentials.clientId !== feeder.id) {
      throw new Error(`server gave ${name} credentials for another id than ${feeder.id}`);
    }
    created.push({ id: feeder.id, password: credentials.password });
    console.log(`${feeder.id} provisioned as ${name}`);
  }
  return created;
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Protocol oddities such as ignored commands go to stderr, keeping stdout one line per feeder event. */
function warnOnStderr(fields: Record<string, unknown>, message: string): void {
  const { feeder, err, ...rest } = fields;
  const details = Object.entries(rest).map(([key, value]) => ` ${key}=${JSON.stringify(value)}`);
  const cause = err instanceof Error ? `: ${err.message}` : "";
  console.error(`${String(feeder ?? "simulator")} ${message}${cause}${details.join("")}`);
}

const ignore = () => {};
const logger: SimLogger = { debug: ignore, info: ignore, warn: warnOnStderr, error: warnOnStderr };

function printEvents(feeder: Feeder): void {
  if (feeder instanceof EspHomeFeeder) {
    printEspHomeEvents(feeder);
    return;
  }
  const say = (line: string) => console.log(`${feeder.id} ${line}`);
  feeder.on("ready", () => say("online"));
  feeder.on("disconnected", () => say("disconnected"));
  feeder.on("refused", (error) => say(`gave up: ${error.message}`));
  feeder.on("command", (command) =>
    say(`command ${command.id}: ${command.portions} portions, expires ${command.expiresAt}`),
  );
  feeder.on("dispensed", (meal) =>
    say(`dispensed ${meal.portions} portions (${meal.source}) ${meal.grams} g id=${meal.id}`),
  );
  feeder.on("failed", (problem) =>
    say(`failed ${problem.portions} portions (${problem.source}) error=${problem.error} id=${problem.id}`),
  );
  feeder.on("rejected", (problem) => say(`rejected id=${problem.id} error=${problem.error}`));
  feeder.on("scheduleApplied", (version) => say(`schedule version ${version} stored`));
}

function printEspHomeEvents(feeder: EspHomeFeeder): void {
  const say = (line: string) => console.log(`${feeder.id} ${line}`);
  feeder.on("ready", () => say("online"));
  feeder.on("disconnected", () => say("disconnected"));
  feeder.on("refused", (error) => say(`gave up: ${error.message}`));
  feeder.on("command", (portions) => say(`command: ${portions} portions`));
  feeder.on("dispensed", (meal) => say(`dispensed ${meal.portions} portions (${meal.source})`));
  feeder.on("failed", (meal) => say(`failed ${meal.portions} portions (${meal.source}) error=${meal.error}`));
}

/** A hopper that empties with every meal and a battery that drains slowly, with a wobbling signal. */
function startTelemetry(feeder: Feeder, intervalSeconds: number): () => void {
  let foodLevel = 0.6 + Math.random() * 0.4;
  let battery = 0.8 + Math.random() * 0.2;
  const baseRssi = -50 - Math.round(Math.random() * 25);
  const ate = (grams: number) => {
    foodLevel = Math.max(0, foodLevel - grams / HOPPER_GRAMS);
  };
  if (feeder instanceof EspHomeFeeder) {
    feeder.on("dispensed", (meal) => ate(meal.portions * ESPHOME_PORTION_GRAMS));
  } else {
    feeder.on("dispensed", (meal) => ate(meal.grams));
  }
  const send = () => {
    foodLevel = Math.max(0, foodLevel - 0.001);
    battery = Math.max(0, battery - 0.0005);
    const telemetry: TelemetryPayload = {
      foodLevel: round(foodLevel),
      battery: round(battery),
      rssi: baseRssi + Math.round((Math.random() - 0.5) * 8),
    };
    if (!feeder.connected) return;
    const sent =
      feeder instanceof EspHomeFeeder
        ? feeder.sendSensors({
            foodLevelPercent: (telemetry.foodLevel ?? 0) * 100,
            batteryPercent: (telemetry.battery ?? 0) * 100,
            rssi: telemetry.rssi,
          })
        : feeder.sendTelemetry(telemetry);
    sent.then(
      () =>
        console.log(
          `${feeder.id} telemetry food=${pct(telemetry.foodLevel)} battery=${pct(telemetry.battery)} rssi=${telemetry.rssi}`,
        ),
      (error: Error) => console.error(`${feeder.id} telemetry not sent: ${error.message}`),
    );
  };
  send();
  const timer = setInterval(send, intervalSeconds * 1000);
  return () => clearInterval(timer);
}

const round = (value: number) => Math.round(value * 1000) / 1000;
const pct = (value: number | undefined) => `${Math.round((value ?? 0) * 100)}%`;

async function startAll(feeders: Feeder[]): Promise<Feeder[]> {
  const started: Feeder[] = [];
  for (let i = 0; i < feeders.length; i += START_CONCURRENCY) {
    const batch = feeders.slice(i, i + START_CONCURRENCY);
    const results = await Promise.allSettled(batch.map((feeder) => feeder.start()));
    results.forEach((result, j) => {
      const feeder = batch[j] as Feeder;
      if (result.status === "fulfilled") started.push(feeder);
      else console.error(`${feeder.id} could not start: ${(result.reason as Error).message}`);
    });
  }
  return started;
}

async function main(): Promise<number> {
  const args = parseCommandLine(process.argv.slice(2));
  if (args === "help") {
    console.log(USAGE);
    return 0;
  }
  const credentials = await feederCredentials(args);

  const feeders = credentials.map(({ id, password }): Feeder => {
    const common = { url: args.url, id, password, jammed: args.jam, logger };
    if (args.profile === "esphome-mqtt")
      return new EspHomeFeeder({ ...common, msPerPortion: args.dispenseMs });
    return new SimulatedFeeder({
      ...common,
      ...(args.storesSchedule && { capabilities: [...DEFAULT_CAPABILITIES, CAPABILITY_SCHEDULE] }),
      dispenseMsPerPortion: args.dispenseMs,
    });
  });
  feeders.forEach(printEvents);

  const started = await startAll(feeders);
  if (started.length === 0) {
    console.error("no feeder could connect");
    return 1;
  }
  const interval = args.telemetryInterval;
  const stopTelemetry =
    interval === undefined ? [] : started.map((feeder) => startTelemetry(feeder, interval));

  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  // A second Ctrl-C means the user does not want to wait for the goodbyes.
  process.once("SIGINT", () => process.exit(130));
  console.log(`stopping ${started.length} feeder(s)`);
  for (const stop of stopTelemetry) stop();
  await Promise.allSettled(started.map((feeder) => feeder.stop()));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`${error.message}\nRun with --help for usage.`);
      process.exit(EXIT_USAGE);
    }
    console.error((error as Error).message);
    process.exit(1);
  },
);
