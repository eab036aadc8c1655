/**
 * aedes buffers a whole MQTT packet before it parses it, so a client that
 * announces a huge Remaining Length could make the broker hold megabytes per
 * socket. This guard reads only the fixed headers as bytes stream past and
 * cuts the connection as soon as a packet announces more than the limit,
 * before its body is buffered anywhere. It also bounds what waits to go out
 * to a peer that stops reading (GuardedConnection).
 */
import { Duplex } from "node:stream";
import type { Clock } from "../clock.js";

export type FrameVerdict = "ok" | "too_large" | "malformed";

/** Incremental MQTT fixed-header reader: feed it chunks, it tracks packet boundaries. */
export class FrameSizeTracker {
  // Bytes of the current packet's body still to skip; -1 while reading a header.
  private bodyLeft = -1;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private inHeader = false;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Uint8Array): FrameVerdict {
    let i = 0;
    while (i < chunk.length) {
      if (this.bodyLeft > 0) {
        const skip = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= skip;
        i += skip;
        continue;
      }
      if (!this.inHeader) {
        // First byte: packet type and flags; any value is the parser's business.
        this.inHeader = true;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        i++;
        continue;
      }
      const byte = chunk[i++] as number;
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (this.length > this.maxBytes) return "too_large";
      if (byte & 0x80) {
        if (this.lengthBytes >= 4) return "malformed";
        continue;
      }
      this.inHeader = false;
      this.bodyLeft = this.length;
    }
    return "ok";
  }
}

/** Why a connection was cut: a packet too large or malformed coming in, or a reader falling behind. */
export type Violation = Exclude<FrameVerdict, "ok"> | "backlog" | "stalled";

export interface GuardLimits {
  maxPacketBytes: number;
  /** Bytes written to the connection that may wait, unread by the peer, beyond what the kernel holds. */
  maxQueuedBytes: number;
  /** How long written bytes may wait unread before the connection is cut. */
  stallMs: number;
}

export interface GuardedConnectionEvents {
  onViolation(violation: Violation): void;
}

/**
 * A duplex that aedes handles in place of the raw socket: reads pass through the tracker, writes go
 * straight to the socket.
 *
 * Writes never push back on aedes. aedes waits for a full socket to drain before it completes the delivery,
 * and that delivery holds one of the few slots its message queue shares among all clients: enough frozen
 * readers and no feeder gets its commands until they time out. Instead the bytes queue on the socket,
 * and a peer that lets more than `maxQueuedBytes` pile up, or leaves them unread for `stallMs`, is cut.
 */
export class GuardedConnection extends Duplex {
  readonly remoteAddress: string | undefined;
  private stall: { cancel(): void } | undefined;

  constructor(
    private readonly socket: Duplex & { remoteAddress?: string },
    private readonly limits: GuardLimits,
    private readonly clock: Clock,
    private readonly events: GuardedConnectionEvents,
  ) {
    super({ allowHalfOpen: false });
    this.remoteAddress = socket.remoteAddress;
    const tracker = new FrameSizeTracker(limits.maxPacketBytes);
    socket.on("data", (chunk: Buffer) => {
      const verdict = tracker.push(chunk);
      if (verdict !== "ok") {
        this.cut(verdict);
        return;
      }
      if (!this.push(chunk)) socket.pause();
    });
    socket.on("end", () => this.push(null));
    socket.on("error", (err) => this.destroy(err));
    socket.on("close", () => this.destroy());
    socket.on("drain", () => {
      this.stall?.cancel();
      this.stall = undefined;
    });
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.send(chunk);
    callback();
  }

  /**
   * Packets written together (aedes corks the stream for each packet's parts) leave in one write: one
   * syscall instead of one per part.
   */
  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void,
  ): void {
    this.send(Buffer.concat(chunks.map((c) => c.chunk)));
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.stall?.cancel();
    this.socket.destroy();
    callback(error);
  }

  private send(bytes: Buffer): void {
    if (this.socket.destroyed) return;
    const flushed = this.socket.write(bytes);
    if (this.socket.writableLength > this.limits.maxQueuedBytes) this.cut("backlog");
    else if (!flushed && !this.stall)
      this.stall = this.clock.setTimeout(() => this.cut("stalled"), this.limits.stallMs);
  }

  private cut(violation: Violation): void {
    if (this.destroyed) return;
    this.events.onViolation(violation);
    this.destroy();
  }
}
