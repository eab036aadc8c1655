/**
 * Caps the sockets that are open but have not sent their CONNECT yet. Each one costs a file descriptor and
 * a client object for up to the connect timeout, and file descriptors are shared with the HTTP server and
 * the database: a few thousand idle sockets from one machine would lock everyone else out. A real device
 * sends its CONNECT within milliseconds of opening the socket, so it holds a slot only briefly.
 *
 * Sources are counted as the attempt throttle counts them (an IPv4 address, an IPv6 /64), so one host
 * cannot take the whole budget; the total bounds a flood from many.
 */
import { sourceOf } from "../auth/attempt-throttle.js";

export interface HalfOpenOptions {
  perSource: number;
  total: number;
}

/**
 * Per source: every feeder may share one address (NAT, a container's port proxy), and after a power cut
 * they all reconnect at once; the simulator starts 50 at a time, so twice that leaves room, while each
 * socket holds its slot only until its CONNECT arrives. The total keeps a flood from many addresses far
 * below the process's file descriptor limit.
 */
export const DEFAULT_HALF_OPEN: HalfOpenOptions = { perSource: 100, total: 500 };

export class HalfOpenLimit {
  private readonly bySource = new Map<string, number>();
  private total = 0;

  constructor(private readonly options: HalfOpenOptions = DEFAULT_HALF_OPEN) {}

  /**
   * A slot for a new socket from `address`, to release once its CONNECT arrives or it closes (releasing
   * twice is harmless); undefined when the source or the server has none left.
   */
  take(address: string | undefined): (() => void) | undefined {
    const source = sourceOf(address);
    const held = this.bySource.get(source) ?? 0;
    if (held >= this.options.perSource || this.total >= this.options.total) return undefined;
    this.bySource.set(source, held + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.bySource.get(source) ?? 1) - 1;
      if (left > 0) this.bySource.set(source, left);
      else this.bySource.delete(source);
    };
  }

  get held(): number {
    return this.total;
  }
}
