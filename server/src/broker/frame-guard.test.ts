import { Duplex } from "node:stream";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../testing/fake-clock.js";
import { FrameSizeTracker, GuardedConnection, type GuardLimits, type Violation } from "./frame-guard.js";

/** Encodes an MQTT Remaining Length the way the spec does (7 bits per byte). */
function header(type: number, remaining: number): number[] {
  const out = [type];
  let x = remaining;
  do {
    let byte = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) byte |= 0x80;
    out.push(byte);
  } while (x > 0);
  return out;
}

describe("FrameSizeTracker", () => {
  it("passes packets within the limit, across chunk boundaries", () => {
    const t = new FrameSizeTracker(1000);
    const packet = [...header(0x30, 300), ...new Array(300).fill(1)];
    const twice = [...packet, ...packet];
    for (let i = 0; i < twice.length; i += 7) {
      expect(t.push(Uint8Array.from(twice.slice(i, i + 7)))).toBe("ok");
    }
  });

  it("refuses a packet that announces more than the limit, from its header alone", () => {
    const t = new FrameSizeTracker(64 * 1024);
    expect(t.push(Uint8Array.from(header(0x30, 64 * 1024 + 1)))).toBe("too_large");
  });

  it("refuses the 256 MB maximum Remaining Length before it is complete", () => {
    const t = new FrameSizeTracker(64 * 1024);
    // 0xff 0xff 0xff 0x7f = 268,435,455; the third byte already exceeds 64 KiB.
    expect(t.push(Uint8Array.from([0x10, 0xff, 0xff]))).toBe("ok");
    expect(t.push(Uint8Array.from([0xff]))).toBe("too_large");
  });

  it("refuses a Remaining Length longer than four bytes", () => {
    const t = new FrameSizeTracker(Number.MAX_SAFE_INTEGER);
    expect(t.push(Uint8Array.from([0x30, 0x80, 0x80, 0x80, 0x80]))).toBe("malformed");
  });

  it("tracks zero-length packets such as PINGREQ", () => {
    const t = new FrameSizeTracker(10);
    expect(
      t.push(Uint8Array.from([0xc0, 0x00, 0xc0, 0x00, ...header(0x30, 10), ...new Array(10).fill(0)])),
    ).toBe("ok");
    expect(t.push(Uint8Array.from(header(0x30, 11)))).toBe("too_large");
  });
});

/** A peer that reads nothing until told to: everything written to it waits in its buffer. */
class StuckSocket extends Duplex {
  private pending: Array<() => void> = [];

  constructor() {
    super({ writableHighWaterMark: 1024 });
  }

  override _read(): void {}

  override _write(_chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.pending.push(callback);
  }

  /** The peer reads everything it was sent. */
  drain(): void {
    for (const callback of this.pending.splice(0)) callback();
  }
}

function guarded(limits: Partial<GuardLimits> = {}) {
  const clock = new FakeClock();
  const socket = new StuckSocket();
  const violations: Violation[] = [];
  const conn = new GuardedConnection(
    socket,
    { maxPacketBytes: 1024, maxQueuedBytes: 8 * 1024, stallMs: 10_000, ...limits },
    clock,
    { onViolation: (v) => violations.push(v) },
  );
  conn.on("error", () => undefined);
  return { clock, socket, conn, violations };
}

describe("GuardedConnection, writing", () => {
  it("never pushes back on the broker, however far the peer is behind", () => {
    const { conn, socket } = guarded();
    const accepted = Array.from({ length: 7 }, () => conn.write(Buffer.alloc(1000)));
    expect(accepted).not.toContain(false);
    expect(socket.writableLength).toBe(7000);
  });

  it("cuts a peer as soon as more than the byte bound waits for it", () => {
    const { conn, socket, violations } = guarded();
    conn.write(Buffer.alloc(8 * 1024));
    expect(conn.destroyed).toBe(false);
    conn.write(Buffer.alloc(1));
    expect(violations).toEqual(["backlog"]);
    expect(conn.destroyed).toBe(true);
    expect(socket.destroyed).toBe(true);
  });

  it("cuts a peer that leaves what it was sent unread for the stall bound", () => {
    const { clock, conn, violations } = guarded();
    conn.write(Buffer.alloc(2000));
    clock.advance(9_999);
    expect(conn.destroyed).toBe(false);
    clock.advance(1);
    expect(violations).toEqual(["stalled"]);
    expect(conn.destroyed).toBe(true);
  });

  it("keeps a peer that reads within the stall bound, and counts its next stall afresh", () => {
    const { clock, conn, socket, violations } = guarded();
    conn.write(Buffer.alloc(2000));
    clock.advance(9_000);
    socket.drain();
    conn.write(Buffer.alloc(2000));
    clock.advance(9_000);
    expect(violations).toEqual([]);
    expect(conn.destroyed).toBe(false);
    clock.advance(1_000);
    expect(violations).toEqual(["stalled"]);
  });

  it("starts no stall timer while the peer keeps up", () => {
    const { clock, conn, socket, violations } = guarded();
    for (let i = 0; i < 100; i++) {
      conn.write(Buffer.alloc(100));
      socket.drain();
      clock.advance(1_000);
    }
    expect(violations).toEqual([]);
  });
});
