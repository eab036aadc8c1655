import { fileURLToPath } from "node:url";
import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

// Build: `vite build -c web/vite.config.ts` (writes dist/web, served by the Feedkeeper server).
// Dev: `vite -c web/vite.config.ts` proxies /api to FEEDKEEPER_DEV_API (default http://127.0.0.1:8080).
export default defineConfig({
  root,
  plugins: [preact()],
  build: {
    outDir: "../dist/web",
    emptyOutDir: true,
    target: "es2022",
    // The server's CSP is script-src 'self' / style-src 'self': no inline scripts, no data: assets.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    // Which chunks the entry imports statically, for the first-load budget (scripts/check-web-budget.mjs).
    manifest: true,
  },
  server: {
    proxy: {
      "/api": { target: process.env.FEEDKEEPER_DEV_API ?? "http://127.0.0.1:8080" },
    },
  },
});
