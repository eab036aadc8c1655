/**
 * The first-load JavaScript budget of the build (scripts/check-web-budget.mjs), run as `npm run build` runs
 * it, against small built web folders made here: what index.html and the entry's static imports load counts,
 * a chunk behind import() does not, and going over the budget fails naming the files.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { constants, gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A module of about `kb` KB gzipped: base64 of random bytes compresses back to about the bytes. */
const moduleOf = (kb: number) => `export const data = "${randomBytes(kb * 1000).toString("base64")}";\n`;
const gzipBytes = (text: string) => gzipSync(text, { level: constants.Z_BEST_COMPRESSION }).length;

interface Chunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
}

/**
 * A built web UI as Vite leaves it: dist/web with index.html and assets/, and dist/web-manifest.json (where
 * the build moves Vite's manifest). `preload` are the chunks index.html names in modulepreload links.
 */
function builtWeb(files: Record<string, string>, manifest: Record<string, Chunk>, preload: string[] = []) {
  const dist = mkdtempSync(path.join(os.tmpdir(), "fk-web-budget-"));
  dirs.push(dist);
  const web = path.join(dist, "web");
  mkdirSync(path.join(web, "assets"), { recursive: true });
  const entry = Object.values(manifest).find((chunk) => chunk.isEntry)?.file;
  writeFileSync(
    path.join(web, "index.html"),
    [
      "<!doctype html>",
      '<html lang="en"><head>',
      `<script type="module" crossorigin src="/${entry}"></script>`,
      ...preload.map((file) => `<link rel="modulepreload" crossorigin href="/${file}">`),
      '<link rel="stylesheet" crossorigin href="/assets/index.css">',
      "</head><body></body></html>",
    ].join("\n"),
  );
  writeFileSync(path.join(web, "assets/index.css"), "body{margin:0}");
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(web, file), text);
  writeFileSync(path.join(dist, "web-manifest.json"), JSON.stringify(manifest));
  return web;
}

function checkBudget(webDir: string) {
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, ["scripts/check-web-budget.mjs", webDir], { cwd: ROOT });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

describe("web first-load JS budget", () => {
  it("passes under the budget and prints the total and each file, the lazy chunk apart", async () => {
    const files = {
      "assets/index-a1.js": moduleOf(20),
      "assets/vendor-b2.js": moduleOf(15),
      // Far over the budget alone: it must not count, only be listed.
      "assets/History-c3.js": moduleOf(120),
    };
    const web = builtWeb(
      files,
      {
        "index.html": {
          file: "assets/index-a1.js",
          isEntry: true,
          imports: ["_vendor-b2.js"],
          dynamicImports: ["src/pages/History.tsx"],
        },
        "_vendor-b2.js": { file: "assets/vendor-b2.js" },
        "src/pages/History.tsx": { file: "assets/History-c3.js", imports: ["_vendor-b2.js"] },
      },
      ["assets/vendor-b2.js"],
    );
    const { code, out, err } = await checkBudget(web);
    expect(err).toBe("");
    expect(code).toBe(0);
    const total = gzipBytes(files["assets/index-a1.js"]) + gzipBytes(files["assets/vendor-b2.js"]);
    expect(out).toContain(`web first-load JS: ${(total / 1000).toFixed(1)} KB gzip (budget 80.0 KB)`);
    const [first, later] = out.split("loaded later");
    expect(first).toContain("assets/index-a1.js");
    expect(first).toContain("assets/vendor-b2.js");
    expect(first).not.toContain("History");
    expect(later).toContain(
      `${(gzipBytes(files["assets/History-c3.js"]) / 1000).toFixed(1)} KB  assets/History-c3.js`,
    );
  });

  it("fails over the budget and names the files, including a static import only the manifest knows", async () => {
    const web = builtWeb(
      { "assets/index-a1.js": moduleOf(10), "assets/chart-d4.js": moduleOf(85) },
      {
        "index.html": { file: "assets/index-a1.js", isEntry: true, imports: ["_chart-d4.js"] },
        "_chart-d4.js": { file: "assets/chart-d4.js" },
      },
    );
    const { code, out, err } = await checkBudget(web);
    expect(code).toBe(1);
    expect(out).toMatch(/web first-load JS: 9\d\.\d KB gzip \(budget 80\.0 KB\)/);
    expect(err).toMatch(/web budget exceeded: first-load JS is 9\d\.\d KB gzip, over the 80\.0 KB budget/);
    expect(err).toContain("assets/chart-d4.js");
    expect(err).toContain("assets/index-a1.js");
  });

  it("fails when index.html names a script that is not there", async () => {
    const web = builtWeb({}, { "index.html": { file: "assets/index-gone.js", isEntry: true } });
    const { code, err } = await checkBudget(web);
    expect(code).toBe(1);
    expect(err).toContain("assets/index-gone.js");
  });
});
