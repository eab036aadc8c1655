import pino from "pino";
import type { Config } from "./config.js";

export type Logger = pino.Logger;

export function createLogger(level: Config["logLevel"]): Logger {
  return pino({
    level,
    base: { service: "feedkeeper" },
    // Defence in depth: even if a secret-bearing object reaches a log call, it is not written.
    redact: {
      paths: ["password", "*.password", "secret", "*.secret", "token", "*.token"],
      censor: "[redacted]",
    },
  });
}
