/**
 * The simulated Deribit venue (reference/exchanges.md B4): one `node:http` server that speaks JSON-RPC
 * 2.0 over WebSocket at `/ws/api/v2` and the same public methods over REST (`GET
 * /api/v2/public/<method>?…`), plus the `/__sim/*` control routes.
 *
 * - Channels: `book.{instrument}.100ms` (a full snapshot, then changes chained by
 *   `prev_change_id`/`change_id`), `trades.{instrument}.100ms` (batches with a contiguous `trade_seq`,
 *   liquidation trades flagged), `ticker.{instrument}.100ms` (top of book, mark and index price,
 *   funding, open interest) and `deribit_volatility_index.{btc_usd|eth_usd}` (about once a second).
 *   `raw` channels need authorization, which this server never grants: they are refused with 13778.
 * - `public/set_heartbeat`: a `test_request` every interval; one left unanswered by `public/test` until
 *   the next closes the connection, as Deribit does.
 * - Credits per connection approximating B4's figures (requests and subscriptions have separate pools);
 *   running out answers 10028 `too_many_requests` and closes the session. REST is not metered, except
 *   by the rate-limit fault (HTTP 429 with the same error).
 * - DVOL history (`public/get_volatility_index_data`) is a pure function of time, so a back-fill gets
 *   the same bars whenever it asks; pages are the newest rows of the range, oldest first, and
 *   `continuation` is the timestamp of the next older row, to pass as the next `end_timestamp`.
 *
 * Prices and amounts are JSON numbers (Deribit does not quote them); perpetual amounts are USD.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { DEFAULT_SHUTDOWN_GRACE_MS, type Fault } from './faults';
import type { AggregateFill, Liquidation, SymbolMarket, WireLevel } from './market';
import { hash32 } from './random';
import {
  handleControlRequest,
  sendJson,
  unsupportedFault,
  type SimControl,
  type VenueServer,
  type VenueStats,
  listen,
  zeroCounters,
  every,
  Stall,
} from './venue-server';

export interface DeribitCredits {
  /** Non-subscription requests: pool size, refill per second and cost of one request. */
  pool: number;
  refillPerSec: number;
  cost: number;
  /** `public/subscribe` and `public/unsubscribe`. */
  subscribePool: number;
  subscribeRefillPerSec: number;
  subscribeCost: number;
}

/** B4 (NautilusTrader's figures): about 20 requests/s with a burst of 100; subscribes 3.3/s, burst 10. */
export const DEFAULT_DERIBIT_CREDITS: DeribitCredits = {
  pool: 50_000,
  refillPerSec: 10_000,
  cost: 500,
  subscribePool: 30_000,
  subscribeRefillPerSec: 10_000,
  subscribeCost: 3_000,
};

export interface DeribitServerOptions {
  host: string;
  port: number;
  /** Keyed by instrument name (BTC-PERPETUAL). */
  markets: Map<string, SymbolMarket>;
  control: SimControl;
  /** Overrides the 100 ms interval of the book, trades and ticker channels (tests). */
  depthIntervalMs?: number;
  /** Real milliseconds per second of a `set_heartbeat` interval (default 1000; tests shrink it). */
  heartbeatUnitMs?: number;
  /** Rows per `get_volatility_index_data` page (default 1000). */
  dvolPageSize?: number;
  /** Interval of the live DVOL notifications (default 1000 ms). */
  dvolIntervalMs?: number;
  /** Credit pools of each connection (default DEFAULT_DERIBIT_CREDITS). */
  credits?: Partial<DeribitCredits>;
}

export type DvolCurrency = 'BTC' | 'ETH';
export const DVOL_RESOLUTIONS: Record<string, number> = {
  '1': 1_000,
  '60': 60_000,
  '3600': 3_600_000,
  '43200': 43_200_000,
  '1D': 86_400_000,
};
const DVOL_INDEXES: Record<string, DvolCurrency> = { btc_usd: 'BTC', eth_usd: 'ETH' };
const DVOL_BASE: Record<DvolCurrency, number> = { BTC: 48, ETH: 62 };

/**
 * The DVOL of a currency at the second containing `t`: slow waves plus a small per-second wiggle. A
 * pure function of time, so history asked twice is the same.
 */
export function dvolAt(currency: DvolCurrency, t: number): number {
  const s = Math.floor(t / 1000);
  const hours = s / 3600;
  const phase = currency === 'ETH' ? 1.3 : 0;
  const wave =
    6 * Math.sin(hours / 11 + phase) + 2.5 * Math.sin(hours / 1.7) + 0.8 * Math.sin(s / 97 + phase);
  const noise = ((hash32(`${currency}:${s}`) % 1000) / 1000 - 0.5) * 0.3;
  return Math.round((DVOL_BASE[currency] + wave + noise) * 100) / 100;
}

/** The bar starting at `ts`: open at its first second, close at its last, high/low over a few samples. */
export function dvolBar(
  currency: DvolCurrency,
  ts: number,
  resolutionMs: number,
): [ts: number, open: number, high: number, low: number, close: number] {
  const open = dvolAt(currency, ts);
  const close = dvolAt(currency, ts + resolutionMs - 1000);
  let high = Math.max(open, close);
  let low = Math.min(open, close);
  const samples = Math.min(8, Math.floor(resolutionMs / 1000) - 2);
  for (let i = 1; i <= samples; i++) {
    const v = dvolAt(currency, ts + Math.floor((resolutionMs * i) / (samples + 1) / 1000) * 1000);
    high = Math.max(high, v);
    low = Math.min(low, v);
  }
  return [ts, open, high, low, close];
}

const DERIBIT_FAULTS = [
  'gap',
  'stall',
  'disconnect',
  'server-shutdown',
  'rate-limit',
  'malformed',
  'crossed',
];
const VERSION = '1.2.26';
const WS_PATH = '/ws/api/v2';
const REST_PREFIX = '/api/v2/';
/** A larger backlog than this means the client stopped reading: drop it, as the exchange does. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
const WS_ONLY = new Set([
  'public/subscribe',
  'public/unsubscribe',
  'public/set_heartbeat',
  'public/disable_heartbeat',
]);

/** A JSON-RPC error as Deribit sends it: `{code, message, data?: {reason, param}}`. */
class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: { reason: string; param?: string },
  ) {
    super(message);
  }
}

const invalidParams = (param: string, reason: string): RpcError =>
  new RpcError(-32602, 'Invalid params', { reason, param });

/** A token bucket of credits (Deribit's rate limit model). */
class CreditPool {
  private tokens: number;
  private at: number;

  constructor(
    private readonly size: number,
    private readonly refillPerSec: number,
    now: number,
  ) {
    this.tokens = size;
    this.at = now;
  }

  take(cost: number, now: number): boolean {
    if (now > this.at)
      this.tokens = Math.min(this.size, this.tokens + ((now - this.at) * this.refillPerSec) / 1000);
    this.at = now;
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }
}

class Client {
  readonly channels = new Set<string>();
  /** Book channels subscribed whose snapshot goes out at the next book tick. */
  readonly awaitingSnapshot = new Set<string>();
  readonly credits: CreditPool;
  readonly subscribeCredits: CreditPool;
  heartbeatTimer: NodeJS.Timeout | null = null;
  /** A test_request was sent and no public/test has come since. */
  testRequestOutstanding = false;
  stalledUntil = 0;
  closing = false;

  constructor(
    readonly ws: WebSocket,
    credits: DeribitCredits,
    now: number,
  ) {
    this.credits = new CreditPool(credits.pool, credits.refillPerSec, now);
    this.subscribeCredits = new CreditPool(credits.subscribePool, credits.subscribeRefillPerSec, now);
  }

  stalled(now = Date.now()): boolean {
    return now < this.stalledUntil;
  }
}

type ChannelRef =
  { kind: 'book' | 'trades' | 'ticker'; instrument: string } | { kind: 'dvol'; currency: DvolCurrency };

interface WireTrade {
  trade_seq: number;
  trade_id: string;
  timestamp: number;
  tick_direction: number;
  price: number;
  mark_price: number;
  index_price: number;
  instrument_name: string;
  direction: 'buy' | 'sell';
  amount: number;
  liquidation?: string;
  /** Lots, to match a liquidation's quantity; removed before sending. */
  lots?: number;
}

/** Per instrument: the trade tape's sequence, and the book as last published (for new/change). */
interface InstrumentState {
  market: SymbolMarket;
  nextTradeSeq: number;
  skipTradeSeq: boolean;
  lastTradePrice: number | null;
  lastTickDirection: number;
  pendingTrades: WireTrade[];
  /** Prices on the published book, to label levels `new` or `change`. */
  bidPrices: Set<number>;
  askPrices: Set<number>;
  lastChangeId: number;
}

export class DeribitServer implements VenueServer {
  private readonly counters = zeroCounters();
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly clients = new Set<Client>();
  private readonly stall = new Stall(() => {
    for (const client of this.clients) client.ws.resume();
  });
  private readonly subscribers = new Map<string, Set<Client>>();
  private readonly instruments = new Map<string, InstrumentState>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly credits: DeribitCredits;
  private readonly heartbeatUnitMs: number;
  private readonly dvolPageSize: number;
  /** The rate-limit fault: this many requests are refused, and all of them until `exhaustedUntil`. */
  private forcedRefusals = 0;
  private exhaustedUntil = 0;
  private closed = false;

  constructor(private readonly options: DeribitServerOptions) {
    this.credits = { ...DEFAULT_DERIBIT_CREDITS, ...options.credits };
    this.heartbeatUnitMs = options.heartbeatUnitMs ?? 1000;
    this.dvolPageSize = options.dvolPageSize ?? 1000;
    // Whatever a client sends, the simulator answers or drops that one request: it never crashes.
    this.http = createServer((req, res) => {
      try {
        this.onRequest(req, res);
      } catch (error) {
        if (!res.headersSent)
          sendJson(res, 400, rpcEnvelope(undefined, { error: toWireError(error) }, Date.now()));
        else res.destroy();
      }
    });
    this.http.on('upgrade', (req, socket: Duplex, head: Buffer) => {
      try {
        this.onUpgrade(req, socket, head);
      } catch {
        socket.destroy();
      }
    });
    this.http.on('clientError', (_error, socket) => socket.destroy());

    for (const market of options.markets.values()) this.attach(market);
    const interval = options.depthIntervalMs ?? 100;
    this.every(interval, () => this.bookTick());
    this.every(interval, () => this.tradesTick());
    this.every(interval, () => this.tickerTick());
    this.every(options.dvolIntervalMs ?? 1000, () => this.dvolTick());
  }

  listen(): Promise<number> {
    return listen(this.http, this.options.host, this.options.port);
  }

  stats(): VenueStats {
    return { connections: this.clients.size, ...this.counters };
  }

  inject(fault: Fault): void {
    const now = Date.now();
    switch (fault.type) {
      case 'gap': {
        const state = this.instrumentOf(fault.symbol);
        state.market.injectGap();
        state.skipTradeSeq = true;
        break;
      }
      case 'crossed':
        this.instrumentOf(fault.symbol).market.injectCrossed();
        break;
      case 'stall': {
        const until = this.stall.set(now, fault.ms);
        for (const client of this.clients) {
          client.stalledUntil = until;
          client.ws.pause();
          // The silence is ours: a test_request sent before it must not count against the client.
          client.testRequestOutstanding = false;
        }
        break;
      }
      case 'disconnect':
        for (const client of this.clients) client.ws.terminate();
        break;
      case 'server-shutdown': {
        // Deribit announces nothing on the socket: it just goes away.
        const grace = fault.graceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
        for (const client of this.clients) {
          const timer = setTimeout(() => this.closeGracefully(client, 'going away', 1001), grace);
          client.ws.once('close', () => clearTimeout(timer));
        }
        break;
      }
      case 'rate-limit':
        this.forcedRefusals = fault.count;
        this.exhaustedUntil = now + fault.retryAfterSec * 1000;
        break;
      case 'malformed':
        for (const client of this.clients) this.sendMalformed(client, now);
        break;
      case 'keepalive':
      case 'sequence-reset':
        throw unsupportedFault('deribit', fault, DERIBIT_FAULTS);
    }
    this.counters.faults += 1;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.stall.close();
    for (const client of this.clients) {
      if (client.heartbeatTimer) clearInterval(client.heartbeatTimer);
      client.ws.terminate();
    }
    this.wss.close();
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  // ---- market feeds --------------------------------------------------------------------------

  private attach(market: SymbolMarket): void {
    market.openDepthStream('book');
    const snap = market.snapshot(Infinity);
    const state: InstrumentState = {
      market,
      nextTradeSeq: 1 + (hash32(market.symbol) % 100_000_000),
      skipTradeSeq: false,
      lastTradePrice: null,
      lastTickDirection: 0,
      pendingTrades: [],
      bidPrices: new Set(snap.bids.map(([p]) => Number(p))),
      askPrices: new Set(snap.asks.map(([p]) => Number(p))),
      lastChangeId: snap.lastUpdateId,
    };
    this.instruments.set(market.symbol, state);
    // The market has a single listener: chain whatever was there before.
    const previous = market.listener;
    market.listener = {
      onFill: (fill) => {
        previous.onFill?.(fill);
        this.onFill(state, fill);
      },
      onTop: () => previous.onTop?.(),
      onLiquidation: (liquidation) => {
        previous.onLiquidation?.(liquidation);
        this.onLiquidation(state, liquidation);
      },
    };
  }

  private onFill(state: InstrumentState, fill: AggregateFill): void {
    const { market } = state;
    const price = Number(fill.price);
    const mark = market.markPrice(fill.time);
    const lotScale = 10 ** market.spec.sizeDecimals;
    for (const trade of fill.trades) {
      if (state.skipTradeSeq) {
        // The gap fault: a trade lost on the way, so the tape skips one sequence number.
        state.skipTradeSeq = false;
        state.nextTradeSeq += 1;
      }
      // 0 plus tick, 1 zero-plus tick, 2 minus tick, 3 zero-minus tick.
      const last = state.lastTradePrice;
      const tick =
        last === null || price === last ? (state.lastTickDirection <= 1 ? 1 : 3) : price > last ? 0 : 2;
      state.lastTradePrice = price;
      state.lastTickDirection = tick;
      state.pendingTrades.push({
        trade_seq: state.nextTradeSeq++,
        trade_id: String(trade.id),
        timestamp: fill.time,
        tick_direction: tick,
        price,
        mark_price: Number(mark.mark),
        index_price: Number(mark.index),
        instrument_name: market.symbol,
        direction: fill.side,
        amount: Number(trade.size),
        lots: Math.round(Number(trade.size) * lotScale),
      });
    }
  }

  /**
   * A liquidation's fills came just before it, in the same market step: flag the newest pending trades
   * of its side that add up to its quantity (the liquidated party was the taker: `T`).
   */
  private onLiquidation(state: InstrumentState, liquidation: Liquidation): void {
    const side = liquidation.side === 'SELL' ? 'sell' : 'buy';
    let lots = Math.round(Number(liquidation.quantity) * 10 ** state.market.spec.sizeDecimals);
    for (let i = state.pendingTrades.length - 1; i >= 0 && lots > 0; i--) {
      const trade = state.pendingTrades[i]!;
      if (trade.direction !== side || trade.timestamp !== liquidation.time) break;
      trade.liquidation = 'T';
      lots -= trade.lots ?? 0;
    }
  }

  private bookTick(): void {
    const now = Date.now();
    for (const state of this.instruments.values()) {
      const { market } = state;
      const channel = `book.${market.symbol}.100ms`;
      // Taken even without subscribers, so the pending diff never grows without bound.
      const diff = market.takeDepth('book');
      if (diff) {
        const bids = this.actions(diff.b, state.bidPrices);
        const asks = this.actions(diff.a, state.askPrices);
        state.lastChangeId = diff.u;
        if (this.subscribers.has(channel)) {
          this.publish(channel, {
            type: 'change',
            timestamp: diff.T,
            instrument_name: market.symbol,
            prev_change_id: diff.pu,
            change_id: diff.u,
            bids,
            asks,
          });
        }
      } else {
        // Nothing published (no change, or the gap fault swallowed the event): start the labels over.
        const snap = market.snapshot(Infinity);
        state.bidPrices = new Set(snap.bids.map(([p]) => Number(p)));
        state.askPrices = new Set(snap.asks.map(([p]) => Number(p)));
        state.lastChangeId = snap.lastUpdateId;
      }
      // New subscribers get the book as of the change just published, so the next change chains to it.
      let snapshot: string | null = null;
      for (const client of this.clients) {
        if (!client.awaitingSnapshot.has(channel) || client.stalled(now)) continue;
        client.awaitingSnapshot.delete(channel);
        if (!client.channels.has(channel)) continue; // unsubscribed meanwhile
        snapshot ??= notification(channel, this.snapshotData(market, now));
        this.send(client, snapshot, now);
        this.addSubscriber(channel, client);
      }
    }
  }

  /** Deribit's `[action, price, amount]` levels; `known` is updated to the book after them. */
  private actions(levels: WireLevel[], known: Set<number>): [string, number, number][] {
    return levels.map(([p, s]) => {
      const price = Number(p);
      const amount = Number(s);
      if (amount === 0) {
        known.delete(price);
        return ['delete', price, 0];
      }
      const action = known.has(price) ? 'change' : 'new';
      known.add(price);
      return [action, price, amount];
    });
  }

  private snapshotData(market: SymbolMarket, now: number): Record<string, unknown> {
    const snap = market.snapshot(Infinity);
    const level = ([p, s]: WireLevel): [string, number, number] => ['new', Number(p), Number(s)];
    return {
      type: 'snapshot',
      timestamp: now,
      instrument_name: market.symbol,
      change_id: snap.lastUpdateId,
      bids: snap.bids.map(level),
      asks: snap.asks.map(level),
    };
  }

  private tradesTick(): void {
    for (const state of this.instruments.values()) {
      if (state.pendingTrades.length === 0) continue;
      const trades = state.pendingTrades;
      state.pendingTrades = [];
      const channel = `trades.${state.market.symbol}.100ms`;
      if (!this.subscribers.has(channel)) continue;
      for (const trade of trades) delete trade.lots;
      this.publish(channel, trades);
    }
  }

  private tickerTick(): void {
    const now = Date.now();
    for (const state of this.instruments.values()) {
      const { market } = state;
      const channel = `ticker.${market.symbol}.100ms`;
      if (!this.subscribers.has(channel)) continue;
      this.publish(channel, tickerData(state, now));
    }
  }

  private dvolTick(): void {
    const now = Date.now();
    for (const [index, currency] of Object.entries(DVOL_INDEXES)) {
      const channel = `deribit_volatility_index.${index}`;
      if (!this.subscribers.has(channel)) continue;
      // On the second, like the history's 1-second bars.
      const timestamp = Math.floor(now / 1000) * 1000;
      this.publish(channel, { volatility: dvolAt(currency, timestamp), timestamp, index_name: index });
    }
  }

  // ---- WebSocket -----------------------------------------------------------------------------

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== WS_PATH) {
      socket.on('error', () => undefined);
      const body = `no WebSocket endpoint at ${url.pathname}; use ${WS_PATH}`;
      socket.end(
        `HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
  }

  private onConnection(ws: WebSocket): void {
    if (this.closed) {
      ws.terminate();
      return;
    }
    const client = new Client(ws, this.credits, Date.now());
    if (this.stall.active()) {
      // The feed is still dead: silent, and reading nothing, from the start.
      client.stalledUntil = this.stall.until;
      ws.pause();
    }
    this.clients.add(client);
    this.counters.connectionsOpened += 1;
    ws.on('message', (data, isBinary) => {
      if (client.closing || client.stalled()) return; // a dead server does not answer
      this.onMessage(client, isBinary ? '' : rawText(data));
    });
    ws.on('error', () => undefined); // a broken client socket is its own problem; 'close' follows
    ws.on('close', () => {
      this.clients.delete(client);
      if (client.heartbeatTimer) clearInterval(client.heartbeatTimer);
      for (const channel of client.channels) this.removeSubscriber(channel, client);
    });
  }

  private onMessage(client: Client, text: string): void {
    const now = Date.now();
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch {
      this.reply(client, null, { error: { code: -32700, message: 'Parse error' } }, now);
      return;
    }
    if (!isObject(request) || typeof request.method !== 'string') {
      const id = isObject(request) ? validId(request.id) : null;
      this.reply(client, id, { error: { code: -32600, message: 'Invalid Request' } }, now);
      return;
    }
    const id = validId(request.id);
    const method = request.method;
    if (!this.allow(client, method, now)) {
      this.counters.closedForRate += 1;
      this.reply(client, id, { error: { code: 10028, message: 'too_many_requests' } }, now);
      this.closeGracefully(client, 'too_many_requests', 1008);
      return;
    }
    try {
      const result = this.call(method, isObject(request.params) ? request.params : {}, client, now);
      this.reply(client, id, { result }, now);
    } catch (error) {
      this.reply(client, id, { error: toWireError(error) }, now);
    }
  }

  /** Takes the request's credits; false when the connection (or the rate-limit fault) has none left. */
  private allow(client: Client | null, method: string, now: number): boolean {
    if (this.forcedRefusals > 0) {
      this.forcedRefusals -= 1;
      return false;
    }
    if (now < this.exhaustedUntil) return false;
    if (!client) return true;
    const subscription = method === 'public/subscribe' || method === 'public/unsubscribe';
    return subscription
      ? client.subscribeCredits.take(this.credits.subscribeCost, now)
      : client.credits.take(this.credits.cost, now);
  }

  /** One public method; `client` is null over REST. Throws RpcError. */
  private call(method: string, params: Record<string, unknown>, client: Client | null, now: number): unknown {
    if (client === null && WS_ONLY.has(method)) {
      throw new RpcError(11050, 'bad_request', { reason: `${method} is only available over WebSocket` });
    }
    switch (method) {
      case 'public/subscribe':
        return this.subscribe(client!, channelsParam(params));
      case 'public/unsubscribe':
        return this.unsubscribe(client!, channelsParam(params));
      case 'public/set_heartbeat':
        this.setHeartbeat(client!, params.interval);
        return 'ok';
      case 'public/disable_heartbeat':
        if (client!.heartbeatTimer) clearInterval(client!.heartbeatTimer);
        client!.heartbeatTimer = null;
        client!.testRequestOutstanding = false;
        return 'ok';
      case 'public/test':
        if (client) client.testRequestOutstanding = false;
        return { version: VERSION };
      case 'public/get_time':
        return now;
      case 'public/get_instruments':
        return this.getInstruments(params);
      case 'public/get_volatility_index_data':
        return this.volatilityIndexData(params, now);
      default:
        throw new RpcError(-32601, 'Method not found', { reason: `unknown method ${method}` });
    }
  }

  private parseChannel(name: string): ChannelRef {
    const parts = name.split('.');
    if (parts[0] === 'deribit_volatility_index' && parts.length === 2) {
      const currency = DVOL_INDEXES[parts[1]!];
      if (!currency)
        throw invalidParams('channels', `unknown volatility index ${parts[1]}: use btc_usd or eth_usd`);
      return { kind: 'dvol', currency };
    }
    const [kind, instrument, interval] = parts;
    if (parts.length !== 3 || (kind !== 'book' && kind !== 'trades' && kind !== 'ticker')) {
      throw invalidParams('channels', `invalid channel ${name}`);
    }
    if (interval === 'raw') {
      // Deribit: "raw interval is only available to authorized users".
      throw new RpcError(13778, 'raw_subscriptions_not_available_for_unauthorized');
    }
    if (interval !== '100ms')
      throw invalidParams('channels', `invalid interval ${interval} in ${name}: use 100ms`);
    if (!this.instruments.has(instrument!)) {
      throw new RpcError(10020, 'invalid_or_unsupported_instrument', {
        reason: `unknown instrument ${instrument}`,
      });
    }
    return { kind, instrument: instrument! };
  }

  private subscribe(client: Client, channels: string[]): string[] {
    for (const channel of channels) this.parseChannel(channel); // all or nothing
    for (const channel of new Set(channels)) {
      if (client.channels.has(channel)) continue; // already subscribed: no new snapshot
      client.channels.add(channel);
      // A book subscriber joins at the next tick, with a snapshot that the next change chains to.
      if (channel.startsWith('book.')) client.awaitingSnapshot.add(channel);
      else this.addSubscriber(channel, client);
    }
    return [...new Set(channels)];
  }

  private unsubscribe(client: Client, channels: string[]): string[] {
    for (const channel of channels) {
      client.channels.delete(channel);
      client.awaitingSnapshot.delete(channel);
      this.removeSubscriber(channel, client);
    }
    return [...new Set(channels)];
  }

  private setHeartbeat(client: Client, interval: unknown): void {
    if (typeof interval !== 'number' || !Number.isFinite(interval)) {
      throw invalidParams('interval', 'interval must be a number of seconds');
    }
    if (interval < 10) throw invalidParams('interval', 'interval must be at least 10 seconds');
    if (client.heartbeatTimer) clearInterval(client.heartbeatTimer);
    client.testRequestOutstanding = false;
    const periodMs = interval * this.heartbeatUnitMs;
    client.heartbeatTimer = setInterval(() => {
      const now = Date.now();
      if (client.closing || client.stalled(now)) return;
      if (client.testRequestOutstanding) {
        // "If your software fails to do so, the API server will immediately close the connection."
        this.counters.closedForPong += 1;
        this.closeGracefully(client, 'test_request not answered', 1000);
        return;
      }
      client.testRequestOutstanding = true;
      this.send(client, HEARTBEAT_TEST_REQUEST, now);
      // A plain heartbeat half-way, as the exchange interleaves both kinds.
      const half = setTimeout(() => this.send(client, HEARTBEAT, Date.now()), periodMs / 2);
      half.unref();
    }, periodMs);
  }

  private getInstruments(params: Record<string, unknown>): unknown[] {
    const currency = params.currency;
    if (typeof currency !== 'string' || currency === '')
      throw invalidParams('currency', 'currency is required');
    const kind = params.kind;
    if (
      kind !== undefined &&
      kind !== 'future' &&
      kind !== 'option' &&
      kind !== 'spot' &&
      kind !== 'future_combo'
    ) {
      throw invalidParams('kind', `invalid kind ${String(kind)}`);
    }
    if (kind !== undefined && kind !== 'future') return [];
    const out: unknown[] = [];
    for (const { market } of this.instruments.values()) {
      const spec = market.spec;
      const inverse = spec.sizeUnit === 'usd';
      const settlement = inverse ? spec.baseAsset : 'USDC';
      if (currency !== 'any' && currency !== settlement) continue;
      out.push({
        instrument_name: market.symbol,
        instrument_id: hash32(market.symbol) % 1_000_000,
        kind: 'future',
        settlement_period: 'perpetual',
        instrument_type: inverse ? 'reversed' : 'linear',
        base_currency: spec.baseAsset,
        quote_currency: inverse ? 'USD' : 'USDC',
        counter_currency: inverse ? 'USD' : 'USDC',
        settlement_currency: settlement,
        price_index: `${spec.baseAsset.toLowerCase()}_${inverse ? 'usd' : 'usdc'}`,
        tick_size: Number(market.price(1)),
        contract_size: inverse ? 10 : 1,
        min_trade_amount: Number(market.size(1)),
        is_active: true,
        rfq: false,
        creation_timestamp: 1_534_242_287_000,
        expiration_timestamp: 32_503_708_800_000,
        maker_commission: 0,
        taker_commission: 0.0005,
        max_leverage: 50,
      });
    }
    return out;
  }

  private volatilityIndexData(
    params: Record<string, unknown>,
    now: number,
  ): { data: [number, number, number, number, number][]; continuation: number | null } {
    const currency = params.currency;
    if (currency !== 'BTC' && currency !== 'ETH') {
      throw invalidParams('currency', `no volatility index for ${String(currency)}: use BTC or ETH`);
    }
    const start = intParam(params, 'start_timestamp');
    const end = intParam(params, 'end_timestamp');
    const resolution = params.resolution === undefined ? undefined : String(params.resolution);
    const step = resolution === undefined ? undefined : DVOL_RESOLUTIONS[resolution];
    if (step === undefined) {
      throw invalidParams(
        'resolution',
        `resolution must be one of ${Object.keys(DVOL_RESOLUTIONS).join(', ')}`,
      );
    }
    // Bars start on multiples of the resolution; none starts in the future.
    const first = Math.ceil(start / step) * step;
    const last = Math.floor(Math.min(end, now) / step) * step;
    if (last < first) return { data: [], continuation: null };
    const count = (last - first) / step + 1;
    const rows = Math.min(count, this.dvolPageSize);
    const oldest = last - (rows - 1) * step;
    const data: [number, number, number, number, number][] = [];
    for (let ts = oldest; ts <= last; ts += step) data.push(dvolBar(currency, ts, step));
    return { data, continuation: count > rows ? oldest - step : null };
  }

  private addSubscriber(channel: string, client: Client): void {
    let set = this.subscribers.get(channel);
    if (!set) this.subscribers.set(channel, (set = new Set()));
    set.add(client);
  }

  private removeSubscriber(channel: string, client: Client): void {
    const set = this.subscribers.get(channel);
    set?.delete(client);
    if (set?.size === 0) this.subscribers.delete(channel);
  }

  private publish(channel: string, data: unknown): void {
    const subscribers = this.subscribers.get(channel);
    if (!subscribers) return;
    const text = notification(channel, data);
    const now = Date.now();
    for (const client of subscribers) this.send(client, text, now);
  }

  private reply(client: Client, id: RequestId, body: Record<string, unknown>, usIn: number): void {
    this.send(client, JSON.stringify(rpcEnvelope(id, body, usIn)), Date.now());
  }

  private send(client: Client, text: string, now: number): void {
    const ws = client.ws;
    if (ws.readyState !== WebSocket.OPEN || client.closing || client.stalled(now)) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.counters.closedForBackpressure += 1;
      ws.terminate();
      return;
    }
    ws.send(text);
    this.counters.messagesSent += 1;
  }

  /** Closes with a close frame (after what was queued), and cuts the socket if the client lingers. */
  private closeGracefully(client: Client, reason: string, code: number): void {
    if (client.closing) return;
    client.closing = true;
    if (client.heartbeatTimer) clearInterval(client.heartbeatTimer);
    client.heartbeatTimer = null;
    if (client.ws.readyState === WebSocket.OPEN) client.ws.close(code, reason);
    setTimeout(() => client.ws.terminate(), 2_000).unref();
  }

  private sendMalformed(client: Client, now: number): void {
    const book = [...client.channels].find((c) => c.startsWith('book.'));
    const instrument = book ? book.split('.')[1]! : [...this.instruments.keys()][0]!;
    const state = this.instruments.get(instrument)!;
    const messages = [
      // Cut short mid-message.
      `{"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.${instrument}.100ms","data":{"type":"change","timestamp":${now},`,
      notification('mystery_channel.btc_usd.100ms', { x: 42, timestamp: now }),
      // A change that lost its change_id: a collector must drop it, not apply it.
      notification(`book.${instrument}.100ms`, {
        type: 'change',
        timestamp: now,
        instrument_name: instrument,
        prev_change_id: state.lastChangeId,
        bids: [['new', 1, 1]],
        asks: [],
      }),
    ];
    // Spread out, so that normal traffic flows between the bad messages.
    messages.forEach((message, i) => {
      const timer = setTimeout(() => this.send(client, message, Date.now()), i * 40);
      timer.unref();
    });
  }

  // ---- REST ----------------------------------------------------------------------------------

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith('/__sim/')) {
      void handleControlRequest(req, res, url, this.options.control, 'deribit', this.options.markets);
      return;
    }
    const now = Date.now();
    this.counters.restRequests += 1;
    if (!url.pathname.startsWith(REST_PREFIX)) {
      sendJson(
        res,
        404,
        rpcEnvelope(undefined, { error: { code: -32601, message: 'Method not found' } }, now),
      );
      return;
    }
    const method = url.pathname.slice(REST_PREFIX.length);
    if (req.method !== 'GET') {
      const error = {
        code: 11050,
        message: 'bad_request',
        data: { reason: `${req.method} is not supported` },
      };
      sendJson(res, 405, rpcEnvelope(undefined, { error }, now));
      return;
    }
    if (!this.allow(null, method, now)) {
      this.counters.restRefused += 1;
      sendJson(
        res,
        429,
        rpcEnvelope(undefined, { error: { code: 10028, message: 'too_many_requests' } }, now),
      );
      return;
    }
    const params: Record<string, unknown> = {};
    for (const [key, value] of url.searchParams) params[key] = value;
    try {
      const result = this.call(method, params, null, now);
      sendJson(res, 200, rpcEnvelope(undefined, { result }, now));
    } catch (error) {
      sendJson(res, 400, rpcEnvelope(undefined, { error: toWireError(error) }, now));
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  private instrumentOf(symbol: string): InstrumentState {
    const state = this.instruments.get(symbol);
    if (!state) throw new Error(`deribit has no instrument ${symbol}`);
    return state;
  }

  /** Runs `fn` every `ms` until the server closes; an exception costs that tick only. */
  private every(ms: number, fn: () => void): void {
    this.timers.push(every('deribit', ms, fn));
  }
}

type RequestId = number | string | null;

const HEARTBEAT_TEST_REQUEST = JSON.stringify({
  jsonrpc: '2.0',
  method: 'heartbeat',
  params: { type: 'test_request' },
});
const HEARTBEAT = JSON.stringify({ jsonrpc: '2.0', method: 'heartbeat', params: { type: 'heartbeat' } });

function notification(channel: string, data: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel, data } });
}

/** A response: the id (null when unreadable; omitted over REST), then the result or error, and Deribit's timing fields. */
function rpcEnvelope(id: RequestId | undefined, body: Record<string, unknown>, usInMs: number): unknown {
  const usIn = usInMs * 1000;
  const usOut = Date.now() * 1000;
  return {
    jsonrpc: '2.0',
    ...(id === undefined ? {} : { id }),
    ...body,
    usIn,
    usOut,
    usDiff: usOut - usIn,
    testnet: false,
  };
}

function toWireError(error: unknown): { code: number; message: string; data?: unknown } {
  if (error instanceof RpcError) {
    return error.data
      ? { code: error.code, message: error.message, data: error.data }
      : { code: error.code, message: error.message };
  }
  return { code: 11094, message: 'internal_server_error', data: { reason: String(error) } };
}

function tickerData(state: InstrumentState, now: number): Record<string, unknown> {
  const { market } = state;
  const top = market.top();
  const mark = market.markPrice(now);
  const markPrice = Number(mark.mark);
  const indexPrice = Number(mark.index);
  const funding8h = Number(mark.fundingRate);
  const lastPrice = state.lastTradePrice ?? markPrice;
  return {
    timestamp: now,
    instrument_name: market.symbol,
    state: 'open',
    best_bid_price: Number(top.bid[0]),
    best_bid_amount: Number(top.bid[1]),
    best_ask_price: Number(top.ask[0]),
    best_ask_amount: Number(top.ask[1]),
    last_price: lastPrice,
    mark_price: markPrice,
    index_price: indexPrice,
    settlement_price: indexPrice,
    estimated_delivery_price: indexPrice,
    min_price: Number((markPrice * 0.985).toFixed(market.spec.priceDecimals)),
    max_price: Number((markPrice * 1.015).toFixed(market.spec.priceDecimals)),
    open_interest: Number(market.openInterest()),
    // Deribit's current funding is the rate accrued so far in the period; funding_8h the 8-hour rate.
    current_funding: Number((funding8h * ((now % 28_800_000) / 28_800_000)).toFixed(10)),
    funding_8h: funding8h,
    interest_value: 0,
    stats: { volume_usd: null, volume: null, price_change: null, low: null, high: null },
  };
}

function channelsParam(params: Record<string, unknown>): string[] {
  const channels = params.channels;
  if (!Array.isArray(channels) || channels.length === 0 || channels.some((c) => typeof c !== 'string')) {
    throw invalidParams('channels', 'channels must be a non-empty array of channel names');
  }
  return channels as string[];
}

/** An integer parameter: a JSON number over WebSocket, a decimal string over REST. */
function intParam(params: Record<string, unknown>, name: string): number {
  const raw = params[name];
  const value = typeof raw === 'string' && /^-?[0-9]{1,16}$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidParams(name, `${name} must be a timestamp in milliseconds`);
  }
  return value;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON-RPC ids are numbers or strings; anything else is answered without one. */
function validId(id: unknown): RequestId {
  return typeof id === 'number' || typeof id === 'string' ? id : null;
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

export async function startDeribitServer(
  options: DeribitServerOptions,
): Promise<{ server: DeribitServer; port: number }> {
  const server = new DeribitServer(options);
  try {
    const port = await server.listen();
    return { server, port };
  } catch (error) {
    await server.close();
    throw error;
  }
}
