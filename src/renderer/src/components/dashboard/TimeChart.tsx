/**
 * One time chart (recharts): a line per series in its service's colour, no animation, a fixed time
 * domain. Memoized on its table, so it redraws only when its data did; the axes' and lines' props keep
 * their identity between redraws, so recharts recomputes the lines' points and nothing else.
 */
import { memo, useCallback, useMemo, type ReactNode } from 'react';
import { CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { BUS_TOTAL_KEY, seriesLabel, serviceColor } from '../../lib/dashboard-colors';
import { formatTick, formatTooltipTime, timeTicks } from '../../lib/dashboard-format';
import { seriesField, type ChartRow, type SeriesTable } from '../../lib/dashboard-series';
import { lineShape } from './LineShape';
import { agoTick, axisTick, tooltipStyle } from '../../lib/chart-style';

export interface TimeChartProps {
  title: string;
  /** Says what the figures are, under the title. */
  unit: string;
  /** Its series; an empty key is a hidden series (not drawn). */
  table: SeriesTable;
  /** The services in list order: decides each series' colour. */
  names: readonly string[];
  /** Of the rows' `t`: times, or for live charts milliseconds before the newest point. */
  domain: readonly [number, number];
  /**
   * Redrawn every few seconds, on a time axis relative to the newest point (the axis then never
   * changes, and recharts draws each redraw once, not again for a new axis); no dot follows the pointer.
   */
  live: boolean;
  format: (value: number) => string;
  /** What to say when there is nothing to draw. */
  emptyText: string;
  testId: string;
}

const chartStyle = { width: '100%', height: 180 };
const chartMargin = { top: 6, right: 8, bottom: 0, left: 0 };
/** Room for the "now" under the live axis' last tick. */
const liveMargin = { ...chartMargin, right: 14 };
const yDomain: [number, 'auto'] = [0, 'auto'];
const activeDot = { r: 3 };
/** The time of the row under the pointer (a live row's `t` is relative: its `at` is the time). */
const tooltipLabel = (label: ReactNode, payload: readonly { payload?: unknown }[]): ReactNode => {
  const row = payload[0]?.payload as ChartRow | undefined;
  const at = row?.at ?? label;
  return typeof at === 'number' ? formatTooltipTime(at) : label;
};
/** Every minute of a live domain. */
function minuteTicks(from: number, to: number): number[] {
  const ticks: number[] = [];
  for (let t = to; t >= from; t -= 60_000) ticks.unshift(t);
  return ticks;
}

export const TimeChart = memo(function TimeChart({
  title,
  unit,
  table,
  names,
  domain,
  live,
  format,
  emptyText,
  testId,
}: TimeChartProps) {
  // A hidden series keeps its place (its rows are shared) with an empty key.
  const shown = table.keys.filter((k) => k !== '').length;
  const empty = shown === 0 || table.rows.length === 0;
  const rangeMs = domain[1] - domain[0];
  const ticks = useMemo(
    () => (live ? minuteTicks(domain[0], domain[1]) : timeTicks(domain[0], domain[1])),
    [domain, live],
  );
  const tickFormatter = useCallback(
    (t: number) => (live ? agoTick(t) : formatTick(t, rangeMs)),
    [live, rangeMs],
  );
  const tooltipValue = useCallback(
    (value: unknown) => (typeof value === 'number' ? format(value) : String(value ?? '—')),
    [format],
  );
  // The same elements while the series are the same: recharts then skips its per-line bookkeeping.
  const keySignature = table.keys.join('\u0000');
  const lines = useMemo(
    () =>
      keySignature
        .split('\u0000')
        .map((key, i) =>
          key === '' ? null : (
            <Line
              key={key}
              dataKey={seriesField(i)}
              name={seriesLabel(key)}
              stroke={serviceColor(key, names)}
              strokeWidth={1.5}
              strokeDasharray={key === BUS_TOTAL_KEY ? '5 3' : undefined}
              dot={false}
              activeDot={live ? false : activeDot}
              type="linear"
              connectNulls={false}
              isAnimationActive={false}
              shape={lineShape}
            />
          ),
        ),
    [keySignature, names, live],
  );
  return (
    <figure
      className="panel dash-chart"
      data-testid={testId}
      data-series={shown}
      data-points={table.rows.length}
      data-empty={empty}
    >
      <figcaption className="dash-chart-title">
        {title} <span className="muted">{unit}</span>
      </figcaption>
      {empty ? (
        <p className="dash-chart-empty" data-testid={`${testId}-empty`}>
          {shown === 0 && table.keys.length > 0 && table.rows.length > 0
            ? 'Every series of this chart is hidden: press one in the legend above to show it.'
            : emptyText}
        </p>
      ) : (
        <LineChart
          responsive
          style={chartStyle}
          data={table.rows as unknown as Record<string, unknown>[]}
          margin={live ? liveMargin : chartMargin}
          title={title}
        >
          <CartesianGrid stroke="var(--border)" strokeDasharray="2 4" vertical={false} />
          <XAxis
            dataKey="t"
            type="number"
            scale={live ? 'linear' : 'time'}
            domain={domain}
            allowDataOverflow={!live}
            ticks={ticks}
            interval={0}
            tickFormatter={tickFormatter}
            tick={axisTick}
            stroke="var(--border-strong)"
          />
          <YAxis
            tickFormatter={format}
            tick={axisTick}
            stroke="var(--border-strong)"
            width={64}
            domain={yDomain}
            allowDecimals
          />
          <Tooltip
            isAnimationActive={false}
            contentStyle={tooltipStyle}
            labelFormatter={tooltipLabel}
            formatter={tooltipValue}
          />
          {lines}
        </LineChart>
      )}
    </figure>
  );
});
