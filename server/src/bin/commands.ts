/**
 * The subcommands of `feedkeeper <command>`, each loaded only when asked for so the server's start pays
 * nothing for them. A command returns the process exit code: 0 done, 1 refused or failed, 2 bad usage.
 */
import type { Config } from "../config.js";

export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

export interface Command {
  /** One line for `feedkeeper help`. */
  summary: string;
  run(args: string[], config: Config, io: CliIo): Promise<number>;
}

export const COMMANDS: Record<string, () => Promise<Command>> = {
  "reset-password": async () => (await import("./reset-password.js")).resetPasswordCommand,
  // The name the issue tracker and older notes use; the same command.
  "reset-owner-password": async () => (await import("./reset-password.js")).resetPasswordCommand,
  backup: async () => (await import("./backup.js")).backupCommand,
  restore: async () => (await import("./restore.js")).restoreCommand,
  "create-feeder": async () => (await import("./create-feeder.js")).createFeederCommand,
  doctor: async () => (await import("./doctor.js")).doctorCommand,
};

/** `feedkeeper help`: every command with its summary. */
export async function helpText(): Promise<string> {
  const lines = ["Usage: feedkeeper [command] [arguments]", "", "Without a command the server starts.", ""];
  const names = Object.keys(COMMANDS).sort();
  const width = Math.max(...names.map((n) => n.length));
  for (const name of names) {
    const command = await (COMMANDS[name] as () => Promise<Command>)();
    lines.push(`  ${name.padEnd(width)}  ${command.summary}`);
  }
  lines.push("", "Each command takes --help. They read the same FEEDKEEPER_* environment as the server.", "");
  return lines.join("\n");
}
