/**
 * One Binance market (spot or USD-M): its stream connections, a synced order book per symbol, trades,
 * top of book, funding and liquidations from the streams, open interest and long/short ratio polled
 * over REST, everything normalized, published on the bus and recorded, every loss written to the gap
 * ledger. It never exits because the exchange is away: it says it is degraded and keeps trying.
 */
import { marketSubject, type GapCause, type Level, type MarketRecord } from '../../../shared/market';
import type { CollectorConfig } from '../../../shared/collector-config';
import type { CollectorSinks, VenueCollector } from '../collector';
import { CollectorHealth } from '../collector-health';
import { GapLedger } from '../gap-ledger';
import { BinanceBookSync, type BookSyncMode } from '../book/binance-book-sync';
import type { OrderBook } from '../book/order-book';
import { Backoff } from '../net/backoff';
import { controlMessageRates } from '../net/rate-limiter';
import { Poller } from '../net/poller';
import { RateLimitedError, RestClient } from '../net/rest-client';
import { StreamConnection } from '../net/stream-connection';
import { StreamStats } from '../stream-stats';
import { parseDepthSnapshot, parseLongShortRatio, parseMessage, parseOpenInterest } from './parse';

/** NautilusTrader's self-imposed figure, well under Binance's 1024 streams per connection. */
const STREAMS_PER_CONNECTION = 200;
/** Binance publishes the long/short statistics per 5-minute period: polling faster adds nothing. */
const LSR_PERIOD = '5m';
const LSR_MIN_INTERVAL_MS = 300_000;
/**
 * Our own per-minute REST weight budget: 80 % of the documented REQUEST_WEIGHT limits (spot 6000,
 * USD-M 2400 per minute), leaving room for anything else on this IP.
 */
const REQUEST_WEIGHT_BUDGET = { 'binance-spot': 4_800, 'binance-usdm': 1_920 } as const;

export type BinanceConfig = CollectorConfig & { venue: 'binance-spot' | 'binance-usdm' };

interface Connection {
  name: string;
  conn: StreamConnection;
  symbols: string[];
  carriesBooks: boolean;
  up: boolean;
}

export class BinanceCollector implements VenueCollector {
  readonly stats: StreamStats;
  private readonly connections: Connection[] = [];
  private readonly books = new Map<string, BinanceBookSync>();
  private readonly snapshotBackoff = new Map<string, Backoff>();
  /** Wait before a symbol's next snapshot request, after failures; absent after a success. */
  private readonly snapshotDelay = new Map<string, number>();
  private snapshots: Promise<void> = Promise.resolve();
  private readonly gaps: GapLedger;
  private readonly health: CollectorHealth;
  private readonly lastAggId = new Map<string, number>();
  private readonly lastTradeId = new Map<string, number>();
  private readonly lastLiquidation = new Map<string, string>();
  private readonly lastLsrAt = new Map<string, number>();
  private readonly pollers: Poller[] = [];
  private readonly rest: RestClient;
  private readonly mode: BookSyncMode;
  private startedAt = 0;
  private healthTimer: NodeJS.Timeout | undefined;
  private paused = false;
  private closed = false;
  subscriptionErrors = 0;

  constructor(
    readonly config: BinanceConfig,
    private readonly sinks: CollectorSinks,
  ) {
    this.gaps = new GapLedger(config.venue, sinks);
    this.health = new CollectorHealth((health, message) => sinks.health(health, message));
    this.mode = config.venue === 'binance-spot' ? 'spot' : 'usdm';
    this.rest = new RestClient(config.endpoints.rest, {
      timeoutMs: 10_000,
      weightLimitPerMinute: REQUEST_WEIGHT_BUDGET[config.venue],
    });
    this.stats = new StreamStats(config.symbols.flatMap((s) => config.types.map((t) => `${s}.${t}`)));
  }

  start(): void {
    this.startedAt = Date.now();
    const { config } = this;
    if (config.types.includes('book')) {
      for (const symbol of config.symbols) {
        this.books.set(symbol, this.bookSync(symbol));
        this.snapshotBackoff.set(symbol, new Backoff({ baseMs: 500, capMs: 30_000 }));
      }
    }
    const [bookStreams, otherStreams] = this.streamNames();
    if (this.mode === 'spot') {
      this.openConnections('stream', `${config.endpoints.ws}/stream`, [...bookStreams, ...otherStreams]);
    } else {
      // The March-2026 split: books and bookTicker on /public, everything else on /market.
      this.openConnections('public', `${config.endpoints.ws}/public/stream`, bookStreams);
      this.openConnections('market', `${config.endpoints.wsMarket}/market/stream`, otherStreams);
      this.startPolling();
    }
    this.healthTimer = setInterval(() => {
      this.trimBooks();
      this.checkHealth();
    }, 1_000);
    this.healthTimer.unref();
  }

  /** Resolves once every connection has opened (subscribed: combined-stream URLs subscribe on open). */
  async whenSubscribed(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.connections.some((c) => !c.up)) {
      if (Date.now() > deadline || this.closed) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
    return true;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.healthTimer);
    await Promise.all([...this.pollers.map((p) => p.stop()), ...this.connections.map((c) => c.conn.close())]);
    this.gaps.closeAll(Date.now());
  }

  /** Book syncs by symbol (tests compare them with the simulator's true book). */
  book(symbol: string): OrderBook | undefined {
    const sync = this.books.get(symbol);
    return sync?.state === 'synced' ? sync.book : undefined;
  }

  bookSyncs(): ReadonlyMap<string, BinanceBookSync> {
    return this.books;
  }

  connectionStats(): { name: string; up: boolean; stats: ReturnType<StreamConnection['stats']> }[] {
    return this.connections.map((c) => ({ name: c.name, up: c.up, stats: c.conn.stats() }));
  }

  restStats(): ReturnType<RestClient['stats']> {
    return this.rest.stats();
  }

  /** Depth and bookTicker streams (the USD-M /public host) apart from the rest. */
  private streamNames(): [string[], string[]] {
    const books: string[] = [];
    const others: string[] = [];
    for (const symbol of this.config.symbols) {
      const s = symbol.toLowerCase();
      for (const type of this.config.types) {
        if (type === 'book') books.push(`${s}@depth@100ms`);
        else if (type === 'top') books.push(`${s}@bookTicker`);
        else if (type === 'trade') others.push(`${s}@aggTrade`);
        else if (type === 'funding' && this.mode === 'usdm') others.push(`${s}@markPrice@1s`);
        else if (type === 'liquidation' && this.mode === 'usdm') others.push(`${s}@forceOrder`);
      }
    }
    return [books, others];
  }

  private openConnections(kind: string, base: string, streams: string[]): void {
    for (let i = 0; i < streams.length; i += STREAMS_PER_CONNECTION) {
      const chunk = streams.slice(i, i + STREAMS_PER_CONNECTION);
      const name = `${this.config.venue}/${kind}${streams.length > STREAMS_PER_CONNECTION ? `-${i / STREAMS_PER_CONNECTION}` : ''}`;
      const symbols = [...new Set(chunk.map((s) => s.split('@')[0]!.toUpperCase()))];
      const entry: Connection = {
        name,
        symbols,
        carriesBooks: chunk.some((s) => s.includes('@depth')),
        up: false,
        conn: new StreamConnection({
          name,
          url: () => `${base}?streams=${chunk.join('/')}`,
          onMessage: (text, receivedAt) => this.onMessage(entry, text, receivedAt),
          onDown: (cause, detail) => this.onDown(entry, cause, detail),
          onUp: () => {
            entry.up = true;
            this.sinks.log(`${name}: connected (${chunk.length} streams)`);
          },
          onGap: (gap) => this.gaps.record({ symbol: null, stream: name, ...gap }),
          onRotated: ({ reason }) => this.sinks.log(`${name}: rotated (${reason}) without loss`),
          onError: (error) => this.sinks.log(`${name}: ${String(error)}`),
          isData: (text) => !text.startsWith('{"result"') && !text.startsWith('{"error"'),
          staleAfterMs: this.config.staleAfterMs,
          rotateAfterMs: this.config.rotateAfterMs,
          controlRatePerSec: controlMessageRates[this.config.venue],
        }),
      };
      this.connections.push(entry);
      entry.conn.start();
    }
  }

  private onMessage(entry: Connection, text: string, receivedAt: number): void {
    const m = parseMessage(text, this.config.venue, receivedAt);
    switch (m.kind) {
      case 'depth': {
        this.stats.message(`${m.symbol}.book`, receivedAt, m.event.E);
        this.books.get(m.symbol)?.onDiff(m.event, receivedAt);
        return;
      }
      case 'record':
        this.onRecord(m.record, m.firstId, m.lastId);
        return;
      case 'server-shutdown':
        this.sinks.log(`${entry.name}: the exchange announced a shutdown; moving to a new connection`);
        entry.conn.rotate('server-shutdown');
        return;
      case 'control':
        if (m.error) {
          this.subscriptionErrors += 1;
          this.sinks.log(`${entry.name}: the exchange refused a request: ${m.error.msg}`);
        }
        return;
      case 'invalid':
        this.stats.parseErrors += 1;
        if (this.stats.parseErrors <= 10 || this.stats.parseErrors % 1000 === 0)
          this.sinks.log(`${entry.name}: skipped a message (${m.reason}); ${this.stats.parseErrors} so far`);
        return;
    }
  }

  private onRecord(record: MarketRecord, firstId?: number, lastId?: number): void {
    const { symbol } = record;
    const stream = `${symbol}.${record.type}`;
    if (record.type === 'trade') {
      // An overlapping connection (rotation) delivers the same trades twice: the aggregate id says so.
      const id = Number(record.id);
      const last = this.lastAggId.get(symbol);
      if (last !== undefined && id <= last) return;
      this.lastAggId.set(symbol, id);
      const lastTrade = this.lastTradeId.get(symbol);
      if (lastTrade !== undefined && firstId !== undefined && firstId > lastTrade + 1) {
        this.stats.gap(stream);
        this.gaps.record({
          symbol,
          stream: 'trade',
          start: record.localTs,
          end: record.localTs,
          cause: 'trade-id',
          detail: `trade ids ${lastTrade + 1}–${firstId - 1} never arrived`,
        });
      }
      if (lastId !== undefined) this.lastTradeId.set(symbol, lastId);
      this.stats.message(stream, record.localTs, record.exchangeTs);
      this.emit(record);
      if (!this.paused) this.sinks.recorder?.addTrade(record);
      return;
    }
    if (record.type === 'liquidation') {
      const key = `${record.exchangeTs}:${record.side}:${record.price}:${record.size}`;
      if (this.lastLiquidation.get(symbol) === key) return;
      this.lastLiquidation.set(symbol, key);
      this.stats.message(stream, record.localTs, record.exchangeTs);
      this.emit(record);
      if (!this.paused) this.sinks.recorder?.addLiquidation(record);
      return;
    }
    this.stats.message(stream, record.localTs, record.exchangeTs);
    this.emit(record);
    if (record.type === 'funding' && !this.paused) this.sinks.recorder?.addFunding(record);
  }

  private emit(record: MarketRecord): void {
    if (this.paused) return;
    this.sinks.publish(marketSubject(record.venue, record.symbol, record.type), record);
  }

  private bookSync(symbol: string): BinanceBookSync {
    const venue = this.config.venue;
    const publishBook = (
      kind: 'snapshot' | 'delta',
      bids: Level[],
      asks: Level[],
      seq: number,
      ts: number,
    ) => {
      if (this.paused) return;
      this.sinks.publish(marketSubject(venue, symbol, 'book'), {
        type: 'book',
        venue,
        symbol,
        kind,
        seq,
        bids,
        asks,
        exchangeTs: ts,
        localTs: Date.now(),
      });
    };
    const sync: BinanceBookSync = new BinanceBookSync(
      symbol,
      this.mode,
      {
        requestSnapshot: () => this.fetchSnapshot(symbol, sync),
        onSynced: (book, seq, ts) => {
          this.snapshotBackoff.get(symbol)?.reset();
          this.gaps.closeBook(symbol, Date.now());
          publishBook(
            'snapshot',
            book.levels('bid', this.config.bookDepth),
            book.levels('ask', this.config.bookDepth),
            seq,
            ts,
          );
        },
        onDelta: (bids, asks, seq, ts) => publishBook('delta', bids, asks, seq, ts),
        onGap: (cause, detail, lastGoodAt) => {
          this.stats.gap(`${symbol}.book`);
          this.stats.resync(`${symbol}.book`);
          this.gaps.openBook(symbol, cause, detail, lastGoodAt);
        },
        onSyncFailed: (cause, detail) =>
          this.sinks.log(`${symbol} book: sync attempt failed (${cause}): ${detail}`),
      },
      { snapshotLimit: this.config.bookDepth },
    );
    return sync;
  }

  /**
   * Depth snapshots go one at a time, after the symbol's backoff and any 429/418 hold: a burst for 200
   * symbols would spend Binance's request weight in one go (1000 levels cost 50 on spot).
   */
  private fetchSnapshot(symbol: string, sync: BinanceBookSync): void {
    const limit = this.config.bookDepth;
    const [path, weight] =
      this.mode === 'spot'
        ? ['/api/v3/depth', limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250]
        : ['/fapi/v1/depth', limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20];
    const run = async (): Promise<void> => {
      const hold = (this.rest.retryAt ?? 0) - Date.now();
      if (hold > 0) await new Promise((r) => setTimeout(r, hold).unref());
      if (this.closed) return;
      try {
        const json = await this.rest.getJson<unknown>(path, { symbol, limit }, { weight });
        const parsed = parseDepthSnapshot(json);
        if (!parsed.ok) throw new Error(`snapshot of ${symbol}: ${parsed.error}`);
        this.snapshotDelay.delete(symbol);
        if (!this.closed) sync.onSnapshot(parsed.value, Date.now());
      } catch (error) {
        this.snapshotDelay.set(symbol, this.snapshotBackoff.get(symbol)!.next());
        // The exchange's 429/418 is a loss worth a ledger entry; our own weight budget is only pacing.
        if (error instanceof RateLimitedError && !error.local) {
          this.gaps.record({
            symbol,
            stream: 'book',
            start: Date.now(),
            end: error.retryAt,
            cause: 'rate-limit',
            detail: `HTTP ${error.status} on the depth snapshot: requests paused until ${new Date(error.retryAt).toISOString()}`,
          });
        }
        if (!this.closed) sync.onSnapshotFailed(error);
      }
    };
    const enqueue = (): void => {
      this.snapshots = this.snapshots.then(run);
    };
    const delay = this.snapshotDelay.get(symbol) ?? 0;
    if (delay > 0) setTimeout(enqueue, delay).unref();
    else enqueue();
  }

  private onDown(entry: Connection, cause: string, detail: string): void {
    if (this.closed) return;
    entry.up = false;
    this.stats.reconnects += 1;
    this.sinks.log(`${entry.name}: down (${cause}): ${detail}`);
    this.checkHealth(); // say so now, not at the next tick: the outage may be over by then
    if (!entry.carriesBooks) return;
    // The books on this connection cannot be trusted past this point: resync after the reconnect.
    const gapCause: GapCause =
      cause === 'stale' ? 'stale' : cause === 'server-shutdown' ? 'server-shutdown' : 'disconnect';
    for (const symbol of entry.symbols) {
      const sync = this.books.get(symbol);
      if (!sync) continue;
      const wasSynced = sync.state === 'synced';
      sync.reset(`${entry.name} ${cause}`);
      if (wasSynced) this.gaps.openBook(symbol, gapCause, `${entry.name}: ${detail}`, Date.now());
    }
  }

  private startPolling(): void {
    const { config } = this;
    const onError = (what: string) => (error: unknown) => this.sinks.log(`${what}: ${String(error)}`);
    if (config.types.includes('oi')) {
      const poller = new Poller({
        intervalMs: config.pollIntervalMs,
        onError: onError('open interest'),
        run: async () => {
          for (const symbol of config.symbols) {
            const json = await this.rest.getJson<unknown>('/fapi/v1/openInterest', { symbol }, { weight: 1 });
            const r = parseOpenInterest(json, Date.now());
            if (!r.ok) throw new Error(`open interest of ${symbol}: ${r.error}`);
            this.onPolled(r.value);
            if (!this.paused) this.sinks.recorder?.addOpenInterest(r.value);
          }
        },
      });
      this.pollers.push(poller);
      poller.start();
    }
    if (config.types.includes('lsr')) {
      const poller = new Poller({
        intervalMs: Math.max(config.pollIntervalMs, LSR_MIN_INTERVAL_MS),
        onError: onError('long/short ratio'),
        run: async () => {
          for (const symbol of config.symbols) {
            const json = await this.rest.getJson<unknown>(
              '/futures/data/globalLongShortAccountRatio',
              { symbol, period: LSR_PERIOD, limit: 1 },
              { weight: 0 },
            );
            const r = parseLongShortRatio(json, Date.now(), LSR_PERIOD);
            if (!r.ok) throw new Error(`long/short ratio of ${symbol}: ${r.error}`);
            for (const row of r.value) {
              if (row.exchangeTs <= (this.lastLsrAt.get(symbol) ?? 0)) continue;
              this.lastLsrAt.set(symbol, row.exchangeTs);
              this.onPolled(row);
              if (!this.paused) this.sinks.recorder?.addLongShort(row);
            }
          }
        },
      });
      this.pollers.push(poller);
      poller.start();
    }
  }

  private onPolled(record: MarketRecord): void {
    this.stats.message(`${record.symbol}.${record.type}`, record.localTs, record.exchangeTs);
    this.emit(record);
  }

  /** Each book kept to what it can vouch for, at most the configured depth (BinanceBookSync.trim). */
  private trimBooks(): void {
    for (const sync of this.books.values()) sync.trim(this.config.bookDepth);
  }

  private checkHealth(): void {
    this.health.check({
      down: this.connections.filter((c) => !c.up).map((c) => c.name),
      stats: this.stats,
      staleAfterMs: this.config.staleAfterMs,
      startedAt: this.startedAt,
      unsynced: [...this.books.values()].filter((b) => b.state !== 'synced').map((b) => b.symbol),
    });
  }
}
