import { useSyncExternalStore } from "react";

/**
 * One clock for every "for 3 h" and "in 40 s" on screen: a single timer, started while something
 * reads it, re-renders only the components that read it (not the tables that hold them). Its
 * resolution suits labels in seconds to hours, not a stopwatch.
 */
export const TICK_MS = 15_000;

let now = Date.now();
let timer: ReturnType<typeof setInterval> | undefined;
const listeners = new Set<() => void>();

function subscribe(listener: () => void) {
  listeners.add(listener);
  if (!timer) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
      for (const l of listeners) l();
    }, TICK_MS);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

const read = () => now;

/** The time now, in ms, refreshed every TICK_MS while the component is mounted. */
export const useNow = () => useSyncExternalStore(subscribe, read, read);

/** "45 s", "12 min", "3 h", "2 d": a span of time as a label, rounded down. */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86_400)} d`;
}
