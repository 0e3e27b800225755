/** How each supervisor state looks; which actions apply to it is decided in src/shared/service-actions. */
import type { ServiceState } from '../../../shared/services';

/** Colour family of a state; the CSS maps tones to the theme's palette. */
export type StateTone = 'ok' | 'transition' | 'warn' | 'bad' | 'idle' | 'paused';

export const stateTone: Record<ServiceState, StateTone> = {
  running: 'ok',
  starting: 'transition',
  stopping: 'transition',
  reloading: 'transition',
  backoff: 'warn',
  fatal: 'bad',
  stopped: 'idle',
  paused: 'paused',
};
