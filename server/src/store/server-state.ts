/**
 * The server_state table: small durable facts the server keeps about itself under a key (the meal
 * checkpoint, open condition episodes, Home Assistant's portions per press). Values are text; each owner of
 * a key prefix decides their format.
 */
import { eq, like } from "drizzle-orm";
import type { Store } from "./db.js";
import { serverState } from "./schema.js";

export function readServerState(store: Store, key: string): string | undefined {
  return store.db.select().from(serverState).where(eq(serverState.key, key)).get()?.value;
}

/** Every fact whose key starts with `prefix`, with the prefix taken off the key. */
export function readServerStates(store: Store, prefix: string): Array<{ name: string; value: string }> {
  return (
    store.db
      .select()
      .from(serverState)
      .where(like(serverState.key, `${prefix}%`))
      .all()
      // LIKE also takes `_` and `%` in the prefix as wildcards: keep the exact matches.
      .filter((row) => row.key.startsWith(prefix))
      .map((row) => ({ name: row.key.slice(prefix.length), value: row.value }))
  );
}

export function writeServerState(store: Store, key: string, value: string): void {
  store.db
    .insert(serverState)
    .values({ key, value })
    .onConflictDoUpdate({ target: serverState.key, set: { value } })
    .run();
}

export function deleteServerState(store: Store, key: string): void {
  store.db.delete(serverState).where(eq(serverState.key, key)).run();
}
