/** The peer's address as the socket says; no forwarding header is trusted (there is no trusted proxy). */
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";

export function peerAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined; // not behind @hono/node-server, e.g. app.request() in a test
  }
}
