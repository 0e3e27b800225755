/**
 * The OKX collector against the market simulator over real sockets, recording into a real
 * market/<venue>.db: books equal the simulator's true book (swap sizes converted from contracts to base
 * units exactly), every injected fault is detected, written to the gap ledger and recovered from,
 * checksums are verified on real data, and recorded trades, funding, open interest and liquidations
 * match what the simulator generated.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseCollectorConfig, type CollectorConfig } from '../../src/shared/collector-config';
import type {
  BookRecord,
  GapRecord,
  Level,
  LiquidationRecord,
  TopOfBookRecord,
} from '../../src/shared/market';
import { marketDbPath } from '../../src/services/collector/market-db';
import { MarketReader } from '../../src/services/collector/market-reader';
import { MarketRecorder } from '../../src/services/collector/recorder';
import { ContractValue } from '../../src/services/collector/okx/contracts';
import { OkxCollector, type OkxConfig } from '../../src/services/collector/okx/okx-collector';
import { SymbolMarket, type SimVenue } from '../../src/services/simulator/market';
import { startOkxServer, type OkxServer, type OkxServerOptions } from '../../src/services/simulator/okx';
import { startSimulator } from '../../src/services/simulator/simulator';
import type { SimControl } from '../../src/services/simulator/venue-server';
import { until } from '../helpers/process-fixtures';
import { tempDir } from '../helpers/temp-dir';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type OkxVenue = 'okx-spot' | 'okx-swap';

/** What the tests need of a simulated OKX: the full simulator, or the OKX server alone with options. */
interface Sim {
  urls: { ws: string; rest: string };
  control: SimControl;
  inject: SimControl['inject'];
  /** Only when the OKX server was started here. */
  server?: OkxServer;
}

async function simulator(): Promise<Sim> {
  const sim = await startSimulator({ seed: 7, stepMs: 10, depthIntervalMs: 20 });
  cleanups.push(() => sim.close());
  return { urls: sim.urls['okx-spot'], control: sim, inject: (f) => sim.inject(f) };
}

/** The OKX server alone, with its options, on markets stepped here (simulator.ts passes no options). */
async function okxServer(o: {
  symbols: string[];
  stepMs: number;
  depthIntervalMs: number;
  options?: Partial<OkxServerOptions>;
}): Promise<Sim> {
  const { stepMs, depthIntervalMs } = o;
  const now = Date.now();
  const markets: Record<OkxVenue, Map<string, SymbolMarket>> = {
    'okx-spot': new Map(),
    'okx-swap': new Map(),
  };
  for (const venue of ['okx-spot', 'okx-swap'] as const) {
    for (const symbol of o.symbols) {
      const m = new SymbolMarket({ venue, symbol, seed: 11, stepMs, now });
      markets[venue].set(m.symbol, m);
    }
  }
  let paused = false;
  const ref: { server?: OkxServer } = {};
  const market = (venue: SimVenue, symbol: string) => markets[venue as OkxVenue].get(symbol)!;
  const control: SimControl = {
    inject: (fault) => ref.server!.inject(fault),
    trueBook: (venue, symbol) => market(venue, symbol).trueBook(),
    trades: (venue, symbol) => market(venue, symbol).trades(),
    stats: () => ref.server!.stats(),
    pause: () => (paused = true),
    resume: () => (paused = false),
  };
  const timer = setInterval(() => {
    if (paused) return;
    const at = Date.now();
    for (const byVenue of Object.values(markets)) for (const m of byVenue.values()) m.step(at);
  }, stepMs);
  const started = await startOkxServer({
    host: '127.0.0.1',
    port: 0,
    markets,
    control,
    depthIntervalMs,
    ...o.options,
  });
  ref.server = started.server;
  cleanups.push(async () => {
    clearInterval(timer);
    await started.server.close();
  });
  const host = `127.0.0.1:${started.port}`;
  return {
    urls: { ws: `ws://${host}`, rest: `http://${host}` },
    control,
    inject: control.inject,
    server: started.server,
  };
}

interface Rig {
  sim: Sim;
  venue: OkxVenue;
  collector: OkxCollector;
  recorder: MarketRecorder;
  published: { subject: string; data: unknown }[];
  health: { health: string; message: string }[];
  dataDir: string;
  gaps(): GapRecord[];
  reader(): MarketReader;
}

async function rig(venue: OkxVenue, overrides: Partial<CollectorConfig> = {}, given?: Sim): Promise<Rig> {
  const sim = given ?? (await simulator());
  const dir = tempDir('vokx-');
  cleanups.push(() => dir.remove());
  const parsed = parseCollectorConfig({
    venue,
    simulated: true,
    endpoints: sim.urls,
    staleAfterMs: 3_000,
    pollIntervalMs: 1_000,
    ...overrides,
  });
  if (!parsed.ok) throw new Error(parsed.error);
  const recorder = MarketRecorder.open({ dataDir: dir.path, venue, retentionDays: 30, flushIntervalMs: 50 });
  const published: Rig['published'] = [];
  const health: Rig['health'] = [];
  const collector = new OkxCollector(parsed.config as OkxConfig, {
    publish: (subject, data) => published.push({ subject, data }),
    recorder,
    health: (h, message) => health.push({ health: h, message }),
    log: () => undefined,
  });
  cleanups.push(() => void recorder.close());
  cleanups.push(() => collector.close());
  collector.start();
  const reader = (): MarketReader => {
    recorder.flush();
    const r = MarketReader.open(marketDbPath(dir.path, venue));
    cleanups.push(() => r.close());
    return r;
  };
  return {
    sim,
    venue,
    collector,
    recorder,
    published,
    health,
    dataDir: dir.path,
    reader,
    gaps: () => {
      recorder.flush();
      const r = MarketReader.open(marketDbPath(dir.path, venue));
      try {
        return r.gaps({});
      } finally {
        r.close();
      }
    },
  };
}

const CT_VAL: Record<string, string> = { 'BTC-USDT-SWAP': '0.01', 'ETH-USDT-SWAP': '0.1' };

/** Wire sizes (contracts on swaps) → base units, the way the collector must convert them. */
function toBase(instId: string, size: number): number {
  const ctVal = CT_VAL[instId];
  return ctVal === undefined ? size : ContractValue.parse(ctVal)!.toBase(String(size));
}

/** Freezes the market, lets the last updates arrive, and compares the collector's book with the truth. */
async function expectBookEqualsTruth(r: Rig, instId: string): Promise<void> {
  r.sim.control.pause();
  try {
    const depth = r.collector.config.bookDepth;
    const truthSide = (levels: Level[]): Level[] =>
      levels.slice(0, depth).map(([p, s]): Level => [p, toBase(instId, s)]);
    await until(() => {
      const sync = r.collector.bookSyncs().get(instId)!;
      return (
        r.collector.book(instId) !== undefined &&
        sync.seqId === r.sim.control.trueBook(r.venue, instId).lastUpdateId
      );
    }, `${instId} book to reach the true book's seqId`);
    const book = r.collector.book(instId)!;
    const truth = r.sim.control.trueBook(r.venue, instId);
    expect(book.levels('bid', depth)).toEqual(truthSide(truth.bids));
    expect(book.levels('ask', depth)).toEqual(truthSide(truth.asks));
    expect(book.depth('bid')).toBe(Math.min(truth.bids.length, 400));
  } finally {
    r.sim.control.resume();
  }
}

function levelUpdates(r: Rig, instId: string): number {
  return r.published
    .filter((p) => p.subject === `md.${r.venue}.${instId}.book` && (p.data as BookRecord).kind === 'delta')
    .reduce((n, p) => n + (p.data as BookRecord).bids.length + (p.data as BookRecord).asks.length, 0);
}

describe('OKX collector against the simulator', () => {
  it(
    'okx-spot: books equal the true book over thousands of updates; trades and top published',
    { timeout: 60_000 },
    async () => {
      const r = await rig('okx-spot');
      expect(await r.collector.whenSubscribed(10_000)).toBe(true);
      await until(
        () => levelUpdates(r, 'BTC-USDT') > 2_000 && levelUpdates(r, 'ETH-USDT') > 2_000,
        'thousands of level updates per book',
        40_000,
      );
      for (const instId of ['BTC-USDT', 'ETH-USDT']) await expectBookEqualsTruth(r, instId);
      const subjects = new Set(r.published.map((p) => p.subject));
      for (const t of ['book', 'trade', 'top']) expect(subjects).toContain(`md.okx-spot.BTC-USDT.${t}`);
      const snapshot = r.published.find((p) => (p.data as BookRecord).kind === 'snapshot')!
        .data as BookRecord;
      expect(snapshot).toMatchObject({ venue: 'okx-spot', type: 'book', seq: expect.any(Number) });
      expect(snapshot.bids.length).toBeGreaterThan(100);
      expect(snapshot.bids[0]![0]).toBeLessThan(snapshot.asks[0]![0]);
      const top = r.published.find((p) => p.subject === 'md.okx-spot.BTC-USDT.top')!.data;
      expect(top).toMatchObject({ type: 'top', bidPrice: expect.any(Number), askSize: expect.any(Number) });
      expect(r.health.at(-1)).toMatchObject({ health: 'healthy' });
      expect(r.gaps()).toEqual([]);
    },
  );

  it(
    'okx-swap: sizes in base units; trades, funding, open interest, liquidations and long/short recorded',
    { timeout: 60_000 },
    async () => {
      // One instrument of the two the simulator has: the liquidation channel carries both.
      const r = await rig('okx-swap', { symbols: ['BTC-USDT-SWAP'] });
      expect(await r.collector.whenSubscribed(10_000)).toBe(true);
      await until(
        () =>
          r.published.some((p) => p.subject === 'md.okx-swap.BTC-USDT-SWAP.liquidation') &&
          r.published.filter((p) => p.subject === 'md.okx-swap.BTC-USDT-SWAP.trade').length > 40,
        'liquidations and trades',
        30_000,
      );
      await expectBookEqualsTruth(r, 'BTC-USDT-SWAP');
      r.sim.control.pause();
      await sleep(300);
      const reader = r.reader();
      const now = Date.now() + 1;

      // Trades: one record per taker order, its size the sum of its fills, in BTC (contracts × 0.01).
      const recorded = reader.trades('BTC-USDT-SWAP', 0, now).sort((a, b) => Number(a.id) - Number(b.id));
      expect(recorded.length).toBeGreaterThan(40);
      const sim = r.sim.control.trades('okx-swap', 'BTC-USDT-SWAP');
      const byId = new Map(sim.map((t) => [t.id, t]));
      for (let i = 1; i < recorded.length; i++) {
        const t = recorded[i]!;
        const fills = sim.filter((s) => s.id > Number(recorded[i - 1]!.id) && s.id <= Number(t.id));
        const contracts = fills.reduce((n, f) => n + Math.round(f.size * 100), 0);
        expect(t.size).toBe(ContractValue.parse('0.0001')!.toBase(String(contracts)));
        expect(t.price).toBe(byId.get(Number(t.id))!.price);
        expect(t.side).toBe(byId.get(Number(t.id))!.side);
        expect(t.exchangeTs).toBe(byId.get(Number(t.id))!.time);
      }

      const funding = reader.funding('BTC-USDT-SWAP', 0, now);
      expect(funding.length).toBeGreaterThanOrEqual(1);
      expect(funding[0]!.nextFundingTime % (8 * 3_600_000)).toBe(0);
      expect(funding[0]!.nextFundingTime).toBeGreaterThan(Date.now());
      const fundingRecord = r.published.find((p) => p.subject === 'md.okx-swap.BTC-USDT-SWAP.funding')!.data;
      expect(fundingRecord).toMatchObject({ type: 'funding', intervalMs: 8 * 3_600_000 });

      const oi = reader.openInterest('BTC-USDT-SWAP', 0, now);
      expect(oi.length).toBeGreaterThanOrEqual(1);
      // 80,000 BTC of open interest in the simulator, not 8,000,000 contracts.
      expect(oi[0]!.openInterest).toBeGreaterThan(50_000);
      expect(oi[0]!.openInterest).toBeLessThan(120_000);

      const liquidations = reader.liquidations('BTC-USDT-SWAP', 0, now);
      expect(liquidations.length).toBeGreaterThan(0);
      for (const l of liquidations) {
        // Two decimals of contracts of 0.01 BTC: at most four decimals of BTC.
        expect(Math.abs(l.size * 10_000 - Math.round(l.size * 10_000))).toBeLessThan(1e-6);
        expect(l.partial).toBe(true);
      }
      expect(reader.liquidations('ETH-USDT-SWAP', 0, now)).toEqual([]);
      expect(r.published.some((p) => p.subject.includes('ETH-USDT-SWAP'))).toBe(false);

      const lsr = reader.longShort('BTC-USDT-SWAP', 0, now);
      expect(lsr.length).toBeGreaterThan(1);
      for (const row of lsr) expect(row.longAccount + row.shortAccount).toBeCloseTo(1, 9);

      // The market is frozen: the last top of book is the true one, in BTC.
      const top = r.published.filter((p) => p.subject === 'md.okx-swap.BTC-USDT-SWAP.top').at(-1)!
        .data as TopOfBookRecord;
      const truth = r.sim.control.trueBook('okx-swap', 'BTC-USDT-SWAP');
      expect([top.bidPrice, top.bidSize]).toEqual([
        truth.bids[0]![0],
        toBase('BTC-USDT-SWAP', truth.bids[0]![1]),
      ]);
      expect([top.askPrice, top.askSize]).toEqual([
        truth.asks[0]![0],
        toBase('BTC-USDT-SWAP', truth.asks[0]![1]),
      ]);
      expect(r.gaps()).toEqual([]);
      r.sim.control.resume();
    },
  );

  it(
    'detects a gap and a crossed book, rides keep-alives and a sequence reset without a gap, skips malformed messages',
    { timeout: 60_000 },
    async () => {
      const r = await rig('okx-spot', { symbols: ['BTC-USDT'] });
      await until(() => r.collector.book('BTC-USDT') !== undefined, 'first sync');
      const sync = r.collector.bookSyncs().get('BTC-USDT')!;

      r.sim.inject({ type: 'keepalive', venue: 'okx-spot', symbol: 'BTC-USDT' });
      r.sim.inject({ type: 'sequence-reset', venue: 'okx-spot', symbol: 'BTC-USDT' });
      await until(
        () => sync.counters.keepalives >= 1 && (sync.seqId ?? Infinity) < 1_000_000,
        'keep-alive and reset',
      );
      r.sim.inject({ type: 'malformed', venue: 'okx-spot' });
      await until(() => r.collector.stats.parseErrors >= 3, 'three malformed messages counted');
      await sleep(300);
      expect(r.gaps()).toEqual([]);
      expect(r.collector.book('BTC-USDT')).toBeDefined();

      r.sim.inject({ type: 'gap', venue: 'okx-spot', symbol: 'BTC-USDT' });
      await until(
        () => r.gaps().some((g) => g.cause === 'sequence' && g.end !== null),
        'a closed sequence gap',
      );
      await until(() => r.collector.book('BTC-USDT') !== undefined, 'resynced');
      r.sim.inject({ type: 'crossed', venue: 'okx-spot', symbol: 'BTC-USDT' });
      await until(
        () => r.gaps().some((g) => g.cause === 'crossed' && g.end !== null),
        'a closed crossed gap',
      );
      for (const g of r.gaps()) {
        expect(g).toMatchObject({ venue: 'okx-spot', symbol: 'BTC-USDT', stream: 'book' });
        expect(g.end!).toBeGreaterThanOrEqual(g.start);
      }
      expect(sync.counters.snapshots).toBeGreaterThanOrEqual(3);
      await expectBookEqualsTruth(r, 'BTC-USDT');
      expect(r.published.some((p) => p.subject === 'md.okx-spot.BTC-USDT.gap')).toBe(true);
    },
  );

  it(
    'rides out a disconnect, a silent stall and a 64008 notice, each as it should be in the ledger',
    { timeout: 60_000 },
    async () => {
      const r = await rig('okx-swap', {
        symbols: ['ETH-USDT-SWAP'],
        types: ['book', 'trade', 'liquidation'],
        staleAfterMs: 2_000,
      });
      const trades = () => r.published.filter((p) => p.subject.endsWith('.trade')).length;
      /** Waits for a few trades: the trade-id check needs a trade before an outage and one after. */
      const moreTrades = async (what: string) => {
        const n = trades();
        await until(() => trades() > n + 2, what);
      };
      await until(() => r.collector.book('ETH-USDT-SWAP') !== undefined, 'first sync');
      await moreTrades('trades');

      r.sim.inject({ type: 'disconnect', venue: 'okx-swap' });
      await until(
        () => r.gaps().some((g) => g.cause === 'disconnect' && g.symbol === null),
        'the disconnect',
      );
      await until(
        () =>
          r.gaps().some((g) => g.cause === 'disconnect' && g.symbol === 'ETH-USDT-SWAP' && g.end !== null),
        'the book gap of the disconnect, closed',
      );
      await moreTrades('trades after the disconnect');

      r.sim.inject({ type: 'stall', venue: 'okx-swap', ms: 5_000 });
      await until(
        () => r.gaps().some((g) => g.cause === 'stale' && g.symbol === null),
        'the stall detected',
        20_000,
      );
      expect(r.health.some((h) => h.health === 'degraded')).toBe(true);
      await until(() => r.collector.book('ETH-USDT-SWAP') !== undefined, 'in sync after the stall', 20_000);
      // The trades lost in the stall are a trade-id gap, recorded with the first trade after it.
      await moreTrades('trades after the stall');
      expect(r.gaps().some((g) => g.cause === 'trade-id' && g.symbol === 'ETH-USDT-SWAP')).toBe(true);

      const before = r.gaps().length;
      const rotations = () => r.collector.connectionStats().reduce((n, c) => n + c.stats.rotations, 0);
      const rotationsBefore = rotations();
      r.sim.inject({ type: 'server-shutdown', venue: 'okx-swap', graceMs: 4_000 });
      await until(() => rotations() > rotationsBefore, 'a lossless move to a new connection', 20_000);
      await sleep(1_000);
      // Lossless: no connection gap, no book gap, no trade ids missing.
      expect(r.gaps().slice(before)).toEqual([]);
      await expectBookEqualsTruth(r, 'ETH-USDT-SWAP');
      await until(() => r.health.at(-1)?.health === 'healthy', 'healthy again');
      // Both sockets delivered during the hand-over: no liquidation was published twice.
      const liquidations = r.published
        .filter((p) => p.subject.endsWith('.liquidation'))
        .map((p) => p.data as LiquidationRecord)
        .map((l) => `${l.exchangeTs}:${l.side}:${l.price}:${l.size}`);
      expect(liquidations.length).toBeGreaterThan(0);
      expect(new Set(liquidations).size).toBe(liquidations.length);
    },
  );

  it(
    'a 429 on the instruments request is in the ledger; a refused subscribe is retried',
    { timeout: 60_000 },
    async () => {
      const sim = await simulator();
      sim.inject({ type: 'rate-limit', venue: 'okx-swap', retryAfterSec: 1, count: 1 });
      const r = await rig('okx-swap', { symbols: ['BTC-USDT-SWAP'], types: ['book', 'funding'] }, sim);
      expect(await r.collector.whenSubscribed(20_000)).toBe(true);
      const limited = r.gaps().find((g) => g.cause === 'rate-limit')!;
      expect(limited).toMatchObject({ symbol: null, stream: 'instruments' });
      expect(limited.end! - limited.start).toBeGreaterThanOrEqual(900);
      expect(r.collector.restStats().rateLimited).toBe(1);
      expect(r.collector.subscriptionErrors).toBe(1);
      await until(() => r.collector.book('BTC-USDT-SWAP') !== undefined, 'in sync');
      await expectBookEqualsTruth(r, 'BTC-USDT-SWAP');
    },
  );

  it(
    'verifies real checksums over thousands of updates without a false mismatch, and catches a bad one',
    { timeout: 60_000 },
    async () => {
      const sim = await okxServer({
        symbols: ['BTCUSDT', 'ETHUSDT'],
        stepMs: 5,
        depthIntervalMs: 10,
        options: { checksums: true },
      });
      const r = await rig('okx-swap', { symbols: ['BTC-USDT-SWAP', 'ETH-USDT-SWAP'], types: ['book'] }, sim);
      const verified = () =>
        [...r.collector.bookSyncs().values()].reduce((n, s) => n + s.counters.checksumsVerified, 0);
      await until(() => verified() > 2_000, 'two thousand checksums verified', 45_000);
      expect(r.gaps()).toEqual([]);
      sim.server!.corruptNextChecksum('ETH-USDT-SWAP');
      await until(
        () => r.gaps().some((g) => g.cause === 'checksum' && g.end !== null),
        'a closed checksum gap',
      );
      expect(r.gaps()).toEqual([expect.objectContaining({ symbol: 'ETH-USDT-SWAP', cause: 'checksum' })]);
      await expectBookEqualsTruth(r, 'ETH-USDT-SWAP');
    },
  );

  it(
    'spreads 90 books over connections of at most 29, connecting under 3 per second, also after a disconnect',
    { timeout: 60_000 },
    async () => {
      const symbols = Array.from({ length: 90 }, (_, i) => `C${i}USDT`);
      // Spot markets only matter here; swaps of the same names are stepped too, so keep steps slow.
      const sim = await okxServer({ symbols, stepMs: 100, depthIntervalMs: 100 });
      const instIds = symbols.map((s) => `${s.slice(0, -4)}-USDT`);
      const r = await rig('okx-spot', { symbols: instIds, types: ['book'], bookDepth: 50 }, sim);
      expect(await r.collector.whenSubscribed(20_000)).toBe(true);
      expect(r.collector.connectionStats().map((c) => c.name)).toEqual(
        [0, 1, 2, 3].map((i) => `okx-spot/public-${i}`),
      );
      const synced = () => instIds.every((id) => r.collector.book(id) !== undefined);
      await until(synced, 'every book in sync', 20_000);
      r.sim.inject({ type: 'disconnect', venue: 'okx-spot' });
      await until(
        () => r.collector.connectionStats().every((c) => c.stats.reconnects === 1 && c.up),
        'four reconnects',
      );
      await until(synced, 'every book in sync again', 20_000);
      // The server refuses a fourth connection within a second: it never had to.
      expect(sim.control.stats()).toMatchObject({ connectionsOpened: 8, closedForRate: 0 });
      await expectBookEqualsTruth(r, instIds[89]!);
    },
  );
});
