/**
 * The collector's recorder: market data of one venue into `<dataDir>/market/<venue>.db`, written by
 * this process only (one writer per file) and read by others at the same time (WAL, market-reader.ts).
 *
 * Callers only queue; batches are written on a timer or as soon as `maxBatch` trades are queued, one
 * transaction per batch, each cut short once it has taken about `maxBatchMs`, so the collector's
 * event loop is never held for long. The rest of a long queue follows in later turns of the loop.
 *
 * Candles (1 s and 1 m) are built here from the trades the database accepted, inside the same
 * transaction as those trades, and written as fragments merged into the stored row (high = max,
 * low = min, volumes and counts add up, open/close by exchange time). So:
 * - a duplicate trade (a reconnect's overlap, even across a restart) is ignored by the trades table's
 *   (symbol, ts, id) key and never counts twice in a candle;
 * - trades and their candles commit together: a crash or a restart mid-minute loses neither the
 *   earlier part of a candle nor a trade that a candle has counted; late trades merge into their row.
 *
 * Gaps (the gap ledger) are written at once, not batched: they matter most after a crash.
 *
 * Opening the file (and its errors) is market-db.ts.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Database as Db, Statement } from 'better-sqlite3';
import {
  gapCauses,
  venues,
  type FundingRecord,
  type GapRecord,
  type LiquidationRecord,
  type LongShortRecord,
  type OpenInterestRecord,
  type TradeRecord,
  type Venue,
  type VolatilityIndexRecord,
} from '../../shared/market';
import { CandleAccumulator, candleIntervals, type Candle } from './candles';
import { electronNativeBinding } from '../sqlite/native-binding';
import { marketDbPath, openMarketDb, toMarketDbError, type MarketDbError } from './market-db';

// ---------------------------------------------------------------------------------------------------
// Recorder

export const marketTables = [
  'trades',
  'candles_1s',
  'candles_1m',
  'funding',
  'open_interest',
  'liquidations',
  'long_short',
  'volatility_index',
  'gaps',
] as const;
export type MarketTable = (typeof marketTables)[number];

export interface MarketRecorderOptions {
  dataDir: string;
  venue: Venue;
  /** Days of trades, 1 s candles and liquidations kept; 1 m candles, funding, OI, long/short, DVOL, gaps: 10×. */
  retentionDays: number;
  /**
   * How often queued data is written. Default 250. 0: no timer, the owner calls flush() (tests); a
   * batch still starts by itself once `maxBatch` trades are queued.
   */
  flushIntervalMs?: number;
  /** At most this many trades per transaction; this many queued starts a batch at once. Default 5000. */
  maxBatch?: number;
  /** A batch stops taking trades once it has run this long, leaving time for its commit. Default 15. */
  maxBatchMs?: number;
  /** How often old rows are pruned (in small steps); 0: never by itself, call prune(). Default 10 min. */
  pruneIntervalMs?: number;
  /** Queued trades beyond this (writes have been failing for a while) are dropped, oldest first. */
  maxQueue?: number;
  /** better-sqlite3's addon for this runtime (the Electron build when run inside Electron). */
  nativeBinding?: string;
  /** Write failures, reported once until a batch succeeds again. Default: console.error. */
  onError?: (error: MarketDbError) => void;
  /** Run WAL checkpoints in a worker thread (default), or on this thread as SQLite does by itself. */
  checkpointThread?: boolean;
}

export interface MarketRecorderStats {
  /** Rows written per table since open (candles: fragment upserts; gaps: inserts). */
  rows: Record<MarketTable, number>;
  /** Trades the database already had (same symbol, exchange time and id): ignored, in no candle. */
  duplicateTrades: number;
  /** Records refused before queueing: another venue, a non-finite number, a non-integer time. */
  rejected: number;
  /** Trades dropped because the queue overflowed while writes were failing. */
  dropped: number;
  /** Rows deleted by retention. */
  pruned: number;
  batches: number;
  failedBatches: number;
  /** Duration of the last / longest single batch (one transaction, one synchronous call), ms. */
  lastFlushMs: number;
  maxFlushMs: number;
  /** Rows queued, not yet written. */
  queue: number;
  /** Size of the database file plus its WAL. */
  dbBytes: number;
  walBytes: number;
  /** Checkpoints done by the checkpoint thread, and their durations there (off the event loop), ms. */
  checkpoints: number;
  lastCheckpointMs: number;
  maxCheckpointMs: number;
  lastError: string | null;
}

export interface FlushResult {
  rows: number;
  batches: number;
  ms: number;
}

export interface PruneResult {
  deleted: number;
  /** False: the time budget ran out first; call again (the next call continues). */
  done: boolean;
}

type GapRow = [
  id: number,
  symbol: string | null,
  stream: string,
  start: number,
  end: number | null,
  cause: string,
  detail: string,
];

/** A queue consumed from a moving head: no shifting of a long array at every batch. */
class Queue<T> {
  items: T[] = [];
  head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  drop(n: number): void {
    this.head += n;
    if (this.head >= this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 65_536 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

interface PruneTask {
  table: MarketTable;
  symbol: string | null;
  cutoff: number;
}

const primaryKeys: Record<Exclude<MarketTable, 'gaps'>, readonly string[]> = {
  trades: ['symbol', 'ts', 'id'],
  candles_1s: ['symbol', 'start'],
  candles_1m: ['symbol', 'start'],
  funding: ['symbol', 'ts'],
  open_interest: ['symbol', 'ts'],
  liquidations: ['symbol', 'ts', 'side', 'price', 'size'],
  long_short: ['symbol', 'ts', 'period'],
  // Pruned by time within each resolution's range: `ts` must be the second key for the prune query.
  volatility_index: ['symbol', 'ts', 'resolution'],
};

const DAY_MS = 86_400_000;
/** Rows per prune DELETE: a few ms each, so a step fits the batch budget. */
const PRUNE_CHUNK = 1000;
const DEFAULT_MAX_QUEUE = 1_000_000;

const isTime = (v: unknown): v is number => Number.isSafeInteger(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const optNum = (v: number | undefined): number | null => (isNum(v) ? v : null);

export class MarketRecorder {
  readonly file: string;
  readonly venue: Venue;
  private readonly retentionMs: number;
  private readonly maxBatch: number;
  private readonly maxBatchMs: number;
  private readonly maxQueue: number;
  private readonly onError: (error: MarketDbError) => void;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private pruneImmediate: ReturnType<typeof setImmediate> | null = null;
  private closed = false;

  private readonly trades = new Queue<TradeRecord>();
  private funding: FundingRecord[] = [];
  private oi: OpenInterestRecord[] = [];
  private liquidations: LiquidationRecord[] = [];
  private longShort: LongShortRecord[] = [];
  private volatility: VolatilityIndexRecord[] = [];
  /** Gaps whose immediate write failed: retried with every batch. */
  private readonly pendingGaps = new Map<number, GapRow>();
  private pendingCloses = new Map<number, number>();
  private nextGapId: number;
  private pruneRun: { tasks: PruneTask[]; next: number } | null = null;
  /** Cost of one candle upsert, ms: a moving average, starting from a measured typical value. */
  private upsertMs = 0.005;
  private checkpointer: Checkpointer | null = null;
  private readonly pruneStmts = new Map<string, Statement<unknown[]>>();

  private readonly counters: Omit<
    MarketRecorderStats,
    'queue' | 'dbBytes' | 'walBytes' | 'checkpoints' | 'lastCheckpointMs' | 'maxCheckpointMs'
  > = {
    rows: Object.fromEntries(marketTables.map((t) => [t, 0])) as Record<MarketTable, number>,
    duplicateTrades: 0,
    rejected: 0,
    dropped: 0,
    pruned: 0,
    batches: 0,
    failedBatches: 0,
    lastFlushMs: 0,
    maxFlushMs: 0,
    lastError: null,
  };

  private readonly stmts: {
    trade: Statement<[string, string, number, number, number, number, string]>;
    candle1s: Statement<unknown[]>;
    candle1m: Statement<unknown[]>;
    funding: Statement<[string, number, number, number, number | null, number | null, number | null]>;
    oi: Statement<[string, number, number]>;
    liquidation: Statement<[string, number, string, number, number]>;
    longShort: Statement<[string, number, string, number, number, number]>;
    volatility: Statement<[string, number, number, number, number, number, number]>;
    gap: Statement<GapRow>;
    closeGap: Statement<[number, number]>;
  };

  /** Opens (creating if needed) `<dataDir>/market/<venue>.db`; throws MarketDbError when it cannot. */
  static open(opts: MarketRecorderOptions): MarketRecorder {
    if (!(venues as readonly string[]).includes(opts.venue)) {
      throw new RangeError(`unknown venue ${JSON.stringify(opts.venue)}`);
    }
    if (!(opts.retentionDays > 0)) {
      throw new RangeError(`retentionDays must be more than 0, not ${opts.retentionDays}`);
    }
    const file = marketDbPath(opts.dataDir, opts.venue);
    // Inside Electron (ELECTRON_RUN_AS_NODE) the Node build of the addon would not load.
    const nativeBinding = opts.nativeBinding ?? electronNativeBinding();
    opts = { ...opts, ...(nativeBinding ? { nativeBinding } : {}) };
    const db = openMarketDb(file, { venue: opts.venue, ...(nativeBinding ? { nativeBinding } : {}) });
    try {
      return new MarketRecorder(db, file, opts);
    } catch (error) {
      db.close();
      throw toMarketDbError(error, file);
    }
  }

  private constructor(
    private readonly db: Db,
    file: string,
    opts: MarketRecorderOptions,
  ) {
    this.file = file;
    this.venue = opts.venue;
    this.retentionMs = opts.retentionDays * DAY_MS;
    this.maxBatch = Math.max(1, Math.floor(opts.maxBatch ?? 5000));
    this.maxBatchMs = Math.max(1, opts.maxBatchMs ?? 15);
    this.maxQueue = Math.max(this.maxBatch, opts.maxQueue ?? DEFAULT_MAX_QUEUE);
    this.onError = opts.onError ?? ((e) => console.error(e.message));
    const candleUpsert = (table: string) =>
      // In an UPDATE every right-hand side sees the row as it was, so the order of the SETs is free.
      db.prepare(
        `INSERT INTO ${table} (symbol, start, open, high, low, close, volume, buy_volume, trades, first_ts, last_ts)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (symbol, start) DO UPDATE SET
           open = CASE WHEN excluded.first_ts < first_ts THEN excluded.open ELSE open END,
           first_ts = min(first_ts, excluded.first_ts),
           close = CASE WHEN excluded.last_ts >= last_ts THEN excluded.close ELSE close END,
           last_ts = max(last_ts, excluded.last_ts),
           high = max(high, excluded.high),
           low = min(low, excluded.low),
           volume = volume + excluded.volume,
           buy_volume = buy_volume + excluded.buy_volume,
           trades = trades + excluded.trades`,
      );
    this.stmts = {
      trade: db.prepare(
        `INSERT INTO trades (symbol, id, ts, local_ts, price, size, side) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (symbol, ts, id) DO NOTHING`,
      ),
      candle1s: candleUpsert('candles_1s'),
      candle1m: candleUpsert('candles_1m'),
      funding: db.prepare(
        `INSERT INTO funding (symbol, ts, rate, next_funding_time, mark_price, index_price, interval_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      oi: db.prepare('INSERT INTO open_interest (symbol, ts, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      liquidation: db.prepare(
        'INSERT INTO liquidations (symbol, ts, side, price, size) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      longShort: db.prepare(
        `INSERT INTO long_short (symbol, ts, period, ratio, long_account, short_account)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      // A live value is final; a history bar asked for again (a restart's back-fill) replaces itself.
      volatility: db.prepare(
        `INSERT INTO volatility_index (symbol, resolution, ts, open, high, low, close) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low,
           close = excluded.close`,
      ),
      gap: db.prepare(
        'INSERT INTO gaps (id, symbol, stream, start, "end", cause, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      closeGap: db.prepare('UPDATE gaps SET "end" = ? WHERE id = ? AND "end" IS NULL'),
    };
    // This process is the file's only writer, so gap ids can be handed out here: openGap returns the
    // final id even when the write has to wait for a retry.
    this.nextGapId = (db.prepare<[], number>('SELECT coalesce(max(id), 0) FROM gaps').pluck().get() ?? 0) + 1;

    const flushMs = opts.flushIntervalMs ?? 250;
    if (flushMs > 0) this.timers.push(setInterval(() => this.tick(), flushMs));
    const pruneMs = opts.pruneIntervalMs ?? 600_000;
    if (pruneMs > 0) this.timers.push(setInterval(() => this.startPrune(), pruneMs));
    for (const t of this.timers) t.unref();
    if (opts.checkpointThread ?? true) {
      try {
        this.checkpointer = new Checkpointer(db, file, opts.nativeBinding, (e) =>
          this.report(e, 'checkpointing in its thread (checkpoints now run on the collector thread)'),
        );
      } catch (error) {
        this.report(error, 'starting the checkpoint thread (checkpoints run on the collector thread)');
      }
    }
  }

  /**
   * Queues a trade (kept by reference until written: do not mutate it). Its candles are built when it
   * is written, from the trades the database did not already have.
   */
  addTrade(t: TradeRecord): void {
    if (this.closed) return;
    if (
      t.venue !== this.venue ||
      !isText(t.symbol) ||
      !isText(t.id) ||
      !isTime(t.exchangeTs) ||
      !isNum(t.localTs) ||
      !isNum(t.price) ||
      !isNum(t.size) ||
      (t.side !== 'buy' && t.side !== 'sell')
    ) {
      this.counters.rejected += 1;
      return;
    }
    this.trades.push(t);
    if (this.trades.size > this.maxQueue) this.overflow();
    if (this.trades.size >= this.maxBatch) this.soon();
  }

  addFunding(f: FundingRecord): void {
    if (this.closed) return;
    if (f.venue !== this.venue || !isText(f.symbol) || !isTime(f.exchangeTs) || !isNum(f.rate)) {
      this.counters.rejected += 1;
      return;
    }
    this.funding.push(f);
  }

  addOpenInterest(o: OpenInterestRecord): void {
    if (this.closed) return;
    if (o.venue !== this.venue || !isText(o.symbol) || !isTime(o.exchangeTs) || !isNum(o.openInterest)) {
      this.counters.rejected += 1;
      return;
    }
    this.oi.push(o);
  }

  /** Liquidations are the exchange's samples, not a complete tape (see the schema notes). */
  addLiquidation(l: LiquidationRecord): void {
    if (this.closed) return;
    if (
      l.venue !== this.venue ||
      !isText(l.symbol) ||
      !isTime(l.exchangeTs) ||
      !isNum(l.price) ||
      !isNum(l.size) ||
      (l.side !== 'buy' && l.side !== 'sell')
    ) {
      this.counters.rejected += 1;
      return;
    }
    this.liquidations.push(l);
  }

  addLongShort(r: LongShortRecord): void {
    if (this.closed) return;
    if (
      r.venue !== this.venue ||
      !isText(r.symbol) ||
      !isTime(r.exchangeTs) ||
      !isText(r.period) ||
      !isNum(r.ratio) ||
      !isNum(r.longAccount) ||
      !isNum(r.shortAccount)
    ) {
      this.counters.rejected += 1;
      return;
    }
    this.longShort.push(r);
  }

  /** A volatility index value (live, resolution 0) or history bar (Deribit DVOL). */
  addVolatility(r: VolatilityIndexRecord): void {
    if (this.closed) return;
    if (
      r.venue !== this.venue ||
      !isText(r.symbol) ||
      !isTime(r.exchangeTs) ||
      !Number.isSafeInteger(r.resolutionSec) ||
      r.resolutionSec < 0 ||
      ![r.open, r.high, r.low, r.close].every(isNum)
    ) {
      this.counters.rejected += 1;
      return;
    }
    this.volatility.push(r);
  }

  /**
   * Writes a gap that has already ended (or an open one when `end` is null) at once; returns its id,
   * or -1 when the gap is refused (no valid start, or the recorder is closed: reported via onError).
   */
  recordGap(gap: GapRecord): number {
    const id = this.nextGapId++;
    const row: GapRow = [
      id,
      gap.symbol === null ? null : String(gap.symbol),
      String(gap.stream),
      Math.round(gap.start),
      gap.end === null || !Number.isFinite(gap.end) ? null : Math.round(gap.end),
      (gapCauses as readonly string[]).includes(gap.cause) ? gap.cause : String(gap.cause),
      String(gap.detail ?? ''),
    ];
    if (!Number.isFinite(row[3])) {
      this.counters.rejected += 1;
      this.report(new Error(`a gap's start must be a time, not ${gap.start}`), 'recording a gap');
      return -1;
    }
    if (this.closed) {
      this.report(new Error('the recorder is closed'), 'recording a gap');
      return -1;
    }
    try {
      this.stmts.gap.run(...row);
      this.counters.rows.gaps += 1;
    } catch (error) {
      // Kept and retried with every batch; the id stays valid for closeGap meanwhile.
      this.pendingGaps.set(id, row);
      this.report(error, 'writing a gap');
    }
    return id;
  }

  /** Writes an open gap (its `end` is ignored) at once; returns the id to close it with. */
  openGap(gap: GapRecord): number {
    return this.recordGap({ ...gap, end: null });
  }

  /** Writes the end of an open gap at once. A gap already closed keeps its first end. */
  closeGap(id: number, end: number): void {
    if (this.closed) return;
    const when = Math.round(end);
    const pending = this.pendingGaps.get(id);
    if (pending) {
      if (pending[4] === null) pending[4] = when;
      return;
    }
    try {
      this.stmts.closeGap.run(when, id);
    } catch (error) {
      if (!this.pendingCloses.has(id)) this.pendingCloses.set(id, when);
      this.report(error, 'closing a gap');
    }
  }

  /**
   * Writes everything queued now, in batches of at most `maxBatch` trades (one transaction each);
   * stops at the first failing batch (what is left stays queued). The timer does the same one batch
   * per turn of the event loop; call this at shutdown or in tests.
   */
  flush(): FlushResult {
    const t0 = performance.now();
    let rows = 0;
    let batches = 0;
    while (this.pendingRows() > 0) {
      const written = this.writeBatch();
      if (written === null) break;
      rows += written;
      batches += 1;
    }
    return { rows, batches, ms: performance.now() - t0 };
  }

  /**
   * Deletes rows older than the retention (trades, 1 s candles, liquidations: retentionDays; 1 m
   * candles, funding, open interest, long/short and closed gaps: 10×), in chunks of a thousand rows,
   * until done or `budgetMs` has passed. A run that is not done continues at the next call (with the
   * cutoffs of its first call). The recorder also runs this by itself every `pruneIntervalMs`.
   */
  prune(now: number, budgetMs: number = this.maxBatchMs): PruneResult {
    if (this.closed) return { deleted: 0, done: true };
    const t0 = performance.now();
    try {
      this.pruneRun ??= { tasks: this.pruneTasks(now), next: 0 };
      const run = this.pruneRun;
      let deleted = 0;
      while (run.next < run.tasks.length) {
        const task = run.tasks[run.next]!;
        const n = this.pruneChunk(task);
        deleted += n;
        this.counters.pruned += n;
        if (n < PRUNE_CHUNK) run.next += 1;
        if (performance.now() - t0 >= budgetMs) break;
      }
      const done = run.next >= run.tasks.length;
      if (done) this.pruneRun = null;
      return { deleted, done };
    } catch (error) {
      this.pruneRun = null;
      this.report(error, 'pruning old market data');
      return { deleted: 0, done: true };
    }
  }

  stats(): MarketRecorderStats {
    const size = (f: string): number => {
      try {
        return statSync(f).size;
      } catch {
        return 0; // no WAL at this moment
      }
    };
    const walBytes = size(`${this.file}-wal`);
    const c = this.checkpointer;
    return {
      ...this.counters,
      rows: { ...this.counters.rows },
      queue: this.pendingRows(),
      dbBytes: size(this.file) + walBytes,
      walBytes,
      checkpoints: c?.count ?? 0,
      lastCheckpointMs: c?.lastMs ?? 0,
      maxCheckpointMs: c?.maxMs ?? 0,
    };
  }

  /**
   * Stops the timers, writes what is queued and closes the file. Candles need no final write: each
   * batch already merged its trades into them. Returns how many rows could not be written (the error
   * was reported through onError).
   */
  close(): { unwritten: number } {
    if (this.closed) return { unwritten: 0 };
    for (const t of this.timers) clearInterval(t);
    if (this.immediate) clearImmediate(this.immediate);
    if (this.pruneImmediate) clearImmediate(this.pruneImmediate);
    this.immediate = null;
    this.pruneImmediate = null;
    this.flush();
    const unwritten = this.pendingRows();
    this.closed = true;
    try {
      this.checkpointer?.close();
      // The last connection to close checkpoints the WAL into the file and removes it.
      this.db.close();
    } catch (error) {
      this.report(error, 'closing');
    }
    return { unwritten };
  }

  private soon(): void {
    if (this.immediate || this.closed) return;
    this.immediate = setImmediate(() => this.tick());
  }

  private tick(): void {
    this.immediate = null;
    if (this.closed || this.pendingRows() === 0) return;
    const written = this.writeBatch();
    // More than one batch queued: the next one after other work has had its turn, not in this call.
    if (written !== null && this.pendingRows() > 0) this.soon();
  }

  private pendingRows(): number {
    return (
      this.trades.size +
      this.funding.length +
      this.oi.length +
      this.liquidations.length +
      this.longShort.length +
      this.volatility.length +
      this.pendingGaps.size +
      this.pendingCloses.size
    );
  }

  /** Only while writes keep failing: bounded memory, the oldest trades lost and counted. */
  private overflow(): void {
    const drop = Math.min(
      this.trades.size,
      this.trades.size - this.maxQueue + Math.floor(this.maxQueue / 10),
    );
    this.trades.drop(drop);
    this.counters.dropped += drop;
    this.report(
      new Error(`${drop} queued trades dropped: the queue passed ${this.maxQueue} while writes were failing`),
      'queueing trades',
    );
  }

  /** One transaction; returns the rows written, or null when it failed (everything stays queued). */
  private writeBatch(): number | null {
    const t0 = performance.now();
    // Trades are taken while the time spent plus the candle upserts they imply (at the cost measured
    // in earlier batches) fits in part of maxBatchMs, leaving the rest for the small tables and the
    // commit.
    const tradeBudget = this.maxBatchMs * 0.7;
    const upsertMs = this.upsertMs;
    const q = this.trades;
    const nTrades = Math.min(q.size, this.maxBatch);
    const nFunding = Math.min(this.funding.length, this.maxBatch);
    const nOi = Math.min(this.oi.length, this.maxBatch);
    const nLiq = Math.min(this.liquidations.length, this.maxBatch);
    const nLs = Math.min(this.longShort.length, this.maxBatch);
    const nVol = Math.min(this.volatility.length, this.maxBatch);
    const gaps = [...this.pendingGaps.values()];
    const closes = [...this.pendingCloses.entries()];
    const s = this.stmts;
    const written = { trades: 0, dup: 0, c1s: 0, c1m: 0, funding: 0, oi: 0, liq: 0, ls: 0, vol: 0 };
    let taken = 0;
    let candleMs = 0;
    try {
      this.db
        .transaction(() => {
          const sec = new CandleAccumulator(candleIntervals['1s']);
          const min = new CandleAccumulator(candleIntervals['1m']);
          const items = q.items;
          const base = q.head;
          while (taken < nTrades) {
            const t = items[base + taken]!;
            taken += 1;
            const inserted = s.trade.run(
              t.symbol,
              t.id,
              t.exchangeTs,
              Math.round(t.localTs),
              t.price,
              t.size,
              t.side,
            ).changes;
            if (inserted === 1) {
              written.trades += 1;
              sec.add(t);
              min.add(t);
            } else {
              written.dup += 1;
            }
            if (
              (taken & 63) === 0 &&
              performance.now() - t0 + (sec.size + min.size) * upsertMs > tradeBudget
            ) {
              break;
            }
          }
          written.c1s = sec.size;
          written.c1m = min.size;
          const tc = performance.now();
          for (const c of sec.drain()) s.candle1s.run(...candleRow(c));
          for (const c of min.drain()) s.candle1m.run(...candleRow(c));
          candleMs = performance.now() - tc;
          for (let i = 0; i < nFunding; i++) {
            const f = this.funding[i]!;
            written.funding += s.funding.run(
              f.symbol,
              f.exchangeTs,
              f.rate,
              Math.round(f.nextFundingTime),
              optNum(f.markPrice),
              optNum(f.indexPrice),
              isTime(f.intervalMs) ? f.intervalMs : null,
            ).changes;
          }
          for (let i = 0; i < nOi; i++) {
            const o = this.oi[i]!;
            written.oi += s.oi.run(o.symbol, o.exchangeTs, o.openInterest).changes;
          }
          for (let i = 0; i < nLiq; i++) {
            const l = this.liquidations[i]!;
            written.liq += s.liquidation.run(l.symbol, l.exchangeTs, l.side, l.price, l.size).changes;
          }
          for (let i = 0; i < nLs; i++) {
            const r = this.longShort[i]!;
            written.ls += s.longShort.run(
              r.symbol,
              r.exchangeTs,
              r.period,
              r.ratio,
              r.longAccount,
              r.shortAccount,
            ).changes;
          }
          for (let i = 0; i < nVol; i++) {
            const v = this.volatility[i]!;
            written.vol += s.volatility.run(
              v.symbol,
              v.resolutionSec,
              v.exchangeTs,
              v.open,
              v.high,
              v.low,
              v.close,
            ).changes;
          }
          for (const row of gaps) s.gap.run(...row);
          for (const [id, end] of closes) s.closeGap.run(end, id);
        })
        .immediate();
    } catch (error) {
      this.counters.failedBatches += 1;
      this.report(error, 'writing market data');
      return null;
    }
    const ms = performance.now() - t0;
    q.drop(taken);
    this.funding = this.funding.slice(nFunding);
    this.oi = this.oi.slice(nOi);
    this.liquidations = this.liquidations.slice(nLiq);
    this.longShort = this.longShort.slice(nLs);
    this.volatility = this.volatility.slice(nVol);
    for (const row of gaps) this.pendingGaps.delete(row[0]);
    for (const [id] of closes) this.pendingCloses.delete(id);
    const rows = this.counters.rows;
    rows.trades += written.trades;
    rows.candles_1s += written.c1s;
    rows.candles_1m += written.c1m;
    rows.funding += written.funding;
    rows.open_interest += written.oi;
    rows.liquidations += written.liq;
    rows.long_short += written.ls;
    rows.volatility_index += written.vol;
    rows.gaps += gaps.length;
    this.counters.duplicateTrades += written.dup;
    this.counters.batches += 1;
    this.counters.lastFlushMs = ms;
    if (ms > this.counters.maxFlushMs) this.counters.maxFlushMs = ms;
    this.counters.lastError = null; // recovered: the next failure is reported again
    const upserts = written.c1s + written.c1m;
    if (upserts >= 16) this.upsertMs = 0.8 * this.upsertMs + (0.2 * candleMs) / upserts;
    this.checkpointer?.maybeRun();
    return taken + nFunding + nOi + nLiq + nLs + nVol + gaps.length + closes.length;
  }

  private startPrune(): void {
    if (this.closed || this.pruneImmediate) return;
    const step = (): void => {
      this.pruneImmediate = null;
      if (this.closed) return;
      // Each step holds the loop for about one batch's budget, then lets other work run.
      if (!this.prune(Date.now()).done) this.pruneImmediate = setImmediate(step);
      this.checkpointer?.maybeRun();
    };
    step();
  }

  /** Every (table, symbol) with its cutoff; symbols found by skipping along each table's index. */
  private pruneTasks(now: number): PruneTask[] {
    const short = now - this.retentionMs;
    const long = now - this.retentionMs * 10;
    const cutoffs: [MarketTable, number][] = [
      ['trades', short],
      ['candles_1s', short],
      ['liquidations', short],
      ['candles_1m', long],
      ['funding', long],
      ['open_interest', long],
      ['long_short', long],
      ['volatility_index', long],
    ];
    const tasks: PruneTask[] = [];
    for (const [table, cutoff] of cutoffs) {
      for (const symbol of distinctSymbols(this.db, table)) tasks.push({ table, symbol, cutoff });
    }
    tasks.push({ table: 'gaps', symbol: null, cutoff: long });
    return tasks;
  }

  /** Deletes at most PRUNE_CHUNK rows of one task; returns how many. */
  private pruneChunk(task: PruneTask): number {
    const { table, symbol, cutoff } = task;
    let sql: string;
    let args: unknown[];
    if (table === 'gaps') {
      // Open gaps stay: their end is still to come.
      sql = `DELETE FROM gaps WHERE id IN (SELECT id FROM gaps WHERE "end" IS NOT NULL AND "end" < ? LIMIT ?)`;
      args = [cutoff, PRUNE_CHUNK];
    } else {
      // WITHOUT ROWID tables: the chunk is chosen by its primary keys (a row value), found from the
      // front of the symbol's range.
      const key = primaryKeys[table];
      sql = `DELETE FROM ${table} WHERE (${key.join(', ')}) IN
               (SELECT ${key.join(', ')} FROM ${table} WHERE symbol = ? AND ${key[1]} < ? LIMIT ?)`;
      args = [symbol, cutoff, PRUNE_CHUNK];
    }
    let stmt = this.pruneStmts.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.pruneStmts.set(sql, stmt);
    }
    return stmt.run(...args).changes;
  }

  /** Reports a failure once, not at every retry, until a batch succeeds again. */
  private report(error: unknown, doing: string): void {
    const e = toMarketDbError(error, this.file, doing);
    const first = this.counters.lastError === null;
    this.counters.lastError = e.message;
    if (first) this.onError(e);
  }
}

const CHECKPOINT_EVERY_MS = 1000;

/*
 * The checkpoint thread: its own connection to the file, a PASSIVE checkpoint when asked (it never
 * waits for the writer or readers), and on 'close' it closes the connection and says so through a
 * shared flag, which the recorder's close() waits on. Plain JavaScript, run with `eval`, so it needs
 * no separate entry in the build.
 */
const CHECKPOINT_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { file, module, nativeBinding, done } = workerData;
const finish = () => { Atomics.store(done, 0, 1); Atomics.notify(done, 0); };
let db = null;
try {
  const Database = require(module);
  db = new Database(file, { fileMustExist: true, timeout: 1000, ...(nativeBinding ? { nativeBinding } : {}) });
  db.pragma('synchronous = NORMAL');
} catch (e) {
  parentPort.postMessage({ kind: 'failed', message: String(e && e.message), code: e && e.code });
  finish();
}
parentPort.on('message', (m) => {
  if (m === 'checkpoint' && db) {
    const t0 = performance.now();
    try {
      const r = db.pragma('wal_checkpoint(PASSIVE)')[0];
      parentPort.postMessage({ kind: 'done', ms: performance.now() - t0, log: r.log, checkpointed: r.checkpointed });
    } catch (e) {
      parentPort.postMessage({ kind: 'failed', message: String(e && e.message), code: e && e.code });
    }
  } else if (m === 'close') {
    try { if (db) db.close(); } catch {}
    db = null;
    finish();
    parentPort.close();
  }
});
`;

type CheckpointMessage =
  | { kind: 'done'; ms: number; log: number; checkpointed: number }
  | { kind: 'failed'; message: string; code?: string };

/**
 * WAL checkpoints (copying committed pages into the database file, then an fsync) run in a worker
 * thread: on a slow disk one takes tens of ms (up to 140 ms measured on the test VM), which on the
 * collector's thread would stall market data. The writer's automatic checkpoints are off while the
 * worker serves; if it fails, they are turned back on and the failure is reported.
 */
class Checkpointer {
  count = 0;
  lastMs = 0;
  maxMs = 0;
  private readonly worker: Worker;
  private readonly done = new Int32Array(new SharedArrayBuffer(4));
  private busy = false;
  private lastAt = 0;
  private stopped = false;

  constructor(
    private readonly db: Db,
    file: string,
    nativeBinding: string | undefined,
    private readonly onFail: (error: unknown) => void,
  ) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(CHECKPOINT_WORKER, {
      eval: true,
      workerData: { file, module, nativeBinding: nativeBinding ?? null, done: this.done },
    });
    this.worker.unref();
    db.pragma('wal_autocheckpoint = 0');
    this.worker.on('message', (m: CheckpointMessage) => {
      this.busy = false;
      if (m.kind === 'done') {
        this.count += 1;
        this.lastMs = m.ms;
        if (m.ms > this.maxMs) this.maxMs = m.ms;
      } else {
        this.fail(Object.assign(new Error(m.message), { code: m.code }));
      }
    });
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', () => {
      if (!this.stopped) this.fail(new Error('the checkpoint thread exited'));
    });
  }

  /** Asks for a checkpoint when none is running and the last one is a second old. */
  maybeRun(): void {
    const now = performance.now();
    if (this.stopped || this.busy || now - this.lastAt < CHECKPOINT_EVERY_MS) return;
    this.busy = true;
    this.lastAt = now;
    this.worker.postMessage('checkpoint');
  }

  /** Closes the worker's connection and waits for it (briefly): after this only the writer has the file. */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.worker.postMessage('close');
    Atomics.wait(this.done, 0, 0, 5000);
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    void this.worker.terminate();
    try {
      this.db.pragma('wal_autocheckpoint = 1000'); // SQLite's default: on the writer's thread again
    } catch {
      // the recorder is closing
    }
    this.onFail(error);
  }
}

function candleRow(c: Candle): unknown[] {
  return [
    c.symbol,
    c.start,
    c.open,
    c.high,
    c.low,
    c.close,
    c.volume,
    c.buyVolume,
    c.trades,
    c.firstTs,
    c.lastTs,
  ];
}

/** The symbols of a table, in order, by skipping along the index that starts with symbol. */
export function distinctSymbols(db: Db, table: MarketTable): string[] {
  const next = db.prepare<[string], string>(`SELECT min(symbol) FROM ${table} WHERE symbol > ?`).pluck();
  const out: string[] = [];
  for (let s = next.get(''); s !== null && s !== undefined; s = next.get(s)) out.push(s);
  return out;
}
