/**
 * `feedkeeper reset-password <username> [--password-stdin]`: a new password for an account, set on the
 * machine that holds the database. It is the recovery path for a forgotten owner password, so it needs
 * nothing but access to the data directory (whoever has that already owns every secret in it) and never
 * touches the network.
 *
 * Without --password-stdin a random password is generated and printed once, alone on stdout (messages go
 * to stderr, so `pw=$(feedkeeper reset-password me)` captures just the password). With it, the first line
 * of stdin is the new password and must pass the same rules as one chosen in the UI. Either way the
 * account's sessions end; its API tokens stay (revoke them in the UI if they may be compromised).
 */
import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { newPasswordSchema } from "../auth/password-rules.js";
import { hashPassword } from "../auth/passwords.js";
import { newSecret } from "../auth/secrets.js";
import { openStore, type Store } from "../store/db.js";
import { sessions, users } from "../store/schema.js";
import type { CliIo, Command } from "./commands.js";

export const RESET_PASSWORD_USAGE = `Usage: feedkeeper reset-password <username> [--password-stdin]

Sets a new password for <username> in the database under FEEDKEEPER_DATA_DIR (default ./data) and ends
that account's sessions. Without --password-stdin a random password is printed once on stdout; with it,
the first line of stdin is the new password (at least 10 characters, not a common one).
Runs locally only; the server may keep running.
`;

export class ResetPasswordError extends Error {
  override name = "ResetPasswordError";
}

/** Sets the password and ends the account's sessions in one transaction; returns how many sessions ended. */
export async function resetPassword(
  store: Store,
  username: string,
  password: string,
): Promise<{ userId: string; sessionsEnded: number }> {
  const user = store.db.select({ id: users.id }).from(users).where(eq(users.username, username)).get();
  if (!user) {
    const known = store.db
      .select({ username: users.username })
      .from(users)
      .orderBy(users.createdAt)
      .all()
      .map((u) => u.username);
    throw new ResetPasswordError(
      known.length === 0
        ? `no account named ${JSON.stringify(username)}: the database has no accounts yet (open the web UI to create the owner)`
        : `no account named ${JSON.stringify(username)}; accounts: ${known.join(", ")}`,
    );
  }
  const passwordHash = await hashPassword(password);
  const sessionsEnded = store.transaction(() => {
    store.db.update(users).set({ passwordHash }).where(eq(users.id, user.id)).run();
    return store.db.delete(sessions).where(eq(sessions.userId, user.id)).run().changes;
  });
  return { userId: user.id, sessionsEnded };
}

async function readFirstLine(input: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  for await (const chunk of input) {
    text += chunk.toString();
    if (text.includes("\n") || text.length > 4096) break;
  }
  return (text.split(/\r?\n/)[0] ?? "").trimEnd();
}

/** The subcommand; returns the process exit code (0 done, 1 refused, 2 bad usage). */
export async function resetPasswordCli(
  args: string[],
  dataDir: string,
  io: CliIo = process,
): Promise<number> {
  const fromStdin = args.includes("--password-stdin");
  const rest = args.filter((a) => a !== "--password-stdin");
  const username = rest[0];
  if (rest.includes("-h") || rest.includes("--help")) {
    io.stdout.write(RESET_PASSWORD_USAGE);
    return 0;
  }
  if (!username || rest.length !== 1 || username.startsWith("-")) {
    io.stderr.write(RESET_PASSWORD_USAGE);
    return 2;
  }
  const file = path.join(dataDir, "feedkeeper.db");
  // Never create an empty database for a mistyped data directory.
  if (!fs.existsSync(file)) {
    io.stderr.write(
      `feedkeeper: no database at ${file}; set FEEDKEEPER_DATA_DIR to the server's data directory\n`,
    );
    return 1;
  }

  let password: string;
  if (fromStdin) {
    password = await readFirstLine(io.stdin);
    const checked = newPasswordSchema.safeParse(password);
    if (!checked.success) {
      io.stderr.write(`feedkeeper: ${checked.error.issues.map((i) => i.message).join("; ")}\n`);
      return 1;
    }
  } else {
    // 144 random bits, URL-safe: well past the password rules, and easy to paste.
    password = newSecret(18);
  }

  const store = openStore(dataDir);
  try {
    const { sessionsEnded } = await resetPassword(store, username, password);
    if (!fromStdin) io.stdout.write(`${password}\n`);
    io.stderr.write(
      `feedkeeper: new password set for ${JSON.stringify(username)}; ${sessionsEnded} session(s) ended.` +
        `${fromStdin ? "" : " It is shown only this once."}\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof ResetPasswordError) {
      io.stderr.write(`feedkeeper: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    store.close();
  }
}

export const resetPasswordCommand: Command = {
  summary: "set a new password for an account (a forgotten owner password) and end its sessions",
  run: (args, config, io) => resetPasswordCli(args, config.dataDir, io),
};
