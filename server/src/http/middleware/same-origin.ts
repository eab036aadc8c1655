/**
 * CSRF defence for cookie sessions, on top of SameSite=Strict: a request that
 * changes state must come from our own pages. Browsers send Origin (or
 * Sec-Fetch-Site) on such requests; scripts using API tokens send neither and
 * are not at risk, since a token is never sent automatically.
 */
import { createMiddleware } from "hono/factory";
import { AppError } from "../../errors.js";
import type { AppEnv } from "../context.js";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export const sameOrigin = createMiddleware<AppEnv>(async (c, next) => {
  if (SAFE_METHODS.has(c.req.method) || c.get("authVia") === "token") return next();
  const origin = c.req.header("origin");
  const fetchSite = c.req.header("sec-fetch-site");
  if (origin !== undefined) {
    const host = c.req.header("host");
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = undefined;
    }
    if (!host || originHost !== host) throw new AppError("origin_mismatch");
  } else if (fetchSite !== undefined && fetchSite !== "same-origin" && fetchSite !== "none") {
    throw new AppError("origin_mismatch");
  } else if (c.get("authVia") === "session" && fetchSite === undefined) {
    // A cookie-authenticated change with no provenance at all is not something our pages send.
    throw new AppError("origin_mismatch");
  }
  return next();
});
