/**
 * aedes buffers a whole MQTT packet before it parses it, so a client that
 * announces a huge Remaining Length could make the broker hold megabytes per
 * socket. This guard reads only the fixed headers as bytes stream past and
 * cuts the connection as soon as a packet announces more than the limit,
 * before its body is buffered anywhere.
 */
import { Duplex } from "node:stream";

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

export interface GuardedConnectionEvents {
  onViolation(verdict: Exclude<FrameVerdict, "ok">): void;
}

/**
 * A duplex that aedes handles in place of the raw socket: reads pass through
 * the tracker, writes go straight to the socket.
 */
export class GuardedConnection extends Duplex {
  readonly remoteAddress: string | undefined;

  constructor(
    private readonly socket: Duplex & { remoteAddress?: string },
    maxBytes: number,
    events: GuardedConnectionEvents,
  ) {
    super({ allowHalfOpen: false });
    this.remoteAddress = socket.remoteAddress;
    const tracker = new FrameSizeTracker(maxBytes);
    socket.on("data", (chunk: Buffer) => {
      const verdict = tracker.push(chunk);
      if (verdict !== "ok") {
        events.onViolation(verdict);
        socket.destroy();
        this.destroy();
        return;
      }
      if (!this.push(chunk)) socket.pause();
    });
    socket.on("end", () => this.push(null));
    socket.on("error", (err) => this.destroy(err));
    socket.on("close", () => this.destroy());
    socket.on("drain", () => this.emit("drain"));
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.socket.destroyed) callback();
    else this.socket.write(chunk, callback);
  }

  /**
   * Packets that queued up while the socket was busy (PUBACKs under load) leave
   * in one write: one syscall instead of one per packet.
   */
  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void,
  ): void {
    if (this.socket.destroyed) callback();
    else this.socket.write(Buffer.concat(chunks.map((c) => c.chunk)), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}
