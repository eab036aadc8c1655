import type { Context } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../../context.js";
import { SESSION_COOKIE } from "../../middleware/authenticate.js";
import { peerAddress } from "../../peer-address.js";

/** Signs in and sets the session cookie: HttpOnly (no script can read it), SameSite=Strict (no cross-site sends). */
export async function startSession(c: Context<AppEnv>, username: string, password: string) {
  const result = await c
    .get("services")
    .accounts.login(username, password, { userAgent: c.req.header("user-agent"), address: peerAddress(c) });
  setCookie(c, SESSION_COOKIE, result.session, {
    httpOnly: true,
    sameSite: "Strict",
    path: "/",
    secure: new URL(c.req.url).protocol === "https:",
    expires: result.expiresAt,
  });
  return result;
}

export function endSession(c: Context<AppEnv>): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/" });
}
