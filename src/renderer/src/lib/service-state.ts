/** How each supervisor state looks and which actions make sense in it, decided in one place. */
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

/** Whether the process may be alive (so it has an uptime, a pid, a heartbeat). */
export function isUp(state: ServiceState): boolean {
  return state !== 'stopped' && state !== 'fatal' && state !== 'backoff';
}

/** A fatal service needs a person's acknowledgement before it may start again (the supervisor enforces it). */
export function canStart(state: ServiceState): boolean {
  return state === 'stopped' || state === 'backoff';
}

export function canStop(state: ServiceState): boolean {
  return (
    state === 'starting' ||
    state === 'running' ||
    state === 'backoff' ||
    state === 'paused' ||
    state === 'reloading'
  );
}

export function canRestart(state: ServiceState): boolean {
  return (
    state === 'running' ||
    state === 'starting' ||
    state === 'paused' ||
    state === 'reloading' ||
    state === 'backoff'
  );
}

export function canPause(state: ServiceState): boolean {
  return state === 'running';
}

export function canResume(state: ServiceState): boolean {
  return state === 'paused';
}

export function canAcknowledge(state: ServiceState): boolean {
  return state === 'fatal';
}
