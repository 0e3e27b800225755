/**
 * What every simulated venue server shares: its statistics, its connection limits, the simulator it
 * belongs to, and the control endpoints (`/__sim/...`) that every server answers, so a test script can
 * inject faults and read the true book on whichever port it knows.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Level } from '../../shared/market';
import { parseFault, type Fault } from './faults';
import type { SimTrade, SimVenue, SymbolMarket } from './market';
import type { PathPosition, PricePath } from './price-path';

/** What the control endpoints (`/__sim/...`) reach: the simulator as a whole. */
export interface SimControl {
  inject(fault: Fault): void;
  trueBook(venue: SimVenue, symbol: string): { lastUpdateId: number; bids: Level[]; asks: Level[] };
  trades(venue: SimVenue, symbol: string): SimTrade[];
  stats(): unknown;
  /** Scripted price paths (absent on a server a test runs without the whole simulator). */
  setPath?(symbol: string, path: PricePath | null): void;
  pathPosition?(symbol: string, venue?: SimVenue): PathPosition | null;
  pause(): void;
  resume(): void;
}

export interface ConnectionLimits {
  pingIntervalMs: number;
  pongTimeoutMs: number;
  /** Inbound messages per second (text, ping and pong frames) before the connection is closed. */
  inboundPerSec: number;
  maxConnectionMs: number;
  maxStreams: number;
}

export interface VenueStats {
  connections: number;
  connectionsOpened: number;
  messagesSent: number;
  closedForRate: number;
  closedForPong: number;
  closedForLifetime: number;
  closedForBackpressure: number;
  restRequests: number;
  restRefused: number;
  faults: number;
}

/** A server's counters, all zero (`connections` is counted live). */
export function zeroCounters(): Omit<VenueStats, 'connections'> {
  return {
    connectionsOpened: 0,
    messagesSent: 0,
    closedForRate: 0,
    closedForPong: 0,
    closedForLifetime: 0,
    closedForBackpressure: 0,
    restRequests: 0,
    restRefused: 0,
    faults: 0,
  };
}

/**
 * Runs `fn` every `ms` (a server's pushes and upkeep); an exception costs that tick only, reported
 * under `who`. The caller clears the returned timer when it closes.
 */
export function every(who: string, ms: number, fn: () => void): NodeJS.Timeout {
  return setInterval(() => {
    try {
      fn();
    } catch (error) {
      console.error(`simulator ${who}: timer failed: ${String(error)}`);
    }
  }, ms);
}

/** Listens on host:port (0: any free port); resolves with the port, rejects when it cannot bind. */
export async function listen(http: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  return (http.address() as { port: number }).port;
}

/**
 * The stall fault of one server: the server hangs, the way a real feed outage outlasts a client's
 * reconnects. It sends nothing (no data, no pings, no replies) and reads nothing (its sockets are
 * paused, so what clients send waits in the socket buffers), on the sockets open when the stall comes
 * and on those opened while it lasts; when it ends, it reads and answers what was sent meanwhile and
 * the feed flows again. The latest stall fault sets the end: a longer one extends the stall, a
 * shorter one brings its end forward, `ms: 0` lifts it.
 */
export class Stall {
  /** Epoch ms until which the server is stalled (in the past: it is not). */
  until = 0;
  private timer: NodeJS.Timeout | null = null;

  /** `onEnd`: the stall is over (resume the sockets). */
  constructor(private readonly onEnd: () => void) {}

  /** Starts, moves or (ms 0) lifts the stall; returns its end. */
  set(now: number, ms: number): number {
    this.until = now + ms;
    this.arm(ms);
    return this.until;
  }

  active(now = Date.now()): boolean {
    return now < this.until;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(ms: number): void {
    this.close();
    this.timer = setTimeout(() => {
      this.timer = null;
      // Timers may fire a little early by the wall clock, which is what `until` is in.
      const left = this.until - Date.now();
      if (left > 0) this.arm(left);
      else this.onEnd();
    }, ms);
    this.timer.unref();
  }
}

/** One simulated exchange server (OKX serves spot and swap on one server). */
export interface VenueServer {
  inject(fault: Fault): void;
  stats(): VenueStats;
  close(): Promise<void>;
}

/** A fault this server's venue has no equivalent for: the error names what it does have. */
export function unsupportedFault(venue: SimVenue, fault: Fault, supported: readonly string[]): Error {
  return new Error(`${venue} has no ${fault.type} fault; it supports ${supported.join(', ')}`);
}

/**
 * `/__sim/fault` (POST a fault; venue defaults to `venue`), `/__sim/book?symbol=`, `/__sim/trades?symbol=`
 * (`&venue=` picks another venue of the same server), `/__sim/stats`, `/__sim/pause`, `/__sim/resume`,
 * `/__sim/path` (POST `{ symbol, path: [{ price, holdMs }...], loop? }`, or `{ symbol, path: null }` for
 * the random walk again; GET `?symbol=` for where it is). Path symbols are the simulator's (BTCUSDT).
 */
export async function handleControlRequest(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  control: SimControl,
  venue: SimVenue,
  markets: ReadonlyMap<string, SymbolMarket>,
): Promise<void> {
  const route = `${req.method} ${url.pathname}`;
  const venueParam = (url.searchParams.get('venue') as SimVenue | null) ?? venue;
  const symbolParam = (): string => {
    const symbol = url.searchParams.get('symbol');
    if (!symbol) throw new Error('symbol is required, e.g. ?symbol=BTCUSDT');
    if (venueParam === venue && !markets.has(symbol)) throw new Error(`unknown symbol ${symbol} on ${venue}`);
    return symbol;
  };
  try {
    switch (route) {
      case 'POST /__sim/fault': {
        let body: unknown;
        try {
          body = JSON.parse(await readBody(req));
        } catch (error) {
          sendJson(res, 400, { error: `the body must be a JSON fault: ${String(error)}` });
          return;
        }
        const parsed = parseFault(body, venue);
        if (!parsed.ok) {
          sendJson(res, 400, { error: parsed.error });
          return;
        }
        control.inject(parsed.fault);
        sendJson(res, 200, { ok: true, fault: parsed.fault });
        return;
      }
      case 'GET /__sim/book':
        sendJson(res, 200, control.trueBook(venueParam, symbolParam()));
        return;
      case 'GET /__sim/trades':
        sendJson(res, 200, control.trades(venueParam, symbolParam()));
        return;
      case 'POST /__sim/path': {
        if (!control.setPath || !control.pathPosition) throw new Error('this server does not script prices');
        let body: unknown;
        try {
          body = JSON.parse(await readBody(req));
        } catch (error) {
          sendJson(res, 400, { error: `the body must be JSON { symbol, path, loop? }: ${String(error)}` });
          return;
        }
        if (!body || typeof body !== 'object' || typeof (body as { symbol?: unknown }).symbol !== 'string') {
          sendJson(res, 400, { error: 'symbol is required, e.g. { "symbol": "BTCUSDT", "path": [...] }' });
          return;
        }
        const { symbol, ...rest } = body as { symbol: string; path?: unknown };
        // setPath validates the path and the symbol; its errors become the 400 below.
        control.setPath(symbol, rest.path === null ? null : (rest as PricePath));
        sendJson(res, 200, { ok: true, position: control.pathPosition(symbol, venue) });
        return;
      }
      case 'GET /__sim/path': {
        if (!control.pathPosition) throw new Error('this server does not script prices');
        const symbol = url.searchParams.get('symbol');
        if (!symbol) throw new Error('symbol is required, e.g. ?symbol=BTCUSDT');
        sendJson(res, 200, { position: control.pathPosition(symbol, venueParam) });
        return;
      }
      case 'GET /__sim/stats':
        sendJson(res, 200, control.stats());
        return;
      case 'POST /__sim/pause':
        control.pause();
        sendJson(res, 200, { ok: true, paused: true });
        return;
      case 'POST /__sim/resume':
        control.resume();
        sendJson(res, 200, { ok: true, paused: false });
        return;
      default:
        sendJson(res, 404, { error: `no control endpoint ${route}` });
    }
  } catch (error) {
    sendJson(res, 400, { error: error instanceof Error ? error.message : String(error) });
  }
}

export function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json;charset=UTF-8', ...headers });
  res.end(text);
}
