/**
 * When a failed delivery is tried again: quickly at first (a receiver restarting), then ever more rarely
 * (a receiver down for the night), and not forever — after the last try the delivery is `failed` and the
 * channel shows the error.
 */
export const RETRY_DELAYS_MS: readonly number[] = [
  30_000, // 30 s
  2 * 60_000, // 2 min
  10 * 60_000, // 10 min
  60 * 60_000, // 1 h
  3 * 60 * 60_000, // 3 h
  6 * 60 * 60_000, // 6 h
];

/** First try included: a delivery that failed this often is given up. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** The wait after the `attempts`-th failed try (1-based), or undefined when it was the last. */
export function retryDelay(attempts: number): number | undefined {
  return attempts >= MAX_ATTEMPTS ? undefined : RETRY_DELAYS_MS[attempts - 1];
}
