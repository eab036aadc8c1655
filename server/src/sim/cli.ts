/**
 * `npm run simulate`: plays any device Feedkeeper has a profile for against a server, printing one line per
 * event. Feeders on Feedkeeper-issued credentials (`feedkeeper`, `esphome-mqtt`, `tasmota-tuyamcu`) run one
 * or many at a time; vendor devices with an identity of their own (`petlibro-dl`, `petnet-smartfeeder-v2`,
 * `zigbee2mqtt-aqara-c1`) one per run, by their device key. Run with `--help` for usage.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import { GRAIN_TYPE } from "../profiles/codecs/petlibro-dl.js";
import { decodeMealPlan } from "../profiles/codecs/tuya-meal-plan.js";
import { formatProfileError, loadProfiles } from "../profiles/profile-loader.js";
import { BUILT_IN_CODECS, builtInProfilesDir } from "../profiles/profile-registry.js";
import type { DeviceProfile } from "../profiles/profile-schema.js";
import { CAPABILITY_SCHEDULE } from "../protocol/native-v1.js";
import { EspHomeFeeder } from "./esphome-feeder.js";
import { DEFAULT_CAPABILITIES, type SimLogger, SimulatedFeeder } from "./native-feeder.js";
import { PetlibroFeeder } from "./petlibro-feeder.js";
import { PetnetFeeder } from "./petnet-feeder.js";
import { TasmotaTuyaFeeder } from "./tasmota-tuya-feeder.js";
import { Z2mAqaraFeeder } from "./z2m-aqara-feeder.js";

const USAGE = `Usage: npm run simulate -- --profile <id> [options]

Profiles (--profile, default feedkeeper):
  feedkeeper                      Feedkeeper's native protocol (docs/protocol.md)
  esphome-mqtt                    a DIY ESPHome feeder (docs/devices/esphome-mqtt.md)
  tasmota-tuyamcu                 an Arlec 5L with Tasmota as TuyaMCU (docs/devices/tasmota-tuyamcu.md)
  petlibro-dl                     a Petlibro feeder re-pointed from its cloud: waits to be adopted
  petnet-smartfeeder-v2           a Petnet SmartFeeder V2 after its HTTP registration: waits to be adopted
  zigbee2mqtt-aqara-c1            Zigbee2MQTT with an Aqara C1 paired, on the owner's own broker

Feeders on Feedkeeper's credentials (feedkeeper, esphome-mqtt, tasmota-tuyamcu), choose one:
  --id <id> --password <pw>       simulate one feeder with these credentials
  --credentials <file.json>       simulate every feeder in a JSON array of {"id","password"}
  --provision <N> --api <url> --token <token>
                                  create N feeders of --profile and --model through the REST API, then
                                  simulate them

Devices with an identity of their own (petlibro-dl, petnet-smartfeeder-v2, zigbee2mqtt-aqara-c1), one a run:
  --device-key <key>              petlibro-dl: its serial, the client id (e.g. AF0123456789AB)
                                  petnet-smartfeeder-v2: its gateway hid, 40 hex digits
                                  zigbee2mqtt-aqara-c1: its friendly name in Zigbee2MQTT
  --username <u> --password <pw>  petlibro-dl: the firmware's product key and secret (default: made-up ones)
                                  petnet-smartfeeder-v2: --password only, the apiKey (default: a made-up one)
                                  zigbee2mqtt-aqara-c1: the login on that broker (default: none)

Options:
  --url <mqtt url>                broker address (default mqtt://127.0.0.1:1883); for zigbee2mqtt-aqara-c1 the
                                  owner's broker, the one the server reads with FEEDKEEPER_MQTT_URL
  --model <id>                    which of the profile's models (GET /api/profiles); default the first the
                                  simulator plays. tasmota-tuyamcu plays arlec-5l only; petnet-smartfeeder-v2
                                  fw-2.5 (default) or fw-legacy, the two firmware generations
  --jam                           the device is jammed: its meals fail
  --dispense-ms <ms>              time to dispense one portion (default 200; petnet: 1/16 cup)
  --stores-schedule               announce the "schedule" capability: keep the server's meal plan and feed
                                  from it on the feeder's own clock, also while the server is down
                                  (feedkeeper profile only)
  --telemetry-interval <seconds>  send sensor readings this often, as far as the device reports them: food
                                  level, battery, Wi-Fi signal (Zigbee link quality)
  --help                          show this text`;

/** Exit status for unusable arguments, distinct from failures while running. */
const EXIT_USAGE = 2;
/** Opening hundreds of connections at once only measures the broker's accept queue. */
const START_CONCURRENCY = 50;
/** Grams a full hopper holds, to turn dispensed meals into a falling food level. */
const HOPPER_GRAMS = 2000;
/** Grams in one portion of a simulated feeder that does not weigh its meals. */
const PORTION_GRAMS = 10;
/** What a simulated Petnet feeder weighs in the bowl for a cup. */
const PETNET_GRAMS_PER_CUP = 110;
/** A Petnet portion: its feeds are in sixteenths of a cup. */
const SIXTEENTH_CUP = 0.0625;
/** A Petlibro feeder reports only whether food is low; below this level it says so. */
const PETLIBRO_LOW_FOOD = 0.1;
/**
 * Stand-ins for the product key and secret a Petlibro firmware carries, and for the apiKey a Petnet feeder
 * fetches at boot: fixed, because an adopted device must log in with the password it first came with.
 */
const SIM_PRODUCT_KEY = "feedkeeper-sim-product-key";
const SIM_PRODUCT_SECRET = "feedkeeper-sim-product-secret";
const SIM_PETNET_API_KEY = "feedkeeper-sim-petnet-api-key";

const CREDENTIAL_PROFILES = ["feedkeeper", "esphome-mqtt", "tasmota-tuyamcu"] as const;
const DEVICE_KEY_PROFILES = ["petlibro-dl", "petnet-smartfeeder-v2", "zigbee2mqtt-aqara-c1"] as const;
const PROFILES = [...CREDENTIAL_PROFILES, ...DEVICE_KEY_PROFILES];
type CredentialProfile = (typeof CREDENTIAL_PROFILES)[number];
type DeviceKeyProfile = (typeof DEVICE_KEY_PROFILES)[number];

/** The models a simulator plays when it cannot play all of its profile's, the default first. */
const PLAYED_MODELS: Partial<Record<string, { models: readonly string[]; why: string }>> = {
  "tasmota-tuyamcu": {
    models: ["arlec-5l"],
    why: "its data points and fault bits are the Arlec 5L's, which another model's feeder would misread",
  },
  "petnet-smartfeeder-v2": {
    models: ["fw-2.5", "fw-legacy"],
    why: "one for each generation of the firmware's schedule commands",
  },
};

/** What a device presents to the broker that its profile recognises it by, when that is not the key itself. */
const PRESENTED_IDENTITY: Partial<Record<DeviceKeyProfile, (deviceKey: string) => string>> = {
  "petnet-smartfeeder-v2": (deviceKey) => `/pegasus:${deviceKey}`,
};

function numberOption(option: string, min: number, max: number, whole: boolean) {
  const error = `${option} must be a ${whole ? "whole " : ""}number from ${min} to ${max}`;
  const number = z.coerce.number({ error }).min(min, { error }).max(max, { error });
  return whole ? number.int({ error }) : number;
}

function modelOption(profile: DeviceProfile) {
  const played = PLAYED_MODELS[profile.id];
  const models = played?.models ?? profile.models.map((m) => m.id);
  const error = played
    ? `--model: the ${profile.id} simulator plays ${models.join(" or ")}: ${played.why}`
    : `--model: ${profile.id} has the models ${models.join(", ")}`;
  return z
    .string()
    .refine((model) => models.includes(model), { error })
    .default(models[0] ?? "");
}

/** An option that makes no sense with this profile: refused with the reason. */
const refused = (message: string) => z.undefined({ error: message }).optional();

function commonOptions(profile: DeviceProfile) {
  const schedule =
    profile.capabilities.schedule.storage === "device"
      ? "feeders always store their meal plan"
      : "feeders keep no meal plan";
  return {
    url: z.url({ protocol: /^mqtts?$/, error: "--url must be an mqtt:// or mqtts:// URL" }),
    model: modelOption(profile),
    jam: z.boolean(),
    storesSchedule:
      profile.id === "feedkeeper"
        ? z.boolean()
        : z.literal(false, { error: `--stores-schedule: ${profile.id} ${schedule}` }),
    dispenseMs: numberOption("--dispense-ms", 0, 600_000, true),
    telemetryInterval: numberOption("--telemetry-interval", 1, 86_400, false).optional(),
  };
}

function credentialArgs<P extends CredentialProfile>(id: P, profile: DeviceProfile) {
  const notHere = (option: string) =>
    refused(
      `${option}: ${id} feeders log in with the credentials Feedkeeper issued: use --id and --password, --credentials or --provision`,
    );
  return z
    .object({
      ...commonOptions(profile),
      profile: z.literal(id),
      id: z.string().min(1).optional(),
      password: z.string().min(1).optional(),
      credentials: z.string().min(1).optional(),
      provision: numberOption("--provision", 1, 10_000, true).optional(),
      api: z.url({ protocol: /^https?$/, error: "--api must be an http:// or https:// URL" }).optional(),
      token: z.string().min(1).optional(),
      deviceKey: notHere("--device-key"),
      username: notHere("--username"),
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
    });
}

function deviceKeyArgs<P extends DeviceKeyProfile>(id: P, profile: DeviceProfile) {
  const notHere = (option: string) =>
    refused(
      `${option}: ${id} is played as one device named by --device-key, with no credentials from Feedkeeper`,
    );
  const { identify } = profile.transport;
  return z
    .object({
      ...commonOptions(profile),
      profile: z.literal(id),
      deviceKey: z.string({ error: `--device-key is missing: it names the ${id} device to play` }).min(1),
      username:
        id === "petnet-smartfeeder-v2"
          ? refused(
              `--username: a Petnet feeder's username is /pegasus:<gateway hid>, made from --device-key`,
            )
          : z.string().min(1).optional(),
      password: z.string().min(1).optional(),
      id: notHere("--id"),
      credentials: notHere("--credentials"),
      provision: notHere("--provision"),
      api: notHere("--api"),
      token: notHere("--token"),
    })
    .superRefine((args, ctx) => {
      if (identify.by === "clientId" || identify.by === "username") {
        const presented = PRESENTED_IDENTITY[id]?.(args.deviceKey) ?? args.deviceKey;
        const match = new RegExp(identify.pattern).exec(presented);
        if ((match?.groups?.deviceKey ?? match?.[0]) !== args.deviceKey) {
          const what = identify.by === "clientId" ? "client id" : "username";
          ctx.addIssue({
            code: "custom",
            message: `--device-key: ${id} does not recognise "${args.deviceKey}": its ${what} ${presented} must match ${identify.pattern}`,
          });
        }
      } else if (!/^[^#+\p{Cc}]+$/u.test(args.deviceKey)) {
        ctx.addIssue({ code: "custom", message: "--device-key: a friendly name must not contain # or +" });
      }
      if (id === "zigbee2mqtt-aqara-c1" && args.password !== undefined && args.username === undefined) {
        ctx.addIssue({ code: "custom", message: "--password needs --username" });
      }
    });
}

/** The built-in profiles the simulators play, read from device-profiles/ so models and key formats never drift. */
function builtInProfiles(): ReadonlyMap<string, DeviceProfile> {
  const loaded = loadProfiles({ builtIn: builtInProfilesDir() }, BUILT_IN_CODECS);
  const profiles = new Map([...loaded.profiles].map(([id, { profile }]) => [id, profile]));
  const missing = PROFILES.filter((id) => !profiles.has(id));
  if (missing.length > 0) {
    const errors = loaded.errors.map((error) => `\n  ${formatProfileError(error)}`).join("");
    throw new Error(`the built-in profiles ${missing.join(", ")} could not be loaded${errors}`);
  }
  return profiles;
}

function argsSchema(profiles: ReadonlyMap<string, DeviceProfile>) {
  const profile = (id: string) => {
    const found = profiles.get(id);
    if (!found) throw new Error(`no ${id} profile to simulate`);
    return found;
  };
  return z.discriminatedUnion(
    "profile",
    [
      credentialArgs("feedkeeper", profile("feedkeeper")),
      credentialArgs("esphome-mqtt", profile("esphome-mqtt")),
      credentialArgs("tasmota-tuyamcu", profile("tasmota-tuyamcu")),
      deviceKeyArgs("petlibro-dl", profile("petlibro-dl")),
      deviceKeyArgs("petnet-smartfeeder-v2", profile("petnet-smartfeeder-v2")),
      deviceKeyArgs("zigbee2mqtt-aqara-c1", profile("zigbee2mqtt-aqara-c1")),
    ],
    {
      error: (issue) =>
        issue.code === "invalid_union" ? `--profile must be one of ${PROFILES.join(", ")}` : undefined,
    },
  );
}
export type Args = z.infer<ReturnType<typeof argsSchema>>;
type CredentialArgs = Extract<Args, { profile: CredentialProfile }>;
type DeviceKeyArgs = Extract<Args, { profile: DeviceKeyProfile }>;
const isDeviceKeyArgs = (args: Args): args is DeviceKeyArgs =>
  (DEVICE_KEY_PROFILES as readonly string[]).includes(args.profile);

const credentialsFileSchema = z
  .array(z.object({ id: z.string().min(1), password: z.string().min(1) }))
  .min(1, "the file lists no feeders");
type Credentials = z.infer<typeof credentialsFileSchema>[number];

const provisionResponseSchema = z.object({
  feeder: z.object({ id: z.string().min(1) }),
  credentials: z.object({ username: z.string(), clientId: z.string(), password: z.string().min(1) }),
});

export class UsageError extends Error {}

/** The command line as the simulator runs it; throws a UsageError saying what is wrong. */
export function parseCommandLine(
  argv: string[],
  profiles: ReadonlyMap<string, DeviceProfile> = builtInProfiles(),
): Args | "help" {
  let values: ReturnType<typeof parseRaw>["values"];
  try {
    values = parseRaw(argv).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return "help";
  const parsed = argsSchema(profiles).safeParse({
    url: values.url,
    profile: values.profile,
    model: values.model,
    id: values.id,
    password: values.password,
    credentials: values.credentials,
    provision: values.provision,
    api: values.api,
    token: values.token,
    deviceKey: values["device-key"],
    username: values.username,
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
      model: { type: "string" },
      id: { type: "string" },
      password: { type: "string" },
      credentials: { type: "string" },
      provision: { type: "string" },
      api: { type: "string" },
      token: { type: "string" },
      "device-key": { type: "string" },
      username: { type: "string" },
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
  return `--${String(field).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${issue.message}`;
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

async function feederCredentials(args: CredentialArgs): Promise<Credentials[]> {
  if (args.credentials !== undefined) return loadCredentials(args.credentials);
  if (args.provision !== undefined && args.api !== undefined && args.token !== undefined) {
    return provision(args.provision, args.api, args.token, args.profile, args.model);
  }
  if (args.id !== undefined && args.password !== undefined) return [{ id: args.id, password: args.password }];
  throw new UsageError("no feeders to simulate");
}

async function provision(
  count: number,
  api: string,
  token: string,
  profile: string,
  model: string,
): Promise<Credentials[]> {
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
        body: JSON.stringify({ name, profile, model }),
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

interface Reading {
  /** 0–1 */
  foodLevel: number;
  /** 0–1 */
  battery: number;
  /** dBm */
  rssi: number;
}

/** A hopper that empties with every meal and a battery that drains slowly, with a wobbling signal. */
class Readings {
  readonly baseRssi = -50 - Math.round(Math.random() * 25);
  private foodLevel = 0.6 + Math.random() * 0.4;
  private battery = 0.8 + Math.random() * 0.2;

  ate(grams: number): void {
    this.foodLevel = Math.max(0, this.foodLevel - grams / HOPPER_GRAMS);
  }

  next(): Reading {
    this.foodLevel = Math.max(0, this.foodLevel - 0.001);
    this.battery = Math.max(0, this.battery - 0.0005);
    return {
      foodLevel: round(this.foodLevel),
      battery: round(this.battery),
      rssi: this.baseRssi + Math.round((Math.random() - 0.5) * 8),
    };
  }
}

const round = (value: number) => Math.round(value * 1000) / 1000;
const pct = (value: number) => `${Math.round(value * 100)}%`;

/** One simulated device, whatever it plays: what main() starts, stops and feeds readings to. */
interface Runner {
  /** Its feeder id or device key, the first word of each of its lines. */
  name: string;
  device: { readonly connected: boolean; start(): Promise<void>; stop(): Promise<void> };
  /** Sends the next reading the way the device reports one; resolves to what went out, for its line. */
  sendReadings(): Promise<string>;
}

const sayer = (name: string) => (line: string) => console.log(`${name} ${line}`);

const DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const hhmm = (hour: number, minute: number) =>
  `${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}`;
const planLine = (meals: string[]) =>
  meals.length === 0 ? "plan stored: no meals" : `plan stored: ${meals.join("; ")}`;

function nativeFeeder(args: CredentialArgs, { id, password }: Credentials): Runner {
  const readings = new Readings();
  const feeder = new SimulatedFeeder({
    url: args.url,
    id,
    password,
    jammed: args.jam,
    logger,
    ...(args.storesSchedule && { capabilities: [...DEFAULT_CAPABILITIES, CAPABILITY_SCHEDULE] }),
    dispenseMsPerPortion: args.dispenseMs,
  });
  const say = sayer(id);
  feeder.on("ready", () => say("online"));
  feeder.on("disconnected", () => say("disconnected"));
  feeder.on("refused", (error) => say(`gave up: ${error.message}`));
  feeder.on("command", (command) =>
    say(`command ${command.id}: ${command.portions} portions, expires ${command.expiresAt}`),
  );
  feeder.on("dispensed", (meal) => {
    readings.ate(meal.grams);
    say(`dispensed ${meal.portions} portions (${meal.source}) ${meal.grams} g id=${meal.id}`);
  });
  feeder.on("failed", (problem) =>
    say(`failed ${problem.portions} portions (${problem.source}) error=${problem.error} id=${problem.id}`),
  );
  feeder.on("rejected", (problem) => say(`rejected id=${problem.id} error=${problem.error}`));
  feeder.on("scheduleApplied", (version) => say(`schedule version ${version} stored`));
  return {
    name: id,
    device: feeder,
    async sendReadings() {
      const { foodLevel, battery, rssi } = readings.next();
      await feeder.sendTelemetry({ foodLevel, battery, rssi });
      return `food=${pct(foodLevel)} battery=${pct(battery)} rssi=${rssi}`;
    },
  };
}

function espHomeFeeder(args: CredentialArgs, { id, password }: Credentials): Runner {
  const readings = new Readings();
  const feeder = new EspHomeFeeder({
    url: args.url,
    id,
    password,
    jammed: args.jam,
    logger,
    msPerPortion: args.dispenseMs,
  });
  const say = sayer(id);
  feeder.on("ready", () => say("online"));
  feeder.on("disconnected", () => say("disconnected"));
  feeder.on("refused", (error) => say(`gave up: ${error.message}`));
  feeder.on("command", (portions) => say(`command: ${portions} portions`));
  feeder.on("dispensed", (meal) => {
    readings.ate(meal.portions * PORTION_GRAMS);
    say(`dispensed ${meal.portions} portions (${meal.source})`);
  });
  feeder.on("failed", (meal) => say(`failed ${meal.portions} portions (${meal.source}) error=${meal.error}`));
  return {
    name: id,
    device: feeder,
    async sendReadings() {
      const { foodLevel, battery, rssi } = readings.next();
      await feeder.sendSensors({ foodLevelPercent: foodLevel * 100, batteryPercent: battery * 100, rssi });
      return `food=${pct(foodLevel)} battery=${pct(battery)} rssi=${rssi}`;
    },
  };
}

function tasmotaFeeder(args: CredentialArgs, { id, password }: Credentials): Runner {
  const readings = new Readings();
  const feeder = new TasmotaTuyaFeeder({
    url: args.url,
    id,
    password,
    jammed: args.jam,
    logger,
    msPerPortion: args.dispenseMs,
  });
  const say = sayer(id);
  feeder.on("ready", () => say("online"));
  feeder.on("disconnected", () => say("disconnected"));
  feeder.on("refused", (error) => say(`gave up: ${error.message}`));
  feeder.on("command", (name, payload) => say(`command ${name}${payload === "" ? "" : ` ${payload}`}`));
  feeder.on("dispensed", (meal) => {
    readings.ate(meal.portions * PORTION_GRAMS);
    say(`dispensed ${meal.portions} portions (${meal.source})`);
  });
  feeder.on("failed", (meal) => say(`failed ${meal.portions} portions (${meal.source}) error=${meal.error}`));
  feeder.on("plan", (bytes) => {
    let meals: string[];
    try {
      meals = decodeMealPlan(bytes, Number.MAX_SAFE_INTEGER).map(
        (meal) =>
          `${hhmm(meal.hour, meal.minute)} ×${meal.portions} ${meal.days.join(",")}${meal.enabled ? "" : " (off)"}`,
      );
    } catch (error) {
      say(`plan stored: ${bytes.toString("hex")} (${(error as Error).message})`);
      return;
    }
    say(planLine(meals));
  });
  return {
    name: id,
    device: feeder,
    // The Arlec 5L has no food level: only its battery (DP 11) and Tasmota's Wi-Fi signal.
    async sendReadings() {
      const { battery, rssi } = readings.next();
      feeder.setBattery(Math.round(battery * 100));
      await feeder.sendState(rssi);
      return `battery=${pct(battery)} rssi=${rssi}`;
    },
  };
}

function petlibroFeeder(args: DeviceKeyArgs): Runner {
  const readings = new Readings();
  const feeder = new PetlibroFeeder({
    url: args.url,
    serial: args.deviceKey,
    model: args.model,
    productKey: args.username ?? SIM_PRODUCT_KEY,
    productSecret: args.password ?? SIM_PRODUCT_SECRET,
    jammed: args.jam,
    msPerPortion: args.dispenseMs,
    // Its heartbeat carries a signal fixed at start, so the wobble of the other readings is not simulated.
    rssi: readings.baseRssi,
    logger,
  });
  const say = sayer(args.deviceKey);
  const source = (type: number) =>
    type === GRAIN_TYPE.plan ? "plan" : type === GRAIN_TYPE.button ? "button" : "remote";
  feeder.on("ready", () => say("online"));
  feeder.on("disconnected", () => say("disconnected"));
  feeder.on("refused", (error) => say(`gave up: ${error.message}`));
  feeder.on("command", (portions, msgId) => say(`command ${msgId}: ${portions} portions`));
  feeder.on("dispensed", (meal) => {
    readings.ate(meal.portions * PORTION_GRAMS);
    say(`dispensed ${meal.portions} portions (${source(meal.type)}) id=${meal.msgId}`);
  });
  feeder.on("failed", (meal) =>
    say(`failed ${meal.portions} portions (${source(meal.type)}) error=${meal.error} id=${meal.msgId}`),
  );
  feeder.on("plans", (plans) =>
    say(
      planLine(
        plans.map(
          (plan) =>
            `${plan.executionTime} ×${plan.grainNum} ${plan.repeatDay
              .toSorted((a, b) => a - b)
              .map((day) => DAY_NAMES[day - 1])
              .join(",")}`,
        ),
      ),
    ),
  );
  feeder.on("time", (at, offset) =>
    say(`clock set to ${new Date(at).toISOString()}, UTC offset ${offset / 3600} h`),
  );
  return {
    name: args.deviceKey,
    device: feeder,
    async sendReadings() {
      const { foodLevel, battery } = readings.next();
      const surplusGrain = foodLevel >= PETLIBRO_LOW_FOOD;
      await feeder.pushAttributes({ electricQuantity: Math.round(battery * 100), surplusGrain });
      await feeder.heartbeat();
      return `battery=${pct(battery)} food=${surplusGrain ? "enough" : "low"} rssi=${readings.baseRssi}`;
    },
  };
}

function petnetFeeder(args: DeviceKeyArgs): Runner {
  const readings = new Readings();
  const feeder = new PetnetFeeder({
    url: args.url,
    gatewayHid: args.deviceKey,
    apiKey: args.password ?? SIM_PETNET_API_KEY,
    firmware: args.model === "fw-legacy" ? "legacy" : "2.5",
    msPerSixteenth: args.dispenseMs,
    gramsPerCup: PETNET_GRAMS_PER_CUP,
    logger,
  });
  // Its failures carry whatever error text they are given: no source lists the firmware's own.
  if (args.jam) feeder.setFault("jam");
  const say = sayer(args.deviceKey);
  const sixteenths = (cups: number) => `${Math.round(cups / SIXTEENTH_CUP)}/16 cup`;
  feeder.on("ready", () => say("online"));
  feeder.on("disconnected", () => say("disconnected"));
  feeder.on("refused", (error) => say(`gave up: ${error.message}`));
  feeder.on("command", (command) => say(`command ${command.hid}: ${command.command} ${command.payload}`));
  feeder.on("dispensed", (meal) => {
    readings.ate(meal.cups * PETNET_GRAMS_PER_CUP);
    say(`dispensed ${sixteenths(meal.cups)} (${meal.source})`);
  });
  feeder.on("failed", (meal) => say(`failed ${sixteenths(meal.cups)} (${meal.source}) error=${meal.error}`));
  feeder.on("scheduleStored", (meals) =>
    say(
      planLine(
        meals.map(
          (meal) =>
            `${hhmm(Math.floor(meal.time / 3600), Math.floor(meal.time / 60) % 60)} ${sixteenths(meal.portion)}${meal.active ? "" : " (off)"}`,
        ),
      ),
    ),
  );
  feeder.on("apiUnacknowledged", (uri) => say(`no acknowledgement for ${uri}`));
  return {
    name: args.deviceKey,
    device: feeder,
    // It reports a voltage, not a level; the simulator's batteries run from 4.4 V empty to 6 V full.
    async sendReadings() {
      const { battery, rssi } = readings.next();
      const voltageMv = Math.round(4400 + battery * 1600);
      await feeder.sendSensors({ voltageMv, usb: false, charging: false, rssi });
      return `voltage=${(voltageMv / 1000).toFixed(2)} V rssi=${rssi}`;
    },
  };
}

function z2mFeeder(args: DeviceKeyArgs): Runner {
  const readings = new Readings();
  const feeder = new Z2mAqaraFeeder({
    url: args.url,
    friendlyName: args.deviceKey,
    ...(args.username !== undefined && { username: args.username }),
    ...(args.password !== undefined && { password: args.password }),
    jammed: args.jam,
    msPerPortion: args.dispenseMs,
    portionWeight: PORTION_GRAMS,
    logger,
  });
  const say = sayer(args.deviceKey);
  feeder.on("ready", () => say("online"));
  feeder.on("disconnected", () => say("disconnected"));
  feeder.on("command", (key, value) => {
    if (key !== "schedule" || !Array.isArray(value)) {
      say(`command ${key}=${JSON.stringify(value)}`);
      return;
    }
    const entries = value as Array<{ days: string; hour: number; minute: number; size: number }>;
    say(planLine(entries.map((entry) => `${hhmm(entry.hour, entry.minute)} ×${entry.size} ${entry.days}`)));
  });
  feeder.on("dispensed", (meal) => {
    readings.ate(meal.portions * PORTION_GRAMS);
    say(`dispensed ${meal.portions} portions (${meal.source})`);
  });
  feeder.on("failed", (meal) => say(`failed ${meal.portions} portions (${meal.source}) error=true`));
  return {
    name: args.deviceKey,
    device: feeder,
    // A Zigbee device has no Wi-Fi signal: its link quality (0–255) stands in, republished with the state.
    async sendReadings() {
      const { rssi } = readings.next();
      const linkQuality = Math.max(0, Math.min(255, Math.round(((rssi + 100) * 255) / 60)));
      feeder.setLinkQuality(linkQuality);
      await feeder.republish();
      return `linkquality=${linkQuality}`;
    },
  };
}

/** What the owner does next for a device that does not get its credentials from Feedkeeper. */
function hintFor(args: DeviceKeyArgs): string {
  if (args.profile === "zigbee2mqtt-aqara-c1") {
    const broker = new URL(args.url);
    broker.username = "";
    broker.password = "";
    return `add it with profile zigbee2mqtt-aqara-c1, model ${args.model} and deviceKey ${args.deviceKey}; the server needs FEEDKEEPER_MQTT_URL=${broker.href} (and FEEDKEEPER_MQTT_USERNAME and _PASSWORD if that broker wants a login)`;
  }
  return `if new, it is waiting to be adopted: open the web UI → Waiting devices and adopt it as model ${args.model}`;
}

function startTelemetry(runner: Runner, intervalSeconds: number): () => void {
  const send = () => {
    if (!runner.device.connected) return;
    runner.sendReadings().then(
      (sent) => console.log(`${runner.name} telemetry ${sent}`),
      (error: Error) => console.error(`${runner.name} telemetry not sent: ${error.message}`),
    );
  };
  send();
  const timer = setInterval(send, intervalSeconds * 1000);
  return () => clearInterval(timer);
}

async function startAll(runners: Runner[]): Promise<Runner[]> {
  const started: Runner[] = [];
  for (let i = 0; i < runners.length; i += START_CONCURRENCY) {
    const batch = runners.slice(i, i + START_CONCURRENCY);
    const results = await Promise.allSettled(batch.map((runner) => runner.device.start()));
    results.forEach((result, j) => {
      const runner = batch[j] as Runner;
      if (result.status === "fulfilled") started.push(runner);
      else console.error(`${runner.name} could not start: ${(result.reason as Error).message}`);
    });
  }
  return started;
}

async function createRunners(args: Args): Promise<Runner[]> {
  switch (args.profile) {
    case "feedkeeper":
    case "esphome-mqtt":
    case "tasmota-tuyamcu": {
      const create = {
        feedkeeper: nativeFeeder,
        "esphome-mqtt": espHomeFeeder,
        "tasmota-tuyamcu": tasmotaFeeder,
      }[args.profile];
      return (await feederCredentials(args)).map((credentials) => create(args, credentials));
    }
    case "petlibro-dl":
      return [petlibroFeeder(args)];
    case "petnet-smartfeeder-v2":
      return [petnetFeeder(args)];
    case "zigbee2mqtt-aqara-c1":
      return [z2mFeeder(args)];
  }
}

async function main(): Promise<number> {
  const args = parseCommandLine(process.argv.slice(2));
  if (args === "help") {
    console.log(USAGE);
    return 0;
  }
  const started = await startAll(await createRunners(args));
  if (started.length === 0) {
    console.error("no feeder could connect");
    return 1;
  }
  if (isDeviceKeyArgs(args)) for (const runner of started) console.log(`${runner.name} ${hintFor(args)}`);
  const interval = args.telemetryInterval;
  const stopTelemetry =
    interval === undefined ? [] : started.map((runner) => startTelemetry(runner, interval));

  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  // A second Ctrl-C means the user does not want to wait for the goodbyes.
  process.once("SIGINT", () => process.exit(130));
  console.log(`stopping ${started.length} feeder(s)`);
  for (const stop of stopTelemetry) stop();
  await Promise.allSettled(started.map((runner) => runner.device.stop()));
  return 0;
}

// Imported by its tests, which only parse command lines.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
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
}
