/**
 * One instrument up close: best bid / ask / spread and the last trade (live, from the top-of-book
 * event), a price chart from the recorded candles plus the live mid, and where its venue collects
 * them funding, open interest, long/short, the volatility index (Deribit DVOL) and liquidations,
 * labelled sampled (Binance, OKX) or complete (Deribit). Recorded series are re-read every few seconds.
 */
import { useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import type { ApiErrorShape } from '../../../../shared/errors';
import type { Venue } from '../../../../shared/market';
import type { MarketSeriesResult, MarketValuePoint } from '../../../../shared/market-api';
import { liquidationCompleteness } from '../../../../shared/market-api';
import { useApi } from '../../connection-context';
import { formatDuration, formatTimestamp } from '../../lib/format';
import { formatBps, formatPrice, formatRate, formatSize } from '../../lib/market-health';
import { useConnectionStore } from '../../stores/connection';
import { chartRanges, useMarketSelection, type ChartRange } from '../../stores/market-selection';
import { useMarketTop } from '../../stores/market-top';
import { Age, Countdown } from '../Elapsed';
import { ErrorNote } from '../ErrorNote';
import { PriceChart, Sparkline } from './PriceChart';

/** How often the recorded series are re-read, by chart range. */
const refreshMs: Record<ChartRange, number> = { '15m': 5_000, '1h': 10_000, '24h': 60_000, '7d': 300_000 };
const MAX_POINTS = 300;

export interface SymbolChoice {
  venue: Venue;
  symbols: readonly string[];
  simulated: boolean;
}

interface SeriesState {
  key: string;
  result: MarketSeriesResult | null;
  error: ApiErrorShape | null;
}

export function SymbolPanel({ choices }: { choices: readonly SymbolChoice[] }) {
  const { venue: chosenVenue, symbol: chosenSymbol, range, select, setRange } = useMarketSelection();
  // The first collector's first symbol until the person picks one (in the matrix or here).
  const fallback = choices[0];
  const venue = chosenVenue ?? fallback?.venue ?? null;
  const symbol = chosenSymbol ?? fallback?.symbols[0] ?? null;
  const choice = choices.find((c) => c.venue === venue);

  if (!venue || !symbol || !fallback) {
    return (
      <section className="panel symbol-panel" data-testid="symbol-panel">
        <h2 className="section-title">Symbol</h2>
        <p className="empty" data-testid="symbol-empty">
          No collector configuration names a symbol: add symbols to a collector in Services to see its prices
          here.
        </p>
      </section>
    );
  }

  return (
    <section
      className="panel symbol-panel"
      data-testid="symbol-panel"
      data-venue={venue}
      data-symbol={symbol}
    >
      <div className="symbol-head">
        <h2 className="section-title">
          <span className="mono">{symbol}</span> on {venue}
          {choice?.simulated && <span className="tag">simulated</span>}
        </h2>
        <form className="filters symbol-pick" onSubmit={(e) => e.preventDefault()}>
          <label className="filter">
            <span className="filter-label">Venue</span>
            <select
              className="input"
              data-testid="symbol-venue"
              value={venue}
              onChange={(e) => {
                const c = choices.find((x) => x.venue === e.target.value);
                if (c?.symbols[0]) select(c.venue, c.symbols[0]);
              }}
            >
              {choices.map((c) => (
                <option key={c.venue} value={c.venue}>
                  {c.venue}
                </option>
              ))}
            </select>
          </label>
          <label className="filter">
            <span className="filter-label">Symbol</span>
            <select
              className="input"
              data-testid="symbol-select"
              value={symbol}
              onChange={(e) => select(venue, e.target.value)}
            >
              {(choice?.symbols ?? [symbol]).map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <label className="filter">
            <span className="filter-label">Chart</span>
            <select
              className="input"
              data-testid="chart-range"
              value={range}
              onChange={(e) => setRange(e.target.value as ChartRange)}
            >
              {chartRanges.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.label}
                </option>
              ))}
            </select>
          </label>
        </form>
      </div>
      <TopFigures venue={venue} symbol={symbol} />
      <SymbolSeries venue={venue} symbol={symbol} range={range} />
    </section>
  );
}

function TopFigures({ venue, symbol }: { venue: Venue; symbol: string }) {
  const top = useMarketTop(venue, symbol);
  if (!top) {
    return (
      <p className="empty top-empty" data-testid="top-empty">
        No top of book for {symbol} yet: it shows once its collector runs and its book is in sync. If its
        collector is stopped, start it in Services.
      </p>
    );
  }
  return (
    <>
      <div className="top-figures" data-testid="top-figures">
        <Figure label="Bid" testId="top-bid" tone="bid" sub={`${formatSize(top.bidSize)}`}>
          {formatPrice(top.bid)}
        </Figure>
        <Figure label="Ask" testId="top-ask" tone="ask" sub={`${formatSize(top.askSize)}`}>
          {formatPrice(top.ask)}
        </Figure>
        <Figure label="Spread" testId="top-spread" sub={formatBps(top.spreadBps)}>
          {formatPrice(top.spread, top.ask)}
        </Figure>
        <Figure
          label="Last trade"
          testId="top-last"
          sub={top.lastTs ? new Date(top.lastTs).toLocaleTimeString() : 'none seen yet'}
        >
          {top.last === null ? '—' : formatPrice(top.last)}
        </Figure>
      </div>
      <p className="muted top-age" data-testid="top-age">
        Top of book received <Age at={top.localTs} staleAfterMs={5_000} />, live while this page is open.
      </p>
    </>
  );
}

function Figure({
  label,
  testId,
  tone,
  sub,
  children,
}: {
  label: string;
  testId: string;
  tone?: 'bid' | 'ask';
  sub: string;
  children: string;
}) {
  return (
    <div className="figure" data-tone={tone}>
      <span className="figure-label">{label}</span>
      <span className="figure-value mono" data-testid={testId}>
        {children}
      </span>
      <span className="figure-sub muted">{sub}</span>
    </div>
  );
}

function SymbolSeries({ venue, symbol, range }: { venue: Venue; symbol: string; range: ChartRange }) {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const key = `${venue}|${symbol}|${range}`;
  const [state, setState] = useState<SeriesState>({ key, result: null, error: null });
  const current = state.key === key ? state : { key, result: null, error: null };

  useEffect(() => {
    if (!connected) return;
    let live = true;
    const rangeMs = chartRanges.find((r) => r.id === range)!.ms;
    const load = async (): Promise<void> => {
      const to = Date.now();
      const r = await api.market.series({ venue, symbol, from: to - rangeMs, to, maxPoints: MAX_POINTS });
      if (!live) return;
      setState((s) =>
        r.ok
          ? { key, result: r.result, error: null }
          : { key, result: s.key === key ? s.result : null, error: r.error },
      );
    };
    void load();
    const timer = setInterval(() => void load(), refreshMs[range]);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [api, connected, venue, symbol, range, key]);

  const { result, error } = current;
  return (
    <>
      {error && (
        <div className="feed-problem">
          <ErrorNote error={error} testId="series-error" />
          <p className="muted">
            {error.code === 'unavailable'
              ? `The recorded data of ${venue} could not be read: follow the advice above. The live figures above still work.`
              : 'The recorded series could not be read; they are tried again in a few seconds.'}
          </p>
        </div>
      )}
      {result ? (
        <>
          <PriceChart
            venue={venue}
            symbol={symbol}
            candles={result.candles?.points ?? []}
            bucketMs={result.bucketMs}
            from={result.from}
            to={result.to}
          />
          <p className="muted chart-note" data-testid="chart-resolution">
            {result.candles?.resolution === '1s' ? '1-second' : '1-minute'} candles, one point per{' '}
            {formatDuration(result.bucketMs)}
          </p>
          {result.notes.map((n) => (
            <p key={n} className="muted series-note" data-testid="series-note">
              {n}
            </p>
          ))}
          <Derivatives result={result} />
        </>
      ) : (
        !error && <p className="empty">Reading the recorded series…</p>
      )}
    </>
  );
}

function Derivatives({ result }: { result: MarketSeriesResult }) {
  const { funding, openInterest, longShort, dvol, liquidations } = result;
  if (!funding && !openInterest && !longShort && !dvol && !liquidations) {
    return (
      <p className="muted" data-testid="sym-spot">
        A spot market: no funding, open interest or liquidations.
      </p>
    );
  }
  const lastFunding = funding?.at(-1);
  return (
    <>
      <div className="deriv-grid">
        {funding && (
          <Metric
            label="Funding rate"
            testId="sym-funding"
            points={funding}
            empty="No funding recorded in this range."
          >
            {lastFunding && (
              <>
                <span className="metric-value mono">{formatRate(lastFunding.value)}</span>
                <span className="muted">
                  next funding <Countdown at={lastFunding.nextFundingTime} />
                  {lastFunding.markPrice !== null ? ` · mark ${formatPrice(lastFunding.markPrice)}` : ''}
                </span>
              </>
            )}
          </Metric>
        )}
        {openInterest && (
          <Metric
            label={`Open interest (${openInterest.unit === 'usd' ? 'USD' : 'base currency'})`}
            testId="sym-oi"
            points={openInterest.points}
            empty="No open interest recorded in this range."
          >
            <LastValue points={openInterest.points} format={formatSize} />
          </Metric>
        )}
        {longShort && (
          <Metric
            label="Long/short accounts"
            testId="sym-lsr"
            points={longShort}
            empty="No long/short ratio in this range (it comes per 5 minutes)."
          >
            <LastValue points={longShort} format={(v) => v.toFixed(3)} />
          </Metric>
        )}
        {dvol && (
          <Metric
            label={`DVOL ${dvol.symbol} (volatility index)`}
            testId="sym-dvol"
            points={dvol.points}
            empty={`No DVOL of ${dvol.symbol} recorded in this range.`}
          >
            <LastValue points={dvol.points} format={(v) => v.toFixed(2)} />
            {dvol.source !== 'none' && (
              <span className="muted">{dvol.source === 'bars' ? '60 s bars' : 'live'}</span>
            )}
          </Metric>
        )}
      </div>
      {liquidations && <Liquidations venue={result.venue} liquidations={liquidations} />}
    </>
  );
}

function Metric({
  label,
  testId,
  points,
  empty,
  children,
}: {
  label: string;
  testId: string;
  points: readonly MarketValuePoint[];
  empty: string;
  children: ReactNode;
}) {
  return (
    <div className="metric" data-testid={testId} data-points={points.length}>
      <span className="figure-label">{label}</span>
      {points.length === 0 ? (
        <span className="muted">{empty}</span>
      ) : (
        <>
          <span className="metric-line">{children}</span>
          <Sparkline points={points} testId={`${testId}-spark`} />
        </>
      )}
    </div>
  );
}

function LastValue({
  points,
  format,
}: {
  points: readonly MarketValuePoint[];
  format: (v: number) => string;
}) {
  const last = points.at(-1);
  if (!last) return null;
  return (
    <>
      <span className="metric-value mono">{format(last.value)}</span>
      <span className="muted">at {new Date(last.ts).toLocaleTimeString()}</span>
    </>
  );
}

function Liquidations({
  venue,
  liquidations,
}: {
  venue: Venue;
  liquidations: NonNullable<MarketSeriesResult['liquidations']>;
}) {
  const completeness = liquidations.completeness ?? liquidationCompleteness(venue);
  const totals = liquidations.buckets.reduce(
    (t, b) => ({ sells: t.sells + b.sells, buys: t.buys + b.buys }),
    { sells: 0, buys: 0 },
  );
  return (
    <div className="liquidations" data-testid="sym-liquidations" data-completeness={completeness}>
      <div className="liq-head">
        <span className="figure-label">Liquidations</span>
        <span className="liq-label" data-testid="liquidations-label" data-completeness={completeness}>
          {completeness}
        </span>
        <span className="muted">
          {completeness === 'sampled'
            ? 'The exchange publishes a sample (at most one per symbol per second), not every liquidation.'
            : 'Every liquidation, from Deribit’s complete trade tape.'}
        </span>
      </div>
      {liquidations.recent.length === 0 ? (
        <p className="muted">None in this range.</p>
      ) : (
        <>
          <p className="muted">
            In this range: {totals.sells} long{totals.sells === 1 ? '' : 's'} and {totals.buys} short
            {totals.buys === 1 ? '' : 's'} liquidated
            {liquidations.truncated
              ? ` (counted since ${formatTimestamp(liquidations.coveredFrom)} only)`
              : ''}
            .
          </p>
          <ul className="liq-list">
            {liquidations.recent.slice(0, 8).map((l) => (
              <li key={`${l.ts}-${l.side}-${l.price}-${l.size}`} data-side={l.side}>
                <span className="mono">{new Date(l.ts).toLocaleTimeString()}</span>
                <span className="liq-side">{l.side === 'sell' ? 'long liquidated' : 'short liquidated'}</span>
                <span className="mono">
                  {formatSize(l.size)} @ {formatPrice(l.price)}
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
