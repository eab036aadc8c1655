import type { RouteHandler } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import { AppError } from "../../../errors.js";
import type { LiveChange } from "../../../events/change-feed.js";
import { type AppEnv, currentUser } from "../../context.js";
import { credentialsOf, holderOf } from "../../middleware/authenticate.js";
import type { getEvents } from "./events.routes.js";

const HEARTBEAT_MS = 25_000;
const MAX_PER_USER = 10;
const MAX_STREAMS = 200;

export const events: RouteHandler<typeof getEvents, AppEnv> = (c) => {
  const { changes, accounts } = c.get("services");
  const user = currentUser(c);
  // Each stream holds a socket and a subscription for as long as a tab stays open.
  if (changes.subscriptionCount() >= MAX_STREAMS || changes.subscriptionCount(user.id) >= MAX_PER_USER) {
    throw new AppError("too_many_streams");
  }
  // What the stream was opened with, to end it once that no longer lets anyone in (signed out, revoked).
  const credentials = credentialsOf(c);
  const stillAllowed = () => holderOf(accounts, credentials)?.user.id === user.id;

  // Subscribed before the stream starts, so the limits above count it at once.
  let send: (changes: LiveChange[]) => void = () => undefined;
  const unsubscribe = changes.subscribe(user.householdId, user.id, (batch) => send(batch));
  return streamSSE(c, async (stream) => {
    let queue: Promise<void> = Promise.resolve();
    send = (batch) => {
      // A write to a stream the browser just closed fails; the abort below ends the rest.
      queue = queue
        .then(() => stream.writeSSE({ event: "change", data: JSON.stringify(batch) }))
        .catch(() => undefined);
    };
    // Unsubscribed at once, not at the next heartbeat, so a closed tab stops counting against the limits.
    stream.onAbort(unsubscribe);
    try {
      await stream.writeSSE({ event: "ready", data: "{}" });
      while (!stream.aborted && !stream.closed) {
        await stream.sleep(HEARTBEAT_MS);
        if (stream.aborted || stream.closed || !stillAllowed()) break;
        await stream.write(": keep-alive\n\n");
      }
    } finally {
      unsubscribe();
    }
  });
};
