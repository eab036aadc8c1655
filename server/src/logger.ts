import { createRequire } from "node:module";
import pino from "pino";
import type PinoPretty from "pino-pretty";
import type { Config } from "./config.js";

export type Logger = pino.Logger;
export type LogLevel = Config["logLevel"];
export type LogFormat = Config["logFormat"];

export interface LoggerOptions {
  /** auto: pretty on a terminal, JSON otherwise (a container's stdout is no terminal). */
  format?: LogFormat;
  /** Where lines go instead of stdout (tests read them here); JSON unless the format says pretty. */
  destination?: pino.DestinationStream;
  /** Whether stdout is a terminal; asked of the process unless given. */
  isTTY?: boolean;
}

/** What `auto` comes to: people read a terminal, machines read everything else. */
export function resolveLogFormat(format: LogFormat, isTTY: boolean): "json" | "pretty" {
  if (format === "auto") return isTTY ? "pretty" : "json";
  return format;
}

/**
 * The root logger. Every child follows the root's level, also one made before the level changed (pino
 * children copy the level when they are made): setting `logger.level` on the root is how the level changes
 * at run time.
 */
export function createLogger(level: LogLevel, options: LoggerOptions = {}): Logger {
  const format = resolveLogFormat(options.format ?? "json", options.isTTY ?? process.stdout.isTTY === true);
  // Weak: a child made per connection or request must not be kept alive by the level it follows.
  const children = new Set<WeakRef<Logger>>();
  const root: Logger = pino(
    {
      level,
      base: { service: "feedkeeper" },
      // Defence in depth: even if a secret-bearing object reaches a log call, it is not written.
      redact: {
        paths: ["password", "*.password", "secret", "*.secret", "token", "*.token"],
        censor: "[redacted]",
      },
      onChild: (child) => {
        children.add(new WeakRef(child));
      },
    },
    format === "pretty" ? prettyStream(options.destination) : options.destination,
  );
  root.on("level-change", (label, _value, _previousLabel, _previousValue, changed: Logger) => {
    // Children share the root's listeners (they inherit its emitter): only the root's own change spreads.
    if (changed !== root) return;
    for (const ref of children) {
      const child = ref.deref();
      if (child === undefined) children.delete(ref);
      else if (child.level !== label) child.level = label;
    }
  });
  return root;
}

/**
 * pino-pretty is loaded only when asked for, so the container's JSON logging never pays for it. Synchronous
 * writes keep lines in order with the JSON mode's and nothing is left in a buffer when the process exits.
 */
function prettyStream(destination: pino.DestinationStream | undefined): pino.DestinationStream {
  const pretty = createRequire(import.meta.url)("pino-pretty") as typeof PinoPretty;
  return pretty({
    sync: true,
    destination: destination ?? 1,
    colorize: destination === undefined && process.stdout.isTTY === true,
    translateTime: "SYS:yyyy-mm-dd HH:MM:ss.l",
    ignore: "pid,hostname,service",
  });
}

/** The server's log level as an owner changes it at run time; a restart goes back to FEEDKEEPER_LOG_LEVEL. */
export interface LogLevelControl {
  current(): LogLevel;
  /** FEEDKEEPER_LOG_LEVEL, what the server starts with. */
  readonly configured: LogLevel;
  change(level: LogLevel, by: string): void;
}

/** `root`: a logger from createLogger, whose children follow it. */
export function logLevelControl(root: Logger, configured: LogLevel): LogLevelControl {
  return {
    configured,
    current: () => root.level as LogLevel,
    change(level, by) {
      const from = root.level as LogLevel;
      if (from === level) return;
      const fields = { from, to: level, by };
      // Said where it is seen: at info, or warn when neither level shows info; before the change when the old
      // level lets the line through, else after it.
      for (const say of ["info", "warn"] as const) {
        if (root.isLevelEnabled(say)) {
          root[say](fields, "log level changed");
          root.level = level;
          return;
        }
        if (shows(level, say)) {
          root.level = level;
          root[say](fields, "log level changed");
          return;
        }
      }
      root.level = level;
    },
  };
}

/** Whether a logger at `level` writes lines at `line`. */
function shows(level: LogLevel, line: "info" | "warn"): boolean {
  const values = pino.levels.values;
  return level !== "silent" && (values[level] ?? Number.POSITIVE_INFINITY) <= (values[line] ?? 0);
}
