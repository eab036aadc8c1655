/**
 * Configuration comes only from environment variables, parsed once at start.
 * An invalid value stops the server with a message naming the variable and
 * what it accepts: a half-configured feeder server is worse than none.
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";

const port = z.coerce
  .number({ error: "must be a number" })
  .int("must be a whole number")
  .min(0, "must be 0-65535 (0 picks a free port)")
  .max(65535, "must be 0-65535 (0 picks a free port)");

const seconds = (min: number, max: number) =>
  z.coerce
    .number({ error: "must be a number of seconds" })
    .int("must be a whole number of seconds")
    .min(min, `must be at least ${min} seconds`)
    .max(max, `must be at most ${max} seconds`);

const bytes = (min: number, max: number) =>
  z.coerce
    .number({ error: "must be a number of bytes" })
    .int("must be a whole number of bytes")
    .min(min, `must be at least ${min} bytes`)
    .max(max, `must be at most ${max} bytes`);

const alertPercent = z.coerce
  .number({ error: "must be a percentage" })
  .int("must be a whole percentage")
  .min(0, "must be 0-90 % (0: never)")
  .max(90, "must be 0-90 %");

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export const LOG_FORMATS = ["auto", "json", "pretty"] as const;

/** Each key is the environment variable's name; README's configuration table mirrors this. */
const envSchema = z.object({
  FEEDKEEPER_HTTP_PORT: port.default(8080),
  FEEDKEEPER_MQTT_PORT: port.default(1883),
  FEEDKEEPER_BIND: z
    .union([z.ipv4(), z.ipv6(), z.literal("localhost")], {
      error: "must be an IP address such as 0.0.0.0, 127.0.0.1 or ::",
    })
    .default("0.0.0.0"),
  FEEDKEEPER_DATA_DIR: z.string().min(1, "must be a directory path").default("./data"),
  FEEDKEEPER_LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  FEEDKEEPER_LOG_FORMAT: z.enum(LOG_FORMATS, { error: "must be auto, json or pretty" }).default("auto"),
  FEEDKEEPER_MQTT_MAX_PACKET_BYTES: bytes(1024, 16 * 1024 * 1024).default(64 * 1024),
  FEEDKEEPER_FEED_EXPIRY_SECONDS: seconds(5, 3600).default(60),
  FEEDKEEPER_FEED_MAX_EXPIRY_SECONDS: seconds(5, 86400).default(900),
  FEEDKEEPER_FEED_RESULT_TIMEOUT_SECONDS: seconds(5, 3600).default(120),
  FEEDKEEPER_WEB_DIR: z.string().min(1).optional(),
  FEEDKEEPER_PROFILES_DIR: z.string().min(1, "must be a directory path").optional(),
  FEEDKEEPER_MQTTS_PORT: port.optional(),
  FEEDKEEPER_KRONOS_PORT: port.optional(),
  FEEDKEEPER_AUDIT_DAYS: z.coerce
    .number({ error: "must be a number of days" })
    .int("must be a whole number of days")
    .min(1, "must be at least 1 day")
    .max(3650, "must be at most 3650 days")
    .default(365),
  // Alert thresholds: below them an alert is raised; it re-arms 10 points higher, so they stop at 90.
  FEEDKEEPER_FOOD_LOW_PERCENT: alertPercent.default(20),
  FEEDKEEPER_BATTERY_LOW_PERCENT: alertPercent.default(15),
  FEEDKEEPER_OFFLINE_ALERT_MINUTES: z.coerce
    .number({ error: "must be a number of minutes" })
    .int("must be a whole number of minutes")
    .min(0, "must be at least 0 minutes (0: never)")
    .max(10080, "must be at most 10080 minutes (a week)")
    .default(30),
  FEEDKEEPER_BACKUP_INTERVAL_HOURS: z.coerce
    .number({ error: "must be a number of hours" })
    .int("must be a whole number of hours")
    .min(0, "must be 0-168 hours (0: no scheduled backups)")
    .max(168, "must be at most 168 hours (a week)")
    .default(24),
  FEEDKEEPER_BACKUP_KEEP: z.coerce
    .number({ error: "must be a number of backups" })
    .int("must be a whole number of backups")
    .min(1, "must be at least 1")
    .max(1000, "must be at most 1000")
    .default(7),
  FEEDKEEPER_TLS_CERT: z.string().min(1, "must be a file path").optional(),
  FEEDKEEPER_TLS_KEY: z.string().min(1, "must be a file path").optional(),
  FEEDKEEPER_TLS_HOSTNAMES: z
    .string()
    .regex(/^[\w.*-]+(,[\w.*-]+)*$/, "must be host names separated by commas")
    .default("localhost"),
  FEEDKEEPER_MQTT_URL: z
    .url({
      protocol: /^(mqtt|mqtts|ws|wss)$/,
      error: "must be a broker URL such as mqtt://192.168.1.10:1883 or mqtts://broker.lan:8883",
    })
    .optional(),
  FEEDKEEPER_MQTT_USERNAME: z.string().max(256).optional(),
  FEEDKEEPER_MQTT_PASSWORD: z.string().max(1024).optional(),
  FEEDKEEPER_MQTT_CA_FILE: z.string().min(1, "must be a file path").optional(),
  FEEDKEEPER_MQTT_CLIENT_ID: z
    .string()
    .regex(/^[\w.-]{1,64}$/, "must be 1-64 letters, digits, '.', '_' or '-'")
    .default("feedkeeper"),
  FEEDKEEPER_HA_DISCOVERY: z
    .enum(["auto", "on", "off"], { error: "must be auto, on or off" })
    .default("auto"),
  FEEDKEEPER_HA_DISCOVERY_PREFIX: z
    .string()
    .regex(
      /^[A-Za-z0-9_-]{1,64}(\/[A-Za-z0-9_-]{1,64}){0,2}$/,
      "must be an MQTT topic prefix such as homeassistant (letters, digits, '_', '-', at most 3 levels)",
    )
    .default("homeassistant"),
});

/** The certificate of the TLS listeners (MQTT over TLS, the Petnet registration API). */
export interface TlsConfig {
  /** PEM files; when absent a self-signed certificate is made once and kept in the data directory. */
  certFile: string | undefined;
  keyFile: string | undefined;
  /** Names the generated certificate is valid for. */
  hostnames: string[];
}

/** An existing broker the bridge reads as a client (Zigbee2MQTT's, Home Assistant's Mosquitto). */
export interface ExternalBrokerConfig {
  url: string;
  username: string | undefined;
  password: string | undefined;
  /** PEM file of the CA that signed the broker's certificate, for a private CA. */
  caFile: string | undefined;
  clientId: string;
}

export interface Config {
  httpPort: number;
  mqttPort: number;
  bind: string;
  dataDir: string;
  logLevel: (typeof LOG_LEVELS)[number];
  /** auto: pretty when stdout is a terminal, JSON otherwise (as in a container). */
  logFormat: (typeof LOG_FORMATS)[number];
  mqttMaxPacketBytes: number;
  feeds: {
    defaultExpirySeconds: number;
    maxExpirySeconds: number;
    resultTimeoutSeconds: number;
  };
  /** Built web UI; absent means the API runs without a UI (tests, headless installs). */
  webDir: string | undefined;
  /** The owner's own device profiles, loaded after the built-in ones. */
  profilesDir: string | undefined;
  /** MQTT over TLS on the embedded broker, for firmware that insists on it (Petnet's 8883). */
  mqttsPort: number | undefined;
  /** HTTPS for the registration calls Petnet feeders make before MQTT (their dead cloud's "Kronos" API). */
  kronosPort: number | undefined;
  tls: TlsConfig;
  /** How long the audit log keeps an entry. */
  auditDays: number;
  /** Scheduled local backups in <data dir>/backups: every `intervalHours` (0: off), the `keep` newest kept. */
  backup: { intervalHours: number; keep: number };
  /** When a feeder's condition raises an alert: below these percentages, after this long offline (0: never). */
  conditionAlerts: { foodLowPercent: number; batteryLowPercent: number; offlineMinutes: number };
  /** Set when FEEDKEEPER_MQTT_URL is: devices on that broker are reached through it. */
  externalBroker: ExternalBrokerConfig | undefined;
  /**
   * Home Assistant MQTT discovery, on the external broker when there is one, else on the embedded broker
   * (where Home Assistant logs in with an API token). Auto: on with an external broker, off without.
   */
  homeAssistant: { discovery: boolean; prefix: string };
}

/** A broker URL as it may be logged: without a password in it. */
export function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings come from compose files with `VAR=`; treat them as unset rather than as 0.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? "environment");
        return `${name}=${JSON.stringify(env[name] ?? "")}: ${issue.message}`;
      }),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.FEEDKEEPER_FEED_EXPIRY_SECONDS > e.FEEDKEEPER_FEED_MAX_EXPIRY_SECONDS) {
    problems.push(
      `FEEDKEEPER_FEED_EXPIRY_SECONDS=${e.FEEDKEEPER_FEED_EXPIRY_SECONDS}: must not exceed FEEDKEEPER_FEED_MAX_EXPIRY_SECONDS (${e.FEEDKEEPER_FEED_MAX_EXPIRY_SECONDS})`,
    );
  }
  if (e.FEEDKEEPER_HTTP_PORT !== 0 && e.FEEDKEEPER_HTTP_PORT === e.FEEDKEEPER_MQTT_PORT) {
    problems.push(`FEEDKEEPER_MQTT_PORT=${e.FEEDKEEPER_MQTT_PORT}: must differ from FEEDKEEPER_HTTP_PORT`);
  }
  if (e.FEEDKEEPER_MQTT_CA_FILE && !fs.existsSync(e.FEEDKEEPER_MQTT_CA_FILE)) {
    problems.push(`FEEDKEEPER_MQTT_CA_FILE=${JSON.stringify(e.FEEDKEEPER_MQTT_CA_FILE)}: no such file`);
  }
  for (const name of ["FEEDKEEPER_TLS_CERT", "FEEDKEEPER_TLS_KEY"] as const) {
    const file = e[name];
    if (file && !fs.existsSync(file)) problems.push(`${name}=${JSON.stringify(file)}: no such file`);
    if (file && e.FEEDKEEPER_MQTTS_PORT === undefined && e.FEEDKEEPER_KRONOS_PORT === undefined) {
      problems.push(`${name}: needs FEEDKEEPER_MQTTS_PORT or FEEDKEEPER_KRONOS_PORT`);
    }
  }
  if ((e.FEEDKEEPER_TLS_CERT === undefined) !== (e.FEEDKEEPER_TLS_KEY === undefined)) {
    problems.push("FEEDKEEPER_TLS_CERT and FEEDKEEPER_TLS_KEY: give both or neither");
  }
  // Each listener its own port (0 picks a free one for each).
  const taken = new Map<number, string>([[e.FEEDKEEPER_HTTP_PORT, "FEEDKEEPER_HTTP_PORT"]]);
  const extra = {
    FEEDKEEPER_MQTTS_PORT: e.FEEDKEEPER_MQTTS_PORT,
    FEEDKEEPER_KRONOS_PORT: e.FEEDKEEPER_KRONOS_PORT,
  };
  taken.set(e.FEEDKEEPER_MQTT_PORT, "FEEDKEEPER_MQTT_PORT");
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined || value === 0) continue;
    const other = taken.get(value);
    if (other) problems.push(`${name}=${value}: must differ from ${other}`);
    taken.set(value, name);
  }
  const brokerOnly = [
    "FEEDKEEPER_MQTT_USERNAME",
    "FEEDKEEPER_MQTT_PASSWORD",
    "FEEDKEEPER_MQTT_CA_FILE",
  ] as const;
  for (const name of brokerOnly) {
    if (e[name] !== undefined && !e.FEEDKEEPER_MQTT_URL) problems.push(`${name}: needs FEEDKEEPER_MQTT_URL`);
  }
  // MQTT has no password without a user name: mqtt.js would close the connection without a word.
  if (e.FEEDKEEPER_MQTT_PASSWORD !== undefined && e.FEEDKEEPER_MQTT_USERNAME === undefined) {
    problems.push(
      "FEEDKEEPER_MQTT_PASSWORD: needs FEEDKEEPER_MQTT_USERNAME (MQTT sends no password without a user name)",
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    httpPort: e.FEEDKEEPER_HTTP_PORT,
    mqttPort: e.FEEDKEEPER_MQTT_PORT,
    bind: e.FEEDKEEPER_BIND,
    dataDir: path.resolve(e.FEEDKEEPER_DATA_DIR),
    logLevel: e.FEEDKEEPER_LOG_LEVEL,
    logFormat: e.FEEDKEEPER_LOG_FORMAT,
    mqttMaxPacketBytes: e.FEEDKEEPER_MQTT_MAX_PACKET_BYTES,
    feeds: {
      defaultExpirySeconds: e.FEEDKEEPER_FEED_EXPIRY_SECONDS,
      maxExpirySeconds: e.FEEDKEEPER_FEED_MAX_EXPIRY_SECONDS,
      resultTimeoutSeconds: e.FEEDKEEPER_FEED_RESULT_TIMEOUT_SECONDS,
    },
    webDir: e.FEEDKEEPER_WEB_DIR ? path.resolve(e.FEEDKEEPER_WEB_DIR) : undefined,
    profilesDir: e.FEEDKEEPER_PROFILES_DIR ? path.resolve(e.FEEDKEEPER_PROFILES_DIR) : undefined,
    mqttsPort: e.FEEDKEEPER_MQTTS_PORT,
    kronosPort: e.FEEDKEEPER_KRONOS_PORT,
    auditDays: e.FEEDKEEPER_AUDIT_DAYS,
    backup: { intervalHours: e.FEEDKEEPER_BACKUP_INTERVAL_HOURS, keep: e.FEEDKEEPER_BACKUP_KEEP },
    conditionAlerts: {
      foodLowPercent: e.FEEDKEEPER_FOOD_LOW_PERCENT,
      batteryLowPercent: e.FEEDKEEPER_BATTERY_LOW_PERCENT,
      offlineMinutes: e.FEEDKEEPER_OFFLINE_ALERT_MINUTES,
    },
    tls: {
      certFile: e.FEEDKEEPER_TLS_CERT ? path.resolve(e.FEEDKEEPER_TLS_CERT) : undefined,
      keyFile: e.FEEDKEEPER_TLS_KEY ? path.resolve(e.FEEDKEEPER_TLS_KEY) : undefined,
      hostnames: e.FEEDKEEPER_TLS_HOSTNAMES.split(","),
    },
    externalBroker: e.FEEDKEEPER_MQTT_URL
      ? {
          url: e.FEEDKEEPER_MQTT_URL,
          username: e.FEEDKEEPER_MQTT_USERNAME,
          password: e.FEEDKEEPER_MQTT_PASSWORD,
          caFile: e.FEEDKEEPER_MQTT_CA_FILE ? path.resolve(e.FEEDKEEPER_MQTT_CA_FILE) : undefined,
          clientId: e.FEEDKEEPER_MQTT_CLIENT_ID,
        }
      : undefined,
    homeAssistant: {
      discovery:
        e.FEEDKEEPER_HA_DISCOVERY === "on" ||
        (e.FEEDKEEPER_HA_DISCOVERY === "auto" && e.FEEDKEEPER_MQTT_URL !== undefined),
      prefix: e.FEEDKEEPER_HA_DISCOVERY_PREFIX,
    },
  };
}
