/**
 * Raw MQTT 3.1.1 bytes for the broker security tests (test/security/M*.test.ts): packets built by hand, so a
 * test can send exactly the malformed, oversized or hostile frame it means, over a plain net.Socket that
 * is always closed and never waited on for longer than the test says.
 */
import net from "node:net";
import { SimulatedFeeder } from "../../server/src/sim/native-feeder.js";
import type { TestApi } from "./api.js";

/** MQTT Variable Byte Integer (the Remaining Length), 1 to 4 bytes. */
export function varint(n: number): Buffer {
  const out: number[] = [];
  let value = n;
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return Buffer.from(out);
}

/** A UTF-8 string (or raw bytes) with its 2-byte length prefix. */
export function str(value: string | Buffer): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** Fixed header (first byte + Remaining Length of the body) and body. */
export function frame(firstByte: number, ...body: Buffer[]): Buffer {
  const payload = Buffer.concat(body);
  return Buffer.concat([Buffer.from([firstByte]), varint(payload.length), payload]);
}

export interface ConnectFields {
  clientId: string | Buffer;
  username?: string | Buffer;
  password?: string | Buffer;
  clean?: boolean;
  keepalive?: number;
  protocolLevel?: number;
  protocolName?: string;
  will?: { topic: string | Buffer; payload: string | Buffer; qos?: 0 | 1 | 2; retain?: boolean };
  /** Extra bits or-ed into the connect flags (0x01 is the reserved one). */
  extraFlags?: number;
}

export function connectPacket(f: ConnectFields): Buffer {
  let flags = f.extraFlags ?? 0;
  if (f.clean ?? true) flags |= 0x02;
  if (f.will) flags |= 0x04 | ((f.will.qos ?? 0) << 3) | (f.will.retain ? 0x20 : 0);
  if (f.password !== undefined) flags |= 0x40;
  if (f.username !== undefined) flags |= 0x80;
  return frame(
    0x10,
    str(f.protocolName ?? "MQTT"),
    Buffer.from([f.protocolLevel ?? 4, flags]),
    u16(f.keepalive ?? 30),
    str(f.clientId),
    ...(f.will ? [str(f.will.topic), str(f.will.payload)] : []),
    ...(f.username !== undefined ? [str(f.username)] : []),
    ...(f.password !== undefined ? [str(f.password)] : []),
  );
}

export function publishPacket(
  topic: string | Buffer,
  payload: string | Buffer,
  options: { qos?: 0 | 1 | 2; retain?: boolean; messageId?: number } = {},
): Buffer {
  const qos = options.qos ?? 0;
  const first = 0x30 | (qos << 1) | (options.retain ? 1 : 0);
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  return frame(first, str(topic), ...(qos > 0 ? [u16(options.messageId ?? 1)] : []), body);
}

export function subscribePacket(messageId: number, filters: Array<[string | Buffer, number]>): Buffer {
  return frame(0x82, u16(messageId), ...filters.flatMap(([f, qos]) => [str(f), Buffer.from([qos])]));
}

export const DISCONNECT = Buffer.from([0xe0, 0x00]);
export const PINGREQ = Buffer.from([0xc0, 0x00]);

/** A packet the server sent, as split from the byte stream (fixed header decoded, body raw). */
export interface ServerPacket {
  type: number;
  flags: number;
  body: Buffer;
}

/** Splits complete packets off the front of `buffer`; returns them and the bytes left over. */
export function splitPackets(buffer: Buffer): { packets: ServerPacket[]; rest: Buffer } {
  const packets: ServerPacket[] = [];
  let offset = 0;
  for (;;) {
    if (buffer.length - offset < 2) break;
    let length = 0;
    let multiplier = 1;
    let i = offset + 1;
    let complete = false;
    while (i < buffer.length && i < offset + 5) {
      const byte = buffer[i++] as number;
      length += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      if ((byte & 0x80) === 0) {
        complete = true;
        break;
      }
    }
    if (!complete || buffer.length - i < length) break;
    const first = buffer[offset] as number;
    packets.push({ type: first >> 4, flags: first & 0x0f, body: buffer.subarray(i, i + length) });
    offset = i + length;
  }
  return { packets, rest: buffer.subarray(offset) };
}

export interface RawOptions {
  port: number;
  host?: string;
  /**
   * The client's end of the socket. Linux routes all of 127.0.0.0/8 to loopback, so attackers on 127.0.0.2+
   * are other addresses to the server, and its per-address login throttle never touches the real feeders on
   * 127.0.0.1.
   */
  localAddress?: string;
}

/** One raw connection: what it received, whether and when the server closed it. Always `destroy()` it. */
export class RawConnection {
  readonly socket: net.Socket;
  readonly openedAt = performance.now();
  received: ServerPacket[] = [];
  closedAt: number | undefined;
  readonly closed: Promise<void>;
  readonly connected: Promise<void>;
  private buffered: Buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  constructor(options: RawOptions) {
    this.socket = net.connect({
      port: options.port,
      host: options.host ?? "127.0.0.1",
      ...(options.localAddress && { localAddress: options.localAddress }),
    });
    this.socket.setNoDelay(true);
    // Resets and EPIPEs are what a cut connection looks like from here.
    this.socket.on("error", () => undefined);
    this.connected = new Promise((resolve) => this.socket.once("connect", () => resolve()));
    this.closed = new Promise((resolve) =>
      this.socket.once("close", () => {
        this.closedAt = performance.now();
        this.notify();
        resolve();
      }),
    );
    this.socket.on("data", (chunk: Buffer) => {
      const { packets, rest } = splitPackets(Buffer.concat([this.buffered, chunk]));
      this.buffered = rest;
      this.received.push(...packets);
      this.notify();
    });
  }

  get isClosed(): boolean {
    return this.closedAt !== undefined;
  }

  /** Writes unless the socket is gone; resolves once the bytes are handed to the kernel (or the socket died). */
  write(bytes: Buffer): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.write(bytes, () => resolve());
    });
  }

  /** Waits until the server closes the connection or `ms` pass; true when it was closed. */
  async waitClosed(ms: number): Promise<boolean> {
    if (this.isClosed) return true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.closed, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
    return this.isClosed;
  }

  /** Waits for a packet of `type` (bounded); undefined on timeout or close. */
  async waitFor(type: number, ms = 2000): Promise<ServerPacket | undefined> {
    const deadline = performance.now() + ms;
    for (;;) {
      const found = this.received.find((p) => p.type === type);
      if (found) return found;
      const left = deadline - performance.now();
      if (left <= 0 || this.isClosed) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The CONNACK return code, or undefined if none came in `ms`. */
  async connack(ms = 2000): Promise<number | undefined> {
    const packet = await this.waitFor(2, ms);
    return packet?.body[1];
  }

  /** Half-closes: the server sees end of stream (FIN) after what was written. */
  end(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** Opens a raw connection and waits (bounded) for TCP to connect. */
export async function openRaw(options: RawOptions): Promise<RawConnection> {
  const conn = new RawConnection(options);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([conn.connected, conn.closed, new Promise<void>((r) => (timer = setTimeout(r, 2000)))]);
  clearTimeout(timer);
  return conn;
}

/**
 * Sends `bytes` on a fresh connection, waits until the server closes it or `waitMs` pass, then closes it
 * from this side in any case.
 */
export async function sendRaw(
  options: RawOptions,
  bytes: Buffer | Buffer[],
  waitMs = 500,
): Promise<{ closedByServer: boolean; received: ServerPacket[] }> {
  const conn = await openRaw(options);
  try {
    for (const b of Array.isArray(bytes) ? bytes : [bytes]) await conn.write(b);
    const closedByServer = await conn.waitClosed(waitMs);
    return { closedByServer, received: conn.received };
  } finally {
    conn.destroy();
  }
}

/** VmRSS and VmHWM (peak) of a process, in bytes, from /proc/<pid>/status (Linux). */
export function readProcMemory(pid: number, read: (path: string) => string): { rss: number; hwm: number } {
  const status = read(`/proc/${pid}/status`);
  const kb = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
    if (!match) throw new Error(`${name} missing from /proc/${pid}/status`);
    return Number(match[1]) * 1024;
  };
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

/** Small deterministic PRNG (mulberry32), so a fuzz run is the same run every time. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The "real feeder" of these tests: a simulated native feeder that dispenses fast, counts its disconnects
 * and can be asked to prove it still works.
 */
export async function startVictim(
  api: TestApi,
  mqttUrl: string,
  name = "Victim",
): Promise<{ sim: SimulatedFeeder; id: string; disconnects: () => number }> {
  // No interval between remote feeds and a high daily cap: the tests feed it after every attack.
  const { credentials } = await api.createFeeder(name, {
    minFeedIntervalSeconds: 0,
    dailyMaxPortions: 1000,
  });
  const sim = new SimulatedFeeder({
    url: mqttUrl,
    id: credentials.username,
    password: credentials.password,
    dispenseMsPerPortion: 5,
  });
  let disconnects = 0;
  sim.on("disconnected", () => disconnects++);
  await sim.start();
  await api.waitForFeeder(credentials.username, (f) => f.online === true);
  return { sim, id: credentials.username, disconnects: () => disconnects };
}

/** Feeds the feeder one portion through the API and waits (bounded) until the feeder reports it dispensed. */
export async function assertFeedable(api: TestApi, feederId: string, timeoutMs = 5000): Promise<void> {
  const res = await api.feed(feederId, { portions: 1 });
  if (res.status !== 202 || !res.body.feed)
    throw new Error(`feed refused: ${res.status} ${JSON.stringify(res.body)}`);
  const feed = await api.waitForFeed(res.body.feed.id, ["dispensed", "failed", "expired"], timeoutMs);
  if (feed.status !== "dispensed") throw new Error(`feed ended ${feed.status}`);
}
