/** What the history API returns: metric series at a resolution chosen from the range, events, alerts. */
import type {
  AlertKind,
  ServiceAlertEvent,
  ServiceHealth,
  ServiceState,
  ServiceTransitionEvent,
} from './services';

export type Resolution = 'raw' | '1m' | '1h';

export interface SeriesPoint {
  at: number; // epoch ms, start of the bucket
  min: number;
  avg: number;
  max: number;
}

export interface SeriesResult {
  service: string;
  metric: string;
  resolution: Resolution;
  /**
   * How far apart points are when nothing is missing: the width of a bucket (60000 for 1m, 3600000
   * for 1h, or a multiple when the range is downsampled further), and for raw at least the sample
   * interval. Points further apart than this mean no data was recorded in between.
   */
  bucketMs: number;
  points: SeriesPoint[];
}

export interface SeriesKey {
  service: string;
  metric: string;
}

export interface EventRecord {
  id: number;
  at: number;
  service: string;
  from: ServiceState;
  to: ServiceState;
  health: ServiceHealth | null;
  reason: string;
  exitCode: number | null;
  exitSignal: string | null;
  restarts: number;
  nextRestartAt: number | null;
}

export interface AlertRecord {
  id: number;
  at: number;
  service: string;
  kind: AlertKind;
  severity: 'warning' | 'critical';
  message: string;
  acknowledgedAt: number | null;
  clearedAt: number | null;
}

/** open: neither acknowledged nor cleared. An alert can be both acknowledged and cleared. */
export const alertStates = ['open', 'acknowledged', 'cleared'] as const;
export type AlertState = (typeof alertStates)[number];

/** The history record a live `service.transition` becomes (the same id, the same rounding). */
export function recordOfTransition(t: ServiceTransitionEvent): EventRecord {
  return {
    id: t.id,
    at: Math.round(t.at),
    service: t.service,
    from: t.from,
    to: t.to,
    health: t.health,
    reason: t.reason,
    exitCode: t.exit?.code ?? null,
    exitSignal: t.exit?.signal ?? null,
    restarts: t.restarts,
    nextRestartAt: t.nextRestartAt === null ? null : Math.round(t.nextRestartAt),
  };
}

/** The history record a live `service.alert` becomes: open, until acknowledged or cleared. */
export function recordOfAlert(a: ServiceAlertEvent): AlertRecord {
  return {
    id: a.id,
    at: Math.round(a.at),
    service: a.service,
    kind: a.kind,
    severity: a.severity,
    message: a.message,
    acknowledgedAt: null,
    clearedAt: null,
  };
}

/** Newest first; pass `next` as `before` for the following page (null: no more). */
export interface Page<T> {
  items: T[];
  next: number | null;
}
