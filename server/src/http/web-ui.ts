/**
 * Serves the built web UI (web/dist) with a fallback to index.html for the
 * single-page app's own paths. Files are read once per request from disk;
 * the UI is small and rarely loaded.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { Hono } from "hono";
import type { AppEnv } from "./context.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".webmanifest": "application/manifest+json",
  ".woff2": "font/woff2",
};

export function createWebUiRouter(webDir: string) {
  const root = path.resolve(webDir);
  const read = async (rel: string) => {
    const file = path.resolve(root, `.${rel}`);
    // Never outside the UI folder, whatever the path says.
    if (file !== root && !file.startsWith(root + path.sep)) return undefined;
    try {
      return { file, body: await fs.readFile(file) };
    } catch {
      return undefined;
    }
  };
  return new Hono<AppEnv>().get("*", async (c) => {
    let reqPath: string;
    try {
      reqPath = decodeURIComponent(new URL(c.req.url).pathname);
    } catch {
      return c.notFound();
    }
    const asset = reqPath !== "/" && reqPath.includes(".") ? await read(reqPath) : undefined;
    if (asset) {
      // Vite fingerprints everything under /assets, so those can be cached for good.
      const cache = reqPath.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache";
      return c.body(asset.body, 200, {
        "content-type": TYPES[path.extname(asset.file)] ?? "application/octet-stream",
        "cache-control": cache,
      });
    }
    if (reqPath.includes(".")) return c.notFound();
    const index = await read("/index.html");
    if (!index) return c.text("The web UI is not built. Run `npm run build`.", 503);
    return c.body(index.body, 200, { "content-type": TYPES[".html"] as string, "cache-control": "no-cache" });
  });
}
