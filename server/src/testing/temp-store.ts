/** A real SQLite store in a throwaway directory, migrated like production. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { openStore, type Store } from "../store/db.js";

export function tempStore(): Store & { dispose(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "feedkeeper-unit-"));
  const store = openStore(dir);
  return {
    ...store,
    dispose() {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const silentLogger = pino({ level: "silent" });
