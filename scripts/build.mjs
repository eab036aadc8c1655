// Builds what `npm start` runs: the server as one ES module bundle (dependencies stay in
// node_modules, the native SQLite driver included) plus its migrations, and the web UI.
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, readFileSync, renameSync, rmSync } from "node:fs";
import { build } from "esbuild";
import { checkWebBudget, DEFAULT_WEB_DIR, manifestFor } from "./check-web-budget.mjs";

const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const only = process.argv[2];

if (only !== "web") {
  rmSync("dist/server", { recursive: true, force: true });
  await build({
    entryPoints: { feedkeeper: "server/src/bin/feedkeeper.ts" },
    outdir: "dist/server",
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    packages: "external",
    sourcemap: true,
    define: { __FEEDKEEPER_VERSION__: JSON.stringify(pkg.version) },
    // `npx feedkeeper …` and the package's bin run the bundle directly.
    banner: { js: "#!/usr/bin/env node" },
    logLevel: "warning",
  });
  chmodSync("dist/server/feedkeeper.js", 0o755);
  cpSync("server/src/store/migrations", "dist/server/migrations", { recursive: true });
  cpSync("device-profiles", "dist/server/device-profiles", {
    recursive: true,
    // The server needs the profiles only; fixtures and docs stay in the repository.
    filter: (src) => !src.endsWith(".md") && !src.includes("fixtures"),
  });
  console.log("built dist/server");
}
if (only !== "server") {
  execFileSync(
    "npx",
    ["vite", "build", "--config", "web/vite.config.ts", "--outDir", "../dist/web", "--emptyOutDir"],
    {
      stdio: "inherit",
    },
  );
  // The server serves every file in dist/web; the manifest is for the budget only (it names source files).
  renameSync(`${DEFAULT_WEB_DIR}/.vite/manifest.json`, manifestFor(DEFAULT_WEB_DIR));
  rmSync(`${DEFAULT_WEB_DIR}/.vite`, { recursive: true, force: true });
  if (!checkWebBudget()) process.exit(1);
}
