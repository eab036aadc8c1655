/** A clock that moves only when a test says so; timers fire in order as it advances. */
import type { Clock } from "../clock.js";

export class FakeClock implements Clock {
  private timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];

  constructor(private current = Date.parse("2026-11-26T07:00:00Z")) {}

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number) {
    const timer = { at: this.current + ms, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.current = due.at;
      due.cancelled = true;
      // Dropping fired timers as they go keeps a long advance (a day of 1 s ticks) linear.
      this.timers = this.timers.filter((t) => !t.cancelled);
      due.fn();
    }
    this.timers = this.timers.filter((t) => !t.cancelled);
    this.current = target;
  }
}
