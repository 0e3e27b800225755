import { z } from 'zod';
import type { BusSubscriberReport } from './child-protocol';
import type { ServiceDefinition } from './service-definition';

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

export type ServiceProgram = ServiceDefinition['program'];

/** A program that ships with Vigil (`program: { type: 'builtin', name }`), as `programs.list` lists it. */
export interface BuiltinProgram {
  name: string;
  description: string;
  /** The kind of service it is usually run as (its preset). */
  kind: ServiceKind;
  /** What goes in the definition's `config` (the program reads it from VIGIL_CONFIG); null: none. */
  config: {
    required: boolean;
    description: string;
    /** A configuration that works as it is, to start from. */
    example: Record<string, unknown>;
  } | null;
}

export interface ServiceExit {
  code: number | null;
  signal: string | null;
  at: number; // epoch ms
  /** Why it ended, in words: "exited with code 1", "killed by SIGKILL", "heartbeat timeout", ... */
  reason: string;
}

/** Within `running`: healthy, degraded (shown and alerted, not restarted), or unresponsive (restarting). */
export type ServiceHealth = 'healthy' | 'degraded' | 'unresponsive';

/** What the API says about one service; everything here is read from the live process, not a cache. */
export interface ServiceInfo {
  name: string;
  kind: ServiceKind;
  description: string;
  program: ServiceProgram;
  autostart: boolean;
  definition: ServiceDefinition;
  /** The definition changed while the service was up: a restart applies it. */
  pendingChanges: boolean;
  state: ServiceState;
  health: ServiceHealth | null;
  healthReason: string | null;
  pid: number | null;
  startedAt: number | null; // epoch ms of the current run
  readyAt: number | null;
  /** Lifetime count of restarts (manual and automatic), like PM2's ↺. */
  restarts: number;
  /** Failures inside the crash-loop window, and whether the crash-loop rule has tripped. */
  failures: number;
  crashLoop: boolean;
  nextRestartAt: number | null;
  lastExit: ServiceExit | null;
  recentExits: ServiceExit[];
  reason: string | null; // why the last transition happened, in words
  lastHeartbeatAt: number | null;
  heartbeat: Record<string, unknown> | null; // the app payload of the last heartbeat
  metrics: Record<string, number> | null; // the child's own metrics
  /** Per-subscriber queue depth, drops and rates of the child's market-data bus (reported at 1 Hz). */
  bus: BusSubscriberReport[] | null;
  cpuPercent: number | null; // whole process tree, % of one core
  rssBytes: number | null; // whole process tree
  detail: unknown; // what the child reported when it became ready
}

/** One state transition, as the event stream and the event log carry it. */
export interface ServiceTransition {
  service: string;
  from: ServiceState;
  to: ServiceState;
  health: ServiceHealth | null;
  reason: string;
  at: number;
  exit: ServiceExit | null;
  restarts: number;
  nextRestartAt: number | null;
}

/** A transition as the `service.transition` event carries it: with its id in the history (EventRecord.id). */
export interface ServiceTransitionEvent extends ServiceTransition {
  id: number;
}

export const alertKinds = [
  'crash-loop',
  'fatal',
  'memory-soft',
  'memory-hard',
  'survivors',
  'degraded',
  'unresponsive',
  'data-gap',
  // What a trader reports (src/shared/trader-api.ts TraderAlert): `trader-<its kind>`.
  'trader-daily-loss',
  'trader-stale',
  'trader-risk',
  'trader-kill-switch',
  'trader-reload',
] as const;
export type AlertKind = (typeof alertKinds)[number];

/** How each alert kind is named to a person (the window's notifications and Events page, native ones). */
export const alertKindLabel: Record<AlertKind, string> = {
  'crash-loop': 'Crash loop',
  fatal: 'Fatal: gave up',
  'memory-soft': 'Memory over soft limit',
  'memory-hard': 'Memory over hard limit',
  survivors: 'Processes survived kill',
  degraded: 'Degraded',
  unresponsive: 'Unresponsive',
  'data-gap': 'Market data gap',
  'trader-daily-loss': 'Trader: daily loss limit',
  'trader-stale': 'Trader: market data stale',
  'trader-risk': 'Trader: risk limit',
  'trader-kill-switch': 'Trader: kill switch',
  'trader-reload': 'Trader: reload',
};

export interface ServiceAlert {
  service: string;
  kind: AlertKind;
  severity: 'warning' | 'critical';
  message: string;
  at: number;
}

/** An alert as the `service.alert` event carries it: with its id in the history (AlertRecord.id). */
export interface ServiceAlertEvent extends ServiceAlert {
  id: number;
}

/** One line of a service's output (or the supervisor's note about it), as the log tail shows it. */
export interface LogLine {
  /** Numbers a service's lines in order, on across log rotations and Vigil restarts: `before` pages by it. */
  seq: number;
  at: number; // epoch ms
  stream: 'out' | 'err' | 'vigil';
  pid: number | null;
  text: string;
}

/** Resource usage at one instant: every service's whole process tree, and the supervisor itself. */
export interface MetricsSample {
  at: number;
  supervisor: { cpuPercent: number; rssBytes: number };
  totals: { cpuPercent: number; rssBytes: number; services: number; running: number };
  services: {
    name: string;
    state: ServiceState;
    health: ServiceHealth | null;
    cpuPercent: number | null;
    rssBytes: number | null;
    heartbeatAgeMs: number | null;
    restarts: number;
    metrics: Record<string, number> | null;
    bus: BusSubscriberReport[] | null;
  }[];
}
