/**
 * CPU, memory and message rates per service over a chosen range: the last five minutes from the live
 * stream (a point every 2 s, 150 a line), or 1 h / 24 h / 7 d from recorded history.
 * One legend for all three charts: the same colour per service everywhere, and a press hides or shows
 * a service in every chart.
 */
import { useCallback, useDeferredValue, useEffect, useMemo, useState } from 'react';
import { useApi } from '../../connection-context';
import { BUS_TOTAL_KEY, seriesLabel, serviceColor } from '../../lib/dashboard-colors';
import { formatCpu, formatMegabytes, formatRate } from '../../lib/dashboard-format';
import type { SeriesTable } from '../../lib/dashboard-series';
import { formatTimeOfDay } from '../../lib/alert-kinds';
import {
  historyRangeMs,
  historyRefreshMs,
  loadHistory,
  useChartHistoryStore,
  type HistoryRange,
} from '../../stores/chart-history';
import { LIVE_DOMAIN, liveRings, useChartLiveStore } from '../../stores/chart-live';
import { useConnectionStore } from '../../stores/connection';
import {
  chartRanges,
  setChartRange,
  toggleSeries,
  useDashboardViewStore,
  type ChartRange,
} from '../../stores/dashboard-view';
import { ErrorNote } from '../ErrorNote';
import { TimeChart } from './TimeChart';

const MB = 2 ** 20;

interface Tables {
  cpu: SeriesTable;
  rss: SeriesTable;
  rate: SeriesTable;
}

export function ResourceCharts({ names }: { names: readonly string[] }) {
  const range = useDashboardViewStore((s) => s.range);
  return (
    <section
      className="dash-charts"
      data-testid="dashboard-charts"
      data-range={range}
      aria-labelledby="dash-charts-title"
    >
      <div className="dash-charts-head">
        <h2 id="dash-charts-title" className="section-title">
          Resources and message rates
        </h2>
        <RangePicker range={range} />
      </div>
      {range === 'live' ? <LiveCharts names={names} /> : <HistoryCharts range={range} names={names} />}
    </section>
  );
}

function RangePicker({ range }: { range: ChartRange }) {
  return (
    <fieldset className="dash-range" data-testid="range-picker">
      <legend className="sr-only">Chart range</legend>
      <div className="segmented">
        {chartRanges.map((r) => (
          <label className="segment" key={r.id} title={r.title}>
            <input
              type="radio"
              name="dashboard-range"
              value={r.id}
              checked={range === r.id}
              onChange={() => setChartRange(r.id)}
              data-testid={`range-${r.id}`}
            />
            <span>{r.label}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function LiveCharts({ names }: { names: readonly string[] }) {
  // Redrawn once a point, at a lower priority than input and the rows.
  const at = useDeferredValue(useChartLiveStore((s) => s.drawnAt));
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const tables = useMemo((): Tables | null => {
    if (at === null) return null;
    const keys = (ring: (typeof liveRings)[keyof typeof liveRings], extra: string[] = []) =>
      [...names, ...extra].filter((k) => ring.hasData(k, at));
    return {
      cpu: liveRings.cpu.table(keys(liveRings.cpu), at),
      rss: liveRings.rss.table(keys(liveRings.rss), at, 1 / MB),
      rate: liveRings.rate.table(keys(liveRings.rate, [BUS_TOTAL_KEY]), at),
    };
  }, [at, names]);

  if (tables === null) {
    return (
      <p className="empty" data-testid="charts-waiting">
        {connected
          ? 'Waiting for the first metrics sample (one a second)…'
          : 'Not connected: the live charts start when the connection is back.'}
      </p>
    );
  }
  return (
    <>
      {!connected && (
        <p className="dash-note" data-testid="charts-stale">
          Not connected: these are the last figures received; the charts resume when the connection is back.
        </p>
      )}
      <ChartGrid tables={tables} names={names} domain={LIVE_DOMAIN} live />
    </>
  );
}

const resolutionWords = { raw: 'every sample', '1m': '1-minute rollups', '1h': 'hourly rollups' } as const;

function formatStep(ms: number): string {
  if (ms >= 3_600_000) return `${Math.round(ms / 3_600_000)} h`;
  if (ms >= 60_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 1000)} s`;
}

function stepOf(tables: Tables): number | null {
  let step = Infinity;
  for (const t of [tables.cpu, tables.rss, tables.rate]) {
    for (let i = 1; i < t.rows.length; i += 1) step = Math.min(step, t.rows[i]!.t - t.rows[i - 1]!.t);
  }
  return Number.isFinite(step) && step > 0 ? step : null;
}

function HistoryCharts({ range, names }: { range: HistoryRange; names: readonly string[] }) {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const shownRange = useChartHistoryStore((s) => s.range);
  const status = useChartHistoryStore((s) => s.status);
  const error = useChartHistoryStore((s) => s.error);
  const tables = useChartHistoryStore((s) => s.tables);
  const resolution = useChartHistoryStore((s) => s.resolution);
  const from = useChartHistoryStore((s) => s.from);
  const to = useChartHistoryStore((s) => s.to);

  const reload = useCallback(() => void loadHistory(api, range, names, Date.now()), [api, range, names]);
  useEffect(() => {
    if (!connected) return;
    reload();
    // History comes from no event: the shown range is read again about once per new point.
    const timer = setInterval(reload, historyRefreshMs[range]);
    return () => clearInterval(timer);
  }, [reload, connected, range]);

  const current = shownRange === range;
  const domain = useMemo(
    (): [number, number] => (from !== null && to !== null ? [from, to] : [0, historyRangeMs[range]]),
    [from, to, range],
  );
  const step = stepOf(tables);
  const nothing = tables.cpu.rows.length + tables.rss.rows.length + tables.rate.rows.length === 0;

  let body;
  if (!current || (status === 'loading' && nothing)) {
    body = (
      <p className="empty" data-testid="history-loading">
        Reading the last {rangeWords[range]} of history…
      </p>
    );
  } else if (status === 'error' && nothing) {
    body = null; // the error above says what happened and what to do
  } else if (nothing) {
    body = (
      <p className="empty" data-testid="history-empty">
        Nothing recorded in the last {rangeWords[range]} yet. Vigil records CPU, memory and the services&apos;
        own figures every few seconds while they run (Settings → Sampling sets how often); come back in a
        minute, or pick Live 5 min.
      </p>
    );
  } else {
    body = <ChartGrid tables={tables} names={names} domain={domain} live={false} />;
  }

  return (
    <>
      <div
        className="dash-history-status"
        data-testid="history-status"
        data-status={current ? status : 'loading'}
      >
        {status === 'loading' || !current ? (
          <span className="muted">Reading history…</span>
        ) : status === 'ready' && to !== null ? (
          <span className="muted">
            {step !== null && `a point every ${formatStep(step)} · `}
            {resolution !== null && `from ${resolutionWords[resolution]} · `}
            as of {formatTimeOfDay(to)}
          </span>
        ) : null}
        <button
          type="button"
          className="btn btn-small"
          onClick={reload}
          disabled={!connected || status === 'loading'}
          data-testid="history-refresh"
        >
          Refresh
        </button>
      </div>
      {status === 'error' && error && (
        <div className="dash-history-error">
          <ErrorNote error={error} testId="history-error" />
          <span className="muted">
            The history could not be read. Press Refresh to try again; if it keeps failing, the Events page
            and the log of Vigil itself say why.
          </span>
        </div>
      )}
      {!connected && (
        <p className="dash-note" data-testid="charts-stale">
          Not connected: history is read again when the connection is back.
        </p>
      )}
      {body}
    </>
  );
}

const rangeWords: Record<HistoryRange, string> = { '1h': 'hour', '24h': '24 hours', '7d': '7 days' };

function ChartGrid({
  tables,
  names,
  domain,
  live,
}: {
  tables: Tables;
  names: readonly string[];
  domain: readonly [number, number];
  live: boolean;
}) {
  const hidden = useDashboardViewStore((s) => s.hidden);
  const legendKeys = useMemo(() => {
    const present = new Set([...tables.cpu.keys, ...tables.rss.keys, ...tables.rate.keys]);
    return [...names, BUS_TOTAL_KEY].filter((k) => present.has(k));
  }, [tables, names]);
  const visible = useMemo(() => {
    const without = (t: SeriesTable): SeriesTable =>
      hidden.size === 0 ? t : { keys: t.keys.map((k) => (hidden.has(k) ? '' : k)), rows: t.rows };
    return { cpu: without(tables.cpu), rss: without(tables.rss), rate: without(tables.rate) };
  }, [tables, hidden]);
  const when = live ? 'in the last 5 minutes' : 'in this range';
  // Live, the three charts redraw in three separate tasks rather than one long one.
  const cpu = useStaggered(visible.cpu, live ? 0 : -1);
  const rss = useStaggered(visible.rss, live ? STAGGER_MS : -1);
  const rate = useStaggered(visible.rate, live ? 2 * STAGGER_MS : -1);
  return (
    <>
      <SeriesLegend keys={legendKeys} names={names} hidden={hidden} />
      <div className="dash-chart-grid">
        <TimeChart
          testId="chart-cpu"
          title="CPU"
          unit="% of one core"
          table={cpu}
          names={names}
          domain={domain}
          live={live}
          format={formatCpu}
          emptyText={`No CPU samples ${when}: start a service to see its CPU here.`}
        />
        <TimeChart
          testId="chart-memory"
          title="Memory"
          unit="whole process tree"
          table={rss}
          names={names}
          domain={domain}
          live={live}
          format={formatMegabytes}
          emptyText={`No memory samples ${when}: start a service to see its memory here.`}
        />
        <TimeChart
          testId="chart-rates"
          title="Message rates"
          unit={live ? 'per second · dashed: the bus' : 'collectors, per second'}
          table={rate}
          names={names}
          domain={domain}
          live={live}
          format={formatRate}
          emptyText={`No message rates ${when}: collectors report theirs while they run (add or start one in Services).`}
        />
      </div>
    </>
  );
}

/** Between the live charts' redraws: each is one commit of its own, so no frame holds all three. */
const STAGGER_MS = 120;

/** `value`, passed on `delayMs` after it changes (a negative delay: at once, in the same render). */
function useStaggered<T>(value: T, delayMs: number): T {
  const [held, setHeld] = useState(value);
  useEffect(() => {
    if (delayMs < 0) return;
    const timer = setTimeout(() => setHeld(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return delayMs < 0 ? value : held;
}

function SeriesLegend({
  keys,
  names,
  hidden,
}: {
  keys: readonly string[];
  names: readonly string[];
  hidden: ReadonlySet<string>;
}) {
  if (keys.length === 0) return null;
  return (
    <ul
      className="dash-legend"
      data-testid="chart-legend"
      aria-label="Series in the charts: press one to hide or show it"
    >
      {keys.map((key) => {
        const shown = !hidden.has(key);
        return (
          <li key={key}>
            <button
              type="button"
              className="dash-legend-item"
              aria-pressed={shown}
              title={`${shown ? 'Hide' : 'Show'} ${seriesLabel(key)} in the charts`}
              onClick={() => toggleSeries(key)}
              data-testid={`legend-${key}`}
            >
              <i
                className="dash-swatch"
                data-dashed={key === BUS_TOTAL_KEY}
                style={{ background: serviceColor(key, names) }}
                aria-hidden="true"
              />
              {seriesLabel(key)}
            </button>
          </li>
        );
      })}
    </ul>
  );
}
