/** Bounded concurrency and bounded waiting: every loop in the benchmark ends by itself. */
import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

export { sleep };

/**
 * Runs `fn` over `items` with at most `limit` calls in flight; results keep the input order. The first failure
 * stops new work from starting and is rethrown once the calls already running have settled.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}

/** Rejects with a message naming what was awaited if `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every `intervalMs` until it returns true; throws after `timeoutMs`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  { timeoutMs, intervalMs, what }: { timeoutMs: number; intervalMs: number; what: string },
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(intervalMs);
  }
}

export interface ProcessMemory {
  /** VmRSS: everything resident, the figure the target is about. */
  rss: number;
  /** RssAnon: the process's own memory (JS heap, native allocations, buffers). */
  anon: number;
  /** RssFile: resident pages of mapped files, mostly the node binary's code, shared with other node processes. */
  file: number;
}

/** Resident memory of a Linux process in MiB, from /proc/<pid>/status (which counts in kB). */
export function memoryMiB(pid: number): ProcessMemory {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB$`, "m").exec(status);
    if (!match) throw new Error(`no ${name} in /proc/${pid}/status`);
    return Number(match[1]) / 1024;
  };
  return { rss: field("VmRSS"), anon: field("RssAnon"), file: field("RssFile") };
}

/** Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ, 100 on every mainstream platform). */
const CLOCK_TICK_MS = 10;

/** CPU time (user + system) a Linux process has used so far, in ms, from /proc/<pid>/stat. */
export function processCpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the whole line, i.e. 11 and 12 after the name; clock ticks are 10 ms.
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
}

/** This process's CPU time so far, in ms. */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
