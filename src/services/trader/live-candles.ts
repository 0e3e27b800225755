/**
 * Candles built live from trades, for the strategy: the collector's CandleBuilder (exchange time, the
 * same candles the recorder writes and backtests read) with what the trader adds:
 *
 * - a candle closes when a trade of a later interval arrives, or once the market is quiet: at its
 *   interval's end + 1 s (`closeDueAt` says when, in local time, for the engine's timer; `flush` does it);
 * - late trades (for a candle already closed) are dropped: the strategy has seen that candle;
 * - a candle not strictly later than the last one handed out (say the warmup history's last, from the
 *   recorded database, covers the interval the first live trades fall in) is dropped too: a strategy
 *   sees strictly increasing candles;
 * - the last `keep` closed candles per symbol (warmup history included) are kept, to warm a new
 *   strategy at a reload.
 */
import { CandleBuilder, type Candle, type CandleTrade } from '../collector/candles';
import type { StrategyCandle } from '../strategies';

const GRACE_MS = 1_000;

export interface ClosedCandle {
  symbol: string;
  candle: StrategyCandle;
}

interface SymbolCandles {
  recent: StrategyCandle[];
  lastStart: number;
  /** Start of the candle open in the builder (null when none is). */
  openStart: number | null;
  /** Local time the open candle is due to close by timer (null when none is open). */
  dueAt: number | null;
}

export class LiveCandles {
  private readonly builder: CandleBuilder;
  private readonly symbols = new Map<string, SymbolCandles>();

  constructor(
    readonly intervalMs: number,
    private readonly keep: number,
  ) {
    this.builder = new CandleBuilder(intervalMs, { graceMs: GRACE_MS });
  }

  private state(symbol: string): SymbolCandles {
    let s = this.symbols.get(symbol);
    if (!s) {
      s = { recent: [], lastStart: -Infinity, openStart: null, dueAt: null };
      this.symbols.set(symbol, s);
    }
    return s;
  }

  /** Closed candles from elsewhere (the recorded history), oldest first: kept as if closed live. */
  seed(symbol: string, candles: readonly StrategyCandle[]): StrategyCandle[] {
    const taken: StrategyCandle[] = [];
    for (const c of candles) if (this.take(symbol, c)) taken.push(c);
    return taken;
  }

  /** A trade; returns the candle it closed, if any (one a trade at most). */
  add(t: CandleTrade): ClosedCandle | null {
    const s = this.state(t.symbol);
    let closed: ClosedCandle | null = null;
    for (const c of this.builder.add(t)) {
      if (c.late) continue;
      const candle = toStrategyCandle(c);
      if (this.take(t.symbol, candle)) closed = { symbol: t.symbol, candle };
    }
    const start = Math.floor(t.exchangeTs / this.intervalMs) * this.intervalMs;
    if (start > s.lastStart && (s.openStart === null || start >= s.openStart)) {
      // The builder turns local time into exchange time with the latest trade's offset: so do we.
      s.openStart = start;
      s.dueAt = start + this.intervalMs + GRACE_MS + (t.localTs - t.exchangeTs);
    }
    return closed;
  }

  /** Closes the candles whose interval ended more than 1 s ago (local `now`). */
  flush(now: number): ClosedCandle[] {
    const out: ClosedCandle[] = [];
    for (const c of this.builder.flush(now)) {
      const s = this.state(c.symbol);
      s.openStart = null;
      s.dueAt = null;
      const candle = toStrategyCandle(c);
      if (this.take(c.symbol, candle)) out.push({ symbol: c.symbol, candle });
    }
    return out;
  }

  /** The earliest local time an open candle closes by timer (null if none is open). */
  closeDueAt(): number | null {
    let due: number | null = null;
    for (const s of this.symbols.values())
      if (s.dueAt !== null && (due === null || s.dueAt < due)) due = s.dueAt;
    return due;
  }

  /** The last closed candles of a symbol, oldest first. */
  recent(symbol: string): readonly StrategyCandle[] {
    return this.symbols.get(symbol)?.recent ?? [];
  }

  private take(symbol: string, c: StrategyCandle): boolean {
    const s = this.state(symbol);
    if (!(c.start > s.lastStart)) return false;
    s.lastStart = c.start;
    s.recent.push(c);
    // Trimmed in chunks: one splice per `keep` candles, not one shift per candle.
    if (s.recent.length >= 2 * this.keep) s.recent.splice(0, s.recent.length - this.keep);
    return true;
  }
}

function toStrategyCandle(c: Candle): StrategyCandle {
  return {
    start: c.start,
    open: c.open,
    high: c.high,
    low: c.low,
    close: c.close,
    volume: c.volume,
    trades: c.trades,
  };
}
