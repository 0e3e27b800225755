/**
 * The Deribit collector: one JSON-RPC WebSocket (`/ws/api/v2`) carrying the public 100 ms book, trades
 * and ticker channels of every instrument and the DVOL index of their currencies; a book per
 * instrument synced by `change_id`; trades with their `trade_seq` checked, liquidation trades also as
 * liquidations; top of book, funding and open interest from the ticker; DVOL live and its 1-minute
 * history back-filled at start. Everything normalized, published on the bus and recorded, every loss
 * written to the gap ledger. It answers the server's heartbeat test requests, spends credits within
 * Deribit's budget, and after a 10028 waits for the credits to refill before it reconnects. It never
 * exits because the exchange is away: it says it is degraded and keeps trying.
 */
import type { CollectorConfig } from '../../../shared/collector-config';
import {
  marketSubject,
  type FundingRecord,
  type GapCause,
  type Level,
  type LiquidationRecord,
  type MarketRecord,
  type OpenInterestRecord,
  type TopOfBookRecord,
  type VolatilityIndexRecord,
} from '../../../shared/market';
import type { CollectorSinks, VenueCollector } from '../collector';
import { CollectorHealth } from '../collector-health';
import { GapLedger } from '../gap-ledger';
import type { OrderBook } from '../book/order-book';
import { StreamConnection, type StreamConnectionStats } from '../net/stream-connection';
import { StreamStats } from '../stream-stats';
import { DeribitBook } from './deribit-book';
import { DVOL_BAR_MS, DvolBackfill, type DvolBackfillProgress } from './dvol-history';
import {
  currencyOf,
  dvolRecord,
  parseMessage,
  parseVolatilityPage,
  type ParsedTrade,
  type Ticker,
} from './parse';
import { RpcClient, RpcError, RpcUnavailable, type Budget } from './rpc';

export type DeribitConfig = CollectorConfig & { venue: 'deribit' };

const CONNECTION = 'deribit/ws';
const WS_PATH = '/ws/api/v2';
/** Channels per `public/subscribe`: each request costs the same subscribe credits, whatever its size. */
const CHANNELS_PER_SUBSCRIBE = 50;
/** Deribit has DVOL for these currencies only. */
const DVOL_CURRENCIES = new Set(['BTC', 'ETH']);
/** Funding and open interest change with every 100 ms ticker: record a new value at most this often. */
const DERIVED_MIN_INTERVAL_MS = 1_000;
const EIGHT_HOURS = 8 * 3_600_000;
/** After a 10028: wait this long for the credits, doubling per refusal in a row, up to the cap. */
const RATE_LIMIT_WAIT = { first: 2_000, cap: 60_000 };
/** A resubscription whose snapshot has not come after this long is asked again. */
const RESYNC_RETRY_MS = 10_000;
/** A book still bound to a replaced socket this long after the rotation gets a snapshot on the new one. */
const REBIND_AFTER_MS = 5_000;
/** A subscribe that timed out on a socket still open is retried after this long. */
const SUBSCRIBE_RETRY_MS = 2_000;

/**
 * The heartbeat interval we ask for, in seconds: a frame at least twice per stale window, so a quiet
 * connection (DVOL only) never looks dead to our watchdog; Deribit refuses less than 10, and 30 is
 * plenty (B4).
 */
export function heartbeatIntervalSec(staleAfterMs: number): number {
  return Math.min(30, Math.max(10, Math.floor(staleAfterMs / 2000)));
}

/** The next funding time: Deribit settles perpetual funding on 8-hour boundaries (00, 08, 16 UTC). */
export function nextFundingTime(now: number): number {
  return (Math.floor(now / EIGHT_HOURS) + 1) * EIGHT_HOURS;
}

export class DeribitCollector implements VenueCollector {
  readonly stats: StreamStats;
  /** Requests the exchange refused (other than 10028), e.g. a misspelt instrument. */
  subscriptionErrors = 0;
  /** The server's heartbeat `test_request`s answered with `public/test`. */
  testRequestsAnswered = 0;
  private readonly conn: StreamConnection;
  private readonly rpc: RpcClient;
  private readonly gaps: GapLedger;
  private readonly health: CollectorHealth;
  private readonly books = new Map<string, DeribitBook>();
  private readonly channels: string[];
  private readonly currencies: string[];
  private readonly wants: Set<string>;
  private readonly lastTradeSeq = new Map<string, number>();
  private readonly lastTop = new Map<string, string>();
  private readonly lastFunding = new Map<string, { rate: number; at: number }>();
  private readonly lastOi = new Map<string, { value: number; at: number }>();
  private readonly lastDvolTs = new Map<string, number>();
  private readonly backfills: DvolBackfill[] = [];
  /** Waits under way (retries, readiness polls), ended early at close. */
  private readonly waits = new Map<NodeJS.Timeout, () => void>();
  private startedAt = 0;
  private healthTimer: NodeJS.Timeout | undefined;
  private up = false;
  /** The socket serving now (from onUp and rotations); 0 before the first. */
  private servingGen = 0;
  /** The newest socket whose every subscribe was answered. */
  private subscribedGen = 0;
  private rotatedAt = 0;
  private rateLimitStreak = 0;
  private rateLimitedUntil = 0;
  private rateLimits = 0;
  private backfillStarted = false;
  private paused = false;
  private closed = false;

  constructor(
    readonly config: DeribitConfig,
    private readonly sinks: CollectorSinks,
  ) {
    this.gaps = new GapLedger('deribit', sinks);
    this.health = new CollectorHealth((health, message) => sinks.health(health, message));
    this.wants = new Set(config.types);
    this.currencies = this.wants.has('dvol')
      ? [...new Set(config.symbols.map(currencyOf))].filter((c) => DVOL_CURRENCIES.has(c))
      : [];
    this.channels = this.channelNames();
    this.stats = new StreamStats([
      ...config.symbols.flatMap((s) => config.types.filter((t) => t !== 'dvol').map((t) => `${s}.${t}`)),
      ...this.currencies.map((c) => `${c}.dvol`),
    ]);
    const stale = config.staleAfterMs;
    this.conn = new StreamConnection({
      name: CONNECTION,
      url: () => `${config.endpoints.ws}${WS_PATH}`,
      onOpen: (_send, generation) => this.onOpen(generation),
      onMessage: (text, receivedAt, generation) => this.onMessage(text, receivedAt, generation),
      onDown: (cause, detail) => this.onDown(cause, detail),
      onUp: (generation) => this.onUp(generation),
      onGap: (gap) => this.gaps.record({ symbol: null, stream: CONNECTION, ...gap }),
      onRotated: ({ reason, from, to }) => this.onRotated(reason, from, to),
      onError: (error) => this.sinks.log(`${CONNECTION}: ${String(error)}`),
      // Only notifications count as data for a rotation's hand-over, not the answers to our requests.
      isData: (text) => text.includes('"method":"subscription"'),
      staleAfterMs: stale,
      rotateAfterMs: config.rotateAfterMs,
      // Our credit budgets (rpc.ts) do the pacing; this only spaces frames on one socket.
      controlRatePerSec: 20,
    });
    this.rpc = new RpcClient({
      send: (text, generation) => this.conn.send(text, generation),
      timeoutMs: Math.max(5_000, Math.min(stale, 30_000)),
      onError: (error) => this.sinks.log(`${CONNECTION}: ${String(error)}`),
    });
  }

  start(): void {
    this.startedAt = Date.now();
    if (this.wants.has('book')) {
      for (const instrument of this.config.symbols) this.books.set(instrument, this.bookSync(instrument));
    }
    if (this.wants.has('dvol') && this.currencies.length === 0) {
      this.sinks.log(
        `DVOL exists for ${[...DVOL_CURRENCIES].join(' and ')} only: none of the instruments has it`,
      );
    }
    this.conn.start();
    this.healthTimer = setInterval(() => {
      this.trimBooks();
      this.watchBooks();
      this.checkHealth();
    }, 1_000);
    this.healthTimer.unref();
  }

  /** Resolves once the serving socket is open and every one of its subscribes was answered. */
  async whenSubscribed(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.up && this.servingGen > 0 && this.subscribedGen >= this.servingGen)) {
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
    for (const [timer, resolve] of this.waits) {
      clearTimeout(timer);
      resolve();
    }
    this.waits.clear();
    for (const backfill of this.backfills) backfill.stop();
    this.rpc.close();
    await this.conn.close();
    this.gaps.closeAll(Date.now());
  }

  /** The instrument's book when synced (tests compare it with the simulator's true book). */
  book(instrument: string): OrderBook | undefined {
    const sync = this.books.get(instrument);
    return sync?.state === 'synced' ? sync.book : undefined;
  }

  bookSyncs(): ReadonlyMap<string, DeribitBook> {
    return this.books;
  }

  connectionStats(): { name: string; up: boolean; stats: StreamConnectionStats }[] {
    return [{ name: CONNECTION, up: this.up, stats: this.conn.stats() }];
  }

  /** The DVOL history back-fill of each currency, once started. */
  dvolBackfill(): DvolBackfillProgress[] {
    return this.backfills.map((b) => b.progress());
  }

  /** 10028 refusals seen, and the epoch ms until which we hold off (0: not holding). */
  rateLimitStats(): { refusals: number; holdingUntil: number } {
    return {
      refusals: this.rateLimits,
      holdingUntil: this.rateLimitedUntil > Date.now() ? this.rateLimitedUntil : 0,
    };
  }

  // ---- connection ----------------------------------------------------------------------------

  private channelNames(): string[] {
    const out: string[] = [];
    for (const instrument of this.config.symbols) {
      // 100 ms, never raw: raw channels are for authorized users only (B4, B6).
      if (this.wants.has('book')) out.push(`book.${instrument}.100ms`);
      if (this.wants.has('trade') || this.wants.has('liquidation')) out.push(`trades.${instrument}.100ms`);
      if (this.wants.has('top') || this.wants.has('funding') || this.wants.has('oi')) {
        out.push(`ticker.${instrument}.100ms`);
      }
    }
    for (const currency of this.currencies)
      out.push(`deribit_volatility_index.${currency.toLowerCase()}_usd`);
    return out;
  }

  /** A new socket: heartbeats first (so the server watches it too), then the subscriptions. */
  private onOpen(generation: number): void {
    const interval = heartbeatIntervalSec(this.config.staleAfterMs);
    this.request('public/set_heartbeat', { interval }, generation).catch((error: unknown) =>
      this.requestFailed('public/set_heartbeat', error),
    );
    const chunks: string[][] = [];
    for (let i = 0; i < this.channels.length; i += CHANNELS_PER_SUBSCRIBE) {
      chunks.push(this.channels.slice(i, i + CHANNELS_PER_SUBSCRIBE));
    }
    void Promise.all(chunks.map((chunk) => this.subscribe(chunk, generation))).then((results) => {
      if (this.closed || !results.every(Boolean)) return;
      this.subscribedGen = Math.max(this.subscribedGen, generation);
      // The exchange took every subscription: its credits are back.
      this.rateLimitStreak = 0;
      this.sinks.log(
        `${CONNECTION}: subscribed ${this.channels.length} channels on connection ${generation}`,
      );
    });
  }

  /** Subscribes `channels` on `generation`; retries a timeout while that socket lives. True once done. */
  private async subscribe(channels: string[], generation: number): Promise<boolean> {
    for (;;) {
      try {
        const result = await this.request('public/subscribe', { channels }, generation, 'subscribe');
        const got = new Set(Array.isArray(result) ? (result as unknown[]) : []);
        const missing = channels.filter((c) => !got.has(c));
        if (missing.length > 0) {
          this.subscriptionErrors += 1;
          this.sinks.log(`${CONNECTION}: not subscribed: ${missing.join(', ')}`);
        }
        return true;
      } catch (error) {
        this.requestFailed('public/subscribe', error);
        // A refusal is final (the configuration is wrong, or 10028 ends the session); a timeout on a
        // socket still serving is worth another try.
        if (this.closed || !(error instanceof RpcUnavailable) || !this.isLive(generation)) return false;
        await this.delay(SUBSCRIBE_RETRY_MS);
        if (this.closed || !this.isLive(generation)) return false;
      }
    }
  }

  private request(
    method: string,
    params: Record<string, unknown>,
    generation: number,
    budget: Budget = 'request',
  ): Promise<unknown> {
    return this.rpc.call(method, params, generation, budget);
  }

  private requestFailed(method: string, error: unknown): void {
    if (this.closed) return;
    if (error instanceof RpcError) {
      // 10028 is handled where every response passes (onMessage).
      if (error.code === 10028) return;
      this.subscriptionErrors += 1;
    }
    this.sinks.log(`${CONNECTION}: ${error instanceof Error ? error.message : String(error)} (${method})`);
  }

  private isLive(generation: number): boolean {
    return this.up && generation >= this.servingGen;
  }

  private onUp(generation: number): void {
    this.up = true;
    this.servingGen = generation;
    this.sinks.log(`${CONNECTION}: connected (connection ${generation})`);
    if (!this.backfillStarted) {
      this.backfillStarted = true;
      this.startBackfill();
    }
  }

  private onDown(cause: string, detail: string): void {
    if (this.closed) return;
    const dead = this.servingGen;
    this.up = false;
    this.stats.reconnects += 1;
    this.sinks.log(`${CONNECTION}: down (${cause}): ${detail}`);
    this.rpc.dropThrough(dead, `connection ${dead} closed`);
    this.checkHealth(); // say so now, not at the next tick: the outage may be over by then
    // The books of the socket that died cannot be trusted past this point: the next snapshot resyncs.
    const gapCause: GapCause =
      cause === 'stale' ? 'stale' : cause === 'server-shutdown' ? 'server-shutdown' : 'disconnect';
    const now = Date.now();
    for (const sync of this.books.values()) {
      const generation = sync.generation;
      if (generation === null || generation > dead) continue;
      if (sync.lose(`${CONNECTION} ${cause}`)) {
        this.gaps.openBook(sync.instrument, gapCause, `${CONNECTION}: ${detail}`, now);
      }
    }
  }

  private onRotated(reason: string, from: number, to: number): void {
    this.servingGen = to;
    this.rotatedAt = Date.now();
    this.rpc.dropThrough(from, `connection ${from} retired`);
    this.sinks.log(`${CONNECTION}: rotated (${reason}) without loss`);
  }

  /** Deribit closes the session after a 10028: hold the reconnect until the credits have refilled. */
  private onRateLimited(detail: string): void {
    const now = Date.now();
    if (now < this.rateLimitedUntil) return; // the same exhaustion, answered more than once
    this.rateLimits += 1;
    const base = Math.min(RATE_LIMIT_WAIT.cap, RATE_LIMIT_WAIT.first * 2 ** this.rateLimitStreak);
    const wait = Math.round(base * (1 + Math.random() * 0.1));
    this.rateLimitStreak += 1;
    this.rateLimitedUntil = now + wait;
    this.conn.holdUntil(this.rateLimitedUntil);
    this.gaps.record({
      symbol: null,
      stream: CONNECTION,
      start: now,
      end: this.rateLimitedUntil,
      cause: 'rate-limit',
      detail: `10028 too_many_requests (${detail}): no reconnect for ${Math.ceil(wait / 1000)} s`,
    });
    this.sinks.log(`${CONNECTION}: 10028 too_many_requests; holding reconnects for ${wait} ms`);
  }

  // ---- messages ------------------------------------------------------------------------------

  private onMessage(text: string, receivedAt: number, generation: number): void {
    const m = parseMessage(text, receivedAt);
    switch (m.kind) {
      case 'book': {
        this.stats.message(`${m.instrument}.book`, receivedAt, m.event.timestamp);
        this.books.get(m.instrument)?.onEvent(m.event, generation, receivedAt);
        return;
      }
      case 'trades':
        this.onTrades(m.instrument, m.trades, receivedAt);
        return;
      case 'ticker':
        this.onTicker(m.instrument, m.ticker, receivedAt);
        return;
      case 'dvol':
        this.onDvol(m.currency, m.volatility, m.timestamp, receivedAt);
        return;
      case 'heartbeat':
        if (m.type === 'test_request') {
          this.testRequestsAnswered += 1;
          // Unanswered, the server closes the connection: reply at once, outside the budgets' queues.
          this.request('public/test', {}, generation, 'none').catch((error: unknown) =>
            this.requestFailed('public/test', error),
          );
        }
        return;
      case 'response': {
        const method = this.rpc.settle(m.id, m.result, m.error);
        if (m.error?.code === 10028) this.onRateLimited(method ?? `request ${String(m.id)}`);
        return;
      }
      case 'invalid':
        this.stats.parseErrors += 1;
        if (this.stats.parseErrors <= 10 || this.stats.parseErrors % 1000 === 0) {
          this.sinks.log(`${CONNECTION}: skipped a message (${m.reason}); ${this.stats.parseErrors} so far`);
        }
        return;
    }
  }

  private onTrades(instrument: string, trades: ParsedTrade[], receivedAt: number): void {
    for (const { seq, record } of trades) {
      const last = this.lastTradeSeq.get(instrument);
      // A rotation's overlap delivers the same trades twice: the sequence says so.
      if (last !== undefined && seq <= last) continue;
      if (last !== undefined && seq > last + 1) {
        this.stats.gap(`${instrument}.trade`);
        this.gaps.record({
          symbol: instrument,
          stream: 'trade',
          start: receivedAt,
          end: receivedAt,
          cause: 'trade-id',
          detail: `trade_seq ${last + 1}–${seq - 1} never arrived`,
        });
      }
      this.lastTradeSeq.set(instrument, seq);
      if (this.wants.has('trade')) {
        this.stats.message(`${instrument}.trade`, receivedAt, record.exchangeTs);
        this.emit(record);
        if (!this.paused) this.sinks.recorder?.addTrade(record);
      }
      if (record.liquidation && this.wants.has('liquidation')) {
        // Deribit's trade tape is complete, so its liquidations are too.
        const liquidation: LiquidationRecord = {
          venue: 'deribit',
          symbol: instrument,
          exchangeTs: record.exchangeTs,
          localTs: receivedAt,
          type: 'liquidation',
          side: record.side,
          price: record.price,
          size: record.size,
          partial: false,
        };
        this.stats.message(`${instrument}.liquidation`, receivedAt, record.exchangeTs);
        this.emit(liquidation);
        if (!this.paused) this.sinks.recorder?.addLiquidation(liquidation);
      }
    }
  }

  private onTicker(instrument: string, t: Ticker, receivedAt: number): void {
    const base = {
      venue: 'deribit' as const,
      symbol: instrument,
      exchangeTs: t.timestamp,
      localTs: receivedAt,
    };
    if (this.wants.has('top')) {
      this.stats.message(`${instrument}.top`, receivedAt, t.timestamp);
      const key = `${t.bidPrice}:${t.bidSize}:${t.askPrice}:${t.askSize}`;
      if (this.lastTop.get(instrument) !== key) {
        this.lastTop.set(instrument, key);
        const top: TopOfBookRecord = {
          ...base,
          type: 'top',
          bidPrice: t.bidPrice,
          bidSize: t.bidSize,
          askPrice: t.askPrice,
          askSize: t.askSize,
        };
        this.emit(top);
      }
    }
    if (this.wants.has('funding') && t.funding8h !== undefined) {
      this.stats.message(`${instrument}.funding`, receivedAt, t.timestamp);
      const last = this.lastFunding.get(instrument);
      if (!last || (last.rate !== t.funding8h && receivedAt - last.at >= DERIVED_MIN_INTERVAL_MS)) {
        this.lastFunding.set(instrument, { rate: t.funding8h, at: receivedAt });
        const funding: FundingRecord = {
          ...base,
          type: 'funding',
          rate: t.funding8h,
          nextFundingTime: nextFundingTime(t.timestamp),
          intervalMs: EIGHT_HOURS,
          markPrice: t.markPrice,
        };
        if (t.indexPrice !== undefined) funding.indexPrice = t.indexPrice;
        this.emit(funding);
        if (!this.paused) this.sinks.recorder?.addFunding(funding);
      }
    }
    if (this.wants.has('oi') && t.openInterest !== undefined) {
      this.stats.message(`${instrument}.oi`, receivedAt, t.timestamp);
      const last = this.lastOi.get(instrument);
      if (!last || (last.value !== t.openInterest && receivedAt - last.at >= DERIVED_MIN_INTERVAL_MS)) {
        this.lastOi.set(instrument, { value: t.openInterest, at: receivedAt });
        // USD for inverse perpetuals, as sent.
        const oi: OpenInterestRecord = { ...base, type: 'oi', openInterest: t.openInterest };
        this.emit(oi);
        if (!this.paused) this.sinks.recorder?.addOpenInterest(oi);
      }
    }
  }

  private onDvol(currency: string, volatility: number, timestamp: number, receivedAt: number): void {
    if (!this.currencies.includes(currency)) return;
    const last = this.lastDvolTs.get(currency);
    if (last !== undefined && timestamp <= last) return; // a rotation's overlap
    this.lastDvolTs.set(currency, timestamp);
    this.stats.message(`${currency}.dvol`, receivedAt, timestamp);
    const record = dvolRecord(currency, volatility, timestamp, receivedAt);
    this.emit(record);
    if (!this.paused) this.sinks.recorder?.addVolatility(record);
  }

  private emit(record: MarketRecord): void {
    if (this.paused) return;
    this.sinks.publish(marketSubject('deribit', record.symbol, record.type), record);
  }

  // ---- books ---------------------------------------------------------------------------------

  private bookSync(instrument: string): DeribitBook {
    const channel = `book.${instrument}.100ms`;
    const publishBook = (
      kind: 'snapshot' | 'delta',
      bids: Level[],
      asks: Level[],
      seq: number,
      ts: number,
    ) => {
      if (this.paused) return;
      this.sinks.publish(marketSubject('deribit', instrument, 'book'), {
        type: 'book',
        venue: 'deribit',
        symbol: instrument,
        kind,
        seq,
        bids,
        asks,
        exchangeTs: ts,
        localTs: Date.now(),
      });
    };
    return new DeribitBook(instrument, {
      onSynced: (book, changeId, ts) => {
        this.gaps.closeBook(instrument, Date.now());
        const depth = this.config.bookDepth;
        publishBook('snapshot', book.levels('bid', depth), book.levels('ask', depth), changeId, ts);
      },
      onDelta: (bids, asks, changeId, ts) => publishBook('delta', bids, asks, changeId, ts),
      onGap: (cause, detail, lastGoodAt) => {
        this.stats.gap(`${instrument}.book`);
        this.stats.resync(`${instrument}.book`);
        this.gaps.openBook(instrument, cause, detail, lastGoodAt);
        this.sinks.log(`${instrument} book: ${detail}; resubscribing`);
      },
      // Unsubscribe first: subscribing a channel that is already subscribed sends no new snapshot.
      resubscribe: (generation) => {
        this.request('public/unsubscribe', { channels: [channel] }, generation, 'subscribe')
          .then(() => this.request('public/subscribe', { channels: [channel] }, generation, 'subscribe'))
          .catch((error: unknown) => this.requestFailed(`resubscribe ${channel}`, error));
      },
    });
  }

  /**
   * Books that waited too long: a resubscription whose snapshot never came (a request lost with its
   * socket) is asked again, and a book still bound to a socket retired by a rotation is moved to the
   * serving one.
   */
  private watchBooks(): void {
    if (!this.up) return;
    const now = Date.now();
    for (const sync of this.books.values()) {
      const generation = sync.generation;
      if (sync.resyncOverdue(now, RESYNC_RETRY_MS)) {
        sync.requestSnapshot(this.servingGen, now);
      } else if (
        sync.state === 'synced' &&
        generation !== null &&
        generation < this.servingGen &&
        now - this.rotatedAt >= REBIND_AFTER_MS
      ) {
        sync.requestSnapshot(this.servingGen, now);
      }
    }
  }

  /**
   * A Deribit snapshot is the whole book, and changes far from the top keep adding levels: keep twice
   * the configured depth, so a level that moves into the top `bookDepth` is already known.
   */
  private trimBooks(): void {
    const keep = this.config.bookDepth * 2;
    for (const sync of this.books.values()) {
      sync.book.truncate('bid', keep);
      sync.book.truncate('ask', keep);
    }
  }

  // ---- DVOL history --------------------------------------------------------------------------

  private startBackfill(): void {
    const days = this.config.dvolHistoryDays;
    if (days <= 0 || this.currencies.length === 0) return;
    const now = Date.now();
    // Complete bars only: the one of the current minute is still moving.
    const to = Math.floor(now / DVOL_BAR_MS) * DVOL_BAR_MS - DVOL_BAR_MS;
    const from = to - days * 86_400_000 + DVOL_BAR_MS;
    for (const currency of this.currencies) {
      const backfill = new DvolBackfill({
        currency,
        from,
        to,
        fetchPage: (request) =>
          this.request('public/get_volatility_index_data', { ...request }, this.servingGen, 'request'),
        parse: (result) => parseVolatilityPage(result, currency, DVOL_BAR_MS / 1000, Date.now()),
        onBars: (bars: VolatilityIndexRecord[]) => {
          for (const bar of bars) this.sinks.recorder?.addVolatility(bar);
        },
        ready: () => this.whenReady(),
        log: (line) => this.sinks.log(line),
      });
      this.backfills.push(backfill);
      void backfill.start();
    }
  }

  /** Resolves when connected and not paused; rejects once closed. */
  private async whenReady(): Promise<void> {
    while (!this.up || this.paused) {
      if (this.closed) throw new Error('closed');
      await this.delay(100);
    }
    if (this.closed) throw new Error('closed');
  }

  /** Resolves after `ms`, or at once when the collector closes (callers check `closed`). */
  private delay(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waits.delete(timer);
        resolve();
      }, ms);
      this.waits.set(timer, resolve);
    });
  }

  private checkHealth(): void {
    this.health.check({
      down: this.up ? [] : [CONNECTION],
      stats: this.stats,
      staleAfterMs: this.config.staleAfterMs,
      startedAt: this.startedAt,
      unsynced: [...this.books.values()].filter((b) => b.state !== 'synced').map((b) => b.instrument),
    });
  }
}
