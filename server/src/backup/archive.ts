/**
 * The .fkbackup container: a gzip'd tar (readable with any tar, `tar -xzf x.fkbackup`), written and read as
 * streams so a large database never sits in memory. Reading accepts only the entry names a backup has and
 * writes each under a fixed name in the staging folder: no path from the archive ever reaches the disk.
 */
import fs from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";
import tar from "tar-stream";
import { ARCHIVE_ENTRIES, invalidBackup } from "./manifest.js";

export interface ArchiveEntry {
  name: string;
  /** A file to copy in, or the content itself. */
  file?: string;
  content?: string;
}

/** Writes the archive to `outFile` with mode 0600 (the caller renames it into place when complete). */
export async function writeArchive(outFile: string, entries: ArchiveEntry[], mtime: Date): Promise<void> {
  const pack = tar.pack();
  const out = fs.createWriteStream(outFile, { mode: 0o600 });
  const written = pipeline(pack, zlib.createGzip({ level: 6 }), out);
  try {
    for (const entry of entries) {
      if (entry.content !== undefined) {
        pack.entry({ name: entry.name, mode: 0o600, mtime }, entry.content);
        continue;
      }
      const file = entry.file as string;
      const size = fs.statSync(file).size;
      const sink = pack.entry({ name: entry.name, size, mode: 0o600, mtime });
      await pipeline(fs.createReadStream(file), sink);
    }
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
  }
  await written;
  const fd = fs.openSync(outFile, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The staging file an entry is written to: its name with the folder flattened. */
export function stagedPath(dir: string, name: string): string {
  return path.join(dir, name.replaceAll("/", "_"));
}

/**
 * Unpacks `file` into `dir` (which must exist and be empty). Refuses unknown or repeated entries, entries
 * that are not plain files, and archives past `maxBytes` unpacked. Returns the entry names found.
 */
export async function extractArchive(file: string, dir: string, maxBytes: number): Promise<string[]> {
  const found: string[] = [];
  let total = 0;
  const extract = tar.extract();
  extract.on("entry", (header, stream, next) => {
    const name = header.name.replace(/^\.\//, "");
    if (header.type !== "file" || !ARCHIVE_ENTRIES.includes(name) || found.includes(name)) {
      stream.resume();
      extract.destroy(invalidBackup(`it holds an unexpected entry ${JSON.stringify(name.slice(0, 80))}`));
      return;
    }
    total += header.size ?? 0;
    if (total > maxBytes) {
      stream.resume();
      extract.destroy(invalidBackup(`it unpacks to more than ${Math.round(maxBytes / 1024 / 1024)} MB`));
      return;
    }
    found.push(name);
    pipeline(stream, fs.createWriteStream(stagedPath(dir, name), { mode: 0o600 })).then(
      () => next(),
      (err: unknown) => extract.destroy(err as Error),
    );
  });
  try {
    await pipeline(fs.createReadStream(file), zlib.createGunzip(), extract);
  } catch (err) {
    if (err instanceof Error && err.name === "AppError") throw err;
    throw invalidBackup(`it cannot be unpacked (${(err as Error).message})`);
  }
  return found;
}
