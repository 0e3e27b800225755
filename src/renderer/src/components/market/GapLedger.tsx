/**
 * The gap ledger: every gap and disconnect the collectors wrote down (market/<venue>.db), newest
 * first, filtered by venue, symbol, cause and time. Live without polling: it re-reads when the
 * collectors' 1 Hz figures say a gap opened or closed (their gap, resync or reconnect counts moved).
 */
import { useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import type { ApiErrorShape } from '../../../../shared/errors';
import { gapCauses, venues, type GapCause, type Venue } from '../../../../shared/market';
import type { MarketGap, MarketGapsResult } from '../../../../shared/market-api';
import { useApi } from '../../connection-context';
import { formatLatency, formatTimestamp } from '../../lib/format';
import { gapSignal } from '../../lib/market-health';
import { useConnectionStore } from '../../stores/connection';
import { useLiveMetricsStore } from '../../stores/live-metrics';
import { Uptime } from '../Elapsed';
import { ErrorNote } from '../ErrorNote';

const PAGE = 50;
/** A burst of gaps (a reconnect resyncs every book) is one re-read. */
const LIVE_DEBOUNCE_MS = 400;

const ranges = [
  { id: '1h', label: 'Last hour', ms: 3_600_000 },
  { id: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { id: 'all', label: 'All recorded', ms: null },
] as const;
type RangeId = (typeof ranges)[number]['id'];

const causeWords: Record<GapCause, string> = {
  sequence: 'sequence break',
  crossed: 'crossed book',
  disconnect: 'disconnect',
  stale: 'silent connection',
  'server-shutdown': 'server shutdown',
  rotation: 'rotation',
  'rate-limit': 'rate limit',
  'trade-id': 'trade ids skipped',
  snapshot: 'snapshot failed',
  checksum: 'checksum mismatch',
};

interface Filters {
  venue: Venue | '';
  symbol: string;
  cause: GapCause | '';
  range: RangeId;
}

interface LedgerState {
  items: MarketGap[];
  result: MarketGapsResult | null;
  error: ApiErrorShape | null;
  loading: boolean;
}

export function GapLedger({
  collectorNames,
  symbolsByVenue,
}: {
  collectorNames: readonly string[];
  symbolsByVenue: ReadonlyMap<Venue, readonly string[]>;
}) {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const [filters, setFilters] = useState<Filters>({ venue: '', symbol: '', cause: '', range: '24h' });
  const [state, setState] = useState<LedgerState>({ items: [], result: null, error: null, loading: true });
  // A number that moves whenever any collector counts a gap, a resync or a reconnect.
  const signal = useLiveMetricsStore((s) =>
    collectorNames.reduce((n, name) => n + gapSignal(s.byService[name]), 0),
  );
  const [debounced, setDebounced] = useState(signal);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(signal), LIVE_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [signal]);

  const query = useMemo(() => {
    const range = ranges.find((r) => r.id === filters.range)!;
    return {
      ...(filters.venue ? { venue: filters.venue } : {}),
      ...(filters.symbol ? { symbol: filters.symbol } : {}),
      ...(filters.cause ? { cause: filters.cause } : {}),
      range: range.ms,
    };
  }, [filters]);

  useEffect(() => {
    if (!connected) return;
    let live = true;
    const { range, ...rest } = query;
    const input = { ...rest, ...(range === null ? {} : { from: Date.now() - range }), limit: PAGE };
    void api.market.gaps(input).then((r) => {
      if (!live) return;
      setState((s) =>
        r.ok
          ? { items: r.result.items, result: r.result, error: null, loading: false }
          : { ...s, error: r.error, loading: false },
      );
    });
    return () => {
      live = false;
    };
  }, [api, connected, query, debounced]);

  const loadMore = async (): Promise<void> => {
    const next = state.result?.next;
    if (!next) return;
    const { range, ...rest } = query;
    const r = await api.market.gaps({
      ...rest,
      ...(range === null ? {} : { from: Date.now() - range }),
      limit: PAGE,
      before: next,
    });
    setState((s) =>
      r.ok
        ? {
            items: [...s.items, ...r.result.items],
            result: { ...r.result, total: r.result.total },
            error: null,
            loading: false,
          }
        : { ...s, error: r.error },
    );
  };

  const set = (patch: Partial<Filters>) =>
    setFilters((f) => ({ ...f, ...patch, ...(patch.venue !== undefined ? { symbol: '' } : {}) }));
  const symbols = filters.venue
    ? (symbolsByVenue.get(filters.venue) ?? [])
    : [...new Set([...symbolsByVenue.values()].flat())].sort();

  return (
    <section className="panel gap-ledger" data-testid="gap-ledger">
      <h2 className="section-title">Gap ledger</h2>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <Select
          label="Venue"
          testId="gap-filter-venue"
          value={filters.venue}
          onChange={(v) => set({ venue: v as Venue | '' })}
        >
          <option value="">All venues</option>
          {venues.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </Select>
        <Select
          label="Symbol"
          testId="gap-filter-symbol"
          value={filters.symbol}
          onChange={(v) => set({ symbol: v })}
        >
          <option value="">All symbols</option>
          {symbols.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </Select>
        <Select
          label="Cause"
          testId="gap-filter-cause"
          value={filters.cause}
          onChange={(v) => set({ cause: v as GapCause | '' })}
        >
          <option value="">Any cause</option>
          {gapCauses.map((c) => (
            <option key={c} value={c}>
              {causeWords[c]}
            </option>
          ))}
        </Select>
        <Select
          label="Time"
          testId="gap-filter-range"
          value={filters.range}
          onChange={(v) => set({ range: v as RangeId })}
        >
          {ranges.map((r) => (
            <option key={r.id} value={r.id}>
              {r.label}
            </option>
          ))}
        </Select>
      </form>
      <LedgerBody state={state} onMore={() => void loadMore()} symbolFiltered={filters.symbol !== ''} />
    </section>
  );
}

function LedgerBody({
  state,
  onMore,
  symbolFiltered,
}: {
  state: LedgerState;
  onMore: () => void;
  symbolFiltered: boolean;
}) {
  const { result, items, error, loading } = state;
  return (
    <>
      {error && (
        <div className="feed-problem">
          <ErrorNote error={error} testId="gap-error" />
          <p className="muted">
            {error.code === 'unavailable'
              ? 'The ledger file could not be read: follow the advice above, or pick another venue.'
              : 'The ledger could not be read: check the filters, or try again.'}
          </p>
        </div>
      )}
      {result?.unreadable.map((u) => (
        <p key={u.venue} className="gap-warning" data-testid="gap-unreadable" role="alert">
          <strong>{u.venue}:</strong> {u.message}
        </p>
      ))}
      {result?.notes.map((n) => (
        <p key={n} className="muted gap-note" data-testid="gap-note">
          {n}
        </p>
      ))}
      {loading && !result ? (
        <p className="empty">Reading the gap ledger…</p>
      ) : result && items.length === 0 ? (
        <p className="empty" data-testid="gap-empty">
          No gaps in this range: every stream was continuous. A gap is written here when a book&apos;s
          sequence breaks, a connection drops or goes silent, or an exchange rate-limits the collector.
        </p>
      ) : result ? (
        <>
          <p
            className="muted gap-count"
            data-testid="gap-count"
            data-total={result.total}
            data-open={result.open}
          >
            {result.total} gap{result.total === 1 ? '' : 's'}
            {result.open > 0 ? `, ${result.open} still open` : ''}
            {symbolFiltered ? ' (including those of whole connections)' : ''}
          </p>
          <div className="table-wrap">
            <table className="table gap-table">
              <thead>
                <tr>
                  <th>start</th>
                  <th>venue</th>
                  <th>symbol</th>
                  <th>stream</th>
                  <th>cause</th>
                  <th className="num">lasted</th>
                  <th className="wide">detail</th>
                </tr>
              </thead>
              <tbody>
                {items.map((g) => (
                  <GapRow key={`${g.venue}:${g.id}`} gap={g} />
                ))}
              </tbody>
            </table>
          </div>
          {result.next && (
            <div className="feed-foot">
              <button type="button" className="btn btn-small" data-testid="gap-more" onClick={onMore}>
                Older gaps
              </button>
              <span className="muted">
                {items.length} of {result.total} shown
              </span>
            </div>
          )}
        </>
      ) : null}
    </>
  );
}

function GapRow({ gap }: { gap: MarketGap }) {
  const open = gap.end === null;
  return (
    <tr
      data-testid="gap-row"
      data-venue={gap.venue}
      data-symbol={gap.symbol ?? ''}
      data-cause={gap.cause}
      data-open={open}
    >
      <td className="mono">{formatTimestamp(gap.start)}</td>
      <td>{gap.venue}</td>
      <td className="mono">{gap.symbol ?? <span className="muted">whole connection</span>}</td>
      <td className="mono">{gap.stream}</td>
      <td>
        <span className="gap-cause" data-cause={gap.cause}>
          {causeWords[gap.cause] ?? gap.cause}
        </span>
      </td>
      <td className="num">
        {open ? (
          <span className="gap-open" title="No good data since it started">
            open · <Uptime since={gap.start} />
          </span>
        ) : (
          formatLatency(gap.end! - gap.start)
        )}
      </td>
      <td className="reason gap-detail">{gap.detail}</td>
    </tr>
  );
}

function Select({
  label,
  testId,
  value,
  onChange,
  children,
}: {
  label: string;
  testId: string;
  value: string;
  onChange: (value: string) => void;
  children: ReactNode;
}) {
  return (
    <label className="filter">
      <span className="filter-label">{label}</span>
      <select className="input" data-testid={testId} value={value} onChange={(e) => onChange(e.target.value)}>
        {children}
      </select>
    </label>
  );
}
