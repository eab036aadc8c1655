// The web UI's first-load JavaScript budget: sums, gzipped, every script the browser fetches before the
// first page can show (index.html's scripts and module preloads, and every chunk the entry imports
// statically, per Vite's manifest), prints it with each file, and fails above the budget. Chunks loaded
// with import() only count as "loaded later". `npm run build` runs it after the Vite build; run alone:
// `node scripts/check-web-budget.mjs [web dir] [manifest]`.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { constants, gzipSync } from "node:zlib";

// Owners open the UI on a phone, often at the far end of the home Wi-Fi and on a low-end device: 80 KB of
// gzipped script arrives in under a second at 1 Mbit/s and parses quickly; past that the first page waits
// visibly. A page that needs a big library loads it with import() when opened.
export const BUDGET_BYTES = 80_000;
// Kilobytes of 1,000 bytes, as Vite's own report above this one counts them.
const KB = 1000;

export const DEFAULT_WEB_DIR = "dist/web";
// The manifest names source files and the server serves everything in dist/web, so the build keeps it
// beside that folder (dist/web-manifest.json), not in it.
export const manifestFor = (webDir) => `${webDir.replace(/[/\\]+$/, "")}-manifest.json`;

/** Attributes of every `<tag …>` in `html`, lower-cased names. */
function tags(html, tag) {
  const found = [];
  for (const match of html.matchAll(new RegExp(`<${tag}\\b([^>]*)>`, "gi"))) {
    const attrs = {};
    for (const attr of (match[1] ?? "").matchAll(/([^\s=/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g))
      attrs[(attr[1] ?? "").toLowerCase()] = attr[2] ?? attr[3] ?? attr[4] ?? "";
    found.push(attrs);
  }
  return found;
}

/** A URL from index.html as a path relative to the web dir; undefined for other origins. */
function local(url) {
  if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(url)) return undefined;
  return decodeURIComponent(url.split(/[?#]/)[0] ?? "").replace(/^\.?\//, "");
}

function jsFiles(dir, under = "") {
  const files = [];
  for (const entry of readdirSync(path.join(dir, under), { withFileTypes: true })) {
    const rel = under ? `${under}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (!entry.name.startsWith(".")) files.push(...jsFiles(dir, rel));
    } else if (/\.m?js$/.test(entry.name)) files.push(rel);
  }
  return files;
}

const gzipBytes = (file) => gzipSync(readFileSync(file), { level: constants.Z_BEST_COMPRESSION }).length;
const kb = (bytes) => `${(bytes / KB).toFixed(1)} KB`;

/**
 * Measures `webDir` against `budget` and prints the result through `log`. Returns whether it is within
 * the budget; a missing file that index.html or the manifest names is an error, not a pass.
 */
export function checkWebBudget({
  webDir = DEFAULT_WEB_DIR,
  manifest = manifestFor(webDir),
  budget = BUDGET_BYTES,
  log = console.log,
  error = console.error,
} = {}) {
  const indexFile = path.join(webDir, "index.html");
  if (!existsSync(indexFile)) {
    error(`web budget: ${indexFile} is missing; build the web UI first`);
    return false;
  }
  const html = readFileSync(indexFile, "utf8");
  const firstLoad = new Set();
  for (const script of tags(html, "script")) {
    const file = script.src !== undefined ? local(script.src) : undefined;
    if (file) firstLoad.add(file);
  }
  for (const link of tags(html, "link")) {
    const rel = (link.rel ?? "").toLowerCase().split(/\s+/);
    const isScript = rel.includes("modulepreload") || (rel.includes("preload") && link.as === "script");
    const file = isScript && link.href !== undefined ? local(link.href) : undefined;
    if (file) firstLoad.add(file);
  }

  // index.html's preload links already list the entry's static imports, but only while Vite's
  // modulePreload setting says so; the manifest says it whatever the setting.
  let manifestNote = "";
  if (existsSync(manifest)) {
    const chunks = JSON.parse(readFileSync(manifest, "utf8"));
    const byFile = new Map(Object.entries(chunks).map(([key, chunk]) => [chunk.file, key]));
    const visit = (key) => {
      const chunk = chunks[key];
      if (!chunk || firstLoad.has(chunk.file) || !/\.m?js$/.test(chunk.file)) return;
      firstLoad.add(chunk.file);
      for (const imported of chunk.imports ?? []) visit(imported);
    };
    for (const file of [...firstLoad]) {
      const key = byFile.get(file);
      if (key === undefined) continue;
      firstLoad.delete(file);
      visit(key);
    }
  } else {
    manifestNote = ` (no ${manifest}: counted only what index.html names)`;
  }

  const missing = [...firstLoad].filter((file) => !existsSync(path.join(webDir, file)));
  if (missing.length > 0) {
    error(
      `web budget: index.html or the manifest names files that are not in ${webDir}: ${missing.join(", ")}`,
    );
    return false;
  }

  const measured = [...firstLoad]
    .map((file) => ({ file, bytes: gzipBytes(path.join(webDir, file)) }))
    .sort((a, b) => b.bytes - a.bytes);
  const total = measured.reduce((sum, { bytes }) => sum + bytes, 0);
  const later = jsFiles(webDir)
    .filter((file) => !firstLoad.has(file))
    .map((file) => ({ file, bytes: gzipBytes(path.join(webDir, file)) }))
    .sort((a, b) => b.bytes - a.bytes);

  log(`web first-load JS: ${kb(total)} gzip (budget ${kb(budget)})${manifestNote}`);
  for (const { file, bytes } of measured) log(`  ${kb(bytes).padStart(9)}  ${file}`);
  if (later.length > 0) {
    log(`web JS loaded later (import()): ${kb(later.reduce((sum, { bytes }) => sum + bytes, 0))} gzip`);
    for (const { file, bytes } of later) log(`  ${kb(bytes).padStart(9)}  ${file}`);
  }
  if (total > budget) {
    error(
      `web budget exceeded: first-load JS is ${kb(total)} gzip, over the ${kb(budget)} budget by ` +
        `${kb(total - budget)}. Loaded first: ${measured.map(({ file, bytes }) => `${file} (${kb(bytes)})`).join(", ")}. ` +
        "Load what the first page does not need with import(), or drop a dependency.",
    );
    return false;
  }
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [webDir = DEFAULT_WEB_DIR, manifest = manifestFor(webDir)] = process.argv.slice(2);
  process.exitCode = checkWebBudget({ webDir, manifest }) ? 0 : 1;
}
