/**
 * The trader's equity and P&L charts (recharts, no animation): live, the last 10 minutes from the
 * trader's own snapshots in a bounded ring (a point every 2 s, redrawn once a point, on a fixed
 * relative time axis, as the Dashboard's charts), or since it first ran, from its recorded equity
 * curve (read again every 15 s while shown).
 */
import { memo, useCallback, useDeferredValue, useEffect, useMemo, useState, type ReactNode } from 'react';
import { CartesianGrid, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import type { ApiErrorShape } from '../../../../shared/errors';
import type { TraderSnapshot } from '../../../../shared/trader-api';
import {
  historyRows,
  type ChartSeries,
  type TraderChartRow,
} from '../../../../shared/trader-ui/chart-buffer';
import { formatMoney, formatSignedMoney } from '../../../../shared/trader-ui/format';
import { useApi } from '../../connection-context';
import { formatTick } from '../../lib/dashboard-format';
import { formatTimestamp } from '../../lib/format';
import { useConnectionStore } from '../../stores/connection';
import { CHART_WINDOW_MS, chartRing, seedChart, useTraderStore } from '../../stores/trader';
import { ErrorNote } from '../ErrorNote';
import { lineShape } from '../dashboard/LineShape';
import { agoTick, axisTick, tooltipStyle } from '../../lib/chart-style';

type Range = 'live' | 'all';
const LIVE_DOMAIN: readonly [number, number] = [-CHART_WINDOW_MS, 0];
const HISTORY_REFRESH_MS = 15_000;
const HISTORY_POINTS = 400;
/** A gap shorter than this is the trader reporting nothing new (its equity recorded every 5 s), not a stop. */
const HOLD_MS = 12_000;

interface SeriesSpec {
  key: ChartSeries;
  label: string;
  color: string;
  dash?: string;
}

const equitySeries: readonly SeriesSpec[] = [{ key: 'equity', label: 'Equity', color: 'var(--accent)' }];
const pnlSeries: readonly SeriesSpec[] = [
  { key: 'total', label: 'Total (equity − initial)', color: 'var(--accent)' },
  { key: 'realized', label: 'Realized', color: 'var(--tone-ok)' },
  { key: 'unrealized', label: 'Unrealized', color: 'var(--tone-transition)', dash: '5 3' },
];

export function TraderCharts({ name, snapshot }: { name: string; snapshot: TraderSnapshot }) {
  // Live while it runs, its recorded curve while stopped, until the person picks one.
  const [picked, setRange] = useState<Range | null>(null);
  const range = picked ?? (snapshot.running ? 'live' : 'all');
  return (
    <section
      className="panel trader-charts"
      data-testid="trader-charts"
      data-range={range}
      aria-labelledby="trader-charts-title"
    >
      <div className="trader-panel-head">
        <h2 id="trader-charts-title" className="section-title">
          Equity and P&amp;L
        </h2>
        <fieldset className="trader-range">
          <legend className="sr-only">Chart range</legend>
          <div className="segmented">
            {(
              [
                ['live', 'Live 10 min', 'The last 10 minutes from the running trader'],
                ['all', 'Since start', 'The recorded equity curve since the trader first ran'],
              ] as const
            ).map(([id, label, title]) => (
              <label className="segment" key={id} title={title}>
                <input
                  type="radio"
                  name={`trader-range-${name}`}
                  value={id}
                  checked={range === id}
                  onChange={() => setRange(id)}
                  data-testid={`trader-range-${id}`}
                />
                <span>{label}</span>
              </label>
            ))}
          </div>
        </fieldset>
      </div>
      {range === 'live' ? (
        <LiveCharts name={name} running={snapshot.running} />
      ) : (
        <HistoryCharts name={name} initialEquity={snapshot.account.initialEquity} />
      )}
    </section>
  );
}

function LiveCharts({ name, running }: { name: string; running: boolean }) {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const at = useDeferredValue(useTraderStore((s) => s.drawnAt[name]));
  const seeds = useTraderStore((s) => s.seeds);
  useEffect(() => {
    if (connected) void seedChart(api, name, Date.now());
  }, [api, name, connected]);
  const rows = useMemo(
    () => (at === undefined ? null : chartRing(name).rows(at, HOLD_MS)),
    // `seeds`: recorded points were put into the ring (same time, new data).
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [name, at, seeds],
  );
  const points = rows?.filter((r) => r.equity !== null).length ?? 0;
  if (rows === null || points === 0) {
    return (
      <p className="empty" data-testid="trader-charts-waiting">
        {running
          ? 'Waiting for the trader’s first figures (it reports a few times a second)…'
          : 'Not running: nothing in the last 10 minutes. Pick “Since start” for its recorded equity curve.'}
      </p>
    );
  }
  return (
    <div className="trader-chart-grid">
      <TraderChart
        title="Equity"
        rows={rows}
        series={equitySeries}
        live
        testId="trader-chart-equity"
        points={points}
      />
      <TraderChart
        title="P&L"
        rows={rows}
        series={pnlSeries}
        live
        testId="trader-chart-pnl"
        points={points}
        zero
      />
    </div>
  );
}

function HistoryCharts({ name, initialEquity }: { name: string; initialEquity: number }) {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const [rows, setRows] = useState<TraderChartRow[] | null>(null);
  const [error, setError] = useState<ApiErrorShape | null>(null);
  useEffect(() => {
    if (!connected) return;
    let live = true;
    const read = (): void => {
      void api.trader.equity({ name, maxPoints: HISTORY_POINTS }).then((r) => {
        if (!live) return;
        if (r.ok) {
          setRows(historyRows(r.result, initialEquity));
          setError(null);
        } else setError(r.error);
      });
    };
    read();
    const timer = setInterval(read, HISTORY_REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [api, name, initialEquity, connected]);
  const points = rows?.filter((r) => r.equity !== null).length ?? 0;
  if (error && rows === null) return <ErrorNote error={error} testId="trader-history-error" />;
  if (rows === null) return <p className="muted">Reading the recorded equity curve…</p>;
  if (points === 0) {
    return (
      <p className="empty" data-testid="trader-history-empty">
        Nothing recorded yet: a running trader records its equity every 5 seconds.
      </p>
    );
  }
  return (
    <div className="trader-chart-grid">
      <TraderChart
        title="Equity"
        rows={rows}
        series={equitySeries}
        live={false}
        testId="trader-chart-equity"
        points={points}
      />
      <TraderChart
        title="P&L"
        rows={rows}
        series={pnlSeries}
        live={false}
        testId="trader-chart-pnl"
        points={points}
        zero
      />
    </div>
  );
}

const chartStyle = { width: '100%', height: 200 };
const chartMargin = { top: 6, right: 14, bottom: 0, left: 0 };
const yDomain: ['auto', 'auto'] = ['auto', 'auto'];
const liveTicks = (() => {
  const ticks: number[] = [];
  for (let t = 0; t >= -CHART_WINDOW_MS; t -= 120_000) ticks.unshift(t);
  return ticks;
})();
const tooltipLabel = (label: ReactNode, payload: readonly { payload?: unknown }[]): ReactNode => {
  const row = payload[0]?.payload as TraderChartRow | undefined;
  const at = row?.at ?? label;
  return typeof at === 'number' ? formatTimestamp(at) : label;
};

/** One chart, memoized on its rows: it redraws only when they change (once a bucket when live). */
const TraderChart = memo(function TraderChart({
  title,
  rows,
  series,
  live,
  testId,
  points,
  zero = false,
}: {
  title: string;
  rows: readonly TraderChartRow[];
  series: readonly SeriesSpec[];
  live: boolean;
  testId: string;
  points: number;
  /** Mark the zero line (P&L). */
  zero?: boolean;
}) {
  // One argument only: recharts passes a tick's index second, which is not a number of decimals.
  const format = useCallback((v: number) => (zero ? formatSignedMoney(v) : formatMoney(v)), [zero]);
  const domain = useMemo(
    (): readonly [number, number] => (live ? LIVE_DOMAIN : [rows[0]?.t ?? 0, rows.at(-1)?.t ?? 1]),
    [live, rows],
  );
  const span = domain[1] - domain[0];
  const tickFormatter = useCallback((t: number) => (live ? agoTick(t) : formatTick(t, span)), [live, span]);
  const tooltipValue = useCallback(
    (value: unknown) => (typeof value === 'number' ? format(value) : String(value ?? '—')),
    [format],
  );
  const last = [...rows].reverse().find((r) => r[series[0]!.key] !== null);
  return (
    <figure className="trader-chart" data-testid={testId} data-points={points} data-live={live}>
      <figcaption className="trader-chart-title">
        {title}
        <span className="trader-legend">
          {series.map((s) => (
            <span key={s.key} className="trader-legend-item">
              <span
                className="trader-swatch"
                style={{ borderColor: s.color, borderStyle: s.dash ? 'dashed' : 'solid' }}
                aria-hidden="true"
              />
              {s.label}
              {last && <span className="num muted"> {format(last[s.key] ?? Number.NaN)}</span>}
            </span>
          ))}
        </span>
      </figcaption>
      <LineChart
        responsive
        style={chartStyle}
        data={rows as unknown as Record<string, unknown>[]}
        margin={chartMargin}
        title={`${title}, ${live ? 'the last 10 minutes' : 'since the trader first ran'}`}
      >
        <CartesianGrid stroke="var(--border)" strokeDasharray="2 4" vertical={false} />
        <XAxis
          dataKey="t"
          type="number"
          scale={live ? 'linear' : 'time'}
          domain={domain as [number, number]}
          ticks={live ? liveTicks : undefined}
          interval={live ? 0 : 'preserveStartEnd'}
          minTickGap={live ? undefined : 48}
          tickFormatter={tickFormatter}
          tick={axisTick}
          stroke="var(--border-strong)"
        />
        <YAxis
          tickFormatter={format}
          tick={axisTick}
          stroke="var(--border-strong)"
          width={76}
          domain={yDomain}
        />
        <Tooltip
          isAnimationActive={false}
          contentStyle={tooltipStyle}
          labelFormatter={tooltipLabel}
          formatter={tooltipValue}
        />
        {zero && <ReferenceLine y={0} stroke="var(--text-dim)" strokeDasharray="3 3" />}
        {series.map((s) => (
          <Line
            key={s.key}
            dataKey={s.key}
            name={s.label}
            stroke={s.color}
            strokeWidth={1.5}
            strokeDasharray={s.dash}
            dot={false}
            activeDot={live ? false : { r: 3 }}
            type="linear"
            connectNulls={false}
            isAnimationActive={false}
            shape={lineShape}
          />
        ))}
      </LineChart>
    </figure>
  );
});
