/**
 * Read-only access to a collector's `market/<venue>.db`, for the optimizer, the UI and tests. Opened
 * read-only while the collector keeps writing (WAL: readers never block the writer, and each query
 * sees the batches committed before it started).
 *
 * Every range is half-open, [from, to), in exchange epoch ms. Keep single queries short: a long read
 * keeps the writer's checkpoints from reusing the WAL, which then grows until the read ends.
 */
import type { Database as Db, Statement } from 'better-sqlite3';
import type {
  FundingRecord,
  GapCause,
  GapRecord,
  LiquidationRecord,
  LongShortRecord,
  OpenInterestRecord,
  TradeRecord,
  Venue,
  VolatilityIndexRecord,
} from '../../shared/market';
import type { Candle, CandleResolution } from './candles';
import { electronNativeBinding } from '../sqlite/native-binding';
import { openMarketDb, toMarketDbError } from './market-db';
import { distinctSymbols, type MarketTable } from './recorder';

export interface StoredGap extends GapRecord {
  id: number;
}

export interface GapQuery {
  /** Gaps of this symbol, and those of whole connections (symbol null), which cover it too. */
  symbol?: string;
  /** Gaps that overlap [from, to); an open gap runs until now. */
  from?: number;
  to?: number;
}

export interface MarketReaderOptions {
  /** better-sqlite3's addon for this runtime (the Electron build when run inside Electron). */
  nativeBinding?: string;
}

interface TradeRow {
  symbol: string;
  id: string;
  ts: number;
  local_ts: number;
  price: number;
  size: number;
  side: 'buy' | 'sell';
}

interface CandleRow {
  symbol: string;
  start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  buy_volume: number;
  trades: number;
  first_ts: number;
  last_ts: number;
}

interface GapRow {
  id: number;
  symbol: string | null;
  stream: string;
  start: number;
  end: number | null;
  cause: string;
  detail: string;
}

export class MarketReader {
  readonly file: string;
  /** The venue the file records (written by its collector when it created the file). */
  readonly venue: Venue;
  private readonly stmts = new Map<string, Statement<unknown[], unknown>>();

  /** Opens an existing market database read-only; throws MarketDbError when it cannot. */
  static open(file: string, opts: MarketReaderOptions = {}): MarketReader {
    const nativeBinding = opts.nativeBinding ?? electronNativeBinding();
    const db = openMarketDb(file, { readonly: true, ...(nativeBinding ? { nativeBinding } : {}) });
    try {
      return new MarketReader(db);
    } catch (error) {
      db.close();
      throw toMarketDbError(error, db.name);
    }
  }

  private constructor(private readonly db: Db) {
    this.file = db.name;
    this.venue = db.prepare<[], Venue>(`SELECT value FROM meta WHERE key = 'venue'`).pluck().get()!;
  }

  /** Trades of `symbol` with from <= exchange time < to, oldest first (by id within a millisecond). */
  trades(symbol: string, from: number, to: number, limit = -1): TradeRecord[] {
    const rows = this.query<TradeRow>(
      `SELECT symbol, id, ts, local_ts, price, size, side FROM trades
       WHERE symbol = ? AND ts >= ? AND ts < ? ORDER BY ts, id LIMIT ?`,
      symbol,
      from,
      to,
      limit,
    );
    return rows.map((r) => ({
      type: 'trade',
      venue: this.venue,
      symbol: r.symbol,
      exchangeTs: r.ts,
      localTs: r.local_ts,
      id: r.id,
      price: r.price,
      size: r.size,
      side: r.side,
    }));
  }

  /** Candles of `symbol` with from <= start < to, oldest first (the last may still be growing). */
  candles(symbol: string, resolution: CandleResolution, from: number, to: number): Candle[] {
    const table = resolution === '1s' ? 'candles_1s' : 'candles_1m';
    const rows = this.query<CandleRow>(
      `SELECT * FROM ${table} WHERE symbol = ? AND start >= ? AND start < ? ORDER BY start`,
      symbol,
      from,
      to,
    );
    return rows.map((r) => ({
      symbol: r.symbol,
      start: r.start,
      open: r.open,
      high: r.high,
      low: r.low,
      close: r.close,
      volume: r.volume,
      buyVolume: r.buy_volume,
      trades: r.trades,
      firstTs: r.first_ts,
      lastTs: r.last_ts,
    }));
  }

  /** The gap ledger, oldest first. */
  gaps(q: GapQuery = {}): StoredGap[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.symbol !== undefined) {
      where.push('(symbol = ? OR symbol IS NULL)');
      args.push(q.symbol);
    }
    if (q.to !== undefined) {
      where.push('start < ?');
      args.push(q.to);
    }
    if (q.from !== undefined) {
      where.push('("end" IS NULL OR "end" >= ?)');
      args.push(q.from);
    }
    const rows = this.query<GapRow>(
      `SELECT id, symbol, stream, start, "end" AS "end", cause, detail FROM gaps
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY start, id`,
      ...args,
    );
    return rows.map((r) => ({
      id: r.id,
      venue: this.venue,
      symbol: r.symbol,
      stream: r.stream,
      start: r.start,
      end: r.end,
      cause: r.cause as GapCause,
      detail: r.detail,
    }));
  }

  funding(symbol: string, from: number, to: number): FundingRecord[] {
    const rows = this.query<{
      ts: number;
      rate: number;
      next_funding_time: number;
      mark_price: number | null;
      index_price: number | null;
      interval_ms: number | null;
    }>(
      `SELECT ts, rate, next_funding_time, mark_price, index_price, interval_ms FROM funding
       WHERE symbol = ? AND ts >= ? AND ts < ? ORDER BY ts`,
      symbol,
      from,
      to,
    );
    return rows.map((r) => ({
      type: 'funding',
      venue: this.venue,
      symbol,
      exchangeTs: r.ts,
      // Not stored: the receive time of a funding update is not worth a column.
      localTs: r.ts,
      rate: r.rate,
      nextFundingTime: r.next_funding_time,
      ...(r.mark_price === null ? {} : { markPrice: r.mark_price }),
      ...(r.index_price === null ? {} : { indexPrice: r.index_price }),
      ...(r.interval_ms === null ? {} : { intervalMs: r.interval_ms }),
    }));
  }

  openInterest(symbol: string, from: number, to: number): OpenInterestRecord[] {
    const rows = this.query<{ ts: number; value: number }>(
      'SELECT ts, value FROM open_interest WHERE symbol = ? AND ts >= ? AND ts < ? ORDER BY ts',
      symbol,
      from,
      to,
    );
    return rows.map((r) => ({
      type: 'oi',
      venue: this.venue,
      symbol,
      exchangeTs: r.ts,
      localTs: r.ts,
      openInterest: r.value,
    }));
  }

  /** Liquidations: exchange samples (Binance, OKX), or Deribit's complete liquidation trades. */
  liquidations(symbol: string, from: number, to: number): LiquidationRecord[] {
    const rows = this.query<{ ts: number; side: 'buy' | 'sell'; price: number; size: number }>(
      'SELECT ts, side, price, size FROM liquidations WHERE symbol = ? AND ts >= ? AND ts < ? ORDER BY ts, side, price, size',
      symbol,
      from,
      to,
    );
    return rows.map((r) => ({
      type: 'liquidation',
      venue: this.venue,
      symbol,
      exchangeTs: r.ts,
      localTs: r.ts,
      side: r.side,
      price: r.price,
      size: r.size,
      // Deribit's come from its trade tape, which has every liquidation trade.
      partial: this.venue !== 'deribit',
    }));
  }

  longShort(symbol: string, from: number, to: number, period?: string): LongShortRecord[] {
    const rows = this.query<{
      ts: number;
      period: string;
      ratio: number;
      long_account: number;
      short_account: number;
    }>(
      `SELECT ts, period, ratio, long_account, short_account FROM long_short
       WHERE symbol = ? AND ts >= ? AND ts < ? AND (? IS NULL OR period = ?) ORDER BY ts, period`,
      symbol,
      from,
      to,
      period ?? null,
      period ?? null,
    );
    return rows.map((r) => ({
      type: 'lsr',
      venue: this.venue,
      symbol,
      exchangeTs: r.ts,
      localTs: r.ts,
      period: r.period,
      ratio: r.ratio,
      longAccount: r.long_account,
      shortAccount: r.short_account,
    }));
  }

  /**
   * Volatility index values of a currency (BTC, ETH): live values (`resolutionSec` 0) or the back-filled
   * bars of one resolution, oldest first.
   */
  volatility(symbol: string, from: number, to: number, resolutionSec = 0): VolatilityIndexRecord[] {
    const rows = this.query<{ ts: number; open: number; high: number; low: number; close: number }>(
      `SELECT ts, open, high, low, close FROM volatility_index
       WHERE symbol = ? AND resolution = ? AND ts >= ? AND ts < ? ORDER BY ts`,
      symbol,
      resolutionSec,
      from,
      to,
    );
    return rows.map((r) => ({
      type: 'dvol',
      venue: this.venue,
      symbol,
      exchangeTs: r.ts,
      localTs: r.ts,
      resolutionSec,
      open: r.open,
      high: r.high,
      low: r.low,
      close: r.close,
    }));
  }

  /** Every symbol with data in any table, sorted. */
  symbols(): string[] {
    const tables: MarketTable[] = [
      'trades',
      'candles_1m',
      'funding',
      'open_interest',
      'liquidations',
      'long_short',
      'volatility_index',
    ];
    const all = new Set<string>();
    try {
      for (const t of tables) for (const s of distinctSymbols(this.db, t)) all.add(s);
    } catch (error) {
      throw toMarketDbError(error, this.file, 'reading symbols');
    }
    return [...all].sort();
  }

  close(): void {
    this.db.close();
  }

  private query<T>(sql: string, ...args: unknown[]): T[] {
    try {
      let stmt = this.stmts.get(sql);
      if (!stmt) {
        stmt = this.db.prepare(sql);
        this.stmts.set(sql, stmt);
      }
      return stmt.all(...args) as T[];
    } catch (error) {
      throw toMarketDbError(error, this.file, 'reading market data');
    }
  }
}
