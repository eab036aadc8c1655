import fs from "node:fs";
import { Gauge, type Registry } from "prom-client";

/** The database's size on disk: its file plus the write-ahead log not yet checkpointed into it. */
export function registerDbMetrics(registry: Registry, file: string): void {
  new Gauge({
    name: "feedkeeper_database_bytes",
    help: "Size of the SQLite database on disk, by file (database, wal).",
    labelNames: ["file"],
    registers: [registry],
    collect() {
      this.set({ file: "database" }, sizeOf(file));
      this.set({ file: "wal" }, sizeOf(`${file}-wal`));
    },
  });
}

/** 0 for a file that is not there (no WAL right after a checkpoint truncated it). */
function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
