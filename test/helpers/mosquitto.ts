/**
 * A real Mosquitto (the Debian package .ci/run installs) for external-broker tests: its own config in a
 * temporary directory, loopback only, a free port, one user with a password, persistence on. It can be
 * stopped and started again on the same port, as a broker restart.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export const MOSQUITTO = process.env.MOSQUITTO_PATH ?? "/usr/sbin/mosquitto";

export interface Mosquitto {
  url: string;
  port: number;
  username: string;
  password: string;
  /** Stops the broker process (it saves its retained messages). `resume` starts it on the same port. */
  kill(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startMosquitto(): Promise<Mosquitto> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "feedkeeper-mosquitto-"));
  const port = await freePort();
  const username = "feedkeeper";
  const password = "broker-test-password";
  const passwordFile = path.join(dir, "passwd");
  fs.writeFileSync(passwordFile, "");
  execFileSync("mosquitto_passwd", ["-b", passwordFile, username, password]);
  // Mosquitto refuses a password file others may read.
  fs.chmodSync(passwordFile, 0o600);
  const conf = path.join(dir, "mosquitto.conf");
  fs.writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous false",
      `password_file ${passwordFile}`,
      // As Debian's default: retained messages survive a restart (saved when it stops).
      "persistence true",
      `persistence_location ${dir}/`,
      "log_dest stderr",
      "log_type error",
      // Run as root (CI), Mosquitto would switch to its own user, which cannot read this password file.
      "user root",
    ].join("\n"),
  );

  let child: ChildProcess | undefined;
  const launch = async () => {
    const started = spawn(MOSQUITTO, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    started.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    started.once("exit", (code) => {
      if (code !== 0 && code !== null) console.error(`mosquitto exited with ${code}: ${stderr}`);
    });
    child = started;
    await waitForPort(port);
  };
  const halt = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
    running.kill("SIGTERM");
    await exited;
  };

  await launch();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    username,
    password,
    kill: halt,
    resume: launch,
    async stop() {
      await halt();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
