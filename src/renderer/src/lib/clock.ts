/**
 * One shared 1 s ticker for everything that shows elapsed time (uptimes, heartbeat ages), so a page
 * with many rows runs one timer, and render code never calls Date.now() itself.
 */
import { useSyncExternalStore } from 'react';

let now = Date.now();
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (timer === null) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
      for (const l of listeners) l();
    }, 1000);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
}

const snapshot = (): number => now;

/** The current time in epoch ms, updated every second while anything is watching. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, snapshot);
}
