/**
 * Messages between the supervisor and a built-in child over the Node IPC channel. Plain commands
 * (custom services) have no channel; they are judged by their process alone.
 */
import { z } from 'zod';

export const childMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), detail: z.unknown().optional() }),
  z.object({
    type: z.literal('heartbeat'),
    at: z.number(),
    metrics: z.record(z.string(), z.number()).optional(),
  }),
]);
export type ChildMessage = z.infer<typeof childMessageSchema>;

export type ParentMessage = { type: 'stop'; reason: string };

/** Environment the supervisor gives every child. */
export const childEnv = {
  parentPid: 'VIGIL_PARENT_PID',
  service: 'VIGIL_SERVICE',
  dataDir: 'VIGIL_DATA_DIR',
} as const;

/** DESIGN.md: heartbeat every 1 s, hung after 5 s of silence. */
export const HEARTBEAT_INTERVAL_MS = 1000;
