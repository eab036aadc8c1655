/**
 * Interactive API docs (Swagger UI) served from the installed swagger-ui-dist
 * package: nothing is fetched from the internet, and the page needs no inline
 * script, so the CSP stays strict.
 */
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { Hono } from "hono";
import type { AppEnv } from "../../context.js";

const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
};

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Feedkeeper API</title><link rel="stylesheet" href="/api/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script><script src="/api/docs/init.js"></script></body>
</html>`;

const INIT = `window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui", withCredentials: true });`;

function swaggerDir(): string {
  return path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
}

export function createDocsRouter() {
  const dir = swaggerDir();
  return new Hono<AppEnv>()
    .get("/api/docs", (c) => c.html(PAGE))
    .get("/api/docs/init.js", (c) => c.body(INIT, 200, { "content-type": "text/javascript; charset=utf-8" }))
    .get("/api/docs/:asset", async (c) => {
      const asset = c.req.param("asset");
      const type = ASSETS[asset];
      if (!type) return c.notFound();
      const body = await fs.readFile(path.join(dir, asset));
      return c.body(body, 200, { "content-type": type, "cache-control": "public, max-age=86400" });
    });
}
