/**
 * The market simulator as a library: a synthetic market per venue and symbol, served on 127.0.0.1 as
 * Binance spot and USD-M futures (WebSocket and REST, on one port per venue), with faults on command.
 * Collectors are tested against it over real sockets; the `simulator` child program runs it for the
 * demo. Ports default to 0 (ephemeral); `urls` gives the real ones.
 */
import type { Level, Venue } from '../../shared/market';
import { startSpotServer, type BinanceServer, type ConnectionLimits, type VenueStats } from './binance-spot';
import { startUsdmServer } from './binance-usdm';
import type { Fault } from './faults';
import { SymbolMarket, simVenues, type SimTrade, type SimVenue } from './market';

export { faultSchema, parseFault, type Fault } from './faults';
export type { SimTrade, SimVenue } from './market';
export type { VenueStats } from './binance-spot';

export interface SimulatorOptions {
  /** Upper-case symbols served on both venues (default BTCUSDT and ETHUSDT). */
  symbols?: string[];
  /** Seed of the synthetic market: the same seed gives the same sequence of steps. */
  seed?: number;
  host?: string;
  spotPort?: number;
  usdmPort?: number;
  /** Interval of the market steps (default 50 ms). */
  stepMs?: number;
  /** Overrides the interval of every depth stream (default: the documented speed of each stream). */
  depthIntervalMs?: number;
  /** Server ping interval (default spot 20 s, USD-M 180 s). */
  pingIntervalMs?: Partial<Record<SimVenue, number>>;
  /** No pong for this long after a ping closes the connection (default spot 60 s, USD-M 600 s). */
  pongTimeoutMs?: Partial<Record<SimVenue, number>>;
  /** Inbound WebSocket messages per second before disconnection (default spot 5, USD-M 10). */
  inboundPerSec?: Partial<Record<SimVenue, number>>;
  /** Connection lifetime (default 24 h). */
  maxConnectionMs?: number;
  /** Streams per connection (default 1024). */
  maxStreams?: number;
  /** Trades kept per venue and symbol for `trades()` (default 100,000). */
  tradesKept?: number;
}

export interface SimulatorStats {
  connections: Record<SimVenue, number>;
  messagesSent: number;
  closedForRate: number;
  closedForPong: number;
  closedForLifetime: number;
  restRequests: number;
  restRefused: number;
  paused: boolean;
  venues: Record<SimVenue, VenueStats>;
}

export interface Simulator {
  readonly urls: {
    'binance-spot': { ws: string; rest: string };
    'binance-usdm': { ws: string; wsMarket: string; rest: string };
  };
  readonly symbols: readonly string[];
  inject(fault: Fault): void;
  /** The true book, full depth, bids descending, asks ascending. */
  trueBook(venue: Venue, symbol: string): { lastUpdateId: number; bids: Level[]; asks: Level[] };
  /** Every trade generated so far (the last `tradesKept`), oldest first, for tests comparing recordings. */
  trades(venue: Venue, symbol: string): SimTrade[];
  stats(): SimulatorStats;
  /** Freezes the market steps (pending depth diffs are still flushed, so books converge). */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

const DEFAULT_SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const DEFAULT_LIMITS: Record<SimVenue, Omit<ConnectionLimits, 'maxConnectionMs' | 'maxStreams'>> = {
  'binance-spot': { pingIntervalMs: 20_000, pongTimeoutMs: 60_000, inboundPerSec: 5 },
  'binance-usdm': { pingIntervalMs: 180_000, pongTimeoutMs: 600_000, inboundPerSec: 10 },
};

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const symbols = [...new Set(options.symbols ?? DEFAULT_SYMBOLS)];
  for (const symbol of symbols) {
    if (!/^[A-Z0-9]{2,30}$/.test(symbol))
      throw new Error(`invalid symbol ${JSON.stringify(symbol)}: use e.g. BTCUSDT`);
  }
  if (symbols.length === 0) throw new Error('the simulator needs at least one symbol');
  const seed = options.seed ?? 1;
  const host = options.host ?? '127.0.0.1';
  const stepMs = options.stepMs ?? 50;
  const now = Date.now();

  const markets = {} as Record<SimVenue, Map<string, SymbolMarket>>;
  for (const venue of simVenues) {
    markets[venue] = new Map(
      symbols.map((symbol) => [
        symbol,
        new SymbolMarket({ venue, symbol, seed, stepMs, tradesKept: options.tradesKept, now }),
      ]),
    );
  }
  const limits = (venue: SimVenue): ConnectionLimits => ({
    pingIntervalMs: options.pingIntervalMs?.[venue] ?? DEFAULT_LIMITS[venue].pingIntervalMs,
    pongTimeoutMs: options.pongTimeoutMs?.[venue] ?? DEFAULT_LIMITS[venue].pongTimeoutMs,
    inboundPerSec: options.inboundPerSec?.[venue] ?? DEFAULT_LIMITS[venue].inboundPerSec,
    maxConnectionMs: options.maxConnectionMs ?? 24 * 3_600_000,
    maxStreams: options.maxStreams ?? 1024,
  });

  const market = (venue: Venue, symbol: string): SymbolMarket => {
    const byVenue = (markets as Partial<Record<Venue, Map<string, SymbolMarket>>>)[venue];
    if (!byVenue) throw new Error(`the simulator does not serve ${venue}`);
    const found = byVenue.get(symbol);
    if (!found) throw new Error(`the simulator has no symbol ${symbol} (it serves ${symbols.join(', ')})`);
    return found;
  };

  let paused = false;
  const servers = {} as Record<SimVenue, BinanceServer>;
  const sim: Simulator = {
    urls: {
      'binance-spot': { ws: '', rest: '' },
      'binance-usdm': { ws: '', wsMarket: '', rest: '' },
    },
    symbols,
    inject: (fault) => {
      const server = servers[fault.venue];
      if (!server) throw new Error(`the simulator does not serve ${String(fault.venue)}`);
      if ('symbol' in fault) market(fault.venue, fault.symbol); // an unknown symbol is an error, not a no-op
      server.inject(fault);
    },
    trueBook: (venue, symbol) => market(venue, symbol).trueBook(),
    trades: (venue, symbol) => market(venue, symbol).trades(),
    stats: () => {
      const venues = {
        'binance-spot': servers['binance-spot'].stats(),
        'binance-usdm': servers['binance-usdm'].stats(),
      };
      const sum = (key: keyof VenueStats): number =>
        venues['binance-spot'][key] + venues['binance-usdm'][key];
      return {
        connections: {
          'binance-spot': venues['binance-spot'].connections,
          'binance-usdm': venues['binance-usdm'].connections,
        },
        messagesSent: sum('messagesSent'),
        closedForRate: sum('closedForRate'),
        closedForPong: sum('closedForPong'),
        closedForLifetime: sum('closedForLifetime'),
        restRequests: sum('restRequests'),
        restRefused: sum('restRefused'),
        paused,
        venues,
      };
    },
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
    },
    close: async () => {
      clearInterval(stepTimer);
      await Promise.all(Object.values(servers).map((server) => server.close()));
    },
  };

  const stepTimer = setInterval(() => {
    if (paused) return;
    const at = Date.now();
    for (const venue of simVenues) {
      for (const m of markets[venue].values()) {
        try {
          m.step(at);
        } catch (error) {
          console.error(`simulator ${venue} ${m.symbol}: step failed: ${String(error)}`);
        }
      }
    }
  }, stepMs);

  try {
    const common = { host, depthIntervalMs: options.depthIntervalMs, control: sim };
    const spot = await startSpotServer({
      ...common,
      port: options.spotPort ?? 0,
      markets: markets['binance-spot'],
      limits: limits('binance-spot'),
    });
    servers['binance-spot'] = spot.server;
    const usdm = await startUsdmServer({
      ...common,
      port: options.usdmPort ?? 0,
      markets: markets['binance-usdm'],
      limits: limits('binance-usdm'),
    });
    servers['binance-usdm'] = usdm.server;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    sim.urls['binance-spot'] = { ws: `ws://${urlHost}:${spot.port}`, rest: `http://${urlHost}:${spot.port}` };
    sim.urls['binance-usdm'] = {
      ws: `ws://${urlHost}:${usdm.port}`,
      wsMarket: `ws://${urlHost}:${usdm.port}`,
      rest: `http://${urlHost}:${usdm.port}`,
    };
  } catch (error) {
    clearInterval(stepTimer);
    await Promise.all(Object.values(servers).map((server) => server.close()));
    throw error;
  }
  return sim;
}
