/**
 * The simulated OKX v5 public server: spot and swap instruments on one `node:http` server, as OKX
 * serves them (reference/exchanges.md B3). WebSocket `/ws/v5/public` with id'd subscribe/unsubscribe,
 * the `books` (400-level snapshot, then 100 ms updates chained by `prevSeqId`/`seqId`, keep-alives,
 * optional real checksums), `bbo-tbt`, `trades`, `funding-rate`, `open-interest` and
 * `liquidation-orders` channels, text `ping`/`pong`, the connection rules (3 connects/s, 480
 * subscribe/unsubscribe ops per connection per hour, 30 s without subscription or data), the REST
 * endpoints a collector uses, the `/__sim/*` control routes and the faults.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { crc32 } from 'node:zlib';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { DEFAULT_SHUTDOWN_GRACE_MS, RestRefusals, parseFault, type Fault } from './faults';
import { type AggregateFill, type Liquidation, type SimVenue, type SymbolMarket } from './market';
import {
  handleControlRequest,
  readBody,
  sendJson,
  type SimControl,
  type VenueServer,
  type VenueStats,
  listen,
  zeroCounters,
  every,
  Stall,
} from './venue-server';

export interface OkxServerOptions {
  host: string;
  port: number;
  /** Keyed by instrument name (BTC-USDT, BTC-USDT-SWAP). */
  markets: { 'okx-spot': Map<string, SymbolMarket>; 'okx-swap': Map<string, SymbolMarket> };
  control: SimControl;
  /** Overrides the 100 ms interval of the `books` channel (tests). */
  depthIntervalMs?: number;
  /**
   * Real CRC32 checksums in `books` (default false: the field is 0, as on OKX since 23 June 2026), so
   * a collector's verification can be tested on real data.
   */
  checksums?: boolean;
  /** Interval of `funding-rate` pushes (default 30 s; OKX: every 30–90 s). */
  fundingIntervalMs?: number;
  /** `open-interest` is pushed on change, at most this often (default 3 s). */
  openInterestIntervalMs?: number;
  /** Liquidations are pushed in batches this often (default 1 s). */
  liquidationIntervalMs?: number;
  /** A connection without subscription, or with nothing pushed, for this long is closed (default 30 s). */
  idleTimeoutMs?: number;
  /** A book without change for this long gets an empty keep-alive update (default 60 s). */
  keepaliveAfterMs?: number;
  /** New WebSocket connections per second before upgrades are refused with HTTP 429 (default 3). */
  connectsPerSec?: number;
  /** Subscribe/unsubscribe requests per connection per hour (default 480). */
  opsPerHour?: number;
}

type OkxVenue = 'okx-spot' | 'okx-swap';

const BOOK_LEVELS = 400;
const CHECKSUM_LEVELS = 25;
const MAX_ARGS_BYTES = 64 * 1024;
/** A larger backlog than this means the client stopped reading: drop it. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
const HOUR = 3_600_000;
const EIGHT_HOURS = 8 * HOUR;
const INST_TYPES = new Set(['SPOT', 'MARGIN', 'SWAP', 'FUTURES', 'OPTION']);
/** Channels and the venues whose instruments have them. */
const CHANNELS: Record<string, readonly OkxVenue[]> = {
  books: ['okx-spot', 'okx-swap'],
  'bbo-tbt': ['okx-spot', 'okx-swap'],
  trades: ['okx-spot', 'okx-swap'],
  'funding-rate': ['okx-swap'],
  'open-interest': ['okx-swap'],
};
const LIQUIDATIONS = 'liquidation-orders';

const NOTICE_64008 = 'The connection will soon be closed for a service upgrade. Please reconnect.';

/** What a connection knows of one instrument's `books` subscription, to chain its updates. */
interface BooksState {
  /** The snapshot's seqId until the first update after it is sent, else null. */
  fresh: number | null;
  /** The seqId of the last message sent (snapshot, update or keep-alive). */
  lastSeq: number;
}

class Connection {
  readonly connId = randomBytes(4).toString('hex');
  readonly openedAt = Date.now();
  /** Subscription keys (`books|BTC-USDT`, `liquidation-orders|SWAP`). */
  readonly subs = new Set<string>();
  readonly books = new Map<string, BooksState>();
  /** Times of subscribe/unsubscribe requests within the last hour. */
  readonly ops: number[] = [];
  lastSentAt = Date.now();
  /** Since when the connection has had no subscription (null while it has one). */
  noSubSince: number | null = Date.now();
  stalledUntil = 0;
  closing = false;

  constructor(readonly ws: WebSocket) {}

  stalled(now = Date.now()): boolean {
    return now < this.stalledUntil;
  }
}

/** A validated subscription argument. */
interface Arg {
  channel: string;
  instId?: string;
  instType?: string;
}

export class OkxServer implements VenueServer {
  private readonly counters = zeroCounters();
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true, autoPong: false, maxPayload: 1024 * 1024 });
  private readonly connections = new Set<Connection>();
  private readonly stall = new Stall(() => {
    for (const conn of this.connections) conn.ws.resume();
  });
  private readonly subscribers = new Map<string, Set<Connection>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly restRefusals = new RestRefusals();
  /** Pending refusals of WebSocket subscribe requests (the rate-limit fault). */
  private wsRefusals = 0;
  private readonly connectAttempts: number[] = [];
  /** Per instrument: when its `books` last had an update (or keep-alive) to push. */
  private readonly lastBookEventAt = new Map<string, number>();
  /** Per instrument: the open interest last pushed. */
  private readonly lastOpenInterest = new Map<string, string>();
  private readonly pendingLiquidations = new Map<string, Liquidation[]>();
  private readonly corruptChecksums = new Set<string>();
  private readonly idleTimeoutMs: number;
  private readonly keepaliveAfterMs: number;
  private readonly connectsPerSec: number;
  private readonly opsPerHour: number;
  private closed = false;

  constructor(private readonly options: OkxServerOptions) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.keepaliveAfterMs = options.keepaliveAfterMs ?? 60_000;
    this.connectsPerSec = options.connectsPerSec ?? 3;
    this.opsPerHour = options.opsPerHour ?? 480;
    // Whatever a client sends, the simulator answers or drops that one request: it never crashes.
    this.http = createServer((req, res) => {
      try {
        this.onRequest(req, res);
      } catch (error) {
        if (!res.headersSent) sendJson(res, 400, okxError('50000', `bad request: ${String(error)}`));
        else res.destroy();
      }
    });
    this.http.on('upgrade', (req, socket: Duplex, head: Buffer) => {
      try {
        this.onUpgrade(req, socket, head);
      } catch (error) {
        rejectUpgrade(socket, 400, okxError('60012', `Invalid request: ${String(error)}`));
      }
    });
    this.http.on('clientError', (_error, socket) => socket.destroy());

    const now = Date.now();
    for (const market of this.allMarkets()) {
      market.openDepthStream('books');
      this.lastBookEventAt.set(market.symbol, now);
      market.listener = {
        onFill: (fill) => this.publishFill(market, fill),
        onTop: () => this.publishTop(market),
        onLiquidation: (liquidation) => {
          const list = this.pendingLiquidations.get(market.symbol) ?? [];
          list.push(liquidation);
          this.pendingLiquidations.set(market.symbol, list);
        },
      };
    }
    this.every(options.depthIntervalMs ?? 100, () => this.pushBooks());
    this.every(options.fundingIntervalMs ?? 30_000, () => {
      for (const market of this.options.markets['okx-swap'].values()) this.publishFunding(market);
    });
    this.every(options.openInterestIntervalMs ?? 3_000, () => {
      for (const market of this.options.markets['okx-swap'].values()) this.publishOpenInterest(market, false);
    });
    this.every(options.liquidationIntervalMs ?? 1_000, () => this.flushLiquidations());
    this.every(Math.min(1_000, Math.max(10, this.idleTimeoutMs / 4)), () => this.closeIdle());
  }

  listen(): Promise<number> {
    return listen(this.http, this.options.host, this.options.port);
  }

  stats(): VenueStats {
    return { connections: this.connections.size, ...this.counters };
  }

  inject(fault: Fault): void {
    this.counters.faults += 1;
    const now = Date.now();
    switch (fault.type) {
      case 'gap':
        this.marketOf(fault.venue, fault.symbol).injectGap();
        break;
      case 'crossed':
        this.marketOf(fault.venue, fault.symbol).injectCrossed();
        break;
      case 'sequence-reset':
        this.marketOf(fault.venue, fault.symbol).resetSequence();
        break;
      case 'keepalive': {
        const market = this.marketOf(fault.venue, fault.symbol);
        this.lastBookEventAt.set(market.symbol, now);
        this.pushKeepalive(market, now);
        break;
      }
      case 'stall': {
        const until = this.stall.set(now, fault.ms);
        for (const conn of this.connections) {
          conn.stalledUntil = until;
          conn.ws.pause();
        }
        break;
      }
      case 'disconnect':
        for (const conn of this.connections) conn.ws.terminate();
        break;
      case 'server-shutdown': {
        const grace = fault.graceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
        for (const conn of this.connections) {
          if (conn.closing) continue;
          this.send(
            conn,
            JSON.stringify({ event: 'notice', code: '64008', msg: NOTICE_64008, connId: conn.connId }),
          );
          const timer = setTimeout(() => this.closeGracefully(conn, 'service upgrade', 1012), grace);
          conn.ws.once('close', () => clearTimeout(timer));
        }
        break;
      }
      case 'rate-limit':
        this.restRefusals.arm(fault);
        this.wsRefusals = fault.count;
        break;
      case 'malformed':
        for (const conn of this.connections) this.sendMalformed(conn, now);
        break;
    }
  }

  /** Test hook: the next `books` message of the instrument carries a wrong (non-zero) checksum. */
  corruptNextChecksum(instId: string): void {
    this.corruptChecksums.add(instId);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.stall.close();
    for (const conn of this.connections) conn.ws.terminate();
    this.wss.close();
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  // ---- markets -------------------------------------------------------------------------------

  private allMarkets(): SymbolMarket[] {
    return [...this.options.markets['okx-spot'].values(), ...this.options.markets['okx-swap'].values()];
  }

  private findMarket(instId: string): SymbolMarket | undefined {
    return this.options.markets['okx-spot'].get(instId) ?? this.options.markets['okx-swap'].get(instId);
  }

  private marketOf(venue: SimVenue, instId: string): SymbolMarket {
    const markets = (this.options.markets as Partial<Record<SimVenue, Map<string, SymbolMarket>>>)[venue];
    const market = markets?.get(instId);
    if (!market) throw new Error(`${venue} has no instrument ${instId}`);
    return market;
  }

  private venueOf(instId: string): OkxVenue | undefined {
    if (this.options.markets['okx-spot'].has(instId)) return 'okx-spot';
    if (this.options.markets['okx-swap'].has(instId)) return 'okx-swap';
    return undefined;
  }

  /** Runs `fn` every `ms` until the server closes; an exception costs that tick only. */
  private every(ms: number, fn: () => void): void {
    this.timers.push(every('okx', ms, fn));
  }

  // ---- channels ------------------------------------------------------------------------------

  private pushBooks(): void {
    const now = Date.now();
    for (const market of this.allMarkets()) {
      const instId = market.symbol;
      // Taken even without subscribers, so the pending diff never grows without bound.
      const diff = market.takeDepth('books');
      if (!diff) {
        if (now - this.lastBookEventAt.get(instId)! >= this.keepaliveAfterMs) {
          this.lastBookEventAt.set(instId, now);
          this.pushKeepalive(market, now);
        }
        continue;
      }
      this.lastBookEventAt.set(instId, now);
      const subs = this.subscribers.get(`books|${instId}`);
      if (!subs) continue;
      const data = {
        asks: diff.a.map(([p, s]) => okxLevel(p, s)),
        bids: diff.b.map(([p, s]) => okxLevel(p, s)),
        ts: String(now),
        checksum: this.checksumOf(market),
      };
      let shared: string | null = null;
      const bestBid = diff.b[0];
      const crossed = bestBid !== undefined && Number(bestBid[0]) >= Number(market.top().ask[0]);
      for (const conn of subs) {
        const state = conn.books.get(instId)!;
        if (state.fresh !== null) {
          const snapshotSeq = state.fresh;
          state.fresh = null;
          // Everything in this update predates the snapshot the connection just got: nothing to send,
          // unless it carries the crossed fault's bid, which is in no snapshot.
          if (diff.u === snapshotSeq && !crossed) continue;
          // The first update after a snapshot chains to the snapshot; its changes since the previous
          // update are absolute sizes, so those the snapshot already had are harmless.
          this.send(conn, booksMessage(instId, 'update', { ...data, prevSeqId: snapshotSeq, seqId: diff.u }));
        } else {
          shared ??= booksMessage(instId, 'update', { ...data, prevSeqId: diff.pu, seqId: diff.u });
          this.send(conn, shared);
        }
        state.lastSeq = diff.u;
      }
    }
  }

  /** An empty update with `seqId == prevSeqId`, as OKX sends after about 60 s without change. */
  private pushKeepalive(market: SymbolMarket, now: number): void {
    const subs = this.subscribers.get(`books|${market.symbol}`);
    if (!subs) return;
    const checksum = this.checksumOf(market);
    for (const conn of subs) {
      const seq = conn.books.get(market.symbol)!.lastSeq;
      this.send(
        conn,
        booksMessage(market.symbol, 'update', {
          asks: [],
          bids: [],
          ts: String(now),
          checksum,
          prevSeqId: seq,
          seqId: seq,
        }),
      );
    }
  }

  private sendSnapshot(conn: Connection, market: SymbolMarket): void {
    const snap = market.snapshot(BOOK_LEVELS);
    const seq = market.lastUpdateId;
    conn.books.set(market.symbol, { fresh: seq, lastSeq: seq });
    this.send(
      conn,
      booksMessage(market.symbol, 'snapshot', {
        asks: snap.asks.map(([p, s]) => okxLevel(p, s)),
        bids: snap.bids.map(([p, s]) => okxLevel(p, s)),
        ts: String(Date.now()),
        checksum: this.checksumOf(market),
        prevSeqId: -1,
        seqId: seq,
      }),
    );
  }

  /**
   * The legacy OKX checksum of the true book (which is the book after the update being sent): the
   * first 25 bids and asks interleaved as `bidPx:bidSz:askPx:askSz…`, CRC32, signed. 0 when disabled.
   */
  private checksumOf(market: SymbolMarket): number {
    if (!this.options.checksums) return 0;
    const snap = market.snapshot(CHECKSUM_LEVELS);
    const parts: string[] = [];
    for (let i = 0; i < CHECKSUM_LEVELS; i++) {
      const bid = snap.bids[i];
      const ask = snap.asks[i];
      if (bid) parts.push(bid[0], bid[1]);
      if (ask) parts.push(ask[0], ask[1]);
    }
    const checksum = crc32(parts.join(':')) | 0;
    if (this.corruptChecksums.delete(market.symbol)) return checksum === 1 ? 2 : 1;
    return checksum;
  }

  private publishTop(market: SymbolMarket): void {
    const key = `bbo-tbt|${market.symbol}`;
    if (!this.subscribers.has(key)) return;
    const top = market.top();
    this.publish(
      key,
      JSON.stringify({
        arg: { channel: 'bbo-tbt', instId: market.symbol },
        data: [
          {
            asks: [okxLevel(top.ask[0], top.ask[1])],
            bids: [okxLevel(top.bid[0], top.bid[1])],
            ts: String(Date.now()),
            seqId: top.updateId,
          },
        ],
      }),
    );
  }

  /** One message per taker order at one price: `tradeId` is its last trade id, `count` its fills. */
  private publishFill(market: SymbolMarket, fill: AggregateFill): void {
    const key = `trades|${market.symbol}`;
    if (!this.subscribers.has(key)) return;
    this.publish(
      key,
      JSON.stringify({
        arg: { channel: 'trades', instId: market.symbol },
        data: [
          {
            instId: market.symbol,
            tradeId: String(fill.lastTradeId),
            px: fill.price,
            sz: fill.size,
            side: fill.side,
            ts: String(fill.time),
            count: String(fill.trades.length),
            source: '0',
            seqId: market.lastUpdateId,
          },
        ],
      }),
    );
  }

  private publishFunding(market: SymbolMarket, only?: Connection): void {
    const key = `funding-rate|${market.symbol}`;
    if (!only && !this.subscribers.has(key)) return;
    const now = Date.now();
    const mark = market.markPrice(now);
    // OKX: `fundingTime` is the upcoming settlement, `nextFundingTime` the one after it.
    const fundingTime = mark.nextFundingTime;
    const rate = Number(mark.fundingRate);
    const text = JSON.stringify({
      arg: { channel: 'funding-rate', instId: market.symbol },
      data: [
        {
          instType: 'SWAP',
          instId: market.symbol,
          method: 'current_period',
          formulaType: 'withRate',
          fundingRate: trimZeros(mark.fundingRate),
          fundingTime: String(fundingTime),
          nextFundingTime: String(fundingTime + EIGHT_HOURS),
          minFundingRate: '-0.00375',
          maxFundingRate: '0.00375',
          interestRate: '0.0001',
          impactValue: '20000',
          settState: 'settled',
          settFundingRate: trimZeros((rate * 0.9).toFixed(8)),
          premium: trimZeros((rate - 0.0001).toFixed(8)),
          ts: String(now),
        },
      ],
    });
    if (only) this.send(only, text);
    else this.publish(key, text);
  }

  /** Pushed when it changed since the last push (or to one new subscriber, `only`). */
  private publishOpenInterest(market: SymbolMarket, force: boolean, only?: Connection): void {
    const key = `open-interest|${market.symbol}`;
    if (!only && !this.subscribers.has(key)) return;
    const oi = market.openInterest();
    if (!force && this.lastOpenInterest.get(market.symbol) === oi) return;
    if (!only) this.lastOpenInterest.set(market.symbol, oi);
    const text = JSON.stringify({
      arg: { channel: 'open-interest', instId: market.symbol },
      data: [{ ...openInterestRow(market), ts: String(Date.now()) }],
    });
    if (only) this.send(only, text);
    else this.publish(key, text);
  }

  /**
   * The liquidations since the last push, grouped per instrument, newest first: OKX says its updates
   * are not necessarily chronological, and the channel carries every swap (clients filter).
   */
  private flushLiquidations(): void {
    if (this.pendingLiquidations.size === 0) return;
    const data = [...this.pendingLiquidations].map(([instId, list]) => {
      const market = this.options.markets['okx-swap'].get(instId)!;
      const family = `${market.spec.baseAsset}-${market.spec.quoteAsset}`;
      return {
        instType: 'SWAP',
        instId,
        uly: family,
        instFamily: family,
        details: list
          .slice()
          .reverse()
          .map((l) => ({
            side: l.side === 'SELL' ? 'sell' : 'buy',
            // A sell order closes a long.
            posSide: l.side === 'SELL' ? 'long' : 'short',
            bkPx: l.price,
            sz: l.quantity,
            bkLoss: '0',
            ccy: '',
            ts: String(l.time),
          })),
      };
    });
    this.pendingLiquidations.clear();
    this.publish(
      `${LIQUIDATIONS}|SWAP`,
      JSON.stringify({ arg: { channel: LIQUIDATIONS, instType: 'SWAP' }, data }),
    );
  }

  private publish(key: string, text: string): void {
    const subs = this.subscribers.get(key);
    if (!subs) return;
    for (const conn of subs) this.send(conn, text);
  }

  // ---- WebSocket -----------------------------------------------------------------------------

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws/v5/public') {
      rejectUpgrade(socket, 404, okxError('60012', `no WebSocket endpoint at ${url.pathname}`));
      return;
    }
    // OKX allows 3 connection requests per second per IP; every request counts, refused ones too.
    const now = Date.now();
    while (this.connectAttempts.length > 0 && this.connectAttempts[0]! <= now - 1_000)
      this.connectAttempts.shift();
    this.connectAttempts.push(now);
    if (this.connectAttempts.length > this.connectsPerSec) {
      this.counters.closedForRate += 1;
      rejectUpgrade(socket, 429, okxError('60014', 'Requests too frequent.'), { 'Retry-After': '1' });
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
  }

  private onConnection(ws: WebSocket): void {
    if (this.closed) {
      ws.terminate();
      return;
    }
    const conn = new Connection(ws);
    if (this.stall.active(conn.openedAt)) {
      // The feed is still dead: silent, and reading nothing, from the start.
      conn.stalledUntil = this.stall.until;
      ws.pause();
    }
    this.connections.add(conn);
    this.counters.connectionsOpened += 1;
    ws.on('message', (data, isBinary) => {
      if (conn.closing || conn.stalled()) return; // a dead server does not answer
      this.onClientMessage(conn, isBinary ? '' : rawText(data));
    });
    ws.on('ping', (payload) => {
      if (!conn.closing && !conn.stalled()) ws.pong(payload);
    });
    ws.on('error', () => undefined); // a broken client socket is its own problem; 'close' follows
    ws.on('close', () => {
      this.connections.delete(conn);
      for (const key of conn.subs) this.subscribers.get(key)?.delete(conn);
    });
  }

  private onClientMessage(conn: Connection, text: string): void {
    if (text === 'ping') {
      this.send(conn, 'pong');
      return;
    }
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch {
      this.sendError(conn, undefined, '60012', `Invalid request: ${text.slice(0, 100)}`);
      return;
    }
    if (!request || typeof request !== 'object' || Array.isArray(request)) {
      this.sendError(conn, undefined, '60012', `Invalid request: ${text.slice(0, 100)}`);
      return;
    }
    const { id, op, args } = request as { id?: unknown; op?: unknown; args?: unknown };
    if (id !== undefined && (typeof id !== 'string' || !/^[A-Za-z0-9]{1,32}$/.test(id))) {
      this.sendError(conn, undefined, '60012', 'Invalid request: id must be up to 32 alphanumerics');
      return;
    }
    const rid = id as string | undefined;
    if (op !== 'subscribe' && op !== 'unsubscribe') {
      this.sendError(conn, rid, '60012', `Invalid request: ${text.slice(0, 100)}`);
      return;
    }
    if (!Array.isArray(args) || args.length === 0) {
      this.sendError(conn, rid, '60012', 'Invalid request: args must be a non-empty array');
      return;
    }
    if (Buffer.byteLength(JSON.stringify(args)) > MAX_ARGS_BYTES) {
      this.sendError(conn, rid, '60012', 'Invalid request: the total length of args exceeds 64 KB');
      return;
    }
    // 480 subscribe/unsubscribe requests per connection per hour; past that OKX answers 60014
    // ("Requests too frequent"). A refused request does not count.
    const now = Date.now();
    while (conn.ops.length > 0 && conn.ops[0]! <= now - HOUR) conn.ops.shift();
    if (conn.ops.length >= this.opsPerHour) {
      this.sendError(conn, rid, '60014', 'Requests too frequent.');
      return;
    }
    if (op === 'subscribe' && this.wsRefusals > 0) {
      this.wsRefusals -= 1;
      this.sendError(conn, rid, '60014', 'Requests too frequent.');
      return;
    }
    conn.ops.push(now);
    for (const raw of args) {
      const arg = this.checkArg(raw);
      if (typeof arg === 'string') {
        this.sendError(conn, rid, '60018', arg);
        continue;
      }
      const key = `${arg.channel}|${arg.instId ?? arg.instType}`;
      const echo = { ...arg };
      if (op === 'subscribe') {
        this.subscribe(conn, key);
        this.send(
          conn,
          JSON.stringify({
            ...(rid === undefined ? {} : { id: rid }),
            event: 'subscribe',
            arg: echo,
            connId: conn.connId,
          }),
        );
        this.afterSubscribe(conn, arg);
      } else {
        this.unsubscribe(conn, key);
        if (arg.channel === 'books') conn.books.delete(arg.instId!);
        this.send(
          conn,
          JSON.stringify({
            ...(rid === undefined ? {} : { id: rid }),
            event: 'unsubscribe',
            arg: echo,
            connId: conn.connId,
          }),
        );
      }
    }
  }

  /** The argument, or the error text when it names no channel or instrument this server has. */
  private checkArg(raw: unknown): Arg | string {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw))
      return 'Invalid request: each arg must be an object';
    const { channel, instId, instType } = raw as Record<string, unknown>;
    if (typeof channel !== 'string') return 'Invalid request: arg without channel';
    if (channel === LIQUIDATIONS) {
      if (typeof instType !== 'string' || !INST_TYPES.has(instType)) {
        return `Wrong URL or channel:${channel},instType:${String(instType)} doesn't exist.`;
      }
      return { channel, instType };
    }
    const venues = CHANNELS[channel];
    const venue = typeof instId === 'string' ? this.venueOf(instId) : undefined;
    if (!venues || venue === undefined || !venues.includes(venue)) {
      return `Wrong URL or channel:${channel},instId:${String(instId)} doesn't exist.`;
    }
    return { channel, instId: instId as string };
  }

  /** What a new subscription gets at once: the book snapshot, the current funding and open interest. */
  private afterSubscribe(conn: Connection, arg: Arg): void {
    const market = arg.instId === undefined ? undefined : this.findMarket(arg.instId);
    if (!market) return;
    if (arg.channel === 'books') this.sendSnapshot(conn, market);
    else if (arg.channel === 'funding-rate') this.publishFunding(market, conn);
    else if (arg.channel === 'open-interest') this.publishOpenInterest(market, true, conn);
  }

  private subscribe(conn: Connection, key: string): void {
    conn.subs.add(key);
    conn.noSubSince = null;
    let set = this.subscribers.get(key);
    if (!set) this.subscribers.set(key, (set = new Set()));
    set.add(conn);
  }

  private unsubscribe(conn: Connection, key: string): void {
    conn.subs.delete(key);
    if (conn.subs.size === 0) conn.noSubSince = Date.now();
    const set = this.subscribers.get(key);
    set?.delete(conn);
    if (set?.size === 0) this.subscribers.delete(key);
  }

  private sendError(conn: Connection, id: string | undefined, code: string, msg: string): void {
    this.send(
      conn,
      JSON.stringify({ ...(id === undefined ? {} : { id }), event: 'error', code, msg, connId: conn.connId }),
    );
  }

  private send(conn: Connection, text: string): void {
    const ws = conn.ws;
    const now = Date.now();
    if (ws.readyState !== WebSocket.OPEN || conn.closing || conn.stalled(now)) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.counters.closedForBackpressure += 1;
      ws.terminate();
      return;
    }
    ws.send(text);
    conn.lastSentAt = now;
    this.counters.messagesSent += 1;
  }

  /** Closes with a close frame, and cuts the socket if the client does not finish the handshake. */
  private closeGracefully(conn: Connection, reason: string, code: number): void {
    if (conn.closing) return;
    conn.closing = true;
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.close(code, reason);
    setTimeout(() => conn.ws.terminate(), 2_000).unref();
  }

  /**
   * OKX: "The connection will break automatically if the subscription is not established or data has
   * not been pushed for more than 30 seconds." A pong counts as pushed data, so a client that pings a
   * quiet subscription keeps it. Counted as `closedForPong`, the nearest of the shared statistics.
   */
  private closeIdle(): void {
    const now = Date.now();
    for (const conn of this.connections) {
      if (conn.closing || conn.stalled(now)) continue;
      // The silence of a stall is ours: it does not count against the client.
      const quietSince = Math.max(conn.lastSentAt, conn.stalledUntil);
      const noSub = conn.noSubSince === null ? null : Math.max(conn.noSubSince, conn.stalledUntil);
      if (now - quietSince >= this.idleTimeoutMs || (noSub !== null && now - noSub >= this.idleTimeoutMs)) {
        this.counters.closedForPong += 1;
        this.closeGracefully(conn, 'No data pushed or no subscription for 30 seconds', 4004);
      }
    }
  }

  /** Invalid JSON, a message of an unknown channel, and a `books` update without its fields. */
  private sendMalformed(conn: Connection, now: number): void {
    const books = [...conn.books.keys()][0];
    const instId = books ?? [...this.options.markets['okx-spot'].keys()][0] ?? 'BTC-USDT';
    const messages = [
      `{"arg":{"channel":"books","instId":"${instId}"},"action":"update","data":[{"asks":[["1`,
      JSON.stringify({ arg: { channel: 'mystery-channel', instId }, data: [{ x: 42, ts: String(now) }] }),
      JSON.stringify({ arg: { channel: 'books', instId }, action: 'update', data: [{ ts: String(now) }] }),
    ];
    // Spread out, so that normal traffic flows between the bad messages.
    messages.forEach((message, i) => {
      const timer = setTimeout(() => this.send(conn, message), i * 40);
      timer.unref();
    });
  }

  // ---- REST ----------------------------------------------------------------------------------

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith('/__sim/')) {
      void this.onControl(req, res, url);
      return;
    }
    const now = Date.now();
    this.counters.restRequests += 1;
    const refusal = this.restRefusals.take(now);
    if (refusal) {
      this.counters.restRefused += 1;
      sendJson(
        res,
        refusal.status,
        { code: '50011', msg: 'Too Many Requests', data: [] },
        {
          'Retry-After': String(refusal.retryAfterSec),
        },
      );
      return;
    }
    const route = this.routes[url.pathname];
    if (!route) {
      sendJson(res, 404, okxError('50000', `no endpoint at ${url.pathname}`));
      return;
    }
    if (req.method !== 'GET') {
      sendJson(res, 405, okxError('50000', `${req.method} is not allowed on ${url.pathname}`));
      return;
    }
    try {
      sendJson(res, 200, { code: '0', msg: '', data: route(url.searchParams, now) });
    } catch (error) {
      if (error instanceof OkxRestError) sendJson(res, error.status, okxError(error.code, error.message));
      else sendJson(res, 500, okxError('50000', `internal error: ${String(error)}`));
    }
  }

  /**
   * The shared control routes. OKX serves two venues here, so the instrument decides which one a
   * request means (a fault's `symbol`, or `?symbol=`); without one it is okx-spot.
   */
  private async onControl(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method === 'POST' && url.pathname === '/__sim/fault') {
      let body: unknown;
      try {
        body = JSON.parse(await readBody(req));
      } catch (error) {
        sendJson(res, 400, { error: `the body must be a JSON fault: ${String(error)}` });
        return;
      }
      const symbol = (body as { symbol?: unknown } | null)?.symbol;
      const venue = (typeof symbol === 'string' && this.venueOf(symbol)) || 'okx-spot';
      const parsed = parseFault(body, venue);
      if (!parsed.ok) {
        sendJson(res, 400, { error: parsed.error });
        return;
      }
      try {
        this.options.control.inject(parsed.fault);
      } catch (error) {
        sendJson(res, 400, { error: error instanceof Error ? error.message : String(error) });
        return;
      }
      sendJson(res, 200, { ok: true, fault: parsed.fault });
      return;
    }
    const symbol = url.searchParams.get('symbol');
    const venue = (symbol && this.venueOf(symbol)) || 'okx-spot';
    await handleControlRequest(req, res, url, this.options.control, venue, this.options.markets[venue]);
  }

  private readonly routes: Record<string, (query: URLSearchParams, now: number) => unknown[]> = {
    '/api/v5/public/time': (_query, now) => [{ ts: String(now) }],
    '/api/v5/public/instruments': (query) => {
      const markets = this.marketsOfType(query.get('instType'));
      const instId = query.get('instId');
      if (instId !== null && !markets.has(instId))
        throw new OkxRestError(400, '51001', "Instrument ID doesn't exist.");
      return [...markets.values()].filter((m) => instId === null || m.symbol === instId).map(instrumentRow);
    },
    '/api/v5/public/open-interest': (query, now) => {
      const markets = this.marketsOfType(query.get('instType'));
      if (query.get('instType') !== 'SWAP') return [];
      const instId = query.get('instId');
      if (instId !== null && !markets.has(instId))
        throw new OkxRestError(400, '51001', "Instrument ID doesn't exist.");
      return [...markets.values()]
        .filter((m) => instId === null || m.symbol === instId)
        .map((m) => ({ ...openInterestRow(m), ts: String(now) }));
    },
    '/api/v5/rubik/stat/contracts/long-short-account-ratio-contract': (query, now) => {
      const instId = query.get('instId');
      if (!instId) throw new OkxRestError(400, '50014', 'Parameter instId can not be empty.');
      const market = this.options.markets['okx-swap'].get(instId);
      if (!market) throw new OkxRestError(400, '51001', "Instrument ID doesn't exist.");
      const period = query.get('period') ?? '5m';
      const step = LSR_PERIODS[period];
      if (step === undefined) throw new OkxRestError(400, '51000', 'Parameter period error');
      const limit = intParam(query, 'limit') ?? 100;
      if (limit < 1 || limit > 100) throw new OkxRestError(400, '51000', 'Parameter limit error');
      const end = intParam(query, 'end') ?? now;
      const begin = intParam(query, 'begin') ?? 0;
      // Newest first, one row per completed period.
      const rows: [string, string][] = [];
      for (
        let t = Math.floor(Math.min(end, now) / step) * step;
        t >= begin && rows.length < limit;
        t -= step
      ) {
        rows.push([String(t), market.longShortAt(t).longShortRatio]);
      }
      return rows;
    },
  };

  private marketsOfType(instType: string | null): Map<string, SymbolMarket> {
    if (instType === null || instType === '')
      throw new OkxRestError(400, '50014', 'Parameter instType can not be empty.');
    if (instType === 'SPOT') return this.options.markets['okx-spot'];
    if (instType === 'SWAP') return this.options.markets['okx-swap'];
    if (INST_TYPES.has(instType)) return new Map();
    throw new OkxRestError(400, '51000', 'Parameter instType error');
  }
}

export async function startOkxServer(
  options: OkxServerOptions,
): Promise<{ server: OkxServer; port: number }> {
  const server = new OkxServer(options);
  try {
    const port = await server.listen();
    return { server, port };
  } catch (error) {
    await server.close();
    throw error;
  }
}

// ---- helpers ---------------------------------------------------------------------------------

const LSR_PERIODS: Record<string, number> = { '5m': 300_000, '1H': HOUR, '1D': 24 * HOUR };

class OkxRestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function okxError(code: string, msg: string): { code: string; msg: string; data: [] } {
  return { code, msg, data: [] };
}

function intParam(query: URLSearchParams, name: string): number | null {
  const raw = query.get(name);
  if (raw === null || raw === '') return null;
  if (!/^[0-9]{1,16}$/.test(raw)) throw new OkxRestError(400, '51000', `Parameter ${name} error`);
  return Number(raw);
}

/** A book level as OKX sends it: price, size, the deprecated "0", and the number of orders. */
function okxLevel(price: string, size: string): [string, string, string, string] {
  if (Number(size) === 0) return [price, size, '0', '0'];
  // A made-up but stable order count.
  let h = 0;
  for (let i = 0; i < price.length; i++) h = (h * 31 + price.charCodeAt(i)) % 9973;
  return [price, size, '0', String(1 + (h % 9))];
}

function booksMessage(instId: string, action: 'snapshot' | 'update', data: Record<string, unknown>): string {
  return JSON.stringify({ arg: { channel: 'books', instId }, action, data: [data] });
}

/** `0.00010000` → `0.0001`. */
function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

/** A positive decimal as a plain string (no exponent), e.g. 0.01 → "0.01". */
function plainDecimal(value: number): string {
  return trimZeros(value.toFixed(12));
}

/** `contracts × ctVal` exactly, from the wire string of the contracts. */
function contractsTimesValue(contracts: string, ctVal: number): string {
  const cv = plainDecimal(ctVal);
  const [ci, cf = ''] = contracts.split('.');
  const [vi, vf = ''] = cv.split('.');
  const product = BigInt(`${ci}${cf}`) * BigInt(`${vi}${vf}`);
  const decimals = cf.length + vf.length;
  return trimZeros(bigFixed(product, decimals));
}

function bigFixed(units: bigint, decimals: number): string {
  const digits = units.toString().padStart(decimals + 1, '0');
  return decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}

function openInterestRow(market: SymbolMarket): Record<string, string> {
  const oi = market.openInterest();
  const oiCcy = contractsTimesValue(oi, market.spec.contractValue);
  const top = market.top();
  const mid = (Number(top.bid[0]) + Number(top.ask[0])) / 2;
  return { instType: 'SWAP', instId: market.symbol, oi, oiCcy, oiUsd: (Number(oiCcy) * mid).toFixed(2) };
}

function instrumentRow(m: SymbolMarket): Record<string, string> {
  const swap = m.spec.sizeUnit === 'contracts';
  const family = `${m.spec.baseAsset}-${m.spec.quoteAsset}`;
  return {
    instType: swap ? 'SWAP' : 'SPOT',
    instId: m.symbol,
    uly: swap ? family : '',
    instFamily: swap ? family : '',
    baseCcy: swap ? '' : m.spec.baseAsset,
    quoteCcy: swap ? '' : m.spec.quoteAsset,
    settleCcy: swap ? m.spec.quoteAsset : '',
    ctVal: swap ? plainDecimal(m.spec.contractValue) : '',
    ctMult: swap ? '1' : '',
    ctValCcy: swap ? m.spec.baseAsset : '',
    ctType: swap ? 'linear' : '',
    tickSz: m.price(1),
    lotSz: m.size(1),
    minSz: m.size(1),
    state: 'live',
  };
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function rejectUpgrade(
  socket: Duplex,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  socket.on('error', () => undefined); // the client may already be gone
  const text = JSON.stringify(body);
  const reason = status === 404 ? 'Not Found' : status === 429 ? 'Too Many Requests' : 'Bad Request';
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n${extra}Connection: close\r\n\r\n${text}`,
  );
}
