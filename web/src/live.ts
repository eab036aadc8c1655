/**
 * Live updates: one EventSource on GET /api/events for the whole signed-in app, shared through a context.
 * The stream only names what changed (a feeder, the list of feeders, alerts); each page fetches what it
 * shows again. While the stream is down (a proxy that buffers, a restart) the pages keep polling at their
 * slower pace, and EventSource reconnects by itself.
 */
import { createContext } from "preact";
import { useContext, useEffect, useRef, useState } from "preact/hooks";
import type { LiveChange } from "../../server/src/events/change-feed";

export type { LiveChange };

type Listener = (changes: LiveChange[]) => void;

export interface LiveChanges {
  subscribe(listener: Listener): () => void;
  /** Whether the stream is open now. */
  connected(): boolean;
  onConnectedChange(listener: (connected: boolean) => void): () => void;
  close(): void;
}

const isChange = (value: unknown): value is LiveChange =>
  typeof value === "object" && value !== null && typeof (value as { kind?: unknown }).kind === "string";

export function openLiveChanges(url = "/api/events"): LiveChanges {
  const listeners = new Set<Listener>();
  const connectionListeners = new Set<(connected: boolean) => void>();
  let open = false;
  const setOpen = (value: boolean) => {
    if (open === value) return;
    open = value;
    for (const l of connectionListeners) l(value);
  };
  const source = new EventSource(url);
  source.addEventListener("ready", () => setOpen(true));
  source.addEventListener("error", () => setOpen(false));
  source.addEventListener("change", (event) => {
    let changes: unknown;
    try {
      changes = JSON.parse((event as MessageEvent<string>).data);
    } catch {
      return;
    }
    if (!Array.isArray(changes)) return;
    const valid = changes.filter(isChange);
    for (const l of listeners) l(valid);
  });
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    connected: () => open,
    onConnectedChange(listener) {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
    close() {
      source.close();
      setOpen(false);
    },
  };
}

export const LiveContext = createContext<LiveChanges | null>(null);

/**
 * Calls `onChange` (at most every `throttleMs`, with the last call after a burst) when a change matching
 * `wanted` arrives. Returns whether the stream is open, so a page can poll less while it is.
 */
export function useLiveChanges(
  wanted: (change: LiveChange) => boolean,
  onChange: () => void,
  throttleMs = 300,
): boolean {
  const live = useContext(LiveContext);
  const [connected, setConnected] = useState(() => live?.connected() ?? false);
  const latest = useRef({ wanted, onChange });
  latest.current = { wanted, onChange };

  useEffect(() => {
    if (!live) return;
    setConnected(live.connected());
    let timer: ReturnType<typeof setTimeout> | undefined;
    let last = 0;
    const fire = () => {
      timer = undefined;
      last = Date.now();
      latest.current.onChange();
    };
    const unsubscribe = live.subscribe((changes) => {
      if (!changes.some((c) => latest.current.wanted(c))) return;
      if (timer !== undefined) return;
      timer = setTimeout(fire, Math.max(0, last + throttleMs - Date.now()));
    });
    const offConnected = live.onConnectedChange(setConnected);
    return () => {
      unsubscribe();
      offConnected();
      clearTimeout(timer);
    };
  }, [live, throttleMs]);

  return connected;
}
