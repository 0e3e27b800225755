import type { VigilApi } from '../shared/client';

declare global {
  interface Window {
    /** Present only inside the desktop app (set by the preload); the browser UI uses a WebSocket. */
    vigil?: VigilApi;
  }
}

export {};
