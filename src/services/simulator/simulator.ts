/**
 * The market simulator as a library: a synthetic market per venue and symbol, served on 127.0.0.1 as
 * Binance spot, Binance USD-M futures, OKX (spot and swap on one server, as the exchange does) and
 * Deribit (WebSocket and REST, one port per server), with faults on command and, per symbol, a
 * scripted price path in place of the random walk (price-path.ts).
 * Collectors are tested against it over real sockets; the `simulator` child program runs it for the
 * demo. Ports default to 0 (ephemeral); `urls` gives the real ones.
 */
import type { Level, Venue } from '../../shared/market';
import { startSpotServer } from './binance-spot';
import { startUsdmServer } from './binance-usdm';
import { startDeribitServer, type DeribitServerOptions } from './deribit';
import type { Fault } from './faults';
import { SymbolMarket, instrumentName, simVenues, type SimTrade, type SimVenue } from './market';
import { startOkxServer, type OkxServerOptions } from './okx';
import { parsePricePath, type PathPosition, type PricePath } from './price-path';
import type { ConnectionLimits, VenueServer, VenueStats } from './venue-server';

export { faultSchema, parseFault, type Fault } from './faults';
export { instrumentName, type SimTrade, type SimVenue } from './market';
export type { VenueStats } from './venue-server';
export { parsePricePath, pricePathSchema, type PathPosition, type PricePath } from './price-path';

/** The servers: one per Binance market, one for OKX spot and swap, one for Deribit. */
export const simServers = ['binance-spot', 'binance-usdm', 'okx', 'deribit'] as const;
export type SimServer = (typeof simServers)[number];

const serverOf: Record<SimVenue, SimServer> = {
  'binance-spot': 'binance-spot',
  'binance-usdm': 'binance-usdm',
  'okx-spot': 'okx',
  'okx-swap': 'okx',
  deribit: 'deribit',
};

type BinanceVenue = 'binance-spot' | 'binance-usdm';

export interface SimulatorOptions {
  /**
   * The markets, named the Binance way (default BTCUSDT and ETHUSDT); every venue serves each under
   * its own instrument name (BTC-USDT, BTC-USDT-SWAP, BTC-PERPETUAL: see `instrumentName`).
   */
  symbols?: string[];
  /** Seed of the synthetic market: the same seed gives the same sequence of steps. */
  seed?: number;
  host?: string;
  spotPort?: number;
  usdmPort?: number;
  okxPort?: number;
  deribitPort?: number;
  /** Interval of the market steps (default 50 ms). */
  stepMs?: number;
  /** Overrides the interval of every depth stream (default: the documented speed of each stream). */
  depthIntervalMs?: number;
  /** Binance server ping interval (default spot 20 s, USD-M 180 s). */
  pingIntervalMs?: Partial<Record<BinanceVenue, number>>;
  /** Binance: no pong for this long after a ping closes the connection (default spot 60 s, USD-M 600 s). */
  pongTimeoutMs?: Partial<Record<BinanceVenue, number>>;
  /** Binance: inbound WebSocket messages per second before disconnection (default spot 5, USD-M 10). */
  inboundPerSec?: Partial<Record<BinanceVenue, number>>;
  /** Connection lifetime (default 24 h). */
  maxConnectionMs?: number;
  /** Streams per connection (default 1024). */
  maxStreams?: number;
  /** OKX server options (checksums, channel paces, idle and keep-alive times, connection limits). */
  okx?: Omit<Partial<OkxServerOptions>, 'host' | 'port' | 'markets' | 'control'>;
  /** Deribit server options (heartbeat time unit, DVOL paging and pace, request credits). */
  deribit?: Pick<DeribitServerOptions, 'heartbeatUnitMs' | 'dvolPageSize' | 'dvolIntervalMs' | 'credits'>;
  /** Trades kept per venue and symbol for `trades()` (default 100,000). */
  tradesKept?: number;
  /** Scripted price paths by symbol (BTCUSDT), started with the simulator; see `setPath`. */
  paths?: Record<string, PricePath>;
}

export interface SimulatorStats {
  connections: Record<SimServer, number>;
  messagesSent: number;
  closedForRate: number;
  closedForPong: number;
  closedForLifetime: number;
  restRequests: number;
  restRefused: number;
  paused: boolean;
  servers: Record<SimServer, VenueStats>;
}

export interface Simulator {
  /** Endpoints in the shape of a collector's `endpoints`, per venue. */
  readonly urls: {
    'binance-spot': { ws: string; rest: string };
    'binance-usdm': { ws: string; wsMarket: string; rest: string };
    'okx-spot': { ws: string; rest: string };
    'okx-swap': { ws: string; rest: string };
    deribit: { ws: string; rest: string };
  };
  /** The simulator's symbols (BTCUSDT...). */
  readonly symbols: readonly string[];
  /** A symbol's instrument name on a venue. */
  instrument(venue: SimVenue, symbol: string): string;
  inject(fault: Fault): void;
  /**
   * The true book, full depth, bids descending, asks ascending, in the venue's own units (OKX swap
   * contracts, Deribit USD); `symbol` is the venue's instrument name.
   */
  trueBook(venue: Venue, symbol: string): { lastUpdateId: number; bids: Level[]; asks: Level[] };
  /** Every trade generated so far (the last `tradesKept`), oldest first, for tests comparing recordings. */
  trades(venue: Venue, symbol: string): SimTrade[];
  stats(): SimulatorStats;
  /**
   * Makes `symbol`'s price (the simulator's name, BTCUSDT) follow `path` on every venue from the next
   * market step, all venues in step; null goes back to the random walk from the current price.
   * The path's clock is the wall clock: a pause does not stop it.
   */
  setPath(symbol: string, path: PricePath | null): void;
  /** Where `symbol`'s path is now on `venue` (default binance-spot), or null without one. */
  pathPosition(symbol: string, venue?: SimVenue): PathPosition | null;
  /** Freezes the market steps (pending depth diffs are still flushed, so books converge). */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

/** The markets when none are named. */
export const DEFAULT_SYMBOLS = ['BTCUSDT', 'ETHUSDT'];
const DEFAULT_LIMITS: Record<BinanceVenue, Omit<ConnectionLimits, 'maxConnectionMs' | 'maxStreams'>> = {
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

  // Keyed by the venue's instrument name.
  const markets = {} as Record<SimVenue, Map<string, SymbolMarket>>;
  for (const venue of simVenues) {
    markets[venue] = new Map(
      symbols.map((symbol) => [
        instrumentName(venue, symbol),
        new SymbolMarket({ venue, symbol, seed, stepMs, tradesKept: options.tradesKept, now }),
      ]),
    );
  }
  const limits = (venue: BinanceVenue): ConnectionLimits => ({
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
    if (!found)
      throw new Error(
        `the simulator has no ${venue} instrument ${symbol} (it serves ${[...byVenue.keys()].join(', ')})`,
      );
    return found;
  };

  const mustServe = (symbol: string): void => {
    if (!symbols.includes(symbol))
      throw new Error(`the simulator has no symbol ${symbol} (it serves ${symbols.join(', ')})`);
  };
  const setPath = (symbol: string, path: PricePath | null): void => {
    mustServe(symbol);
    let checked: PricePath | null = null;
    if (path !== null) {
      const parsed = parsePricePath(path);
      if (!parsed.ok) throw new Error(parsed.error);
      checked = parsed.path;
    }
    const at = Date.now();
    for (const venue of simVenues) markets[venue].get(instrumentName(venue, symbol))!.setPath(checked, at);
  };
  for (const [symbol, path] of Object.entries(options.paths ?? {})) setPath(symbol, path);

  let paused = false;
  const servers = {} as Record<SimServer, VenueServer>;
  const sim: Simulator = {
    urls: {
      'binance-spot': { ws: '', rest: '' },
      'binance-usdm': { ws: '', wsMarket: '', rest: '' },
      'okx-spot': { ws: '', rest: '' },
      'okx-swap': { ws: '', rest: '' },
      deribit: { ws: '', rest: '' },
    },
    symbols,
    instrument: (venue, symbol) => instrumentName(venue, symbol),
    inject: (fault) => {
      const server = servers[serverOf[fault.venue]];
      if (!server) throw new Error(`the simulator does not serve ${String(fault.venue)}`);
      if ('symbol' in fault) market(fault.venue, fault.symbol); // an unknown symbol is an error, not a no-op
      server.inject(fault);
    },
    trueBook: (venue, symbol) => market(venue, symbol).trueBook(),
    trades: (venue, symbol) => market(venue, symbol).trades(),
    setPath,
    pathPosition: (symbol, venue = 'binance-spot') => {
      mustServe(symbol);
      return market(venue, instrumentName(venue, symbol)).pathPosition(Date.now());
    },
    stats: () => {
      const byServer = Object.fromEntries(simServers.map((name) => [name, servers[name].stats()])) as Record<
        SimServer,
        VenueStats
      >;
      const sum = (key: keyof VenueStats): number =>
        simServers.reduce((total, name) => total + byServer[name][key], 0);
      return {
        connections: Object.fromEntries(
          simServers.map((name) => [name, byServer[name].connections]),
        ) as Record<SimServer, number>,
        messagesSent: sum('messagesSent'),
        closedForRate: sum('closedForRate'),
        closedForPong: sum('closedForPong'),
        closedForLifetime: sum('closedForLifetime'),
        restRequests: sum('restRequests'),
        restRefused: sum('restRefused'),
        paused,
        servers: byServer,
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
    const okx = await startOkxServer({
      host,
      port: options.okxPort ?? 0,
      markets: { 'okx-spot': markets['okx-spot'], 'okx-swap': markets['okx-swap'] },
      control: sim,
      depthIntervalMs: options.depthIntervalMs,
      ...options.okx,
    });
    servers.okx = okx.server;
    const deribit = await startDeribitServer({
      ...options.deribit,
      host,
      port: options.deribitPort ?? 0,
      markets: markets.deribit,
      control: sim,
      depthIntervalMs: options.depthIntervalMs,
    });
    servers.deribit = deribit.server;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    sim.urls['binance-spot'] = { ws: `ws://${urlHost}:${spot.port}`, rest: `http://${urlHost}:${spot.port}` };
    sim.urls['binance-usdm'] = {
      ws: `ws://${urlHost}:${usdm.port}`,
      wsMarket: `ws://${urlHost}:${usdm.port}`,
      rest: `http://${urlHost}:${usdm.port}`,
    };
    const okxUrls = { ws: `ws://${urlHost}:${okx.port}`, rest: `http://${urlHost}:${okx.port}` };
    sim.urls['okx-spot'] = okxUrls;
    sim.urls['okx-swap'] = { ...okxUrls };
    sim.urls.deribit = { ws: `ws://${urlHost}:${deribit.port}`, rest: `http://${urlHost}:${deribit.port}` };
  } catch (error) {
    clearInterval(stepTimer);
    await Promise.all(Object.values(servers).map((server) => server.close()));
    throw error;
  }
  return sim;
}
