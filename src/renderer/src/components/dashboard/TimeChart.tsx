/**
 * One time chart (recharts): a line per series in its service's colour, no animation, a fixed time
 * domain. Memoized on its table, so it redraws only when its data did.
 */
import { memo, useMemo } from 'react';
import { CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { BUS_TOTAL_KEY, seriesLabel, serviceColor } from '../../lib/dashboard-colors';
import { formatTick, formatTooltipTime, timeTicks } from '../../lib/dashboard-format';
import { seriesField, type SeriesTable } from '../../lib/dashboard-series';

export interface TimeChartProps {
  title: string;
  /** Says what the figures are, under the title. */
  unit: string;
  /** Its series; an empty key is a hidden series (not drawn). */
  table: SeriesTable;
  /** The services in list order: decides each series' colour. */
  names: readonly string[];
  domain: [number, number];
  format: (value: number) => string;
  /** What to say when there is nothing to draw. */
  emptyText: string;
  testId: string;
}

const axisTick = { fontSize: 11, fill: 'var(--text-muted)' };
const tooltipStyle = {
  background: 'var(--bg-raised)',
  border: '1px solid var(--border-strong)',
  borderRadius: 4,
  fontSize: 12,
  color: 'var(--text)',
};

export const TimeChart = memo(function TimeChart({
  title,
  unit,
  table,
  names,
  domain,
  format,
  emptyText,
  testId,
}: TimeChartProps) {
  // A hidden series keeps its place (its rows are shared) with an empty key.
  const shown = table.keys.filter((k) => k !== '').length;
  const empty = shown === 0 || table.rows.length === 0;
  const rangeMs = domain[1] - domain[0];
  const ticks = useMemo(() => timeTicks(domain[0], domain[1]), [domain]);
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
          style={{ width: '100%', height: 180 }}
          data={table.rows as unknown as Record<string, unknown>[]}
          margin={{ top: 6, right: 8, bottom: 0, left: 0 }}
          title={title}
        >
          <CartesianGrid stroke="var(--border)" strokeDasharray="2 4" vertical={false} />
          <XAxis
            dataKey="t"
            type="number"
            scale="time"
            domain={domain}
            allowDataOverflow
            ticks={ticks}
            interval={0}
            tickFormatter={(t: number) => formatTick(t, rangeMs)}
            tick={axisTick}
            stroke="var(--border-strong)"
          />
          <YAxis
            tickFormatter={(v: number) => format(v)}
            tick={axisTick}
            stroke="var(--border-strong)"
            width={64}
            domain={[0, 'auto']}
            allowDecimals
          />
          <Tooltip
            isAnimationActive={false}
            contentStyle={tooltipStyle}
            labelFormatter={(label) => (typeof label === 'number' ? formatTooltipTime(label) : label)}
            formatter={(value) => (typeof value === 'number' ? format(value) : String(value ?? '—'))}
          />
          {table.keys.map((key, i) =>
            key === '' ? null : (
              <Line
                key={key}
                dataKey={seriesField(i)}
                name={seriesLabel(key)}
                stroke={serviceColor(key, names)}
                strokeWidth={1.5}
                strokeDasharray={key === BUS_TOTAL_KEY ? '5 3' : undefined}
                dot={false}
                activeDot={{ r: 3 }}
                type="linear"
                connectNulls={false}
                isAnimationActive={false}
              />
            ),
          )}
        </LineChart>
      )}
    </figure>
  );
});
