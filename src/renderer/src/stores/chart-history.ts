/**
 * The Dashboard's history charts (1 h, 24 h, 7 d): CPU, memory and message rate per service, read with
 * `history.series` (the server picks the resolution from the range: 1-minute rollups for an hour or a
 * day, hourly ones for a week) and kept here as chart tables. Only the latest request's answer is
 * applied; a request that fails leaves the last good tables on screen with the error beside them.
 */
import { create } from 'zustand';
import type { VigilApi } from '../../../shared/client';
import type { ApiErrorShape } from '../../../shared/errors';
import type { Resolution, SeriesKey, SeriesResult } from '../../../shared/history';
import { emptyTable, mergeSeries, type SeriesTable } from '../lib/dashboard-series';
import { useConnectionStore } from './connection';

export const historyRanges = ['1h', '24h', '7d'] as const;
export type HistoryRange = (typeof historyRanges)[number];

export const historyRangeMs: Record<HistoryRange, number> = {
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
};

/** How often a shown history range is read again: about one new point each time. */
export const historyRefreshMs: Record<HistoryRange, number> = {
  '1h': 60_000,
  '24h': 5 * 60_000,
  '7d': 30 * 60_000,
};

/** Points per series: a few hundred draw well and stay cheap (DESIGN.md, Charts). */
const MAX_POINTS = 300;
/** Requests in flight at once: enough to be quick, few enough to leave the socket to live events. */
const CONCURRENCY = 4;

/** The recorded metrics each chart draws; `app.msgPerSec` is what collectors report as their rate. */
export const historyMetrics = { cpu: 'cpu', rss: 'rss', rate: 'app.msgPerSec' } as const;
export type ChartMetric = keyof typeof historyMetrics;

const MB = 2 ** 20;

interface ChartHistoryStore {
  range: HistoryRange | null;
  status: 'idle' | 'loading' | 'ready' | 'error';
  error: ApiErrorShape | null;
  resolution: Resolution | null;
  from: number | null;
  to: number | null;
  /** Series the server has for the services shown (none recorded yet: all tables empty). */
  tables: Record<ChartMetric, SeriesTable>;
}

const emptyTables: Record<ChartMetric, SeriesTable> = { cpu: emptyTable, rss: emptyTable, rate: emptyTable };

export const useChartHistoryStore = create<ChartHistoryStore>()(() => ({
  range: null,
  status: 'idle',
  error: null,
  resolution: null,
  from: null,
  to: null,
  tables: emptyTables,
}));

let generation = 0;

async function pool<T, R>(items: readonly T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next;
      next += 1;
      results[i] = await run(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Reads `range` for `services` (in list order, which decides the colours). `now` is the end of the
 * range; a newer call makes an older one's answer be ignored.
 */
export async function loadHistory(
  api: VigilApi,
  range: HistoryRange,
  services: readonly string[],
  now: number,
): Promise<void> {
  generation += 1;
  const mine = generation;
  const changedRange = useChartHistoryStore.getState().range !== range;
  useChartHistoryStore.setState({
    range,
    status: 'loading',
    error: null,
    ...(changedRange ? { tables: emptyTables, resolution: null, from: null, to: null } : {}),
  });
  const fail = (error: ApiErrorShape): void => {
    if (mine === generation) useChartHistoryStore.setState({ status: 'error', error });
  };

  const listed = await api.history.metrics({});
  if (mine !== generation) return;
  if (!listed.ok) return fail(listed.error);
  const recorded = new Set(listed.result.map((k: SeriesKey) => `${k.service}\u0000${k.metric}`));
  const from = Math.max(0, Math.floor(now - historyRangeMs[range]));
  const to = Math.floor(now);

  const queries: { chart: ChartMetric; service: string; metric: string }[] = [];
  for (const chart of Object.keys(historyMetrics) as ChartMetric[]) {
    const metric = historyMetrics[chart];
    for (const service of services) {
      if (recorded.has(`${service}\u0000${metric}`)) queries.push({ chart, service, metric });
    }
  }

  // The first failure stops the rest (a holder: TypeScript does not follow writes inside callbacks).
  const failure: { error: ApiErrorShape | null } = { error: null };
  const results = await pool(queries, CONCURRENCY, async (q): Promise<SeriesResult | null> => {
    if (failure.error !== null || mine !== generation) return null;
    const res = await api.history.series({
      service: q.service,
      metric: q.metric,
      from,
      to,
      maxPoints: MAX_POINTS,
    });
    if (!res.ok) {
      failure.error ??= res.error;
      return null;
    }
    return res.result;
  });
  if (mine !== generation) return;
  if (failure.error !== null) return fail(failure.error);

  const tables = { ...emptyTables };
  let resolution: Resolution | null = null;
  for (const chart of Object.keys(historyMetrics) as ChartMetric[]) {
    const series = results
      .filter((r, i): r is SeriesResult => r !== null && queries[i]!.chart === chart && r.points.length > 0)
      .map((r) => ({ key: r.service, points: r.points.map((p) => ({ at: p.at, value: p.avg })) }));
    for (const r of results) if (r && r.points.length > 0) resolution ??= r.resolution;
    tables[chart] = mergeSeries(series, () => (chart === 'rss' ? 1 / MB : 1));
  }
  useChartHistoryStore.setState({ status: 'ready', error: null, resolution, from, to, tables });
}

/** Forgets the tables (the connection was refused, or the person went back to live). */
export function resetHistory(): void {
  generation += 1;
  useChartHistoryStore.setState({
    range: null,
    status: 'idle',
    error: null,
    resolution: null,
    from: null,
    to: null,
    tables: emptyTables,
  });
}

// A refused token forgets what the API said, as the other stores do (stores/sync.ts).
useConnectionStore.subscribe((state, previous) => {
  if (state.status.state === 'auth-failed' && previous.status.state !== 'auth-failed') resetHistory();
});
