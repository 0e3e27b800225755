/**
 * The child protocol: newline-delimited JSON over the child's IPC channel (Node's `ipc` stdio with
 * JSON serialization; the channel's file descriptor is in NODE_CHANNEL_FD). Any language can speak
 * it; docs/child-protocol.md describes it for authors of Python or Go programs.
 */
import { z } from 'zod';

const metrics = z.record(z.string().max(128), z.number());

const count = z.number().int().min(0);
/**
 * One subscriber of a child's bus: a subscriber process connected to it as a publisher (remote, its
 * queue held here) or one of the child's own subscriptions. Rates are per second since the last report.
 */
export const busSubscriberSchema = z.object({
  id: z.string().max(200),
  patterns: z.array(z.string().max(300)).max(50),
  remote: z.boolean(),
  queueDepth: count,
  capacity: count,
  delivered: count,
  dropped: count,
  warnings: count,
  deliveredPerSec: z.number().min(0),
  droppedPerSec: z.number().min(0),
});
export type BusSubscriberReport = z.infer<typeof busSubscriberSchema>;

export const childMessageSchema = z.discriminatedUnion('type', [
  /** Startup is complete; `detail` is shown in the UI. */
  z.object({ type: z.literal('ready'), detail: z.unknown().optional() }),
  /** I am alive. `payload` carries app facts such as the time of the last market message. */
  z.object({
    type: z.literal('heartbeat'),
    at: z.number().optional(),
    payload: z.record(z.string(), z.unknown()).optional(),
    /** Deprecated spelling from the first SDK; read as a metrics message. */
    metrics: metrics.optional(),
  }),
  z.object({ type: z.literal('metrics'), values: metrics }),
  /** The child's bus subscribers as it sees them (sent with heartbeats while its bus is open). */
  z.object({ type: z.literal('bus'), subscribers: z.array(busSubscriberSchema).max(200) }),
  /** Readiness, not liveness: degraded is shown and alerted, never restarted. */
  z.object({
    type: z.literal('status'),
    health: z.enum(['healthy', 'degraded']),
    message: z.string().max(500).optional(),
  }),
  /** The answer to a supervisor `request` with the same id: a result, or an error in words. */
  z.object({
    type: z.literal('reply'),
    id: z.number().int().min(0),
    result: z.unknown().optional(),
    error: z
      .object({
        message: z.string().max(4000),
        /** The program's own code for it (e.g. `gaps`), for the caller to act on. */
        code: z.string().max(64).optional(),
        /** The request field it concerns, as a dotted path. */
        field: z.string().max(200).optional(),
      })
      .optional(),
  }),
  /** Something the program reports unasked (an optimizer's finished trial); `data` is the event's own. */
  z.object({ type: z.literal('event'), name: z.string().min(1).max(128), data: z.unknown().optional() }),
]);
export type ChildMessage = z.infer<typeof childMessageSchema>;
export type ChildReply = Extract<ChildMessage, { type: 'reply' }>;
export type ChildEvent = Extract<ChildMessage, { type: 'event' }>;

export type ParentMessage =
  | { type: 'stop'; reason: string }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'reload'; config: unknown }
  /**
   * Embedded bus: more publishers to subscribe from (a service added or launched after this child),
   * and publishers to forget (a service removed).
   */
  | { type: 'peers'; peers: string[]; removed?: string[] }
  /** Work for the program (an optimizer's run); answered by a `reply` with the same id. */
  | { type: 'request'; id: number; method: string; params?: unknown };

/** Environment the supervisor gives every child. */
export const childEnv = {
  parentPid: 'VIGIL_PARENT_PID',
  service: 'VIGIL_SERVICE',
  dataDir: 'VIGIL_DATA_DIR',
  heartbeatMs: 'VIGIL_HEARTBEAT_MS',
  /** JSON ChildBusConfig: where this child publishes and whom it subscribes from. */
  bus: 'VIGIL_BUS',
  /** JSON: the program's own configuration from its definition (absent when it has none). */
  config: 'VIGIL_CONFIG',
} as const;

/** Where a protocol child finds the market-data bus (the supervisor decides, per launch). */
export type ChildBusConfig =
  { backend: 'embedded'; listen: string; peers: string[] } | { backend: 'nats'; servers: string };

/** DESIGN.md: heartbeat every 1 s, hung after 5 s of silence. */
export const HEARTBEAT_INTERVAL_MS = 1000;

/** Exit code meaning "my configuration is wrong": restarting cannot help, so the service goes fatal. */
export const EXIT_CONFIG_ERROR = 78;
