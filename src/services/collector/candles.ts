/**
 * OHLCV candles from trades, by exchange time. Two builders share one candle shape and one merge rule:
 *
 * - `CandleBuilder` streams: it keeps one open candle per symbol and says when a candle closes (a trade
 *   in a later interval, or `flush(now)` once the interval has ended). What a consumer that publishes
 *   finished candles wants.
 * - `CandleAccumulator` groups any set of trades by (symbol, interval) in any order: what the recorder
 *   writes per batch, as fragments that the database merges into the stored row.
 *
 * Fragments of one candle merge in any order to the same result: open and close come from the
 * earliest and latest trade by exchange time (`firstTs`/`lastTs`), ties going to the trade seen first
 * (open) and last (close). `mergeCandle` here and the recorder's SQL upsert follow the same rule.
 */
import type { TradeRecord } from '../../shared/market';

export interface Candle {
  symbol: string;
  /** Epoch ms, a multiple of the interval. */
  start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Base quantity traded. */
  volume: number;
  /** The part of `volume` bought by takers. */
  buyVolume: number;
  /** Number of trades. */
  trades: number;
  /** Exchange time of the trade that set `open`, and of the one that set `close`. */
  firstTs: number;
  lastTs: number;
  firstTradeId?: string;
  lastTradeId?: string;
  /**
   * A fragment made of trades that arrived after `CandleBuilder` had closed their interval: merge it
   * into the candle returned before (the recorder's upsert does), do not treat it as a whole candle.
   */
  late?: true;
}

/** The fields of a trade a candle needs. */
export type CandleTrade = Pick<
  TradeRecord,
  'symbol' | 'id' | 'exchangeTs' | 'localTs' | 'price' | 'size' | 'side'
>;

export const candleIntervals = { '1s': 1_000, '1m': 60_000 } as const;
export type CandleResolution = keyof typeof candleIntervals;

export function alignStart(ts: number, intervalMs: number): number {
  return Math.floor(ts / intervalMs) * intervalMs;
}

export function candleFromTrade(t: CandleTrade, intervalMs: number): Candle {
  return {
    symbol: t.symbol,
    start: alignStart(t.exchangeTs, intervalMs),
    open: t.price,
    high: t.price,
    low: t.price,
    close: t.price,
    volume: t.size,
    buyVolume: t.side === 'buy' ? t.size : 0,
    trades: 1,
    firstTs: t.exchangeTs,
    lastTs: t.exchangeTs,
    firstTradeId: t.id,
    lastTradeId: t.id,
  };
}

/** Adds a trade of the same symbol and interval to `c` (mutates it). */
export function addTradeToCandle(c: Candle, t: CandleTrade): void {
  if (t.price > c.high) c.high = t.price;
  if (t.price < c.low) c.low = t.price;
  c.volume += t.size;
  if (t.side === 'buy') c.buyVolume += t.size;
  c.trades += 1;
  if (t.exchangeTs < c.firstTs) {
    c.open = t.price;
    c.firstTs = t.exchangeTs;
    c.firstTradeId = t.id;
  }
  if (t.exchangeTs >= c.lastTs) {
    c.close = t.price;
    c.lastTs = t.exchangeTs;
    c.lastTradeId = t.id;
  }
}

/** Merges `later` (a fragment seen after `into`'s trades) into `into`, same symbol and start (mutates `into`). */
export function mergeCandle(into: Candle, later: Candle): void {
  if (later.high > into.high) into.high = later.high;
  if (later.low < into.low) into.low = later.low;
  into.volume += later.volume;
  into.buyVolume += later.buyVolume;
  into.trades += later.trades;
  if (later.firstTs < into.firstTs) {
    into.open = later.open;
    into.firstTs = later.firstTs;
    into.firstTradeId = later.firstTradeId;
  }
  if (later.lastTs >= into.lastTs) {
    into.close = later.close;
    into.lastTs = later.lastTs;
    into.lastTradeId = later.lastTradeId;
  }
}

export interface CandleBuilderOptions {
  /**
   * How long after an interval's end (exchange time) `flush` waits before closing it: trades reach us
   * a little after their exchange time, and not always in order. Default 1000 ms.
   */
  graceMs?: number;
}

interface SymbolState {
  open: Candle | null;
  /** Intervals starting before this are closed: a trade for one of them is late. */
  closedBefore: number;
  /** localTs − exchangeTs of the symbol's latest trade: turns the local `now` into exchange time. */
  offset: number;
}

/**
 * Streams candles of one interval for any number of symbols. Late trades (for an interval already
 * closed) are not dropped: each comes back from `add` as a one-trade fragment marked `late`, to be
 * merged into the stored candle, and is counted in `lateTrades`.
 */
export class CandleBuilder {
  private readonly graceMs: number;
  private readonly symbols = new Map<string, SymbolState>();
  private late = 0;

  constructor(
    readonly intervalMs: number,
    opts: CandleBuilderOptions = {},
  ) {
    if (!Number.isInteger(intervalMs) || intervalMs <= 0) {
      throw new RangeError(`a candle interval is a positive whole number of ms, not ${intervalMs}`);
    }
    this.graceMs = Math.max(0, opts.graceMs ?? 1000);
  }

  /** Trades that arrived after their candle had closed. */
  get lateTrades(): number {
    return this.late;
  }

  /** Adds a trade; returns the candles it closed (at most one) and, for a late trade, its fragment. */
  add(t: CandleTrade): Candle[] {
    let s = this.symbols.get(t.symbol);
    if (!s) {
      s = { open: null, closedBefore: -Infinity, offset: 0 };
      this.symbols.set(t.symbol, s);
    }
    s.offset = t.localTs - t.exchangeTs;
    const start = alignStart(t.exchangeTs, this.intervalMs);
    const open = s.open;
    if (open && start === open.start) {
      addTradeToCandle(open, t);
      return [];
    }
    if (start < (open ? open.start : s.closedBefore)) {
      this.late += 1;
      return [{ ...candleFromTrade(t, this.intervalMs), late: true }];
    }
    s.open = candleFromTrade(t, this.intervalMs);
    if (!open) return [];
    s.closedBefore = open.start + this.intervalMs;
    return [open];
  }

  /**
   * Closes the candles whose interval ended more than the grace period before `now` (local epoch ms,
   * turned into the symbol's exchange time with its latest localTs − exchangeTs, so a local clock that
   * runs ahead does not close candles early).
   */
  flush(now: number): Candle[] {
    const closed: Candle[] = [];
    for (const s of this.symbols.values()) {
      const open = s.open;
      if (!open) continue;
      const end = open.start + this.intervalMs;
      if (end + this.graceMs <= now - s.offset) {
        closed.push(open);
        s.open = null;
        s.closedBefore = end;
      }
    }
    return closed;
  }

  /** Closes every open candle now, whatever its interval (at shutdown); they may be partial. */
  closeAll(): Candle[] {
    const closed: Candle[] = [];
    for (const s of this.symbols.values()) {
      if (!s.open) continue;
      closed.push(s.open);
      s.closedBefore = s.open.start + this.intervalMs;
      s.open = null;
    }
    return closed;
  }

  /** Copies of the candles still open. */
  openCandles(): Candle[] {
    const open: Candle[] = [];
    for (const s of this.symbols.values()) if (s.open) open.push({ ...s.open });
    return open;
  }
}

/** Groups trades by (symbol, interval) in whatever order they come; `drain` hands the candles over. */
export class CandleAccumulator {
  private readonly bySymbol = new Map<string, Map<number, Candle>>();
  // Consecutive trades nearly always hit the same candle: skip both map lookups for them.
  private last: Candle | null = null;
  private count = 0;

  constructor(readonly intervalMs: number) {}

  /** Number of distinct candles held. */
  get size(): number {
    return this.count;
  }

  add(t: CandleTrade): void {
    const start = alignStart(t.exchangeTs, this.intervalMs);
    const last = this.last;
    if (last && last.start === start && last.symbol === t.symbol) {
      addTradeToCandle(last, t);
      return;
    }
    let byStart = this.bySymbol.get(t.symbol);
    if (!byStart) {
      byStart = new Map();
      this.bySymbol.set(t.symbol, byStart);
    }
    let c = byStart.get(start);
    if (c) {
      addTradeToCandle(c, t);
    } else {
      c = candleFromTrade(t, this.intervalMs);
      byStart.set(start, c);
      this.count += 1;
    }
    this.last = c;
  }

  drain(): Candle[] {
    const out: Candle[] = [];
    for (const byStart of this.bySymbol.values()) for (const c of byStart.values()) out.push(c);
    this.bySymbol.clear();
    this.last = null;
    this.count = 0;
    return out;
  }
}
