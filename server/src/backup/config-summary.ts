/**
 * The settings in effect, for config.json in a backup: to see later how the server ran (ports, paths,
 * limits) when setting up its replacement. Configuration comes from the environment, so a restore never
 * applies it. Secrets stay out: any setting whose name says password, secret, token or key material, and
 * the password part of any URL.
 */
import type { Config } from "../config.js";
import { redactUrl } from "../config.js";

const SECRET_NAME = /password|secret|token|credential|apikey|api_key|webhook/i;

function scrub(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrub);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, SECRET_NAME.test(k) ? "(left out)" : scrub(v)]),
    );
  }
  if (typeof value === "string" && /^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(value)) {
    try {
      return redactUrl(value);
    } catch {
      return "(left out)";
    }
  }
  return value;
}

export function configSummary(config: Config): string {
  return `${JSON.stringify(scrub(config), null, 2)}\n`;
}
