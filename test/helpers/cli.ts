import { execFile } from "node:child_process";
import fs from "node:fs";
import { SERVER_ENTRY } from "./server.js";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `feedkeeper <args…>` as a user would, with only PATH and the given environment (so the
 * test's own FEEDKEEPER_* settings never leak in), and the given stdin.
 */
export function runFeedkeeper(
  args: string[],
  options: { env: Record<string, string>; stdin?: string; timeoutMs?: number },
): Promise<CliRun> {
  if (!fs.existsSync(SERVER_ENTRY))
    throw new Error(`${SERVER_ENTRY} is missing: run \`npm run build\` first`);
  return new Promise<CliRun>((resolve) => {
    const child = execFile(
      process.execPath,
      [SERVER_ENTRY, ...args],
      { env: { PATH: process.env.PATH ?? "", ...options.env }, timeout: options.timeoutMs ?? 20_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.stdin ?? "");
  });
}
