import { z } from 'zod';

/** The supervisor's states (DESIGN.md, Supervision). */
export const serviceStates = [
  'stopped',
  'starting',
  'running',
  'stopping',
  'backoff',
  'fatal',
  'paused',
  'reloading',
] as const;
export type ServiceState = (typeof serviceStates)[number];

export const serviceKinds = ['collector', 'optimizer', 'trader', 'custom'] as const;
export type ServiceKind = (typeof serviceKinds)[number];

export const serviceNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(
    /^[a-z0-9][a-z0-9._-]*$/,
    'must be lower-case letters, digits, ".", "_" or "-", starting with a letter or digit',
  );

export type ServiceProgram =
  { type: 'builtin'; name: string } | { type: 'command'; command: string; args: string[] };

export interface ServiceExit {
  code: number | null;
  signal: string | null;
  at: number; // epoch ms
}

/** What the API says about one service; everything here is read from the live process, not a cache. */
export interface ServiceInfo {
  name: string;
  kind: ServiceKind;
  description: string;
  program: ServiceProgram;
  autostart: boolean;
  state: ServiceState;
  pid: number | null;
  startedAt: number | null; // epoch ms of the current run
  readyAt: number | null;
  restarts: number;
  lastExit: ServiceExit | null;
  reason: string | null; // why the last transition happened, in words
  lastHeartbeatAt: number | null;
  detail: unknown; // what the child reported when it became ready
}
