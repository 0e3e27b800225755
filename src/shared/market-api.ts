/**
 * The market-health part of the control API: the gap ledger and recorded series of `market/<venue>.db`,
 * and the latest top of book. Inputs are validated here (zod) for both transports; results are plain
 * JSON. Declared apart from api.ts to keep the contract file readable; api.ts lists the commands.
 */
import { z } from 'zod';
import { gapCauses, venues, type GapCause, type MarketDataType, type Venue } from './market';

const DAY_MS = 86_400_000;
/** One query covers at most this much time: a bounded read, whatever the range asked. */
export const MAX_SERIES_RANGE_MS = 31 * DAY_MS;
/** 1-second candles: at most this range (21,600 candles) per query; longer ranges use 1-minute ones. */
export const MAX_1S_RANGE_MS = 6 * 3_600_000;

const epochMs = z.number().int('must be a whole number of milliseconds').min(0);

export const marketVenueSchema = z.enum(venues);

/** How collectors spell instruments (BTCUSDT, BTC-USDT-SWAP, BTC-PERPETUAL), or a DVOL currency (BTC). */
export const marketSymbolSchema = z
  .string()
  .regex(
    /^[A-Z0-9][A-Z0-9_-]{0,39}$/,
    'symbols are upper-case letters, digits, - and _ (e.g. BTCUSDT, BTC-USDT-SWAP, BTC-PERPETUAL)',
  );

/** Which recorded data a venue has (spot markets have no derivatives data; only Deribit has DVOL). */
export const venueSeries: Record<Venue, readonly MarketSeriesKind[]> = {
  'binance-spot': ['candles'],
  'binance-usdm': ['candles', 'funding', 'oi', 'lsr', 'liquidations'],
  'okx-spot': ['candles'],
  'okx-swap': ['candles', 'funding', 'oi', 'lsr', 'liquidations'],
  deribit: ['candles', 'funding', 'oi', 'dvol', 'liquidations'],
};

export const marketSeriesKinds = ['candles', 'funding', 'oi', 'lsr', 'dvol', 'liquidations'] as const;
export type MarketSeriesKind = (typeof marketSeriesKinds)[number];

/** Binance and OKX publish samples of their liquidations; Deribit's come from its complete trade tape. */
export function liquidationCompleteness(venue: Venue): 'sampled' | 'complete' {
  return venue === 'deribit' ? 'complete' : 'sampled';
}

/** The DVOL currency of an instrument: BTC-PERPETUAL → BTC (a bare currency stays as it is). */
export function dvolCurrency(symbol: string): string {
  return symbol.split('-')[0]!.split('_')[0]!;
}

// ---- market.gaps ------------------------------------------------------------------------------

/** `<start>:<venue>:<id>` of the last gap of a page: the next page starts after it. */
const gapCursor = z
  .string()
  .regex(/^\d{1,16}:[a-z-]{1,20}:\d{1,16}$/, 'must be the `next` of a previous page');

export const marketGapsInput = z
  .object({
    /** One venue; without it, every venue's ledger merged. */
    venue: marketVenueSchema.optional(),
    /** Gaps of this symbol, plus those of whole connections (which cover it too). */
    symbol: marketSymbolSchema.optional(),
    cause: z.enum(gapCauses).optional(),
    /** Gaps overlapping [from, to); an open gap runs until now. */
    from: epochMs.optional(),
    to: epochMs.optional(),
    /** Only gaps still open (true) or only closed ones (false). */
    open: z.boolean().optional(),
    limit: z.number().int().min(1).max(1000).default(100),
    before: gapCursor.optional(),
  })
  .strict()
  .refine((q) => q.from === undefined || q.to === undefined || q.to > q.from, {
    path: ['to'],
    message: 'must be after from',
  });

export interface MarketGap {
  id: number;
  venue: Venue;
  /** Null when the gap covers a whole connection (every symbol on it). */
  symbol: string | null;
  /** The stream concerned (`book`, `trade`, a connection name...). */
  stream: string;
  /** Last good data before the gap, epoch ms. */
  start: number;
  /** First good data after it; null while it is still open. */
  end: number | null;
  cause: GapCause;
  detail: string;
}

export interface MarketGapsResult {
  /** Newest first (by start). */
  items: MarketGap[];
  /** Pass as `before` for the following page; null when there is no more. */
  next: string | null;
  /** Gaps matching the filters, on every page. */
  total: number;
  /** Of those, still open. */
  open: number;
  /** Venues with nothing to read yet, in words (a missing file is not an error). */
  notes: string[];
  /** Listing every venue: the files that could not be read (one venue alone is an error instead). */
  unreadable: { venue: Venue; message: string }[];
}

// ---- market.series ----------------------------------------------------------------------------

export const marketSeriesInput = z
  .object({
    venue: marketVenueSchema,
    /** The instrument; DVOL is read for its currency (BTC-PERPETUAL → BTC). */
    symbol: marketSymbolSchema,
    from: epochMs,
    to: epochMs,
    /** Candle resolution; `auto` takes 1 s for short ranges, else 1 m. */
    resolution: z.enum(['auto', '1s', '1m']).default('auto'),
    /** Points per series at most: longer ranges are downsampled into buckets. */
    maxPoints: z.number().int().min(10).max(2000).default(500),
    /** Which series; default every one the venue records. */
    include: z
      .array(z.enum(marketSeriesKinds))
      .min(1, 'name at least one series')
      .refine((k) => new Set(k).size === k.length, 'series must not repeat')
      .optional(),
  })
  .strict()
  .refine((q) => q.to > q.from, { path: ['to'], message: 'must be after from' })
  .refine((q) => q.to - q.from <= MAX_SERIES_RANGE_MS, {
    path: ['to'],
    message: 'a query covers at most 31 days: narrow the range',
  })
  .refine((q) => q.resolution !== '1s' || q.to - q.from <= MAX_1S_RANGE_MS, {
    path: ['resolution'],
    message: '1-second candles cover at most 6 hours per query: use 1m (or auto) for longer ranges',
  });

export interface MarketCandle {
  /** Bucket start, epoch ms. */
  at: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  trades: number;
}

export interface MarketValuePoint {
  /** Bucket start, epoch ms. */
  at: number;
  /** The last value recorded in the bucket. */
  value: number;
  /** Exchange time of that value. */
  ts: number;
}

export interface MarketFundingPoint extends MarketValuePoint {
  nextFundingTime: number;
  markPrice: number | null;
  intervalMs: number | null;
}

export interface MarketLiquidationBucket {
  at: number;
  /** Liquidation orders that sold (longs liquidated) and bought (shorts liquidated). */
  sells: number;
  buys: number;
  sellSize: number;
  buySize: number;
}

export interface MarketLiquidation {
  ts: number;
  side: 'buy' | 'sell';
  price: number;
  size: number;
}

export interface MarketSeriesResult {
  venue: Venue;
  symbol: string;
  from: number;
  to: number;
  /** The width of one point, ms. */
  bucketMs: number;
  /** Null: not asked, or the venue does not record it. */
  candles: { resolution: '1s' | '1m'; points: MarketCandle[] } | null;
  funding: MarketFundingPoint[] | null;
  /** Base currency (Binance, OKX) or USD (Deribit). */
  openInterest: { unit: 'base' | 'usd'; points: MarketValuePoint[] } | null;
  /** Long/short account ratio. */
  longShort: MarketValuePoint[] | null;
  /** Deribit's volatility index of the instrument's currency: live values, or back-filled 60 s bars where none. */
  dvol: { symbol: string; source: 'live' | 'bars' | 'mixed' | 'none'; points: MarketValuePoint[] } | null;
  liquidations: {
    /** `sampled` (Binance, OKX: the exchange publishes a sample) or `complete` (Deribit's tape). */
    completeness: 'sampled' | 'complete';
    partial: boolean;
    buckets: MarketLiquidationBucket[];
    /** The newest few, newest first. */
    recent: MarketLiquidation[];
    /** Too many to count in one query: the buckets start at `coveredFrom`, not `from`. */
    truncated: boolean;
    coveredFrom: number;
  } | null;
  /** What the figures cannot say (no file yet, nothing in the range), in words. */
  notes: string[];
}

// ---- market.top -------------------------------------------------------------------------------

export const marketTopInput = z
  .object({
    venue: marketVenueSchema.optional(),
    symbol: marketSymbolSchema.optional(),
  })
  .strict();

export interface MarketTop {
  venue: Venue;
  symbol: string;
  bid: number;
  bidSize: number;
  ask: number;
  askSize: number;
  /** ask − bid, and in basis points of the mid. */
  spread: number;
  spreadBps: number;
  /** Exchange time and local receive time of this top, epoch ms. */
  exchangeTs: number;
  localTs: number;
  /** The last trade's price and exchange time, when one was seen. */
  last: number | null;
  lastTs: number | null;
}

export interface MarketTopResult {
  at: number;
  /**
   * True while a client watches (subscribes to the `market.top` event): tops then come from the bus
   * as they change. Otherwise from the collectors' twice-a-second samples.
   */
  live: boolean;
  tops: MarketTop[];
}

/** The `market.top` event: the tops that changed since the last one, at most four times a second. */
export interface MarketTopEvent {
  at: number;
  tops: MarketTop[];
}

// ---- freshness ----------------------------------------------------------------------------------

/**
 * How fresh a stream is against its collector's `staleAfterMs` (the silence after which the
 * collector presumes a connection dead): green, amber past half of it, red past it, none before the
 * first message. Types that come slower by nature get the longer limit they need.
 */
export type Freshness = 'green' | 'amber' | 'red' | 'none';

/** OKX pushes funding every 30–90 s: the collector calls it stale only after 180 s (two missed pushes). */
const OKX_FUNDING_LIMIT_MS = 180_000;
/** Long/short ratios are per 5-minute period, polled no faster than that. */
const LSR_PERIOD_MS = 300_000;
/** Liquidations arrive only when positions are liquidated: an hour without one is a quiet market. */
const LIQUIDATION_LIMIT_MS = 3_600_000;
/** How long a stream of `type` may be silent before it is red (amber past half of it). */
export function staleLimitMs(
  spec: { venue: Venue | null; staleAfterMs: number; pollIntervalMs: number },
  type: MarketDataType,
): number {
  const { venue, staleAfterMs } = spec;
  switch (type) {
    case 'funding':
      return venue === 'okx-swap' ? Math.max(staleAfterMs, OKX_FUNDING_LIMIT_MS) : staleAfterMs;
    case 'oi':
      // Binance USD-M open interest is polled over REST; the others push it.
      return venue === 'binance-usdm'
        ? Math.max(staleAfterMs, 2 * spec.pollIntervalMs + 10_000)
        : staleAfterMs;
    case 'lsr':
      return Math.max(staleAfterMs, LSR_PERIOD_MS + 2 * Math.max(spec.pollIntervalMs, LSR_PERIOD_MS));
    case 'liquidation':
      return Math.max(staleAfterMs, LIQUIDATION_LIMIT_MS);
    default:
      return staleAfterMs;
  }
}

export function judgeFreshness(freshnessMs: number | undefined, limitMs: number): Freshness {
  if (freshnessMs === undefined || !Number.isFinite(freshnessMs)) return 'none';
  if (freshnessMs > limitMs) return 'red';
  if (freshnessMs > limitMs / 2) return 'amber';
  return 'green';
}
