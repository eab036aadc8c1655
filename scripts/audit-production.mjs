#!/usr/bin/env node
/**
 * `npm audit` of the production dependencies (what ships in the container), failing on high and critical
 * advisories. Part of `npm test`.
 *
 * Some registries and mirrors do not serve the advisory endpoint (it answers 405, or the network stops at
 * the registry): then the audit cannot say anything, and this prints a warning that says so instead of
 * pretending the dependencies are clean. FEEDKEEPER_REQUIRE_AUDIT=1 turns that warning into a failure, for
 * release builds on a machine that can reach the endpoint.
 */
import { spawnSync } from "node:child_process";

const LEVELS = ["high", "critical"];
const required = process.env.FEEDKEEPER_REQUIRE_AUDIT === "1";

const run = spawnSync("npm", ["audit", "--omit=dev", "--json"], { encoding: "utf8", timeout: 60_000 });
let report;
try {
  report = JSON.parse(run.stdout);
} catch {
  report = undefined;
}

if (!report?.metadata?.vulnerabilities) {
  const why = report?.message ?? run.error?.message ?? (run.stderr.trim().split("\n").pop() || "no answer");
  const line = `npm audit could not run (${why}): production dependencies NOT audited.`;
  if (required) {
    console.error(`${line} FEEDKEEPER_REQUIRE_AUDIT=1 asks for an audit: failing.`);
    process.exit(1);
  }
  console.warn(`warning: ${line} Set FEEDKEEPER_REQUIRE_AUDIT=1 to make this an error.`);
  process.exit(0);
}

const counts = report.metadata.vulnerabilities;
const serious = Object.entries(report.vulnerabilities ?? {}).filter(([, v]) => LEVELS.includes(v.severity));
if (serious.length > 0) {
  console.error(`npm audit: ${serious.length} production dependencies with high or critical advisories:`);
  for (const [name, v] of serious) {
    const via = v.via.map((x) => (typeof x === "string" ? x : `${x.title} (${x.url})`)).join("; ");
    console.error(
      `  ${name} ${v.range} [${v.severity}]: ${via}${v.fixAvailable ? " — a fix is available" : ""}`,
    );
  }
  process.exit(1);
}
console.log(
  `npm audit: production dependencies clean at high and above (low ${counts.low}, moderate ${counts.moderate}).`,
);
