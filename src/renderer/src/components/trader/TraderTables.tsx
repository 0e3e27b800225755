/**
 * What the trader holds and does now, from its snapshot: the account's figures, positions, working
 * orders and the market data it trades on (with each symbol's freshness).
 */
import type { ReactNode } from 'react';
import type { TraderSnapshot } from '../../../../shared/trader-api';
import {
  formatMoney,
  formatPrice,
  formatQty,
  formatSignedMoney,
  formatSignedPercent,
  orderStatusWords,
  pnlTone,
  positionWords,
} from '../../../../shared/trader-ui/format';
import { formatAge, formatTimestamp } from '../../lib/format';
import { useNow } from '../../lib/clock';

function Pnl({ value, testId }: { value: number; testId?: string }) {
  return (
    <span className="num pnl" data-tone={pnlTone(value)} data-testid={testId}>
      {formatSignedMoney(value)}
    </span>
  );
}

export function AccountFigures({ s }: { s: TraderSnapshot }) {
  const a = s.account;
  const figures: { label: string; id: string; value: ReactNode; hint?: string }[] = [
    { label: 'Equity', id: 'equity', value: <span className="num">{formatMoney(a.equity)}</span> },
    {
      label: 'Day P&L',
      id: 'day-pnl',
      value: (
        <>
          <Pnl value={a.dayPnl} testId="trader-day-pnl-value" />{' '}
          <span className="muted num">{formatSignedPercent(a.dayPnl, a.dayStartEquity)}</span>
        </>
      ),
      hint: `since 00:00 UTC, from ${formatMoney(a.dayStartEquity)}`,
    },
    {
      label: 'Total P&L',
      id: 'total-pnl',
      value: <Pnl value={a.equity - a.initialEquity} />,
      hint: `from ${formatMoney(a.initialEquity)}`,
    },
    { label: 'Realized', id: 'realized', value: <Pnl value={a.realizedPnl} /> },
    { label: 'Unrealized', id: 'unrealized', value: <Pnl value={a.unrealizedPnl} /> },
    { label: 'Cash', id: 'cash', value: <span className="num">{formatMoney(a.cash)}</span> },
    { label: 'Fees paid', id: 'fees', value: <span className="num">{formatMoney(a.fees)}</span> },
  ];
  const c = s.counters;
  return (
    <section className="panel trader-account" data-testid="trader-account" aria-label="Account">
      <dl className="trader-figures">
        {figures.map((f) => (
          <div key={f.id} className="trader-figure" data-testid={`trader-${f.id}`}>
            <dt>{f.label}</dt>
            <dd>{f.value}</dd>
            {f.hint && <dd className="trader-figure-hint muted">{f.hint}</dd>}
          </div>
        ))}
      </dl>
      <p
        className="trader-counters muted"
        data-testid="trader-counters"
        data-orders={c.orders}
        data-fills={c.fills}
      >
        {c.ticks.toLocaleString('en')} ticks · {c.decisions.toLocaleString('en')} decisions ·{' '}
        {c.orders.toLocaleString('en')} orders · {c.fills.toLocaleString('en')} fills ·{' '}
        {c.rejected.toLocaleString('en')} rejected
        {s.lastDecision && (
          <>
            {' '}
            · last decision {formatTimestamp(s.lastDecision.at)}: {s.lastDecision.symbol} target{' '}
            {s.lastDecision.target.toFixed(2)} ({s.lastDecision.reason})
          </>
        )}
      </p>
    </section>
  );
}

export function PositionsTable({ s }: { s: TraderSnapshot }) {
  const open = s.positions.filter((p) => p.qty !== 0);
  return (
    <section
      className="panel"
      data-testid="trader-positions"
      data-open={open.length}
      aria-labelledby="trader-positions-title"
    >
      <h2 id="trader-positions-title" className="section-title">
        Positions
      </h2>
      {open.length === 0 ? (
        <p className="muted trader-none" data-testid="trader-positions-none">
          Flat: no open position.
          {s.running && s.blocks.length === 0 && ' The strategy opens one when it decides to.'}
        </p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">symbol</th>
                <th scope="col">position</th>
                <th scope="col" className="num">
                  avg price
                </th>
                <th scope="col" className="num">
                  mark
                </th>
                <th scope="col" className="num">
                  notional
                </th>
                <th scope="col" className="num">
                  unrealized
                </th>
                <th scope="col" className="num">
                  realized
                </th>
                <th scope="col" className="num">
                  fees
                </th>
              </tr>
            </thead>
            <tbody>
              {open.map((p) => (
                <tr key={p.symbol} data-testid={`trader-position-${p.symbol}`} data-qty={p.qty}>
                  <td className="name">{p.symbol}</td>
                  <td className="num">{positionWords(p.qty)}</td>
                  <td className="num">{formatPrice(p.avgPrice)}</td>
                  <td className="num">{formatPrice(p.mark)}</td>
                  <td className="num">{p.mark === null ? '—' : formatMoney(Math.abs(p.qty) * p.mark)}</td>
                  <td className="num">
                    <Pnl value={p.unrealizedPnl} />
                  </td>
                  <td className="num">
                    <Pnl value={p.realizedPnl} />
                  </td>
                  <td className="num">{formatMoney(p.fees)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function WorkingOrdersTable({ s }: { s: TraderSnapshot }) {
  const orders = s.workingOrders;
  return (
    <section
      className="panel"
      data-testid="trader-working"
      data-count={orders.length}
      aria-labelledby="trader-working-title"
    >
      <h2 id="trader-working-title" className="section-title">
        Working orders
      </h2>
      {orders.length === 0 ? (
        <p className="muted trader-none" data-testid="trader-working-none">
          None working: paper orders fill after the configured latency.
        </p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">order</th>
                <th scope="col">symbol</th>
                <th scope="col">side</th>
                <th scope="col" className="num">
                  qty
                </th>
                <th scope="col" className="num">
                  filled
                </th>
                <th scope="col">status</th>
                <th scope="col">why</th>
                <th scope="col">sent</th>
              </tr>
            </thead>
            <tbody>
              {orders.map((o) => (
                <tr key={o.clientOrderId} data-testid="trader-working-order" data-id={o.clientOrderId}>
                  <td className="mono">{o.clientOrderId}</td>
                  <td className="name">{o.symbol}</td>
                  <td className="trader-side" data-side={o.side}>
                    {o.side}
                    {o.reduceOnly && <span className="muted"> (reduce only)</span>}
                  </td>
                  <td className="num">{formatQty(o.qty)}</td>
                  <td className="num">{formatQty(o.filledQty)}</td>
                  <td>{orderStatusWords[o.status]}</td>
                  <td className="reason" title={o.reason}>
                    {o.reason}
                  </td>
                  <td className="trader-time">{formatTimestamp(o.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function FeedsTable({ s }: { s: TraderSnapshot }) {
  const now = useNow();
  return (
    <section className="panel" data-testid="trader-feeds" aria-labelledby="trader-feeds-title">
      <h2 id="trader-feeds-title" className="section-title">
        Market data ({s.venue}, {s.resolution} candles)
      </h2>
      {s.feedProblem && (
        <p className="text-warn trader-none" data-testid="trader-feed-problem">
          The collector reports a problem: {s.feedProblem}
        </p>
      )}
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th scope="col">symbol</th>
              <th scope="col" className="num">
                bid
              </th>
              <th scope="col" className="num">
                ask
              </th>
              <th scope="col" className="num">
                spread
              </th>
              <th scope="col">last update</th>
              <th scope="col">state</th>
            </tr>
          </thead>
          <tbody>
            {s.feeds.map((f) => (
              <tr key={f.symbol} data-testid={`trader-feed-${f.symbol}`} data-stale={f.stale}>
                <td className="name">{f.symbol}</td>
                <td className="num">{formatPrice(f.bid)}</td>
                <td className="num">{formatPrice(f.ask)}</td>
                <td className="num">{f.bid !== null && f.ask !== null ? formatPrice(f.ask - f.bid) : '—'}</td>
                <td className="num">
                  {f.lastAt === null ? <span className="muted">never</span> : formatAge(now - f.lastAt)}
                </td>
                <td className={f.stale ? 'text-warn' : undefined}>
                  {f.stale ? 'stale: new orders paused' : s.running ? 'fresh' : '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
