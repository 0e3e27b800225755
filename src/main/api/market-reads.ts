/**
 * Reading `market/<venue>.db` for the API: the gap ledger and an instrument's recorded series. Runs on
 * the market read thread (market-read-worker.ts), never on the core's: better-sqlite3 is synchronous,
 * and a week of series takes tens of milliseconds.
 *
 * Every read is still bounded whatever the range asked: candles are read at a resolution that keeps
 * them to tens of thousands of rows at most, and series recorded up to ten times a second (funding,
 * open interest, DVOL) are never read whole: each point probes a short window at the end of its
 * bucket, widening only while it finds nothing (index range scans of a few rows each).
 */
import { existsSync } from 'node:fs';
import type { CommandParsedInput } from '../../shared/api';
import { ApiError } from '../../shared/errors';
import { venues, type Venue } from '../../shared/market';
import {
  dvolCurrency,
  liquidationCompleteness,
  MAX_1S_RANGE_MS,
  venueSeries,
  type MarketCandle,
  type MarketFundingPoint,
  type MarketGap,
  type MarketGapsResult,
  type MarketLiquidation,
  type MarketLiquidationBucket,
  type MarketSeriesKind,
  type MarketSeriesResult,
  type MarketValuePoint,
} from '../../shared/market-api';
import type { Candle } from '../../services/collector/candles';
import { MarketDbError, marketDbPath } from '../../services/collector/market-db';
import { MarketReader } from '../../services/collector/market-reader';

export type GapsQuery = CommandParsedInput<'market.gaps'>;
export type SeriesQuery = CommandParsedInput<'market.series'>;

/** Where the files are, and how to open them. */
export interface MarketFiles {
  dataDir: string;
  /** better-sqlite3's addon for this runtime (default: the Electron build inside Electron). */
  nativeBinding?: string;
}

/** Liquidation rows counted per query at most (newest first); past it the result says it is truncated. */
const LIQUIDATION_BUDGET = 20_000;
const RECENT_LIQUIDATIONS = 50;
/** The longest range `auto` reads 1-second candles for (7,200 of them). */
const AUTO_1S_RANGE_MS = 2 * 3_600_000;
/** The first window a bucket's last value is looked for in; it widens ×4 while empty. */
const PROBE_MS = 2_000;
const NICE_BUCKETS = [
  ...[1, 2, 5, 10, 15, 30].map((s) => s * 1000),
  ...[1, 2, 5, 10, 15, 30].map((m) => m * 60_000),
  ...[1, 2, 3, 6, 12, 24].map((h) => h * 3_600_000),
];

/** The gap ledgers of one venue or all, merged newest first, filtered and paged. */
export function readGaps(files: MarketFiles, q: GapsQuery): MarketGapsResult {
  const scope: readonly Venue[] = q.venue ? [q.venue] : venues;
  const all: MarketGap[] = [];
  const missing: Venue[] = [];
  const unreadable: MarketGapsResult['unreadable'] = [];
  for (const venue of scope) {
    let stored: ReturnType<MarketReader['gaps']> | typeof MISSING;
    try {
      stored = readVenue(files, venue, (r) => r.gaps({ symbol: q.symbol, from: q.from, to: q.to }));
    } catch (error) {
      if (q.venue || !(error instanceof ApiError)) throw error;
      unreadable.push({ venue, message: error.message });
      continue;
    }
    if (stored === MISSING) {
      missing.push(venue);
      continue;
    }
    for (const g of stored) {
      if (q.cause !== undefined && g.cause !== q.cause) continue;
      if (q.open !== undefined && (g.end === null) !== q.open) continue;
      all.push({ ...g, venue });
    }
  }
  all.sort(newestFirst);
  const after = q.before ? parseCursor(q.before) : null;
  const rest = after ? all.filter((g) => newestFirst(g, after) > 0) : all;
  const items = rest.slice(0, q.limit);
  const last = items.at(-1);
  return {
    items,
    next: rest.length > items.length && last ? `${last.start}:${last.venue}:${last.id}` : null,
    total: all.length,
    open: all.filter((g) => g.end === null).length,
    notes: missing.length > 0 ? [missingNote(missing)] : [],
    unreadable,
  };
}

/** One instrument's recorded series over [from, to), each downsampled to about maxPoints. */
export function readSeries(files: MarketFiles, q: SeriesQuery): MarketSeriesResult {
  const has = venueSeries[q.venue];
  const wanted = (kind: MarketSeriesKind): boolean => has.includes(kind) && (q.include ?? has).includes(kind);
  const range = q.to - q.from;
  // Auto: 1-second candles where 1-minute ones would give fewer points than asked (up to 2 h of them).
  const use1s =
    q.resolution === '1s' ||
    (q.resolution === 'auto' && range / q.maxPoints < 60_000 && range <= AUTO_1S_RANGE_MS);
  const bucketMs = bucketFor(range, q.maxPoints, use1s ? 1_000 : 60_000);
  const result: MarketSeriesResult = {
    venue: q.venue,
    symbol: q.symbol,
    from: q.from,
    to: q.to,
    bucketMs,
    candles: null,
    funding: null,
    openInterest: null,
    longShort: null,
    dvol: null,
    liquidations: null,
    notes: [],
  };
  const read = readVenue(files, q.venue, (r) => {
    const { symbol, from, to } = q;
    if (wanted('candles')) {
      let resolution: '1s' | '1m' = use1s ? '1s' : '1m';
      let candles = r.candles(symbol, resolution, from, to);
      // 1-second candles are kept a tenth as long as 1-minute ones: fall back rather than show nothing.
      if (candles.length === 0 && resolution === '1s' && q.resolution === 'auto') {
        resolution = '1m';
        candles = r.candles(symbol, '1m', from, to);
      }
      const width = resolution === '1s' ? bucketMs : Math.max(bucketMs, 60_000);
      result.candles = { resolution, points: mergeCandles(candles, width) };
    }
    const probe = <T extends { exchangeTs: number }>(get: (f: number, t: number) => T[]) =>
      lastPerBucket(get, from, to, bucketMs);
    if (wanted('funding')) {
      result.funding = probe((f, t) => r.funding(symbol, f, t)).map(({ at, row }): MarketFundingPoint => ({
        at,
        value: row.rate,
        ts: row.exchangeTs,
        nextFundingTime: row.nextFundingTime,
        markPrice: row.markPrice ?? null,
        intervalMs: row.intervalMs ?? null,
      }));
    }
    if (wanted('oi')) {
      result.openInterest = {
        unit: q.venue === 'deribit' ? 'usd' : 'base',
        points: probe((f, t) => r.openInterest(symbol, f, t)).map(({ at, row }) =>
          point(at, row.openInterest, row.exchangeTs),
        ),
      };
    }
    if (wanted('lsr')) {
      result.longShort = probe((f, t) => r.longShort(symbol, f, t)).map(({ at, row }) =>
        point(at, row.ratio, row.exchangeTs),
      );
    }
    if (wanted('dvol')) result.dvol = readDvol(r, dvolCurrency(symbol), from, to, bucketMs);
    if (wanted('liquidations')) {
      result.liquidations = {
        completeness: liquidationCompleteness(q.venue),
        partial: liquidationCompleteness(q.venue) === 'sampled',
        ...readLiquidations(r, symbol, from, to, bucketMs),
      };
    }
  });
  if (read === MISSING) {
    // Empty, not null: the venue has these series, nothing has been recorded yet.
    if (wanted('candles')) result.candles = { resolution: use1s ? '1s' : '1m', points: [] };
    if (wanted('funding')) result.funding = [];
    if (wanted('oi')) result.openInterest = { unit: q.venue === 'deribit' ? 'usd' : 'base', points: [] };
    if (wanted('lsr')) result.longShort = [];
    if (wanted('dvol')) result.dvol = { symbol: dvolCurrency(q.symbol), source: 'none', points: [] };
    if (wanted('liquidations')) {
      const completeness = liquidationCompleteness(q.venue);
      result.liquidations = {
        completeness,
        partial: completeness === 'sampled',
        buckets: [],
        recent: [],
        truncated: false,
        coveredFrom: q.from,
      };
    }
    result.notes.push(missingNote([q.venue]));
    return result;
  }
  const empty =
    (result.candles?.points.length ?? 0) === 0 &&
    (result.funding?.length ?? 0) === 0 &&
    (result.openInterest?.points.length ?? 0) === 0 &&
    (result.dvol?.points.length ?? 0) === 0;
  if (empty) {
    result.notes.push(
      `Nothing is recorded for ${q.symbol} on ${q.venue} in this range: check the symbol (as the ` +
        `collector spells it), that its collector runs with recording on, and the range.`,
    );
  }
  if (q.resolution === 'auto' && !use1s && range <= MAX_1S_RANGE_MS && result.candles) {
    result.notes.push('Candles are 1-minute ones here: ask resolution 1s for ranges up to 6 hours.');
  }
  return result;
}

/**
 * Opens `market/<venue>.db` read-only for one request (a file moved aside or replaced meanwhile is
 * simply read anew). A missing file is not an error: nothing has been recorded yet.
 */
function readVenue<T>(
  files: MarketFiles,
  venue: Venue,
  body: (reader: MarketReader) => T,
): T | typeof MISSING {
  const file = marketDbPath(files.dataDir, venue);
  if (!existsSync(file)) return MISSING;
  let reader: MarketReader;
  try {
    reader = MarketReader.open(file, files.nativeBinding ? { nativeBinding: files.nativeBinding } : {});
  } catch (error) {
    throw asApiError(error, venue);
  }
  try {
    return body(reader);
  } catch (error) {
    throw asApiError(error, venue);
  } finally {
    reader.close();
  }
}

const MISSING = Symbol('missing');

function asApiError(error: unknown, venue: Venue): unknown {
  // The message names the file, what is wrong and the way forward (move it aside, start fresh).
  if (error instanceof MarketDbError)
    return new ApiError('unavailable', `${venue}: ${error.message}`, 'venue');
  return error;
}

function missingNote(missing: readonly Venue[]): string {
  const files = missing.map((v) => `market/${v}.db`).join(', ');
  return (
    `Nothing recorded yet for ${missing.join(', ')} (no ${files} in the data folder): ` +
    `start ${missing.length === 1 ? 'its collector' : 'their collectors'} with recording on.`
  );
}

/** Newest first by start, then by venue, then newest id first: a total order for paging. */
function newestFirst(
  a: Pick<MarketGap, 'start' | 'venue' | 'id'>,
  b: Pick<MarketGap, 'start' | 'venue' | 'id'>,
) {
  return b.start - a.start || venues.indexOf(a.venue) - venues.indexOf(b.venue) || b.id - a.id;
}

function parseCursor(cursor: string): Pick<MarketGap, 'start' | 'venue' | 'id'> {
  const [start, venue, id] = cursor.split(':');
  if (!venues.includes(venue as Venue))
    throw new ApiError('invalid_input', 'before: must be the `next` of a previous page', 'before');
  return { start: Number(start), venue: venue as Venue, id: Number(id) };
}

/** The width of one point: a round duration, at least `minMs`, with at most about `maxPoints` of them. */
export function bucketFor(rangeMs: number, maxPoints: number, minMs: number): number {
  const raw = Math.ceil(rangeMs / maxPoints);
  const nice = NICE_BUCKETS.find((n) => n >= raw && n >= minMs);
  return nice ?? Math.ceil(raw / 86_400_000) * 86_400_000;
}

/** Candles merged into buckets of `bucketMs` (aligned to the epoch): open first, close last. */
export function mergeCandles(candles: readonly Candle[], bucketMs: number): MarketCandle[] {
  const out: MarketCandle[] = [];
  let cur = null as MarketCandle | null;
  for (const c of candles) {
    const at = Math.floor(c.start / bucketMs) * bucketMs;
    if (cur === null || cur.at !== at) {
      cur = {
        at,
        open: c.open,
        high: c.high,
        low: c.low,
        close: c.close,
        volume: c.volume,
        trades: c.trades,
      };
      out.push(cur);
    } else {
      cur.high = Math.max(cur.high, c.high);
      cur.low = Math.min(cur.low, c.low);
      cur.close = c.close;
      cur.volume += c.volume;
      cur.trades += c.trades;
    }
  }
  return out;
}

/**
 * The last row of each bucket, without reading the buckets whole: a short window at the bucket's end
 * first, widened ×4 while it finds nothing. Rows come oldest first from `get(from, to)` ([from, to)).
 */
export function lastPerBucket<T>(
  get: (from: number, to: number) => T[],
  from: number,
  to: number,
  bucketMs: number,
  /** Buckets (by start) already known from elsewhere: not probed. */
  skip?: ReadonlySet<number>,
): { at: number; row: T }[] {
  const out: { at: number; row: T }[] = [];
  // The window that found data last time: series are regular, so the next bucket starts there.
  let hint = PROBE_MS;
  for (let start = Math.floor(from / bucketMs) * bucketMs; start < to; start += bucketMs) {
    if (skip?.has(start)) continue;
    const lo = Math.max(start, from);
    const hi = Math.min(start + bucketMs, to);
    let width = Math.min(hint, hi - lo);
    for (;;) {
      const rows = get(hi - width, hi);
      if (rows.length > 0) {
        out.push({ at: start, row: rows[rows.length - 1]! });
        // Aim at a handful of rows per probe: narrower after dense data, as wide as it took after sparse.
        hint = Math.max(PROBE_MS, rows.length > 16 ? Math.floor((width * 16) / rows.length) : width);
        break;
      }
      if (hi - width <= lo) break;
      width = Math.min(width * 4, hi - lo);
    }
  }
  return out;
}

function point(at: number, value: number, ts: number): MarketValuePoint {
  return { at, value, ts };
}

/** Live DVOL values where there are any, the back-filled 60 s bars elsewhere. */
function readDvol(
  r: MarketReader,
  currency: string,
  from: number,
  to: number,
  bucketMs: number,
): NonNullable<MarketSeriesResult['dvol']> {
  const live = lastPerBucket((f, t) => r.volatility(currency, f, t, 0), from, to, bucketMs);
  const liveAt = new Set(live.map((p) => p.at));
  const bars = lastPerBucket((f, t) => r.volatility(currency, f, t, 60), from, to, bucketMs, liveAt);
  const points = [...live, ...bars]
    .map(({ at, row }) => point(at, row.close, row.exchangeTs))
    .sort((a, b) => a.at - b.at);
  const source =
    points.length === 0 ? 'none' : bars.length === 0 ? 'live' : live.length === 0 ? 'bars' : 'mixed';
  return { symbol: currency, source, points };
}

/** Liquidations per bucket, newest buckets first until the row budget is spent. */
function readLiquidations(
  r: MarketReader,
  symbol: string,
  from: number,
  to: number,
  bucketMs: number,
): {
  buckets: MarketLiquidationBucket[];
  recent: MarketLiquidation[];
  truncated: boolean;
  coveredFrom: number;
} {
  const buckets: MarketLiquidationBucket[] = [];
  const recent: MarketLiquidation[] = [];
  let rows = 0;
  let coveredFrom = from;
  let truncated = false;
  const first = Math.floor(from / bucketMs) * bucketMs;
  for (let start = Math.floor((to - 1) / bucketMs) * bucketMs; start >= first; start -= bucketMs) {
    if (rows >= LIQUIDATION_BUDGET) {
      truncated = true;
      coveredFrom = start + bucketMs;
      break;
    }
    const list = r.liquidations(symbol, Math.max(start, from), Math.min(start + bucketMs, to));
    rows += list.length;
    if (list.length === 0) continue;
    const b: MarketLiquidationBucket = { at: start, sells: 0, buys: 0, sellSize: 0, buySize: 0 };
    for (const l of list) {
      if (l.side === 'sell') {
        b.sells += 1;
        b.sellSize += l.size;
      } else {
        b.buys += 1;
        b.buySize += l.size;
      }
    }
    buckets.push(b);
    for (let i = list.length - 1; i >= 0 && recent.length < RECENT_LIQUIDATIONS; i--) {
      const l = list[i]!;
      recent.push({ ts: l.exchangeTs, side: l.side, price: l.price, size: l.size });
    }
  }
  return { buckets: buckets.reverse(), recent, truncated, coveredFrom };
}
