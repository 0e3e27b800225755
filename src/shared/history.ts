/** What the history API returns: metric series at a resolution chosen from the range, events, alerts. */
import type { AlertKind, ServiceHealth, ServiceState } from './services';

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

/** Newest first; pass `next` as `before` for the following page (null: no more). */
export interface Page<T> {
  items: T[];
  next: number | null;
}
