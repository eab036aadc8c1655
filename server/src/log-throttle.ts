/**
 * Caps how often one source (a feeder) can make us log the same kind of
 * warning. A broken or hostile firmware sending bad messages in a loop must not
 * fill the disk of a Raspberry Pi: the first few per window are logged in full,
 * the rest are counted and reported once when the next window opens.
 */
import type { Clock } from "./clock.js";

export class LogThrottle {
  private readonly windows = new Map<string, { start: number; logged: number; suppressed: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly perWindow = 10,
    private readonly windowMs = 60_000,
  ) {}

  /**
   * Whether to log this occurrence for `key`, and how many earlier ones were
   * suppressed since the last logged one (to mention in that line).
   */
  admit(key: string): { log: boolean; suppressed: number } {
    const now = this.clock.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      const suppressed = w?.suppressed ?? 0;
      w = { start: now, logged: 1, suppressed: 0 };
      this.windows.set(key, w);
      return { log: true, suppressed };
    }
    if (w.logged < this.perWindow) {
      w.logged++;
      return { log: true, suppressed: 0 };
    }
    w.suppressed++;
    return { log: false, suppressed: w.suppressed };
  }

  forget(key: string): void {
    this.windows.delete(key);
  }
}
