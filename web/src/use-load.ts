import { type Inputs, useCallback, useEffect, useRef } from "preact/hooks";
import { errorMessage, isAbort, isUnauthorized } from "./api";

export interface Load<T> {
  /** Asks the server; `signal`, when given, aborts the request on leaving the page. */
  fetch: (signal?: AbortSignal) => Promise<T>;
  /** The newest answer. */
  onData: (data: T) => void;
  /** The newest failure, as a message to show. */
  onError: (message: string) => void;
  onUnauthorized: () => void;
}

/**
 * Loads when the page opens and again at once whenever one of `deps` changes (as for useEffect: what `load`
 * reads); with `periodMs`, also every `periodMs` after that, skipping background refreshes while the tab is
 * hidden (it catches up within one period). Leaving aborts the request in flight. Answers may arrive out of
 * order (a timer refresh vs. a reload after a change): only the newest one is handed on.
 * Returns a function that loads once more at once, outside the timer.
 */
export function useLoad<T>(load: Load<T>, deps: Inputs, periodMs?: number): () => void {
  const issued = useRef(0);
  const applied = useRef(0);
  const latest = useRef(load);

  useEffect(() => {
    latest.current = load;
    const ctrl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let first = true;
    const tick = async () => {
      if (first || !document.hidden) await loadNewest(load, { issued, applied }, ctrl.signal);
      first = false;
      if (periodMs !== undefined && !ctrl.signal.aborted) timer = setTimeout(tick, periodMs);
    };
    void tick();
    return () => {
      ctrl.abort();
      clearTimeout(timer);
    };
  }, [periodMs, ...deps]);

  return useCallback(() => void loadNewest(latest.current, { issued, applied }), []);
}

interface Counters {
  /** The number of the last request sent. */
  issued: { current: number };
  /** The number of the request whose answer was handed on last. */
  applied: { current: number };
}

async function loadNewest<T>(load: Load<T>, counters: Counters, signal?: AbortSignal): Promise<void> {
  const n = ++counters.issued.current;
  try {
    const data = await load.fetch(signal);
    if (n < counters.applied.current) return;
    counters.applied.current = n;
    load.onData(data);
  } catch (err) {
    if (isAbort(err)) return;
    if (isUnauthorized(err)) return load.onUnauthorized();
    if (n < counters.applied.current) return;
    counters.applied.current = n;
    load.onError(errorMessage(err));
  }
}
