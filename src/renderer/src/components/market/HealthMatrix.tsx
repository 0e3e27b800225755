/**
 * The health matrix: venue × symbol × data type, one cell per stream with its rate, freshness
 * (coloured against the collector's `staleAfterMs`), exchange→local latency, gaps and resyncs; per
 * collector its state, health message, reconnects and parse errors. Figures come from the 1 Hz
 * metrics event; the bid/ask column from the live top of book. A row picks the symbol for the panel.
 */
import { memo, useMemo } from 'react';
import type { MarketDataType, Venue } from '../../../../shared/market';
import type { ServiceInfo } from '../../../../shared/services';
import { formatLatency } from '../../lib/format';
import {
  collectorMatrix,
  collectorSpecs,
  formatBps,
  formatPrice,
  freshnessWords,
  venueMetrics,
  type CollectorSpec,
  type Freshness,
  type MatrixCell,
  type MatrixRow,
} from '../../lib/market-health';
import { useLiveMetricsStore } from '../../stores/live-metrics';
import { useMarketSelection } from '../../stores/market-selection';
import { useMarketTop } from '../../stores/market-top';
import { StateBadge } from '../StateBadge';

const typeLabels: Record<MarketDataType, string> = {
  trade: 'Trades',
  book: 'Book',
  top: 'Top',
  funding: 'Funding',
  oi: 'Open int.',
  liquidation: 'Liquidations',
  lsr: 'Long/short',
  dvol: 'DVOL',
};

interface CollectorModel {
  service: ServiceInfo;
  /** Names the group in test ids: the service, and the venue when one process carries several. */
  id: string;
  title: string;
  spec: CollectorSpec | null;
  venue: string;
  rows: MatrixRow[];
  types: MarketDataType[];
  metrics: Record<string, number> | null;
}

export function HealthMatrix({ collectors }: { collectors: ServiceInfo[] }) {
  const live = useLiveMetricsStore((s) => s.byService);
  const specs = useMemo(() => new Map(collectors.map((c) => [c.name, collectorSpecs(c)])), [collectors]);
  const models = useMemo<CollectorModel[]>(
    () =>
      collectors.flatMap((service) => {
        const venueSpecs = specs.get(service.name) ?? [];
        const all = live[service.name] ?? service.metrics;
        const running = service.state === 'running' || service.state === 'paused';
        const grouped = venueSpecs.length > 1;
        // A collector whose configuration cannot be read still gets its group (with what it reports).
        return (venueSpecs.length > 0 ? venueSpecs : [null]).map((spec) => {
          const venue = spec?.venue ?? service.name;
          const metrics = grouped ? venueMetrics(all, venue) : all;
          const { rows, types } = collectorMatrix(spec, running ? metrics : null, running);
          return {
            service,
            id: grouped ? `${service.name}-${venue}` : service.name,
            title: grouped ? `${service.name} · ${venue}` : service.name,
            spec,
            venue,
            rows,
            types,
            metrics,
          };
        });
      }),
    [collectors, specs, live],
  );
  const columns = useMemo(() => {
    const used = new Set(models.flatMap((m) => m.types));
    return (Object.keys(typeLabels) as MarketDataType[]).filter((t) => used.has(t));
  }, [models]);

  return (
    <div className="table-wrap market-matrix-wrap">
      <table className="table market-matrix" data-testid="market-matrix">
        <thead>
          <tr>
            <th scope="col">symbol</th>
            <th scope="col" className="num">
              bid / ask · spread
            </th>
            {columns.map((t) => (
              <th key={t} scope="col">
                {typeLabels[t]}
              </th>
            ))}
          </tr>
        </thead>
        {models.map((m) => (
          <CollectorRows key={m.id} model={m} columns={columns} />
        ))}
      </table>
    </div>
  );
}

function CollectorRows({ model, columns }: { model: CollectorModel; columns: MarketDataType[] }) {
  const { service, id, title, spec, metrics, rows, venue } = model;
  const running = service.state === 'running' || service.state === 'paused';
  const total = metrics?.msgPerSec;
  const health = !running
    ? `${service.state}: start it in Services to collect ${venue}`
    : (service.healthReason ?? (service.health ? service.health : 'waiting for its first health report'));
  return (
    <tbody className="mgroup-body" data-testid={`collector-${id}`}>
      <tr className="mgroup">
        <th colSpan={2 + columns.length} scope="rowgroup">
          <div className="mgroup-line">
            <span className="mgroup-name">{title}</span>
            <StateBadge state={service.state} />
            {spec?.simulated && <span className="tag">simulated</span>}
            {spec && !spec.record && <span className="mgroup-note">not recording</span>}
            <span
              className="mgroup-health"
              data-testid={`collector-health-${id}`}
              data-health={running ? (service.health ?? 'unknown') : 'down'}
            >
              {health}
            </span>
            <span className="mgroup-stats">
              {running && total !== undefined && <span>{total.toFixed(0)} msg/s</span>}
              <span title="Connections re-opened after an outage">
                reconnects{' '}
                <b data-testid={`collector-reconnects-${id}`} data-zero={!metrics?.reconnects}>
                  {metrics?.reconnects ?? 0}
                </b>
              </span>
              <span title="Messages that could not be parsed (skipped)">
                parse errors{' '}
                <b data-testid={`collector-parse-errors-${id}`} data-zero={!metrics?.parseErrors}>
                  {metrics?.parseErrors ?? 0}
                </b>
              </span>
            </span>
          </div>
        </th>
      </tr>
      {rows.length === 0 ? (
        <tr>
          <td colSpan={2 + columns.length} className="muted">
            No streams configured or reported yet.
          </td>
        </tr>
      ) : (
        rows.map((row) => (
          <SymbolRow
            key={row.symbol}
            collector={id}
            venue={venue}
            row={row}
            columns={columns}
            selectable={spec !== null}
          />
        ))
      )}
    </tbody>
  );
}

const SymbolRow = memo(function SymbolRow({
  collector,
  venue,
  row,
  columns,
  selectable,
}: {
  collector: string;
  venue: string;
  row: MatrixRow;
  columns: MarketDataType[];
  selectable: boolean;
}) {
  const selected = useMarketSelection((s) => s.venue === venue && s.symbol === row.symbol);
  const select = useMarketSelection((s) => s.select);
  const choose = () => selectable && select(venue as Venue, row.symbol);
  return (
    <tr
      data-testid={`matrix-row-${venue}-${row.symbol}`}
      aria-selected={selected}
      className={selectable ? 'clickable' : undefined}
      onClick={choose}
    >
      <td className="msymbol">
        {selectable ? (
          <button type="button" className="btn-link mono" onClick={choose} title="Show this symbol below">
            {row.symbol}
          </button>
        ) : (
          <span className="mono">{row.symbol}</span>
        )}
      </td>
      <TopCell venue={venue} symbol={row.symbol} freshness={row.cells.top?.freshness ?? 'none'} />
      {columns.map((t) => {
        const cell = row.cells[t];
        return cell ? (
          <Cell key={t} collector={collector} venue={venue} cell={cell} />
        ) : (
          <td key={t} className="mcell mcell-na" aria-label="not collected" />
        );
      })}
    </tr>
  );
});

/** The last bid/ask known; dimmed while the top stream is late or stale (the prices may be old). */
function TopCell({ venue, symbol, freshness }: { venue: string; symbol: string; freshness: Freshness }) {
  const top = useMarketTop(venue, symbol);
  if (!top)
    return (
      <td className="num mtop muted" data-testid={`row-top-${venue}-${symbol}`}>
        —
      </td>
    );
  return (
    <td className="num mtop" data-testid={`row-top-${venue}-${symbol}`} data-freshness={freshness}>
      <span className="mtop-bid">{formatPrice(top.bid)}</span>
      <span className="muted"> / </span>
      <span className="mtop-ask">{formatPrice(top.ask)}</span>
      <span className="mtop-spread">{formatBps(top.spreadBps)}</span>
    </td>
  );
}

function Cell({ collector, venue, cell }: { collector: string; venue: string; cell: MatrixCell }) {
  const f = cell.figures;
  const title = [
    `${cell.stream}: ${freshnessWords[cell.freshness]}`,
    `stale after ${formatLatency(cell.limitMs)} without a message`,
    f?.latencyMs !== undefined ? `exchange→local latency ${formatLatency(f.latencyMs)}` : null,
    f ? `${f.gaps} gaps, ${f.resyncs} resyncs since the collector started` : null,
    cell.type === 'liquidation'
      ? venue === 'deribit'
        ? 'liquidations: complete (Deribit trade tape)'
        : 'liquidations: sampled by the exchange'
      : null,
  ]
    .filter(Boolean)
    .join('\n');
  return (
    <td
      className="mcell"
      data-testid={`cell-${venue}-${cell.symbol}-${cell.type}`}
      data-freshness={cell.freshness}
      title={title}
    >
      <div className="mcell-body" data-testid={`stream-${collector}-${cell.stream}`}>
        <span className="sr-only">{cell.stream} </span>
        <span className="mcell-top">
          <span className="mcell-rate">
            <span data-testid="stream-rate">{(f?.perSec ?? 0).toFixed(1)}</span>
            <span className="unit">/s</span>
          </span>
          <span className="mcell-fresh" data-testid="stream-freshness">
            <i className="fresh-dot" aria-hidden="true" />
            {f?.freshnessMs === undefined ? '—' : formatLatency(f.freshnessMs)}
          </span>
        </span>
        <span className="mcell-meta">
          {f?.latencyMs !== undefined && (
            <span title="exchange→local latency">{formatLatency(f.latencyMs)}</span>
          )}
          {(f?.gaps ?? 0) > 0 && (
            <span className="mcell-gaps" data-testid="stream-gaps">
              {f!.gaps} gap{f!.gaps === 1 ? '' : 's'}
            </span>
          )}
          {(f?.resyncs ?? 0) > 0 && (
            <span className="mcell-resyncs">
              {f!.resyncs} resync{f!.resyncs === 1 ? '' : 's'}
            </span>
          )}
          {cell.type === 'liquidation' && (
            <span className="mcell-sample">{venue === 'deribit' ? 'complete' : 'sampled'}</span>
          )}
        </span>
      </div>
    </td>
  );
}

export function FreshnessLegend() {
  return (
    <div className="fresh-legend" data-testid="freshness-legend">
      <span data-freshness="green">
        <i className="fresh-dot" aria-hidden="true" />
        fresh
      </span>
      <span data-freshness="amber">
        <i className="fresh-dot" aria-hidden="true" />
        past half the stale limit
      </span>
      <span data-freshness="red">
        <i className="fresh-dot" aria-hidden="true" />
        stale
      </span>
      <span data-freshness="none">
        <i className="fresh-dot" aria-hidden="true" />
        no data yet
      </span>
    </div>
  );
}
