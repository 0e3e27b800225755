/**
 * One OKX market (spot or swap) over the v5 public WebSocket (reference/exchanges.md B3): books kept in
 * sync by `seqId` (and the checksum when OKX sends one), trades, top of book, and for swaps funding,
 * open interest and liquidations from the streams plus the long/short account ratio polled over REST.
 * Swap sizes come in contracts and are recorded in base units (ctVal from the instruments endpoint,
 * fetched before anything is subscribed). Everything is published on the bus and recorded; every loss
 * goes to the gap ledger. It never exits because the exchange is away: it says it is degraded and
 * keeps trying.
 *
 * OKX's connection rules shape it: at most 29 books per connection (OKX advises fewer than 30 deep
 * channels), connection attempts paced to under 3 per second, at most 480 subscribe/unsubscribe
 * requests per connection per hour (a resync that would pass it reconnects instead), a text `ping`
 * well within 30 s, and a lossless move to a new connection on the 64008 service-upgrade notice.
 */
import {
  marketSubject,
  type GapCause,
  type Level,
  type MarketDataType,
  type MarketRecord,
} from '../../../shared/market';
import type { CollectorConfig } from '../../../shared/collector-config';
import type { CollectorSinks, VenueCollector } from '../collector';
import { CollectorHealth } from '../collector-health';
import { GapLedger } from '../gap-ledger';
import type { OrderBook } from '../book/order-book';
import { Backoff } from '../net/backoff';
import { Poller } from '../net/poller';
import { RateLimitedError, RestClient } from '../net/rest-client';
import { StreamConnection, type ConnectionGapCause, type SendFn } from '../net/stream-connection';
import { StreamStats } from '../stream-stats';
import { ConnectPacer } from './connect-pacer';
import { ContractValue } from './contracts';
import { OkxBookSync } from './okx-book';
import {
  argKey,
  parseInstruments,
  parseLongShortRatio,
  parseMessage,
  type OkxArg,
  type OkxLiquidation,
  type OkxTrade,
} from './parse';
import { SocketSubscriptions } from './subscriptions';

export type OkxConfig = CollectorConfig & { venue: 'okx-spot' | 'okx-swap' };

/** OKX advises fewer than 30 channels of 50/400 depth per connection. */
const BOOKS_PER_CONNECTION = 29;
/** OKX closes a connection after 30 s without data; the text ping keeps a quiet one alive. */
const MAX_HEARTBEAT_MS = 20_000;
/** A book waiting this long for its snapshot (a refused or lost subscribe) is resubscribed. */
const RESYNC_TIMEOUT_MS = 10_000;
/** OKX publishes the long/short ratio per 5-minute period: polling faster adds nothing. */
const LSR_PERIOD = '5m';
const LSR_MIN_INTERVAL_MS = 300_000;
/** Rows asked per poll: a poll missed (rate limit, outage) is filled in by the next. */
const LSR_ROWS = 12;
/** Funding is pushed every 30–90 s: it is stale only after two missed pushes. */
const FUNDING_STALE_MS = 180_000;
/** Liquidation keys remembered for de-duplication. */
const RECENT_LIQUIDATIONS = 10_000;
/** Subscription errors that no retry can fix. */
const PERMANENT_ERRORS = new Set(['60018']);

interface Entry {
  name: string;
  conn: StreamConnection;
  instIds: string[];
  args: OkxArg[];
  keys: string[];
  started: boolean;
  up: boolean;
  /** The generation of the serving socket, and since when it serves. */
  gen: number;
  servedSince: number;
  /** Per open socket generation: its requests, acks and hourly budget. */
  socks: Map<number, SocketSubscriptions>;
  retryBackoff: Backoff;
}

export class OkxCollector implements VenueCollector {
  readonly stats: StreamStats;
  /** Subscription requests the exchange refused. */
  subscriptionErrors = 0;
  private readonly swap: boolean;
  private readonly entries: Entry[] = [];
  private readonly books = new Map<string, OkxBookSync>();
  private readonly configured: Set<string>;
  private readonly contractValues = new Map<string, ContractValue>();
  private readonly unknownInstruments: string[] = [];
  private instrumentsLoaded: boolean;
  private readonly gaps: GapLedger;
  private readonly health: CollectorHealth;
  private readonly rest: RestClient;
  private readonly pacer = new ConnectPacer();
  private readonly pollers: Poller[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly lastTradeId = new Map<string, number>();
  /** Per instrument and channel: the newest socket generation heard; older ones are overlap duplicates. */
  private readonly newestGen = new Map<string, number>();
  private readonly lastResyncAt = new Map<string, number>();
  private readonly recentLiquidations = new Map<string, true>();
  private readonly lastLsrAt = new Map<string, number>();
  private lastSubscriptionError = '';
  private nextRequestId = 1;
  /** The connections exist (swaps: once the contract values are known). */
  private connectionsPlanned = false;
  private startedAt = 0;
  private healthTimer: NodeJS.Timeout | undefined;
  private paused = false;
  private closed = false;

  constructor(
    readonly config: OkxConfig,
    private readonly sinks: CollectorSinks,
  ) {
    this.swap = config.venue === 'okx-swap';
    this.instrumentsLoaded = !this.swap;
    this.configured = new Set(config.symbols);
    this.gaps = new GapLedger(config.venue, sinks);
    this.health = new CollectorHealth((health, message) => sinks.health(health, message));
    // OKX's public limits count per 2 s: a 429 without Retry-After is over soon.
    this.rest = new RestClient(config.endpoints.rest, { timeoutMs: 10_000, rateLimitDefaultMs: 2_000 });
    this.stats = new StreamStats(config.symbols.flatMap((s) => config.types.map((t) => `${s}.${t}`)));
  }

  start(): void {
    if (this.startedAt !== 0 || this.closed) return;
    this.startedAt = Date.now();
    if (this.config.types.includes('book')) {
      for (const instId of this.config.symbols) this.books.set(instId, this.bookSync(instId));
    }
    if (this.swap) {
      void this.loadInstruments().then(() => this.openConnections());
      this.startPolling();
    } else {
      this.openConnections();
    }
    this.healthTimer = setInterval(() => {
      for (const sync of this.books.values()) sync.trim();
      this.retryStuckBooks();
      this.checkHealth();
    }, 1_000);
    this.healthTimer.unref();
  }

  /** Resolves true once every connection is open and every subscription acknowledged. */
  async whenSubscribed(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.subscribed()) {
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
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([...this.pollers.map((p) => p.stop()), ...this.entries.map((e) => e.conn.close())]);
    this.gaps.closeAll(Date.now());
  }

  /** The instrument's book when in sync (tests compare it with the simulator's true book). */
  book(instId: string): OrderBook | undefined {
    const sync = this.books.get(instId);
    return sync?.state === 'synced' ? sync.book : undefined;
  }

  bookSyncs(): ReadonlyMap<string, OkxBookSync> {
    return this.books;
  }

  connectionStats(): { name: string; up: boolean; stats: ReturnType<StreamConnection['stats']> }[] {
    return this.entries.map((e) => ({ name: e.name, up: e.up, stats: e.conn.stats() }));
  }

  restStats(): ReturnType<RestClient['stats']> {
    return this.rest.stats();
  }

  // ---- instruments ---------------------------------------------------------------------------

  /**
   * The contract values of the configured swaps, retried with backoff until the endpoint answers.
   * Nothing is subscribed before: swap sizes could not be normalized.
   */
  private async loadInstruments(): Promise<void> {
    const backoff = new Backoff({ baseMs: 500, capMs: 30_000 });
    while (!this.closed) {
      let wait: number;
      try {
        const json = await this.rest.getJson<unknown>('/api/v5/public/instruments', { instType: 'SWAP' });
        const parsed = parseInstruments(json);
        if (!parsed.ok) throw new Error(parsed.error);
        for (const instId of this.config.symbols) {
          const ctVal = parsed.value.get(instId);
          const value = ctVal === undefined ? null : ContractValue.parse(ctVal);
          if (value) this.contractValues.set(instId, value);
          else this.unknownInstruments.push(instId);
        }
        if (this.unknownInstruments.length > 0) {
          this.sinks.log(
            `instruments: no contract value for ${this.unknownInstruments.join(', ')}: not collected`,
          );
        }
        this.instrumentsLoaded = true;
        return;
      } catch (error) {
        wait = backoff.next();
        if (error instanceof RateLimitedError) {
          wait = Math.max(wait, error.retryAt - Date.now());
          if (!error.local) this.recordRateLimit(null, 'instruments', error);
        }
        this.sinks.log(`instruments: ${String(error)}; retrying in ${wait} ms`);
      }
      await this.sleep(wait);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  /** A configured instrument whose sizes can be converted (swaps: its ctVal is known). */
  private collects(instId: string): boolean {
    return this.configured.has(instId) && (!this.swap || this.contractValues.has(instId));
  }

  /** Sizes of `instId` on the wire → base units. */
  private toBase(instId: string, size: string): number {
    return (this.swap ? this.contractValues.get(instId) : ContractValue.ONE)?.toBase(size) ?? NaN;
  }

  // ---- connections ---------------------------------------------------------------------------

  private openConnections(): void {
    if (this.closed) return;
    const { config } = this;
    const instIds = config.symbols.filter((s) => !this.swap || this.contractValues.has(s));
    const channels: [type: MarketDataType, channel: string][] = [
      ['book', 'books'],
      ['top', 'bbo-tbt'],
      ['trade', 'trades'],
    ];
    if (this.swap) channels.push(['funding', 'funding-rate'], ['oi', 'open-interest']);
    for (let i = 0; i < instIds.length; i += BOOKS_PER_CONNECTION) {
      const group = instIds.slice(i, i + BOOKS_PER_CONNECTION);
      const args: OkxArg[] = [];
      for (const instId of group) {
        for (const [type, channel] of channels)
          if (config.types.includes(type)) args.push({ channel, instId });
      }
      if (i === 0 && this.swap && config.types.includes('liquidation')) {
        args.push({ channel: 'liquidation-orders', instType: 'SWAP' });
      }
      if (args.length > 0) this.addEntry(group, args);
    }
    this.connectionsPlanned = true;
    // Staggered: never more than 3 connection attempts per second.
    for (const entry of this.entries) {
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          if (this.closed) return;
          entry.started = true;
          entry.conn.start();
        },
        Math.max(0, this.pacer.reserve() - Date.now()),
      );
      this.timers.add(timer);
    }
  }

  private addEntry(instIds: string[], args: OkxArg[]): void {
    const name = `${this.config.venue}/public-${this.entries.length}`;
    const staleAfterMs = this.config.staleAfterMs;
    const entry: Entry = {
      name,
      instIds,
      args,
      keys: args.map(argKey),
      started: false,
      up: false,
      gen: 0,
      servedSince: 0,
      socks: new Map(),
      retryBackoff: new Backoff({ baseMs: 1_000, capMs: 30_000 }),
      conn: new StreamConnection({
        name,
        url: () => `${this.config.endpoints.ws}/ws/v5/public`,
        onOpen: (send, gen) => this.onOpen(entry, send, gen),
        onMessage: (text, receivedAt, gen) => this.onMessage(entry, text, receivedAt, gen),
        onDown: (cause, detail) => this.onDown(entry, cause, detail),
        onUp: (gen) => {
          entry.up = true;
          this.serve(entry, gen);
          this.sinks.log(`${name}: connected (${args.length} channels)`);
        },
        onGap: (gap) => this.gaps.record({ symbol: null, stream: name, ...gap }),
        onRotated: ({ reason, to }) => {
          this.serve(entry, to);
          this.sinks.log(`${name}: moved to a new connection (${reason}) without loss`);
        },
        onError: (error) => this.sinks.log(`${name}: ${String(error)}`),
        // Acks, errors, notices and pongs are not data: a new socket takes over once it has data.
        isData: (text) => text.startsWith('{"arg"'),
        heartbeat: {
          intervalMs: Math.min(MAX_HEARTBEAT_MS, Math.max(250, Math.floor(staleAfterMs / 3))),
          send: (send) => send('ping'),
        },
        staleAfterMs,
        rotateAfterMs: this.config.rotateAfterMs,
        // OKX counts connection requests per second: a refused upgrade is worth retrying soon.
        rateLimitDefaultMs: 2_000,
      }),
    };
    this.entries.push(entry);
  }

  /** `gen` serves the entry from now on; older sockets' bookkeeping goes. */
  private serve(entry: Entry, gen: number): void {
    entry.gen = gen;
    entry.servedSince = Date.now();
    for (const g of entry.socks.keys()) if (g < gen) entry.socks.delete(g);
  }

  private onOpen(entry: Entry, send: SendFn, gen: number): void {
    const sock = new SocketSubscriptions(gen, send, () => String(this.nextRequestId++));
    entry.socks.set(gen, sock);
    sock.request('subscribe', entry.args);
    const now = Date.now();
    for (const instId of entry.instIds) if (this.books.has(instId)) this.lastResyncAt.set(instId, now);
  }

  private onDown(entry: Entry, cause: ConnectionGapCause, detail: string): void {
    if (this.closed) return;
    entry.up = false;
    this.stats.reconnects += 1;
    this.sinks.log(`${entry.name}: down (${cause}): ${detail}`);
    // The next attempt waits for its slot: a disconnect of every connection must not become a burst.
    entry.conn.holdUntil(this.pacer.reserve());
    const dead = entry.gen;
    for (const g of entry.socks.keys()) if (g <= dead) entry.socks.delete(g);
    const gapCause: GapCause = cause;
    const lastMessageAt = entry.conn.stats().lastMessageAt;
    const start = Math.min(Date.now(), lastMessageAt ?? Date.now());
    for (const instId of entry.instIds) {
      const sync = this.books.get(instId);
      if (!sync?.reset(dead, `${entry.name} ${cause}`)) continue;
      this.stats.gap(`${instId}.book`);
      this.gaps.openBook(instId, gapCause, `${entry.name}: ${detail}`, start);
    }
    this.checkHealth(); // say so now, not at the next tick: the outage may be over by then
  }

  /** Moves the entry to a new connection (paced), e.g. on the 64008 notice or an exhausted budget. */
  private rotate(entry: Entry, reason: 'rotation' | 'server-shutdown'): void {
    const slot = this.pacer.reserve();
    if (slot > Date.now()) entry.conn.holdUntil(slot);
    entry.conn.rotate(reason);
  }

  private subscribed(): boolean {
    if (!this.connectionsPlanned) return false;
    return this.entries.every((e) => e.up && e.socks.get(e.gen)?.covers(e.keys) === true);
  }

  // ---- messages ------------------------------------------------------------------------------

  private onMessage(entry: Entry, text: string, receivedAt: number, gen: number): void {
    const m = parseMessage(text);
    switch (m.kind) {
      case 'books': {
        const sync = this.books.get(m.instId);
        if (!sync) return;
        this.stats.message(`${m.instId}.book`, receivedAt, m.ts);
        sync.onMessage(m, gen, receivedAt);
        return;
      }
      case 'bbo': {
        if (!this.collects(m.instId) || !this.newest(m.instId, 'bbo', gen) || !m.bid || !m.ask) return;
        this.onRecord({
          venue: this.config.venue,
          symbol: m.instId,
          exchangeTs: m.ts,
          localTs: receivedAt,
          type: 'top',
          bidPrice: m.bid.price,
          bidSize: this.toBase(m.instId, m.bid.sz),
          askPrice: m.ask.price,
          askSize: this.toBase(m.instId, m.ask.sz),
        });
        return;
      }
      case 'trades':
        for (const t of m.trades) this.onTrade(t, receivedAt);
        return;
      case 'funding': {
        if (!this.collects(m.instId) || !this.newest(m.instId, 'funding', gen)) return;
        const record = {
          venue: this.config.venue,
          symbol: m.instId,
          exchangeTs: m.ts,
          localTs: receivedAt,
          type: 'funding' as const,
          rate: m.rate,
          // OKX's `fundingTime` is the upcoming settlement; its `nextFundingTime` the one after.
          nextFundingTime: m.fundingTime,
          intervalMs: m.nextFundingTime - m.fundingTime,
        };
        this.onRecord(record);
        if (!this.paused) this.sinks.recorder?.addFunding(record);
        return;
      }
      case 'open-interest': {
        if (!this.collects(m.instId) || !this.newest(m.instId, 'oi', gen)) return;
        const record = {
          venue: this.config.venue,
          symbol: m.instId,
          exchangeTs: m.ts,
          localTs: receivedAt,
          type: 'oi' as const,
          // In coin: OKX's own `oiCcy`, else the contracts converted.
          openInterest: m.oiCcy ?? this.toBase(m.instId, m.oi),
        };
        this.onRecord(record);
        if (!this.paused) this.sinks.recorder?.addOpenInterest(record);
        return;
      }
      case 'liquidations':
        for (const l of m.items) this.onLiquidation(l, receivedAt);
        return;
      case 'ack':
        entry.socks.get(gen)?.onAck(m.op, m.id, m.arg);
        return;
      case 'error':
        this.onSubscriptionError(entry, gen, m.id, m.code, m.msg);
        return;
      case 'notice':
        if (m.code === '64008') {
          this.sinks.log(
            `${entry.name}: OKX announced a service upgrade (64008); moving to a new connection`,
          );
          this.rotate(entry, 'server-shutdown');
        } else {
          this.sinks.log(`${entry.name}: notice ${m.code}: ${m.msg}`);
        }
        return;
      case 'pong':
      case 'control':
        return;
      case 'invalid':
        this.stats.parseErrors += 1;
        if (this.stats.parseErrors <= 10 || this.stats.parseErrors % 1000 === 0)
          this.sinks.log(`${entry.name}: skipped a message (${m.reason}); ${this.stats.parseErrors} so far`);
        return;
    }
  }

  /**
   * During a rotation both sockets deliver the same pushes: the newest generation heard for an
   * instrument's channel wins, and the older socket's copies are dropped.
   */
  private newest(instId: string, channel: string, gen: number): boolean {
    const key = `${instId}|${channel}`;
    const newest = this.newestGen.get(key) ?? 0;
    if (gen < newest) return false;
    this.newestGen.set(key, gen);
    return true;
  }

  /**
   * One message per taker order: `tradeId` is the last id of its `count` fills, so ids jump between
   * messages. Ids already seen are the other socket's copies during a rotation; a first id beyond the
   * last one seen + 1 means trades never arrived.
   */
  private onTrade(t: OkxTrade, receivedAt: number): void {
    if (!this.collects(t.instId)) return;
    const last = this.lastTradeId.get(t.instId);
    if (last !== undefined && t.tradeId <= last) return;
    const first = t.tradeId - t.count + 1;
    if (last !== undefined && first > last + 1) {
      this.stats.gap(`${t.instId}.trade`);
      this.gaps.record({
        symbol: t.instId,
        stream: 'trade',
        start: receivedAt,
        end: receivedAt,
        cause: 'trade-id',
        detail: `trade ids ${last + 1}–${first - 1} never arrived`,
      });
    }
    this.lastTradeId.set(t.instId, t.tradeId);
    const record = {
      venue: this.config.venue,
      symbol: t.instId,
      exchangeTs: t.ts,
      localTs: receivedAt,
      type: 'trade' as const,
      id: String(t.tradeId),
      price: t.price,
      size: this.toBase(t.instId, t.sz),
      side: t.side,
    };
    this.onRecord(record);
    if (!this.paused) this.sinks.recorder?.addTrade(record);
  }

  /** The channel carries every swap: only ours, each once (pushes repeat and are not chronological). */
  private onLiquidation(l: OkxLiquidation, receivedAt: number): void {
    if (!this.collects(l.instId)) return;
    const key = `${l.instId}|${l.ts}|${l.side}|${l.price}|${l.sz}`;
    if (this.recentLiquidations.has(key)) return;
    this.recentLiquidations.set(key, true);
    if (this.recentLiquidations.size > RECENT_LIQUIDATIONS) {
      this.recentLiquidations.delete(this.recentLiquidations.keys().next().value!);
    }
    const record = {
      venue: this.config.venue,
      symbol: l.instId,
      exchangeTs: l.ts,
      localTs: receivedAt,
      type: 'liquidation' as const,
      side: l.side,
      price: l.price,
      size: this.toBase(l.instId, l.sz),
      partial: true,
    };
    this.onRecord(record);
    if (!this.paused) this.sinks.recorder?.addLiquidation(record);
  }

  private onRecord(record: MarketRecord): void {
    this.stats.message(`${record.symbol}.${record.type}`, record.localTs, record.exchangeTs);
    this.emit(record);
  }

  private emit(record: MarketRecord): void {
    if (this.paused) return;
    this.sinks.publish(marketSubject(record.venue, record.symbol, record.type), record);
  }

  // ---- subscriptions -------------------------------------------------------------------------

  private onSubscriptionError(
    entry: Entry,
    gen: number,
    id: string | undefined,
    code: string,
    msg: string,
  ): void {
    this.subscriptionErrors += 1;
    this.lastSubscriptionError = `${code} ${msg}`;
    this.sinks.log(`${entry.name}: OKX refused a request: ${code} ${msg}`);
    const sock = entry.socks.get(gen);
    const refused = sock?.onError(id) ?? [];
    if (!sock || refused.length === 0 || PERMANENT_ERRORS.has(code)) return;
    const delay = entry.retryBackoff.next() + 500;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.closed || entry.socks.get(gen) !== sock) return;
      const missing = refused.filter((a) => !sock.acked.has(argKey(a)));
      if (missing.length === 0) return;
      if (!sock.request('subscribe', missing)) this.rotate(entry, 'rotation');
    }, delay);
    this.timers.add(timer);
  }

  /** A fresh snapshot of one book: unsubscribe and subscribe again (or reconnect, over budget). */
  private resync(instId: string, reason: string): void {
    this.lastResyncAt.set(instId, Date.now());
    const entry = this.entries.find((e) => e.instIds.includes(instId));
    if (!entry?.up) return; // the next connection subscribes anyway
    const sock = entry.socks.get(entry.gen);
    if (!sock) return;
    const arg: OkxArg = { channel: 'books', instId };
    if (sock.opsLeft() < 2) {
      this.sinks.log(`${entry.name}: 480 requests this hour; reconnecting to resync ${instId} (${reason})`);
      this.rotate(entry, 'rotation');
      return;
    }
    sock.request('unsubscribe', [arg]);
    sock.request('subscribe', [arg]);
  }

  /** Books whose snapshot never came (a refused subscribe, a lost message) ask again. */
  private retryStuckBooks(): void {
    const now = Date.now();
    for (const [instId, sync] of this.books) {
      if (sync.state === 'synced') {
        // Still on a socket retired by a rotation, because the new one's snapshot never came: the
        // book no longer moves, so it is lost since the hand-over.
        const entry = this.entries.find((e) => e.instIds.includes(instId));
        if (!entry?.up || sync.generation >= entry.gen || now - entry.servedSince < RESYNC_TIMEOUT_MS)
          continue;
        sync.reset(sync.generation, 'left on a retired connection');
        this.stats.gap(`${instId}.book`);
        this.gaps.openBook(
          instId,
          'rotation',
          `${entry.name}: no snapshot on the new connection`,
          entry.servedSince,
        );
        this.resync(instId, 'left on a retired connection');
        continue;
      }
      const since = this.lastResyncAt.get(instId);
      if (since !== undefined && now - since > RESYNC_TIMEOUT_MS) this.resync(instId, 'no snapshot came');
    }
  }

  // ---- books ---------------------------------------------------------------------------------

  private bookSync(instId: string): OkxBookSync {
    const { venue, bookDepth } = this.config;
    const publish = (kind: 'snapshot' | 'delta', bids: Level[], asks: Level[], seq: number, ts: number) => {
      if (this.paused) return;
      this.sinks.publish(marketSubject(venue, instId, 'book'), {
        type: 'book',
        venue,
        symbol: instId,
        kind,
        seq,
        bids,
        asks,
        exchangeTs: ts,
        localTs: Date.now(),
      });
    };
    return new OkxBookSync(
      instId,
      {
        onSynced: (book, seqId, ts) => {
          this.gaps.closeBook(instId, Date.now());
          publish('snapshot', book.levels('bid', bookDepth), book.levels('ask', bookDepth), seqId, ts);
        },
        onDelta: (bids, asks, seqId, ts) => {
          // A keep-alive (no levels) only says the book is alive.
          if (bids.length > 0 || asks.length > 0) publish('delta', bids, asks, seqId, ts);
        },
        onGap: (cause, detail, lastGoodAt) => {
          this.stats.gap(`${instId}.book`);
          this.stats.resync(`${instId}.book`);
          this.gaps.openBook(instId, cause, detail, lastGoodAt);
        },
        requestResync: (reason) => this.resync(instId, reason),
      },
      (size) => this.toBase(instId, size),
    );
  }

  // ---- REST ----------------------------------------------------------------------------------

  private startPolling(): void {
    if (!this.config.types.includes('lsr')) return;
    const poller = new Poller({
      intervalMs: Math.max(this.config.pollIntervalMs, LSR_MIN_INTERVAL_MS),
      onError: (error) => this.sinks.log(`long/short ratio: ${String(error)}`),
      run: async () => {
        for (const instId of this.config.symbols) {
          if (this.unknownInstruments.includes(instId)) continue;
          let json: unknown;
          try {
            json = await this.rest.getJson<unknown>(
              '/api/v5/rubik/stat/contracts/long-short-account-ratio-contract',
              {
                instId,
                period: LSR_PERIOD,
                limit: LSR_ROWS,
              },
            );
          } catch (error) {
            if (error instanceof RateLimitedError && !error.local) this.recordRateLimit(instId, 'lsr', error);
            throw error;
          }
          const r = parseLongShortRatio(json, instId, LSR_PERIOD, Date.now());
          if (!r.ok) throw new Error(`long/short ratio of ${instId}: ${r.error}`);
          for (const row of r.value) {
            if (row.exchangeTs <= (this.lastLsrAt.get(instId) ?? 0)) continue;
            this.lastLsrAt.set(instId, row.exchangeTs);
            this.onRecord(row);
            if (!this.paused) this.sinks.recorder?.addLongShort(row);
          }
        }
      },
    });
    this.pollers.push(poller);
    poller.start();
  }

  /** The exchange's 429 is a loss worth a ledger entry: requests are paused until it allows them. */
  private recordRateLimit(symbol: string | null, stream: string, error: RateLimitedError): void {
    this.gaps.record({
      symbol,
      stream,
      start: Date.now(),
      end: error.retryAt,
      cause: 'rate-limit',
      detail: `HTTP ${error.status} on ${stream}: requests paused until ${new Date(error.retryAt).toISOString()}`,
    });
  }

  // ---- health --------------------------------------------------------------------------------

  private checkHealth(): void {
    const other: string[] = [];
    if (!this.instrumentsLoaded) {
      other.push(
        'contract values (ctVal) not loaded yet: swap sizes cannot be normalized, nothing subscribed',
      );
    }
    if (this.unknownInstruments.length > 0)
      other.push(`unknown instruments: ${this.unknownInstruments.join(', ')}`);
    const unacked = this.entries.some((e) => e.up && e.socks.get(e.gen)?.covers(e.keys) === false);
    if (unacked && this.subscriptionErrors > 0)
      other.push(`subscription refused: ${this.lastSubscriptionError}`);
    this.health.check({
      down: this.entries.filter((e) => e.started && !e.up).map((e) => e.name),
      stats: this.stats,
      staleAfterMs: this.config.staleAfterMs,
      staleFloorMs: { funding: FUNDING_STALE_MS },
      startedAt: this.startedAt,
      unsynced: [...this.books.values()].filter((b) => b.state !== 'synced').map((b) => b.instId),
      other,
    });
  }
}
