/**
 * The Binance server machinery shared by both simulated venues (one `node:http` server per venue that
 * answers REST and upgrades WebSockets: raw `/ws`, combined `/stream`, live SUBSCRIBE, server pings,
 * the inbound message limit, the stream and lifetime limits, and the WebSocket faults), followed by
 * the Binance spot venue itself: its streams and its REST endpoints.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { DEFAULT_SHUTDOWN_GRACE_MS, RestRefusals, malformedMessages, type Fault } from './faults';
import type { AggregateFill, DepthDiff, SimVenue, SymbolMarket } from './market';
import {
  handleControlRequest,
  sendJson,
  unsupportedFault,
  type ConnectionLimits,
  type SimControl,
  type VenueServer,
  type VenueStats,
  listen,
  zeroCounters,
  Stall,
} from './venue-server';

export type { ConnectionLimits, SimControl, VenueStats } from './venue-server';

// ---- shared machinery ------------------------------------------------------------------------

const BINANCE_FAULTS = [
  'gap',
  'stall',
  'disconnect',
  'server-shutdown',
  'rate-limit',
  'malformed',
  'crossed',
];

/** A parsed stream name: `btcusdt@depth@100ms` → symbol BTCUSDT, kind `depth@100ms`. */
export interface StreamRef {
  symbol: string;
  kind: string;
}

export interface RestReply {
  status?: number;
  body: unknown;
  weight?: number;
}

export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface BinanceServerOptions {
  venue: SimVenue;
  host: string;
  port: number;
  markets: Map<string, SymbolMarket>;
  limits: ConnectionLimits;
  control: SimControl;
  /** WebSocket path prefixes, each with the stream kinds it serves (spot: the root serves everything). */
  areas: Record<string, { kinds: ReadonlySet<string>; wrongPath: (kind: string) => string }>;
  /** REST routes by path. */
  routes: Record<string, (query: URLSearchParams, now: number) => RestReply>;
}

/** A larger backlog than this means the client stopped reading: drop it, as the exchange does. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
const METHODS = '`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`';

class Connection {
  readonly streams = new Set<string>();
  readonly openedAt = Date.now();
  /** Ping payloads sent and not yet answered, with when they were sent. */
  readonly pings = new Map<string, number>();
  readonly inbound: number[] = [];
  nextPingAt: number;
  stalledUntil = 0;
  closing = false;

  constructor(
    readonly ws: WebSocket,
    readonly area: string,
    public combined: boolean,
    pingIntervalMs: number,
  ) {
    this.nextPingAt = this.openedAt + pingIntervalMs;
  }

  stalled(now = Date.now()): boolean {
    return now < this.stalledUntil;
  }
}

type RequestId = number | string | null;

export class BinanceServer implements VenueServer {
  readonly venue: SimVenue;
  readonly markets: Map<string, SymbolMarket>;
  readonly counters = zeroCounters();

  private readonly options: BinanceServerOptions;
  private readonly limits: ConnectionLimits;
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true, autoPong: false, maxPayload: 64 * 1024 });
  private readonly connections = new Set<Connection>();
  private readonly subscribers = new Map<string, Set<Connection>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly refusals = new RestRefusals();
  private readonly stall = new Stall(() => {
    for (const conn of this.connections) conn.ws.resume();
  });
  private weightMinute = 0;
  private weightUsed = 0;
  private closed = false;

  constructor(options: BinanceServerOptions) {
    this.options = options;
    this.venue = options.venue;
    this.markets = options.markets;
    this.limits = options.limits;
    // Whatever a client sends, the simulator answers or drops that one request: it never crashes.
    this.http = createServer((req, res) => {
      try {
        this.onRequest(req, res);
      } catch (error) {
        if (!res.headersSent) sendJson(res, 400, { code: -1, msg: `bad request: ${String(error)}` });
        else res.destroy();
      }
    });
    this.http.on('upgrade', (req, socket: Duplex, head: Buffer) => {
      try {
        this.onUpgrade(req, socket, head);
      } catch (error) {
        rejectUpgrade(socket, 400, { code: 2, msg: `Invalid request: ${String(error)}` });
      }
    });
    this.http.on('clientError', (_error, socket) => socket.destroy());
    const { pingIntervalMs, pongTimeoutMs, maxConnectionMs } = this.limits;
    const tick = Math.min(1000, Math.max(10, Math.min(pingIntervalMs, pongTimeoutMs, maxConnectionMs) / 4));
    this.every(tick, () => this.housekeeping());
  }

  listen(): Promise<number> {
    return listen(this.http, this.options.host, this.options.port);
  }

  /** Runs `fn` every `ms` until the server closes; an exception costs that tick only. */
  every(ms: number, fn: () => void): void {
    const timer = setInterval(() => {
      try {
        fn();
      } catch (error) {
        console.error(`simulator ${this.venue}: timer failed: ${String(error)}`);
      }
    }, ms);
    this.timers.push(timer);
  }

  hasSubscribers(stream: string): boolean {
    return (this.subscribers.get(stream)?.size ?? 0) > 0;
  }

  /** Sends a payload (already JSON) to every connection subscribed to `stream`. */
  publish(stream: string, data: string): void {
    const subscribers = this.subscribers.get(stream);
    if (!subscribers) return;
    const now = Date.now();
    let wrapped: string | null = null;
    for (const conn of subscribers) {
      if (conn.combined) {
        wrapped ??= `{"stream":"${stream}","data":${data}}`;
        this.send(conn, wrapped, now);
      } else {
        this.send(conn, data, now);
      }
    }
  }

  stats(): VenueStats {
    return { connections: this.connections.size, ...this.counters };
  }

  /** Applies a fault of this venue. */
  inject(fault: Fault): void {
    this.counters.faults += 1;
    const now = Date.now();
    switch (fault.type) {
      case 'gap':
        this.marketOf(fault.symbol).injectGap();
        break;
      case 'crossed':
        this.marketOf(fault.symbol).injectCrossed();
        break;
      case 'stall': {
        const until = this.stall.set(now, fault.ms);
        for (const conn of this.connections) this.silence(conn, until);
        break;
      }
      case 'disconnect':
        for (const conn of this.connections) conn.ws.terminate();
        break;
      case 'server-shutdown': {
        const event = JSON.stringify({ e: 'serverShutdown', E: now });
        const grace = fault.graceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
        for (const conn of this.connections) {
          this.send(conn, conn.combined ? `{"stream":"!serverShutdown","data":${event}}` : event, now);
          const timer = setTimeout(() => this.closeGracefully(conn, 'server shutdown'), grace);
          conn.ws.once('close', () => clearTimeout(timer));
        }
        break;
      }
      case 'rate-limit':
        this.refusals.arm(fault);
        break;
      case 'malformed':
        for (const conn of this.connections) this.sendMalformed(conn, now);
        break;
      case 'keepalive':
      case 'sequence-reset':
        throw unsupportedFault(this.venue, fault, BINANCE_FAULTS);
    }
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

  marketOf(symbol: string): SymbolMarket {
    const market = this.markets.get(symbol);
    if (!market) throw new Error(`${this.venue} has no symbol ${symbol}`);
    return market;
  }

  // ---- WebSocket ---------------------------------------------------------------------------

  /** A stream name of this venue, or the reason it is not one. */
  private parseStream(name: string): StreamRef | string {
    if (typeof name !== 'string') return 'stream names must be strings';
    const at = name.indexOf('@');
    if (at <= 0) return `invalid stream name ${JSON.stringify(name)}`;
    const lower = name.slice(0, at);
    const kind = name.slice(at + 1);
    const symbol = lower.toUpperCase();
    // Stream names carry lower-case symbols; the payloads carry upper-case ones.
    if (lower !== symbol.toLowerCase() || lower === symbol || !this.markets.has(symbol)) {
      return `invalid stream name ${JSON.stringify(name)}: unknown symbol (use lower case, e.g. btcusdt)`;
    }
    const known = Object.values(this.options.areas).some((area) => area.kinds.has(kind));
    if (!known) return `invalid stream name ${JSON.stringify(name)}: unknown stream type ${kind}`;
    return { symbol, kind };
  }

  /** Checks streams for a connection on `area`; returns the error, or null when all are fine. */
  private checkStreams(area: string, names: unknown[]): string | null {
    for (const name of names) {
      const ref = this.parseStream(name as string);
      if (typeof ref === 'string') return ref;
      const served = this.options.areas[area]!;
      if (!served.kinds.has(ref.kind)) return served.wrongPath(ref.kind);
    }
    return null;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let area: string | null = null;
    let rest = '';
    for (const prefix of Object.keys(this.options.areas)) {
      if (url.pathname === `${prefix}/ws` || url.pathname.startsWith(`${prefix}/ws/`)) {
        area = prefix;
        rest = url.pathname.slice(prefix.length);
        break;
      }
      if (url.pathname === `${prefix}/stream` || url.pathname === `${prefix}/stream/`) {
        area = prefix;
        rest = '/stream';
        break;
      }
    }
    if (area === null) {
      rejectUpgrade(socket, 404, { code: -1, msg: `no WebSocket endpoint at ${url.pathname}` });
      return;
    }
    const combined = rest === '/stream';
    const names = combined
      ? (url.searchParams.get('streams') ?? '').split('/').filter((s) => s.length > 0)
      : rest
          .slice('/ws'.length)
          .split('/')
          .filter((s) => s.length > 0)
          .map((s) => decodeURIComponent(s));
    if (names.length > this.limits.maxStreams) {
      rejectUpgrade(socket, 400, {
        code: 2,
        msg: `Invalid request: at most ${this.limits.maxStreams} streams per connection`,
      });
      return;
    }
    const problem = this.checkStreams(area, names);
    if (problem) {
      rejectUpgrade(socket, 400, { code: 2, msg: `Invalid request: ${problem}` });
      return;
    }
    const chosenArea = area;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, chosenArea, combined, names));
  }

  private onConnection(ws: WebSocket, area: string, combined: boolean, names: string[]): void {
    if (this.closed) {
      ws.terminate();
      return;
    }
    const conn = new Connection(ws, area, combined, this.limits.pingIntervalMs);
    if (this.stall.active(conn.openedAt)) this.silence(conn, this.stall.until); // the feed is still dead
    this.connections.add(conn);
    this.counters.connectionsOpened += 1;
    for (const name of names) this.subscribe(conn, name);

    ws.on('message', (data, isBinary) => {
      if (!this.countInbound(conn)) return;
      if (conn.stalled()) return; // a dead server does not answer
      this.onControlMessage(conn, data, isBinary);
    });
    ws.on('ping', (payload) => {
      if (!this.countInbound(conn) || conn.stalled()) return;
      ws.pong(payload);
    });
    ws.on('pong', (payload) => {
      if (!this.countInbound(conn)) return;
      // Only a pong carrying a ping's payload answers it; unsolicited pongs do not keep a socket alive.
      const key = payload.toString();
      const sentAt = conn.pings.get(key);
      if (sentAt === undefined) return;
      for (const [k, at] of conn.pings) if (at <= sentAt) conn.pings.delete(k);
    });
    ws.on('error', () => undefined); // a broken client socket is its own problem; 'close' follows
    ws.on('close', () => {
      this.connections.delete(conn);
      for (const name of conn.streams) this.unsubscribe(conn, name);
    });
  }

  /** Silences a connection until `until`, reading nothing from it meanwhile (the stall fault). */
  private silence(conn: Connection, until: number): void {
    conn.stalledUntil = until;
    conn.ws.pause();
    // The silence is ours: pings sent before it must not count against the client afterwards.
    conn.pings.clear();
    conn.nextPingAt = Math.max(conn.openedAt, until) + this.limits.pingIntervalMs;
  }

  /** Counts an inbound message; over the limit, the connection is closed and false returned. */
  private countInbound(conn: Connection): boolean {
    if (conn.closing) return false;
    const now = Date.now();
    conn.inbound.push(now);
    while (conn.inbound.length > 0 && conn.inbound[0]! <= now - 1000) conn.inbound.shift();
    if (conn.inbound.length <= this.limits.inboundPerSec) return true;
    this.counters.closedForRate += 1;
    this.closeGracefully(conn, 'Too many requests', 1008);
    return false;
  }

  private subscribe(conn: Connection, name: string): void {
    conn.streams.add(name);
    let set = this.subscribers.get(name);
    if (!set) this.subscribers.set(name, (set = new Set()));
    set.add(conn);
  }

  private unsubscribe(conn: Connection, name: string): void {
    conn.streams.delete(name);
    const set = this.subscribers.get(name);
    set?.delete(conn);
    if (set?.size === 0) this.subscribers.delete(name);
  }

  private reply(conn: Connection, body: Record<string, unknown>): void {
    this.send(conn, JSON.stringify(body), Date.now());
  }

  private replyError(conn: Connection, id: RequestId, code: number, msg: string): void {
    this.reply(conn, { error: { code, msg }, id });
  }

  private onControlMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    const text = isBinary ? '' : rawText(data);
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch {
      this.replyError(conn, null, 3, 'Invalid JSON: expected value at line 1 column 1');
      return;
    }
    if (!request || typeof request !== 'object' || Array.isArray(request)) {
      this.replyError(conn, null, 2, 'Invalid request: expected a JSON object');
      return;
    }
    const { method, params, id } = request as { method?: unknown; params?: unknown; id?: unknown };
    if (!validId(id)) {
      this.replyError(conn, null, 2, 'Invalid request: request ID must be an unsigned integer');
      return;
    }
    if (method === undefined) {
      this.replyError(conn, id, 2, 'Invalid request: missing field `method`');
      return;
    }
    switch (method) {
      case 'SUBSCRIBE':
      case 'UNSUBSCRIBE': {
        if (!Array.isArray(params) || params.some((p) => typeof p !== 'string')) {
          this.replyError(conn, id, 2, 'Invalid request: params must be an array of stream names');
          return;
        }
        const names = params as string[];
        const problem = this.checkStreams(conn.area, names);
        if (problem) {
          this.replyError(conn, id, 2, `Invalid request: ${problem}`);
          return;
        }
        if (method === 'SUBSCRIBE') {
          const total = new Set([...conn.streams, ...names]).size;
          if (total > this.limits.maxStreams) {
            this.replyError(
              conn,
              id,
              2,
              `Invalid request: at most ${this.limits.maxStreams} streams per connection`,
            );
            return;
          }
          for (const name of names) this.subscribe(conn, name);
        } else {
          for (const name of names) this.unsubscribe(conn, name);
        }
        this.reply(conn, { result: null, id });
        return;
      }
      case 'LIST_SUBSCRIPTIONS':
        this.reply(conn, { result: [...conn.streams], id });
        return;
      case 'SET_PROPERTY': {
        if (!Array.isArray(params) || typeof params[0] !== 'string') {
          this.replyError(conn, id, 2, 'Invalid request: property name must be a string');
        } else if (params[0] !== 'combined') {
          this.replyError(conn, id, 0, 'Unknown property');
        } else if (typeof params[1] !== 'boolean') {
          this.replyError(conn, id, 1, 'Invalid value type: expected Boolean');
        } else {
          conn.combined = params[1];
          this.reply(conn, { result: null, id });
        }
        return;
      }
      case 'GET_PROPERTY': {
        if (!Array.isArray(params) || typeof params[0] !== 'string') {
          this.replyError(conn, id, 2, 'Invalid request: property name must be a string');
        } else if (params[0] !== 'combined') {
          this.replyError(conn, id, 0, 'Unknown property');
        } else {
          this.reply(conn, { result: conn.combined, id });
        }
        return;
      }
      default:
        this.replyError(
          conn,
          id,
          2,
          `Invalid request: unknown variant \`${String(method)}\`, expected one of ${METHODS}`,
        );
    }
  }

  private send(conn: Connection, text: string, now: number): void {
    const ws = conn.ws;
    if (ws.readyState !== WebSocket.OPEN || conn.closing || conn.stalled(now)) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.counters.closedForBackpressure += 1;
      ws.terminate();
      return;
    }
    ws.send(text);
    this.counters.messagesSent += 1;
  }

  /** Closes with a close frame, and cuts the socket if the client does not finish the handshake. */
  private closeGracefully(conn: Connection, reason: string, code = 1001): void {
    if (conn.closing) return;
    conn.closing = true;
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.close(code, reason);
    setTimeout(() => conn.ws.terminate(), 2_000).unref();
  }

  private sendMalformed(conn: Connection, now: number): void {
    const streams = [...conn.streams];
    const first = streams[0];
    const symbol = first ? first.slice(0, first.indexOf('@')).toUpperCase() : [...this.markets.keys()][0]!;
    const wrapAs = conn.combined
      ? (streams.find((s) => s.includes('@depth')) ?? first ?? 'unknown@stream')
      : null;
    const messages = malformedMessages(symbol, now, wrapAs);
    // Spread out, so that normal traffic flows between the bad messages.
    messages.forEach((message, i) => {
      const timer = setTimeout(() => {
        if (conn.ws.readyState !== WebSocket.OPEN || conn.stalled()) return;
        conn.ws.send(message);
        this.counters.messagesSent += 1;
      }, i * 40);
      timer.unref();
    });
  }

  private housekeeping(): void {
    const now = Date.now();
    for (const conn of this.connections) {
      if (conn.closing || conn.stalled(now)) continue;
      if (now - conn.openedAt >= this.limits.maxConnectionMs) {
        this.counters.closedForLifetime += 1;
        this.closeGracefully(conn, 'connection lifetime reached', 1000);
        continue;
      }
      let oldest = Infinity;
      for (const at of conn.pings.values()) oldest = Math.min(oldest, at);
      if (now - oldest >= this.limits.pongTimeoutMs) {
        this.counters.closedForPong += 1;
        conn.closing = true;
        conn.ws.terminate();
        continue;
      }
      if (now >= conn.nextPingAt && conn.ws.readyState === WebSocket.OPEN) {
        const payload = String(now);
        conn.pings.set(payload, now);
        conn.nextPingAt = now + this.limits.pingIntervalMs;
        conn.ws.ping(payload);
      }
    }
  }

  // ---- REST --------------------------------------------------------------------------------

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith('/__sim/')) {
      void handleControlRequest(req, res, url, this.options.control, this.venue, this.markets);
      return;
    }
    const now = Date.now();
    this.counters.restRequests += 1;
    const minute = Math.floor(now / 60_000);
    if (minute !== this.weightMinute) {
      this.weightMinute = minute;
      this.weightUsed = 0;
    }
    const refusal = this.refusals.take(now);
    if (refusal) {
      this.counters.restRefused += 1;
      sendJson(res, refusal.status, refusal.body, {
        'Retry-After': String(refusal.retryAfterSec),
        'X-MBX-USED-WEIGHT-1M': String(this.weightUsed),
      });
      return;
    }
    const route = this.options.routes[url.pathname];
    if (!route) {
      sendJson(res, 404, { code: -1, msg: `no endpoint at ${url.pathname}` });
      return;
    }
    if (req.method !== 'GET') {
      sendJson(res, 405, { code: -1, msg: `${req.method} is not allowed on ${url.pathname}` });
      return;
    }
    try {
      const reply = route(url.searchParams, now);
      this.weightUsed += reply.weight ?? 1;
      sendJson(res, reply.status ?? 200, reply.body, { 'X-MBX-USED-WEIGHT-1M': String(this.weightUsed) });
    } catch (error) {
      this.weightUsed += 1;
      const headers = { 'X-MBX-USED-WEIGHT-1M': String(this.weightUsed) };
      if (error instanceof RestError)
        sendJson(res, error.status, { code: error.code, msg: error.message }, headers);
      else sendJson(res, 500, { code: -1000, msg: `internal error: ${String(error)}` }, headers);
    }
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** Binance accepts a 64-bit integer, an alphanumeric string of up to 36 characters, or null. */
function validId(id: unknown): id is RequestId {
  if (id === null) return true;
  if (typeof id === 'number') return Number.isInteger(id);
  return typeof id === 'string' && /^[A-Za-z0-9]{1,36}$/.test(id);
}

function rejectUpgrade(socket: Duplex, status: number, body: unknown): void {
  socket.on('error', () => undefined); // the client may already be gone
  const text = JSON.stringify(body);
  const reason = status === 404 ? 'Not Found' : 'Bad Request';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

// ---- REST parameter helpers (both venues) ----------------------------------------------------

export function requireSymbol(query: URLSearchParams, markets: Map<string, SymbolMarket>): SymbolMarket {
  const symbol = query.get('symbol');
  if (symbol === null || symbol === '') {
    throw new RestError(
      400,
      -1102,
      "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
    );
  }
  if (!/^[A-Z0-9-_.]{1,20}$/.test(symbol)) {
    throw new RestError(
      400,
      -1100,
      "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'.",
    );
  }
  const market = markets.get(symbol);
  if (!market) throw new RestError(400, -1121, 'Invalid symbol.');
  return market;
}

/** An optional integer parameter; null when absent. */
export function intParam(query: URLSearchParams, name: string): number | null {
  const raw = query.get(name);
  if (raw === null || raw === '') return null;
  if (!/^[0-9]{1,20}$/.test(raw)) {
    throw new RestError(
      400,
      -1100,
      `Illegal characters found in parameter '${name}'; legal range is '^[0-9]{1,20}$'.`,
    );
  }
  return Number(raw);
}

export function depthPayload(diff: DepthDiff): { U: number; u: number; b: string[][]; a: string[][] } {
  return { U: diff.U, u: diff.u, b: diff.b, a: diff.a };
}

// ---- Binance spot ----------------------------------------------------------------------------

export interface VenueServerOptions {
  host: string;
  port: number;
  markets: Map<string, SymbolMarket>;
  limits: ConnectionLimits;
  control: SimControl;
  /** Overrides every depth stream's interval (tests); otherwise the documented speeds. */
  depthIntervalMs?: number;
}

const SPOT_DEPTH_SPEEDS: Record<string, number> = { depth: 1000, 'depth@100ms': 100 };
const SPOT_KINDS = new Set([...Object.keys(SPOT_DEPTH_SPEEDS), 'trade', 'aggTrade', 'bookTicker']);

function spotDepthWeight(limit: number): number {
  if (limit <= 100) return 5;
  if (limit <= 500) return 25;
  if (limit <= 1000) return 50;
  return 250;
}

export async function startSpotServer(
  options: VenueServerOptions,
): Promise<{ server: BinanceServer; port: number }> {
  const markets = options.markets;
  const server = new BinanceServer({
    venue: 'binance-spot',
    host: options.host,
    port: options.port,
    markets,
    limits: options.limits,
    control: options.control,
    areas: { '': { kinds: SPOT_KINDS, wrongPath: (kind) => `unknown stream type ${kind}` } },
    routes: {
      '/api/v3/ping': () => ({ body: {} }),
      '/api/v3/time': (_query, now) => ({ body: { serverTime: now } }),
      '/api/v3/depth': (query) => {
        const market = requireSymbol(query, markets);
        const requested = intParam(query, 'limit') ?? 100;
        if (requested < 1) {
          throw new RestError(
            400,
            -1100,
            "Illegal value for parameter 'limit'; it must be between 1 and 5000.",
          );
        }
        // As documented: a limit above 5000 is truncated to 5000.
        const limit = Math.min(5000, requested);
        const snap = market.snapshot(limit);
        return {
          body: { lastUpdateId: snap.lastUpdateId, bids: snap.bids, asks: snap.asks },
          weight: spotDepthWeight(limit),
        };
      },
      '/api/v3/exchangeInfo': (query, now) => {
        const only = query.get('symbol');
        if (only !== null && !markets.has(only)) throw new RestError(400, -1121, 'Invalid symbol.');
        const symbols = [...markets.values()]
          .filter((m) => only === null || m.symbol === only)
          .map((m) => ({
            symbol: m.symbol,
            status: 'TRADING',
            baseAsset: m.spec.baseAsset,
            baseAssetPrecision: 8,
            quoteAsset: m.spec.quoteAsset,
            quotePrecision: 8,
            quoteAssetPrecision: 8,
            isSpotTradingAllowed: true,
            filters: [
              {
                filterType: 'PRICE_FILTER',
                minPrice: m.price(1),
                maxPrice: m.price(10 ** (m.spec.priceDecimals + 7)),
                tickSize: m.price(1),
              },
              { filterType: 'LOT_SIZE', minQty: m.size(1), maxQty: '9000.00000000', stepSize: m.size(1) },
            ],
          }));
        return {
          body: {
            timezone: 'UTC',
            serverTime: now,
            rateLimits: [
              { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 },
              { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
              { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 200000 },
              { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61000 },
            ],
            exchangeFilters: [],
            symbols,
          },
          weight: 20,
        };
      },
    },
  });

  for (const market of markets.values()) {
    const lower = market.symbol.toLowerCase();
    market.listener = {
      onFill: (fill) => publishSpotFill(server, lower, market.symbol, fill),
      onTop: () => {
        const stream = `${lower}@bookTicker`;
        if (!server.hasSubscribers(stream)) return;
        const top = market.top();
        server.publish(
          stream,
          JSON.stringify({
            u: top.updateId,
            s: market.symbol,
            b: top.bid[0],
            B: top.bid[1],
            a: top.ask[0],
            A: top.ask[1],
          }),
        );
      },
    };
  }

  for (const [kind, interval] of Object.entries(SPOT_DEPTH_SPEEDS)) {
    for (const market of markets.values()) market.openDepthStream(kind);
    server.every(options.depthIntervalMs ?? interval, () => {
      const now = Date.now();
      for (const market of markets.values()) {
        // Taken even without subscribers, so the pending diff never grows without bound.
        const diff = market.takeDepth(kind);
        const stream = `${market.symbol.toLowerCase()}@${kind}`;
        if (!diff || !server.hasSubscribers(stream)) continue;
        server.publish(
          stream,
          JSON.stringify({ e: 'depthUpdate', E: now, s: market.symbol, ...depthPayload(diff) }),
        );
      }
    });
  }

  const port = await server.listen();
  return { server, port };
}

function publishSpotFill(server: BinanceServer, lower: string, symbol: string, fill: AggregateFill): void {
  const now = Date.now();
  const buyerIsMaker = fill.side === 'sell';
  const tradeStream = `${lower}@trade`;
  if (server.hasSubscribers(tradeStream)) {
    for (const trade of fill.trades) {
      server.publish(
        tradeStream,
        JSON.stringify({
          e: 'trade',
          E: now,
          s: symbol,
          t: trade.id,
          p: fill.price,
          q: trade.size,
          T: fill.time,
          m: buyerIsMaker,
          M: true,
        }),
      );
    }
  }
  const aggStream = `${lower}@aggTrade`;
  if (server.hasSubscribers(aggStream)) {
    server.publish(
      aggStream,
      JSON.stringify({
        e: 'aggTrade',
        E: now,
        s: symbol,
        a: fill.aggId,
        p: fill.price,
        q: fill.size,
        f: fill.firstTradeId,
        l: fill.lastTradeId,
        T: fill.time,
        m: buyerIsMaker,
        M: true,
      }),
    );
  }
}
