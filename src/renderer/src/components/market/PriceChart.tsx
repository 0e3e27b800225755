/**
 * The chosen symbol's price: the recorded candles' closes (1 s or 1 m, downsampled by the API) and
 * the live mid from the top of book, drawn with recharts without animation. The live line is read
 * from a ring buffer outside React state and redrawn once a second, not at every top.
 */
import { memo, useMemo } from 'react';
import { Line, LineChart, CartesianGrid, Tooltip, XAxis, YAxis } from 'recharts';
import type { MarketCandle, MarketValuePoint } from '../../../../shared/market-api';
import { useNow } from '../../lib/clock';
import { formatPrice } from '../../lib/market-health';
import { midHistory, type MidPoint } from '../../stores/market-top';
import { axisTick, tooltipStyle } from '../../lib/chart-style';

/** Points per line at most, whatever the range. */
const MAX_POINTS = 300;

function thin<T>(points: readonly T[], max = MAX_POINTS): T[] {
  if (points.length <= max) return [...points];
  const step = points.length / max;
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(points[Math.floor(i * step)]!);
  out.push(points.at(-1)!);
  return out;
}

const pad = (n: number) => String(n).padStart(2, '0');
function tick(t: number, rangeMs: number): string {
  const d = new Date(t);
  if (rangeMs > 2 * 86_400_000) return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}h`;
  if (rangeMs > 3_600_000) return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export const PriceChart = memo(function PriceChart({
  venue,
  symbol,
  candles,
  bucketMs,
  from,
  to,
}: {
  venue: string;
  symbol: string;
  candles: readonly MarketCandle[];
  bucketMs: number;
  from: number;
  to: number;
}) {
  // The live line redraws once a second: the ring buffer fills at the top's rate, the chart does not.
  const now = useNow();
  const closes = useMemo<MidPoint[]>(
    () => thin(candles.map((c) => ({ t: Math.min(c.at + bucketMs, to), v: c.close }))),
    [candles, bucketMs, to],
  );
  const mids = useMemo(() => thin(midHistory(venue, symbol, from, now + 5000)), [venue, symbol, from, now]);
  // Less data than the range (a collector started recently): the chart spans what there is.
  const first = Math.min(closes[0]?.t ?? Infinity, mids[0]?.t ?? Infinity);
  const end = Math.max(to, now);
  const domain: [number, number] = [Math.max(from, Math.min(first, end - 60_000)), end];
  const points = closes.length + mids.length;
  return (
    <figure
      className="market-chart"
      data-testid="price-chart"
      data-points={points}
      data-candles={closes.length}
      data-live={mids.length}
    >
      <figcaption className="market-chart-title">
        <span className="legend-swatch legend-close" aria-hidden="true" /> candle close
        <span className="legend-swatch legend-mid" aria-hidden="true" /> live mid (top of book)
      </figcaption>
      {points === 0 ? (
        <p className="market-chart-empty" data-testid="price-chart-empty">
          No prices yet for {symbol}: candles appear once its collector has recorded trades, the live line
          once its book is in sync.
        </p>
      ) : (
        <LineChart
          responsive
          style={{ width: '100%', height: 240 }}
          margin={{ top: 8, right: 10, bottom: 0, left: 0 }}
        >
          <CartesianGrid stroke="var(--border)" strokeDasharray="2 4" vertical={false} />
          <XAxis
            dataKey="t"
            type="number"
            scale="time"
            domain={domain}
            allowDataOverflow
            tickFormatter={(t: number) => tick(t, domain[1] - domain[0])}
            tick={axisTick}
            stroke="var(--border-strong)"
            minTickGap={56}
          />
          <YAxis
            dataKey="v"
            domain={['auto', 'auto']}
            tickFormatter={(v: number) => formatPrice(v)}
            tick={axisTick}
            stroke="var(--border-strong)"
            width={84}
          />
          <Tooltip
            isAnimationActive={false}
            contentStyle={tooltipStyle}
            labelFormatter={(label) =>
              typeof label === 'number' ? new Date(label).toLocaleTimeString() : label
            }
            formatter={(value) => (typeof value === 'number' ? formatPrice(value) : String(value ?? '—'))}
          />
          <Line
            data={closes}
            dataKey="v"
            name="close"
            stroke="var(--accent)"
            strokeWidth={1.5}
            dot={false}
            type="linear"
            isAnimationActive={false}
          />
          <Line
            data={mids}
            dataKey="v"
            name="mid"
            stroke="var(--tone-ok)"
            strokeWidth={1.2}
            strokeDasharray="4 3"
            dot={false}
            type="linear"
            isAnimationActive={false}
          />
        </LineChart>
      )}
    </figure>
  );
});

/** A small line of one series (funding, open interest, DVOL), no axes: the trend at a glance. */
export const Sparkline = memo(function Sparkline({
  points,
  testId,
}: {
  points: readonly MarketValuePoint[];
  testId: string;
}) {
  const data = useMemo(
    () =>
      thin(
        points.map((p) => ({ t: p.at, v: p.value })),
        120,
      ),
    [points],
  );
  if (data.length < 2) return null;
  return (
    <div className="sparkline" data-testid={testId} data-points={data.length}>
      <LineChart
        responsive
        style={{ width: '100%', height: 34 }}
        data={data}
        margin={{ top: 2, right: 2, bottom: 2, left: 2 }}
      >
        <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} hide />
        <YAxis domain={['auto', 'auto']} hide />
        <Line dataKey="v" stroke="var(--accent)" strokeWidth={1.2} dot={false} isAnimationActive={false} />
      </LineChart>
    </div>
  );
});
