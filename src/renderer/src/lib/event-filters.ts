/**
 * The Events page's filters, kept in the address (`#/events/view=alerts&service=x&status=open`), so a
 * filtered view survives a reload, can be linked to (the header's open-alert count does), and the
 * back button undoes a filter change.
 */
import type { AlertKind, ServiceState } from '../../../shared/services';
import { alertKinds, serviceStates } from '../../../shared/services';
import { hrefFor } from './route';

export { alertKinds };

export const alertStatuses = ['all', 'open', 'acknowledged', 'cleared'] as const;
export type AlertStatus = (typeof alertStatuses)[number];

export const timeRanges = ['all', '15m', '1h', '24h', '7d', 'custom'] as const;
export type TimeRange = (typeof timeRanges)[number];

export const rangeLabels: Record<TimeRange, string> = {
  all: 'All time',
  '15m': 'Last 15 minutes',
  '1h': 'Last hour',
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
  custom: 'Custom…',
};

const rangeMs: Record<Exclude<TimeRange, 'all' | 'custom'>, number> = {
  '15m': 15 * 60_000,
  '1h': 3_600_000,
  '24h': 24 * 3_600_000,
  '7d': 7 * 24 * 3_600_000,
};

export type EventsView = 'alerts' | 'transitions';

export interface EventFilters {
  view: EventsView;
  service: string | null;
  /** Alerts only. */
  kind: AlertKind | null;
  status: AlertStatus;
  /** Transitions only: the state entered. */
  state: ServiceState | null;
  range: TimeRange;
  /** Custom range bounds, epoch ms. */
  from: number | null;
  to: number | null;
}

export const defaultFilters: EventFilters = {
  view: 'alerts',
  service: null,
  kind: null,
  status: 'all',
  state: null,
  range: 'all',
  from: null,
  to: null,
};

function oneOf<T extends string>(values: readonly T[], value: string | null): T | null {
  return value !== null && (values as readonly string[]).includes(value) ? (value as T) : null;
}

function epoch(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value)) return null;
  return Number(value);
}

export function parseFilters(param: string | null): EventFilters {
  const q = new URLSearchParams(param ?? '');
  return {
    view: oneOf(['alerts', 'transitions'] as const, q.get('view')) ?? defaultFilters.view,
    service: q.get('service') || null,
    kind: oneOf(alertKinds, q.get('kind')),
    status: oneOf(alertStatuses, q.get('status')) ?? defaultFilters.status,
    state: oneOf(serviceStates, q.get('state')),
    range: oneOf(timeRanges, q.get('range')) ?? defaultFilters.range,
    from: epoch(q.get('from')),
    to: epoch(q.get('to')),
  };
}

/** Only what differs from the defaults goes into the address. */
export function filtersHref(filters: Partial<EventFilters>): string {
  const f = { ...defaultFilters, ...filters };
  const q = new URLSearchParams();
  if (f.view !== defaultFilters.view) q.set('view', f.view);
  if (f.service) q.set('service', f.service);
  if (f.kind) q.set('kind', f.kind);
  if (f.status !== defaultFilters.status) q.set('status', f.status);
  if (f.state) q.set('state', f.state);
  if (f.range !== defaultFilters.range) q.set('range', f.range);
  if (f.range === 'custom' && f.from !== null) q.set('from', String(f.from));
  if (f.range === 'custom' && f.to !== null) q.set('to', String(f.to));
  // Every value is a name, a keyword or a number: readable as it is (hrefFor would escape = and &).
  const param = q.toString();
  return param === '' ? hrefFor('events') : `${hrefFor('events')}/${param}`;
}

/** Filters that narrow the current view (the view itself is not a filter). */
export function hasFilters(f: EventFilters): boolean {
  const common = f.service !== null || f.range !== 'all';
  return f.view === 'alerts' ? common || f.kind !== null || f.status !== 'all' : common || f.state !== null;
}

/** The time bounds to query, resolved now (a relative range moves with the clock). */
export function timeBounds(f: EventFilters, now: number): { from?: number; to?: number } {
  if (f.range === 'all') return {};
  if (f.range === 'custom') {
    return { ...(f.from !== null && { from: f.from }), ...(f.to !== null && { to: f.to }) };
  }
  return { from: now - rangeMs[f.range] };
}

/** A stable key for "the same query": a new key means reload from the first page. */
export function filtersKey(f: EventFilters): string {
  return filtersHref(f);
}
