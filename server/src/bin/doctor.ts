/**
 * `feedkeeper doctor`: checks what most often keeps a feeder server from working — the data directory, the
 * database, the clock, the ports and the broker — and says for each problem what to do about it. It changes
 * nothing (the database is opened read-only) and works whether or not the server is running, so it can be
 * run before the first start and while a running server misbehaves. Exit code 1 when a check failed.
 */
import { X509Certificate } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import type { IClientOptions } from "mqtt";
import type { Config } from "../config.js";
import { peekStore } from "../store/db.js";
import { VERSION } from "../version.js";
import type { CliIo, Command } from "./commands.js";

export const DOCTOR_USAGE = `Usage: feedkeeper doctor [--json]

Checks the data directory, database, clock, ports, broker and certificates of the server configured by the
FEEDKEEPER_* environment, and says what to fix. Changes nothing. Exit code 1 when a check failed.
`;

export type CheckStatus = "ok" | "warn" | "fail" | "skip";

export interface CheckResult {
  status: CheckStatus;
  title: string;
  detail?: string | undefined;
  /** What the user should do; given for every warn and fail. */
  fix?: string | undefined;
}

const MB = 1024 * 1024;
/** Records later than now by more than this mean the clock went back (or was wrong when they were made). */
const CLOCK_TOLERANCE_MS = 5 * 60_000;
/** No feeder firmware we know of accepts a clock before this; neither should the server run on one. */
const EARLIEST_PLAUSIBLE = Date.UTC(2025, 0, 1);

export async function runChecks(config: Config, now: () => number = Date.now): Promise<CheckResult[]> {
  const results: CheckResult[] = [nodeCheck()];
  results.push(...dataDirChecks(config.dataDir));
  results.push(...databaseChecks(config, now()));
  results.push(timeZoneCheck());
  const running = await runningServer(config);
  results.push(...(await portChecks(config, running)));
  results.push(await brokerCheck(config, running));
  results.push(...certificateChecks(config, now()));
  return results;
}

function nodeCheck(): CheckResult {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  return major > 20 || (major === 20 && minor >= 11)
    ? { status: "ok", title: `Node.js ${process.versions.node}` }
    : {
        status: "fail",
        title: `Node.js ${process.versions.node} is too old`,
        fix: "install Node.js 20.11 or newer (a current LTS), or use the container image",
      };
}

function dataDirChecks(dir: string): CheckResult[] {
  if (!fs.existsSync(dir)) {
    const parent = path.dirname(dir);
    return [
      canWrite(parent)
        ? {
            status: "ok",
            title: `Data directory ${dir}`,
            detail: "not there yet; the first start creates it",
          }
        : {
            status: "fail",
            title: `Data directory ${dir} does not exist and cannot be created`,
            fix: `create it (mkdir -m 700 ${dir}) as the user the server runs as, or set FEEDKEEPER_DATA_DIR`,
          },
    ];
  }
  const stat = fs.statSync(dir);
  if (!stat.isDirectory())
    return [
      {
        status: "fail",
        title: `Data directory ${dir} is not a directory`,
        fix: "set FEEDKEEPER_DATA_DIR to a directory",
      },
    ];
  const results: CheckResult[] = [];
  if (!canWrite(dir)) {
    results.push({
      status: "fail",
      title: `Data directory ${dir} is not writable by this user (uid ${process.getuid?.() ?? "?"})`,
      fix: `chown -R ${process.getuid?.() ?? "$(id -u)"} ${dir} (in the container the server runs as uid 1000)`,
    });
  } else {
    results.push({ status: "ok", title: `Data directory ${dir} is writable` });
  }
  // The database holds password hashes and device credentials: nobody else on the machine should read it.
  const open = [dir, path.join(dir, "feedkeeper.db")].filter(
    (file) => fs.existsSync(file) && (fs.statSync(file).mode & 0o077) !== 0,
  );
  if (open.length > 0) {
    results.push({
      status: "warn",
      title: `Readable by other users: ${open.join(", ")}`,
      fix: `chmod 700 ${dir} && chmod 600 ${path.join(dir, "feedkeeper.db")}*`,
    });
  }
  const free = freeBytes(dir);
  if (free !== undefined) {
    const text = `${Math.round(free / MB)} MB free`;
    results.push(
      free < 20 * MB
        ? {
            status: "fail",
            title: `Disk almost full: ${text}`,
            fix: "free some space: SQLite cannot record feeds on a full disk",
          }
        : free < 200 * MB
          ? {
              status: "warn",
              title: `Little disk space: ${text}`,
              fix: "free some space or move FEEDKEEPER_DATA_DIR",
            }
          : { status: "ok", title: `Disk: ${text}` },
    );
  }
  return results;
}

function canWrite(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function freeBytes(dir: string): number | undefined {
  try {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

function databaseChecks(config: Config, now: number): CheckResult[] {
  const file = path.join(config.dataDir, "feedkeeper.db");
  if (!fs.existsSync(file)) return [{ status: "skip", title: "Database", detail: "not created yet" }];
  let peek: ReturnType<typeof peekStore>;
  try {
    peek = peekStore(file);
  } catch (err) {
    return [
      {
        status: "fail",
        title: `Database ${file} cannot be opened`,
        detail: (err as Error).message,
        fix: "check its owner and permissions; if it is damaged, restore a backup (feedkeeper restore)",
      },
    ];
  }
  try {
    const results: CheckResult[] = [];
    const integrity = peek.value<string>("PRAGMA quick_check");
    results.push(
      integrity === "ok"
        ? { status: "ok", title: "Database integrity" }
        : {
            status: "fail",
            title: "Database is damaged",
            detail: integrity,
            fix: "stop the server and restore the latest backup (feedkeeper restore <file>)",
          },
    );
    const owners = tableExists(peek, "users")
      ? (peek.value<number>("SELECT count(*) FROM users WHERE role = 'owner'") ?? 0)
      : 0;
    results.push(
      owners > 0
        ? { status: "ok", title: "Setup done (an owner account exists)" }
        : {
            status: "warn",
            title: "No owner account yet",
            fix: `open the web UI (port ${config.httpPort}) and finish the first-run setup`,
          },
    );
    results.push(clockCheck(peek, now));
    return results;
  } finally {
    peek.close();
  }
}

function tableExists(peek: ReturnType<typeof peekStore>, name: string): boolean {
  return (
    peek.value<string>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = '${name}'`) === name
  );
}

/**
 * A clock far off makes meals come at the wrong time, certificates look invalid and device schedules drift.
 * With no network to ask, the evidence is the database: nothing it recorded can be later than now.
 */
function clockCheck(peek: ReturnType<typeof peekStore>, now: number): CheckResult {
  const clock = new Date(now).toISOString();
  if (now < EARLIEST_PLAUSIBLE)
    return {
      status: "fail",
      title: `The clock says ${clock}`,
      fix: "set the system clock (enable NTP: timedatectl set-ntp true); meals run by this clock",
    };
  const newest = Math.max(
    ...[
      ["audit_log", "at"],
      ["feeds", "requested_at"],
      ["alerts", "created_at"],
    ].map(([table, column]) =>
      tableExists(peek, table as string)
        ? (peek.value<number>(`SELECT max(${column}) FROM ${table}`) ?? 0)
        : 0,
    ),
  );
  if (newest > now + CLOCK_TOLERANCE_MS)
    return {
      status: "fail",
      title: `The clock is behind: it says ${clock}, but the database has records from ${new Date(newest).toISOString()}`,
      fix: "set the system clock (enable NTP: timedatectl set-ntp true); planned meals would come at the wrong time",
    };
  return { status: "ok", title: `Clock: ${clock}` };
}

function timeZoneCheck(): CheckResult {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC";
  const asked = process.env.TZ;
  // An unknown TZ makes the runtime fall back to UTC without a word: meals would be hours off.
  if (asked && !asked.startsWith(":") && asked !== zone && !(asked === "UTC" && zone === "Etc/UTC"))
    return {
      status: "warn",
      title: `TZ=${asked} is not a time zone this system knows; using ${zone}`,
      fix: "use an IANA name such as Europe/Berlin or Asia/Tokyo (the container has the zone data)",
    };
  return {
    status: "ok",
    title: `Time zone: ${zone}`,
    detail: "meal plans of feeders without their own zone use it",
  };
}

interface RunningServer {
  version: string;
  url: string;
}

/** The address to reach a listener bound to `bind` from this machine. */
function localHost(bind: string): string {
  if (bind === "0.0.0.0" || bind === "localhost") return "127.0.0.1";
  if (bind === "::") return "::1";
  return bind;
}

function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

async function runningServer(config: Config): Promise<RunningServer | undefined> {
  if (config.httpPort === 0) return undefined;
  const url = `http://${urlHost(localHost(config.bind))}:${config.httpPort}`;
  try {
    const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(3000) });
    const body = (await res.json()) as { status?: unknown; version?: unknown };
    if (body.status === "ok" && typeof body.version === "string") return { version: body.version, url };
  } catch {
    // Nothing answering, or not Feedkeeper: the port check says which.
  }
  return undefined;
}

async function portChecks(config: Config, running: RunningServer | undefined): Promise<CheckResult[]> {
  const listeners: Array<[string, number | undefined]> = [
    ["FEEDKEEPER_HTTP_PORT", config.httpPort],
    ["FEEDKEEPER_MQTT_PORT", config.mqttPort],
    ["FEEDKEEPER_MQTTS_PORT", config.mqttsPort],
    ["FEEDKEEPER_KRONOS_PORT", config.kronosPort],
  ];
  const results: CheckResult[] = [];
  for (const [name, port] of listeners) {
    if (port === undefined || port === 0) continue;
    const problem = await tryListen(port, config.bind);
    if (problem === undefined) {
      results.push({ status: "ok", title: `${name}=${port} is free on ${config.bind}` });
    } else if (problem === "EADDRINUSE" && running) {
      results.push({
        status: "ok",
        title: `${name}=${port} is in use by the running Feedkeeper ${running.version} (${running.url})`,
      });
    } else if (problem === "EADDRINUSE") {
      results.push({
        status: "fail",
        title: `${name}=${port} is in use by another program`,
        fix: `stop that program (ss -ltnp 'sport = :${port}' shows it) or set ${name} to a free port`,
      });
    } else if (problem === "EACCES") {
      results.push({
        status: "fail",
        title: `${name}=${port}: this user may not listen on ports below 1024`,
        fix: `set ${name} to 1024 or above (in Docker, publish it as ${port}:<that port>)`,
      });
    } else {
      results.push({
        status: "fail",
        title: `${name}=${port} cannot be opened on ${config.bind}: ${problem}`,
        fix: "check FEEDKEEPER_BIND: it must be an address of this machine (0.0.0.0 for all)",
      });
    }
  }
  return results;
}

function tryListen(port: number, bind: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ port, host: bind, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

async function brokerCheck(config: Config, running: RunningServer | undefined): Promise<CheckResult> {
  if (config.externalBroker) {
    const { url, username, password, caFile } = config.externalBroker;
    const shown = new URL(url);
    shown.password = "";
    const problem = await mqttProbe(url, {
      ...(username !== undefined && { username }),
      ...(password !== undefined && { password }),
      ...(caFile !== undefined && { ca: fs.readFileSync(caFile) }),
    });
    if (problem === undefined)
      return { status: "ok", title: `External broker ${shown} accepts Feedkeeper's login` };
    return {
      status: "fail",
      title: `External broker ${shown}: ${problem}`,
      fix: /auth|password|username/i.test(problem)
        ? "check FEEDKEEPER_MQTT_USERNAME and FEEDKEEPER_MQTT_PASSWORD against the broker's users"
        : "check FEEDKEEPER_MQTT_URL, that the broker runs, and that this machine may reach it (firewall)",
    };
  }
  if (!running)
    return {
      status: "skip",
      title: "Embedded MQTT broker",
      detail: "the server is not running; start it to check",
    };
  const url = `mqtt://${urlHost(localHost(config.bind))}:${config.mqttPort}`;
  // Without a login the broker must answer "not authorized": that it answers at all is what is checked.
  const problem = await mqttProbe(url, {});
  if (problem !== undefined && /not authori[sz]ed|bad user/i.test(problem))
    return { status: "ok", title: `Embedded MQTT broker answers on ${url} (and refuses anonymous logins)` };
  if (problem === undefined)
    return {
      status: "fail",
      title: `The broker on ${url} accepted a login without a password`,
      fix: "that is not Feedkeeper's broker: another program holds FEEDKEEPER_MQTT_PORT",
    };
  return {
    status: "fail",
    title: `Embedded MQTT broker on ${url}: ${problem}`,
    fix: "look at the server's log for broker errors; restart the server",
  };
}

async function mqttProbe(url: string, options: IClientOptions): Promise<string | undefined> {
  // The client library is loaded only when a check needs it: the server's bundle imports it otherwise.
  const { default: mqtt } = await import("mqtt");
  return new Promise((resolve) => {
    const client = mqtt.connect(url, {
      ...options,
      clientId: `feedkeeper-doctor-${process.pid}`,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    let error: string | undefined;
    const done = (problem: string | undefined) => {
      client.end(true);
      resolve(problem);
    };
    client.once("connect", () => done(undefined));
    client.once("error", (err) => {
      error = err.message;
      done(error);
    });
    // The socket's error may come right after its close: the error says more, so wait for it a moment.
    client.once("close", () =>
      setTimeout(() => done(error ?? "the connection was closed without an answer"), 50),
    );
  });
}

function certificateChecks(config: Config, now: number): CheckResult[] {
  if (config.mqttsPort === undefined && config.kronosPort === undefined) return [];
  const file = config.tls.certFile ?? path.join(config.dataDir, "tls", "mqtts-cert.pem");
  if (!fs.existsSync(file))
    return [{ status: "ok", title: "TLS certificate", detail: "none yet; the first start makes one" }];
  try {
    const cert = new X509Certificate(fs.readFileSync(file));
    const until = Date.parse(cert.validTo);
    const days = Math.floor((until - now) / 86_400_000);
    if (days < 0)
      return [
        {
          status: "fail",
          title: `TLS certificate ${file} expired on ${cert.validTo}`,
          fix: config.tls.certFile
            ? "renew it and restart the server"
            : `remove ${path.dirname(file)} and restart: a new one is made (devices that pinned the old one need the new fingerprint)`,
        },
      ];
    if (days < 30)
      return [{ status: "warn", title: `TLS certificate expires in ${days} days`, fix: "renew it soon" }];
    return [{ status: "ok", title: `TLS certificate valid until ${cert.validTo}` }];
  } catch (err) {
    return [
      {
        status: "fail",
        title: `TLS certificate ${file} cannot be read`,
        detail: (err as Error).message,
        fix: "give a PEM certificate in FEEDKEEPER_TLS_CERT",
      },
    ];
  }
}

const MARK: Record<CheckStatus, string> = { ok: "ok  ", warn: "WARN", fail: "FAIL", skip: "--  " };

export function formatReport(results: CheckResult[]): string {
  const lines = [`feedkeeper doctor (Feedkeeper ${VERSION})`];
  for (const r of results) {
    lines.push(`  ${MARK[r.status]}  ${r.title}${r.detail ? ` (${r.detail})` : ""}`);
    if (r.fix) lines.push(`        fix: ${r.fix}`);
  }
  const count = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  lines.push(`${count("ok")} ok, ${count("warn")} warning(s), ${count("fail")} problem(s)`, "");
  return lines.join("\n");
}

export const doctorCommand: Command = {
  summary: "check the data directory, database, clock, ports, broker and certificates, and say what to fix",
  async run(args, config, io: CliIo) {
    let json: boolean | undefined;
    try {
      const { values } = parseArgs({
        args,
        options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
      });
      if (values.help) {
        io.stdout.write(DOCTOR_USAGE);
        return 0;
      }
      json = values.json;
    } catch (err) {
      io.stderr.write(`feedkeeper: ${(err as Error).message}\n\n${DOCTOR_USAGE}`);
      return 2;
    }
    const results = await runChecks(config);
    io.stdout.write(
      json ? `${JSON.stringify({ version: VERSION, checks: results })}\n` : formatReport(results),
    );
    return results.some((r) => r.status === "fail") ? 1 : 0;
  },
};
