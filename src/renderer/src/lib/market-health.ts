/**
 * The Market page's model of collector health: which streams a collector has (from its configuration
 * and from what it reports), the per-stream figures of its 1 Hz metrics, and how fresh each stream is
 * against the collector's own `staleAfterMs`: green, amber past half of it, red past it, none (grey)
 * before the first message. Types that come slower by nature get the longer limit they need.
 */
import { parseCollectorConfigs } from '../../../shared/collector-config';
import { parseStreams, venueKey, type StreamFigures } from '../../../shared/collector-streams';
import { marketDataTypes, type MarketDataType, type Venue } from '../../../shared/market';
import { dvolCurrency, judgeFreshness, staleLimitMs, type Freshness } from '../../../shared/market-api';
import type { ServiceInfo } from '../../../shared/services';

export type { Freshness, StreamFigures };

export interface CollectorSpec {
  /** The venue it collects, or the service's name when its configuration cannot be read. */
  venue: Venue | null;
  symbols: string[];
  types: MarketDataType[];
  staleAfterMs: number;
  pollIntervalMs: number;
  simulated: boolean;
  record: boolean;
}

export interface MatrixCell {
  /** `<symbol>.<type>`, as the collector names it (`BTC.dvol` for Deribit's index). */
  stream: string;
  /** The stream's own symbol (the currency for DVOL). */
  symbol: string;
  type: MarketDataType;
  figures: StreamFigures | null;
  limitMs: number;
  freshness: Freshness;
}

export interface MatrixRow {
  symbol: string;
  cells: Partial<Record<MarketDataType, MatrixCell>>;
}

/** Deribit publishes DVOL for these currencies. */
const DVOL_CURRENCIES = new Set(['BTC', 'ETH']);

const isType = (t: string): t is MarketDataType => (marketDataTypes as readonly string[]).includes(t);

/**
 * The venues a collector carries, each with its venue's defaults ([] when its configuration cannot be
 * read). One per process is the default; a grouped collector (`{ venues: [...] }`) carries several.
 */
export function collectorSpecs(service: Pick<ServiceInfo, 'definition'>): CollectorSpec[] {
  const parsed = parseCollectorConfigs(service.definition.config);
  if (!parsed.ok) return [];
  return parsed.configs.map((c) => ({
    venue: c.venue,
    symbols: c.symbols,
    types: c.types,
    staleAfterMs: c.staleAfterMs,
    pollIntervalMs: c.pollIntervalMs,
    simulated: c.simulated,
    record: c.record,
  }));
}

/** A grouped collector names each venue's figures `<venue>:<key>`: this venue's, without the prefix. */
export function venueMetrics(
  metrics: Readonly<Record<string, number>> | null | undefined,
  venue: string,
): Record<string, number> | null {
  if (!metrics) return null;
  const prefix = venueKey(venue, '');
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(metrics))
    if (key.startsWith(prefix)) out[key.slice(prefix.length)] = value;
  return out;
}

export const freshnessWords: Record<Freshness, string> = {
  green: 'fresh',
  amber: 'late: past half of its stale limit',
  red: 'stale: past its limit',
  none: 'no data yet',
};

/**
 * One row per instrument, a cell per data type the collector has: the configured streams plus any
 * the metrics name (a pending configuration change). DVOL, per currency, sits in the row of the first
 * instrument of that currency. A collector that is not running has no live figures: every cell `none`.
 */
export function collectorMatrix(
  spec: CollectorSpec | null,
  metrics: Readonly<Record<string, number>> | null | undefined,
  running: boolean,
): { rows: MatrixRow[]; types: MarketDataType[] } {
  const figures = parseStreams(metrics);
  const streams = new Set<string>();
  if (spec) {
    for (const symbol of spec.symbols)
      for (const t of spec.types) if (t !== 'dvol') streams.add(`${symbol}.${t}`);
    if (spec.types.includes('dvol')) {
      for (const c of new Set(spec.symbols.map(dvolCurrency)))
        if (DVOL_CURRENCIES.has(c)) streams.add(`${c}.dvol`);
    }
  }
  for (const s of figures.keys()) streams.add(s);

  const rows = new Map<string, MatrixRow>();
  const types = new Set<MarketDataType>();
  const rowOf = (symbol: string): MatrixRow => {
    let row = rows.get(symbol);
    if (!row) {
      row = { symbol, cells: {} };
      rows.set(symbol, row);
    }
    return row;
  };
  const limits = spec ?? { venue: null, staleAfterMs: 30_000, pollIntervalMs: 60_000 };
  // Instruments first (in configured order), so DVOL can find its instrument's row.
  const ordered = [...streams].sort((a, b) => order(a, spec) - order(b, spec) || a.localeCompare(b));
  for (const stream of ordered) {
    const dot = stream.lastIndexOf('.');
    const symbol = stream.slice(0, dot);
    const type = stream.slice(dot + 1);
    if (!isType(type)) continue;
    types.add(type);
    const f = figures.get(stream) ?? null;
    const limitMs = staleLimitMs(limits, type);
    const cell: MatrixCell = {
      stream,
      symbol,
      type,
      figures: f,
      limitMs,
      freshness: running ? judgeFreshness(f?.freshnessMs, limitMs) : 'none',
    };
    const home =
      type === 'dvol'
        ? ([...rows.values()].find((r) => dvolCurrency(r.symbol) === symbol && r.symbol !== symbol) ??
          rowOf(symbol))
        : rowOf(symbol);
    home.cells[type] = cell;
  }
  return { rows: [...rows.values()], types: marketDataTypes.filter((t) => types.has(t)) };
}

function order(stream: string, spec: CollectorSpec | null): number {
  const symbol = stream.slice(0, stream.lastIndexOf('.'));
  if (stream.endsWith('.dvol')) return 10_000;
  const i = spec?.symbols.indexOf(symbol) ?? -1;
  return i < 0 ? 5_000 : i;
}

/** The figures the gap ledger follows: a change means a gap may have been opened or closed. */
export function gapSignal(metrics: Readonly<Record<string, number>> | null | undefined): number {
  if (!metrics) return 0;
  let n = 0;
  for (const [key, value] of Object.entries(metrics)) {
    if (key.endsWith('.gaps') || key.endsWith('.resyncs') || key === 'reconnects') n += value;
  }
  return n;
}

export function marketTopKey(venue: string, symbol: string): string {
  return `${venue}|${symbol}`;
}

/**
 * Prices at a precision that suits their size: 97,123.5 · 3,456.78 · 1.2345 · 0.000123. A difference
 * of prices (a spread) takes the precision of the price it is about: pass that as `like`.
 */
export function formatPrice(p: number, like: number = p): string {
  const abs = Math.abs(like);
  const digits = abs >= 100 ? 2 : abs >= 1 ? 4 : 6;
  return p.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A spread in basis points: two significant digits below one (tight books), one decimal above. */
export function formatBps(bps: number): string {
  return `${bps >= 1 || bps === 0 ? bps.toFixed(1) : bps.toPrecision(2)} bp`;
}

export function formatSize(s: number): string {
  const abs = Math.abs(s);
  if (abs >= 1_000_000) return `${(s / 1_000_000).toFixed(2)} M`;
  if (abs >= 10_000) return `${(s / 1000).toFixed(1)} k`;
  return s.toLocaleString('en-US', { maximumFractionDigits: abs >= 100 ? 1 : 4 });
}

/** Funding rates are tiny fractions: shown as percentages, 0.0100 %. */
export function formatRate(r: number): string {
  return `${(r * 100).toFixed(4)} %`;
}
