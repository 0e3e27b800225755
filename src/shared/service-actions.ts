/**
 * Which actions make sense in which supervisor state, decided in one place for the renderer's
 * buttons and the tray's menu (the supervisor enforces the same rules on the command itself).
 */
import type { ServiceState } from './services';

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
