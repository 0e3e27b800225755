/**
 * The Deribit collector against the market simulator over real sockets, recording into a real
 * market/deribit.db: books equal the true book, normalized trades, liquidations, funding and open
 * interest (throttled), every injected fault detected, written to the gap ledger and recovered from,
 * 10028 honoured (no reconnect before the hold), heartbeats answered, DVOL live and its history
 * back-filled page by page without a missing or repeated bar.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseCollectorConfig, type CollectorConfig } from '../../src/shared/collector-config';
import type {
  BookRecord,
  FundingRecord,
  GapRecord,
  LiquidationRecord,
  OpenInterestRecord,
  TradeRecord,
  VolatilityIndexRecord,
} from '../../src/shared/market';
import type { Fault } from '../../src/services/simulator/faults';
import { DeribitCollector, type DeribitConfig } from '../../src/services/collector/deribit/deribit-collector';
import { marketDbPath } from '../../src/services/collector/market-db';
import { MarketReader } from '../../src/services/collector/market-reader';
import { MarketRecorder } from '../../src/services/collector/recorder';
import { dvolBar } from '../../src/services/simulator/deribit';
import type { SimTrade } from '../../src/services/simulator/market';
import { startSimulator, type SimulatorOptions } from '../../src/services/simulator/simulator';
import type { VenueStats } from '../../src/services/simulator/venue-server';
import type { Level } from '../../src/shared/market';
import { until } from '../helpers/process-fixtures';
import { tempDir } from '../helpers/temp-dir';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const BTC = 'BTC-PERPETUAL';
const ETH = 'ETH-PERPETUAL';

/** What the tests need of a simulator: the whole one, or a Deribit server with its own options. */
interface Sim {
  urls: { ws: string; rest: string };
  trueBook(instrument: string): { lastUpdateId: number; bids: Level[]; asks: Level[] };
  trades(instrument: string): SimTrade[];
  inject(fault: Fault): void;
  pause(): void;
  resume(): void;
  stats(): VenueStats;
}

/** The whole simulator; `deribit` options scale its heartbeat unit, DVOL pages and pace for tests. */
async function simulator(deribit?: SimulatorOptions['deribit']): Promise<Sim> {
  const sim = await startSimulator({ seed: 7, stepMs: 10, depthIntervalMs: 20, deribit });
  cleanups.push(() => sim.close());
  return {
    urls: sim.urls.deribit,
    trueBook: (instrument) => sim.trueBook('deribit', instrument),
    trades: (instrument) => sim.trades('deribit', instrument),
    inject: (fault) => sim.inject(fault),
    pause: () => sim.pause(),
    resume: () => sim.resume(),
    stats: () => sim.stats().servers.deribit,
  };
}

interface Rig {
  sim: Sim;
  collector: DeribitCollector;
  recorder: MarketRecorder;
  published: { subject: string; data: unknown }[];
  health: { health: string; message: string }[];
  /** Log lines with the time they were written. */
  logs: { at: number; line: string }[];
  reader(): MarketReader;
  gaps(): GapRecord[];
  records<T>(subject: string): T[];
}

async function rig(sim: Sim, overrides: Partial<CollectorConfig> = {}): Promise<Rig> {
  const dir = tempDir('vderibit-');
  cleanups.push(() => dir.remove());
  const parsed = parseCollectorConfig({
    venue: 'deribit',
    simulated: true,
    endpoints: sim.urls,
    staleAfterMs: 3_000,
    dvolHistoryDays: 0,
    ...overrides,
  });
  if (!parsed.ok) throw new Error(parsed.error);
  const recorder = MarketRecorder.open({
    dataDir: dir.path,
    venue: 'deribit',
    retentionDays: 30,
    flushIntervalMs: 50,
  });
  const published: Rig['published'] = [];
  const health: Rig['health'] = [];
  const logs: Rig['logs'] = [];
  const collector = new DeribitCollector(parsed.config as DeribitConfig, {
    publish: (subject, data) => published.push({ subject, data }),
    recorder,
    health: (h, message) => health.push({ health: h, message }),
    log: (line) => logs.push({ at: Date.now(), line }),
  });
  cleanups.push(() => void recorder.close());
  cleanups.push(() => collector.close());
  collector.start();
  const reader = (): MarketReader => {
    recorder.flush();
    const r = MarketReader.open(marketDbPath(dir.path, 'deribit'));
    cleanups.push(() => r.close());
    return r;
  };
  return {
    sim,
    collector,
    recorder,
    published,
    health,
    logs,
    reader,
    gaps: () => {
      recorder.flush();
      const r = MarketReader.open(marketDbPath(dir.path, 'deribit'));
      try {
        return r.gaps({});
      } finally {
        r.close();
      }
    },
    records: <T>(subject: string) => published.filter((p) => p.subject === subject).map((p) => p.data as T),
  };
}

/** Freezes the market, lets the last changes arrive, and compares the top of the book with the truth. */
async function expectBookEqualsTruth(r: Rig, instrument: string): Promise<void> {
  r.sim.pause();
  try {
    await until(
      () => r.collector.bookSyncs().get(instrument)!.bookId === r.sim.trueBook(instrument).lastUpdateId,
      `${instrument} book to reach the true change_id`,
    );
    const depth = r.collector.config.bookDepth;
    const book = r.collector.book(instrument)!;
    const truth = r.sim.trueBook(instrument);
    expect(book.levels('bid', depth)).toEqual(truth.bids.slice(0, depth));
    expect(book.levels('ask', depth)).toEqual(truth.asks.slice(0, depth));
  } finally {
    r.sim.resume();
  }
}

describe('Deribit collector against the simulator', () => {
  it('keeps both books equal to the true book and publishes and records trades, liquidations, funding and OI', async () => {
    const r = await rig(await simulator());
    expect(await r.collector.whenSubscribed(10_000)).toBe(true);
    const deltas = (i: string) =>
      r.records<BookRecord>(`md.deribit.${i}.book`).filter((b) => b.kind === 'delta').length;
    await until(
      () =>
        deltas(BTC) > 150 &&
        deltas(ETH) > 150 &&
        r.records(`md.deribit.${BTC}.liquidation`).length +
          r.records(`md.deribit.${ETH}.liquidation`).length >=
          2 &&
        r.records(`md.deribit.${BTC}.funding`).length >= 3,
      'book changes, liquidations and funding',
      30_000,
    );
    for (const i of [BTC, ETH]) await expectBookEqualsTruth(r, i);

    const snapshot = r.records<BookRecord>(`md.deribit.${BTC}.book`)[0]!;
    expect(snapshot).toMatchObject({ type: 'book', venue: 'deribit', symbol: BTC, kind: 'snapshot' });
    expect(snapshot.bids[0]![0]).toBeLessThan(snapshot.asks[0]![0]);
    const trades = r.records<TradeRecord>(`md.deribit.${BTC}.trade`);
    expect(trades[0]).toMatchObject({
      type: 'trade',
      venue: 'deribit',
      symbol: BTC,
      id: expect.stringMatching(/^\d+$/),
    });
    expect(r.records(`md.deribit.${BTC}.top`)[0]).toMatchObject({
      type: 'top',
      bidPrice: expect.any(Number),
    });

    // Liquidations: the flagged trades, complete (not partial), recorded.
    const liquidations = [BTC, ETH].flatMap((i) =>
      r.records<LiquidationRecord>(`md.deribit.${i}.liquidation`),
    );
    const flagged = [BTC, ETH]
      .flatMap((i) => r.records<TradeRecord>(`md.deribit.${i}.trade`))
      .filter((t) => t.liquidation);
    expect(flagged.length).toBe(liquidations.length);
    for (const l of liquidations) {
      expect(l.partial).toBe(false);
      expect(flagged).toContainEqual(
        expect.objectContaining({
          symbol: l.symbol,
          exchangeTs: l.exchangeTs,
          price: l.price,
          size: l.size,
          side: l.side,
        }),
      );
    }

    // Funding and OI: a ticker every 20 ms, recorded at most once a second per instrument.
    for (const i of [BTC, ETH]) {
      const funding = r.records<FundingRecord>(`md.deribit.${i}.funding`);
      const oi = r.records<OpenInterestRecord>(`md.deribit.${i}.oi`);
      for (const list of [funding, oi]) {
        for (let k = 1; k < list.length; k++)
          expect(list[k]!.localTs - list[k - 1]!.localTs).toBeGreaterThanOrEqual(1_000);
      }
      expect(funding[0]).toMatchObject({
        rate: expect.any(Number),
        intervalMs: 8 * 3_600_000,
        markPrice: expect.any(Number),
      });
      expect(funding[0]!.nextFundingTime % (8 * 3_600_000)).toBe(0);
      expect(funding[0]!.nextFundingTime).toBeGreaterThan(funding[0]!.exchangeTs);
      expect(oi[0]!.openInterest).toBeGreaterThan(1e6); // USD, as sent
    }

    const reader = r.reader();
    const now = Date.now() + 1;
    expect(reader.trades(BTC, 0, now).length).toBeGreaterThan(10);
    expect(reader.liquidations(BTC, 0, now).length + reader.liquidations(ETH, 0, now).length).toBe(
      liquidations.length,
    );
    expect(reader.funding(BTC, 0, now).length).toBe(r.records(`md.deribit.${BTC}.funding`).length);
    expect(reader.openInterest(ETH, 0, now).length).toBe(r.records(`md.deribit.${ETH}.oi`).length);
    await until(() => r.health.at(-1)?.health === 'healthy', 'healthy');
    expect(r.gaps()).toEqual([]);
  });

  it('detects a lost change and a skipped trade_seq, and a crossed book; each in the ledger; resyncs to the truth', async () => {
    const r = await rig(await simulator(), { symbols: [BTC], types: ['book', 'trade'] });
    await until(() => r.collector.book(BTC) !== undefined, 'first sync');
    await until(() => r.records(`md.deribit.${BTC}.trade`).length > 0, 'a trade');
    r.sim.inject({ type: 'gap', venue: 'deribit', symbol: BTC });
    await until(
      () => r.gaps().some((g) => g.cause === 'sequence' && g.end !== null),
      'a closed sequence gap',
    );
    await until(() => r.gaps().some((g) => g.cause === 'trade-id'), 'a trade-id gap');
    const tradeGap = r.gaps().find((g) => g.cause === 'trade-id')!;
    expect(tradeGap).toMatchObject({
      symbol: BTC,
      stream: 'trade',
      detail: expect.stringMatching(/trade_seq \d+–\d+ never arrived/),
    });
    // A crossed change that lands while the book is resyncing is ignored: inject until one lands on a synced book.
    await until(
      async () => {
        if (r.gaps().some((g) => g.cause === 'crossed' && g.end !== null)) return true;
        if (r.collector.book(BTC) !== undefined)
          r.sim.inject({ type: 'crossed', venue: 'deribit', symbol: BTC });
        await sleep(1_000);
        return r.gaps().some((g) => g.cause === 'crossed' && g.end !== null);
      },
      'a closed crossed gap',
      20_000,
    );
    for (const g of r.gaps().filter((g) => g.stream === 'book')) {
      expect(g).toMatchObject({ venue: 'deribit', symbol: BTC });
      expect(g.end!).toBeGreaterThanOrEqual(g.start);
    }
    expect(r.collector.bookSyncs().get(BTC)!.counters.snapshots).toBeGreaterThanOrEqual(3);
    expect(r.collector.stats.report()[`${BTC}.book.gaps`]).toBe(2);
    await expectBookEqualsTruth(r, BTC);
    expect(r.published.some((p) => p.subject === `md.deribit.${BTC}.gap`)).toBe(true);
  });

  it('rides out a disconnect, a silent stall and a server shutdown, each in the ledger, and converges again', async () => {
    const r = await rig(await simulator(), { symbols: [BTC], types: ['book', 'trade'], staleAfterMs: 2_000 });
    await until(() => r.collector.book(BTC) !== undefined, 'first sync');
    r.sim.inject({ type: 'disconnect', venue: 'deribit' });
    await until(
      () => r.gaps().some((g) => g.cause === 'disconnect' && g.symbol === null),
      'the disconnect in the ledger',
    );
    await until(() => r.collector.book(BTC) !== undefined, 'resync after the disconnect');
    expect(r.gaps().some((g) => g.cause === 'disconnect' && g.symbol === BTC && g.end !== null)).toBe(true);

    r.sim.inject({ type: 'stall', venue: 'deribit', ms: 4_000 });
    await until(
      () => r.gaps().some((g) => g.cause === 'stale' && g.symbol === null),
      'the stall detected as stale',
      15_000,
    );
    expect(r.health.some((h) => h.health === 'degraded')).toBe(true);
    await until(() => r.collector.book(BTC) !== undefined, 'in sync after the stall', 15_000);

    const opened = r.sim.stats().connectionsOpened;
    r.sim.inject({ type: 'server-shutdown', venue: 'deribit', graceMs: 300 });
    await until(() => r.sim.stats().connectionsOpened > opened, 'a new connection after the shutdown');
    await until(() => r.collector.book(BTC) !== undefined, 'in sync after everything');
    await expectBookEqualsTruth(r, BTC);
    expect(r.collector.stats.reconnects).toBeGreaterThanOrEqual(3);
    await until(() => r.health.at(-1)?.health === 'healthy', 'healthy again');
  });

  it('on 10028 records a rate-limit gap and does not reconnect before the hold, then recovers', async () => {
    const r = await rig(await simulator(), { symbols: [BTC], types: ['book'] });
    expect(await r.collector.whenSubscribed(10_000)).toBe(true);
    await until(() => r.collector.book(BTC) !== undefined, 'first sync');
    // Credits gone for 3 s; the gap makes the collector resubscribe, which is refused.
    r.sim.inject({ type: 'rate-limit', venue: 'deribit', retryAfterSec: 3, count: 1 });
    r.sim.inject({ type: 'gap', venue: 'deribit', symbol: BTC });
    await until(() => r.gaps().some((g) => g.cause === 'rate-limit'), 'the 10028 in the ledger');
    await until(
      () => r.collector.rateLimitStats().refusals >= 2,
      'refused again while the credits were out',
      15_000,
    );
    await until(() => r.collector.book(BTC) !== undefined, 'in sync after the credits came back', 20_000);
    const limits = r.gaps().filter((g) => g.cause === 'rate-limit');
    expect(limits.length).toBe(2);
    expect(limits[0]!.symbol).toBeNull();
    expect(limits[0]!.end! - limits[0]!.start).toBeGreaterThanOrEqual(2_000);
    expect(limits[1]!.end! - limits[1]!.start).toBeGreaterThanOrEqual(4_000); // the wait grows
    // Every socket open, timed as the collector saw it: none inside a hold.
    const opens = r.logs.filter((l) => /connected \(connection \d+\)/.test(l.line)).map((l) => l.at);
    expect(opens).toHaveLength(3); // the first, the one refused again, the one that recovered
    for (const g of limits) {
      for (const at of opens)
        expect(at <= g.start || at >= g.end!, `open at ${at} in [${g.start}, ${g.end}]`).toBe(true);
    }
    expect(r.sim.stats().closedForRate).toBe(2);
    await expectBookEqualsTruth(r, BTC);
  });

  it('answers heartbeats, counts and skips malformed messages, and keeps the book to its depth', async () => {
    // 10 s heartbeats in 50 ms units: a test_request every 500 ms; a book deeper than 50 levels.
    const sim = await simulator({ heartbeatUnitMs: 50 });
    const r = await rig(sim, { symbols: [BTC], types: ['book', 'top'], bookDepth: 50 });
    expect(await r.collector.whenSubscribed(10_000)).toBe(true);
    await until(() => r.collector.testRequestsAnswered >= 6, 'six test_requests answered', 15_000);
    expect(sim.stats().closedForPong).toBe(0);
    expect(r.collector.connectionStats()[0]!.stats.reconnects).toBe(0);

    await until(() => r.collector.book(BTC) !== undefined, 'first sync');
    sim.inject({ type: 'malformed', venue: 'deribit' });
    await until(() => r.collector.stats.parseErrors >= 3, 'three malformed messages counted');
    await sleep(300);
    expect(r.collector.stats.parseErrors).toBe(3);
    expect(r.collector.book(BTC)).toBeDefined();
    await sleep(1_200); // a trim
    expect(r.collector.book(BTC)!.depth('bid')).toBeLessThanOrEqual(100);
    await expectBookEqualsTruth(r, BTC);
    expect(r.gaps()).toEqual([]);
  });

  it('loses and repeats nothing across a shortened 24 h rotation: the book moves to the new socket', async () => {
    const r = await rig(await simulator(), {
      symbols: [BTC],
      types: ['book', 'trade'],
      rotateAfterMs: 10_000,
    });
    await until(() => r.collector.connectionStats()[0]!.stats.rotations >= 1, 'a rotation', 30_000);
    await sleep(500);
    const generation = r.collector.connectionStats()[0]!.stats.generation;
    expect(generation).toBe(2);
    expect(r.collector.bookSyncs().get(BTC)!.generation).toBe(generation);
    await expectBookEqualsTruth(r, BTC);
    expect(r.gaps()).toEqual([]);
    // Every trade of the simulator in the published window, once.
    const published = r.records<TradeRecord>(`md.deribit.${BTC}.trade`);
    const ids = published.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    const first = published[0]!.exchangeTs;
    const last = published.at(-1)!.exchangeTs;
    const truth = r.sim.trades(BTC).filter((t) => t.time >= first && t.time <= last);
    expect(truth.length).toBeGreaterThan(20);
    expect(new Set(ids)).toEqual(new Set(truth.map((t) => String(t.id))));
  });

  it('publishes and records live DVOL, and back-fills its 1-minute history page by page', async () => {
    const sim = await simulator({ dvolPageSize: 100, dvolIntervalMs: 200 });
    const r = await rig(sim, { symbols: [BTC, ETH], types: ['dvol'], dvolHistoryDays: 1 });
    await until(
      () => r.collector.dvolBackfill().every((p) => p.done) && r.collector.dvolBackfill().length === 2,
      'the back-fill',
      20_000,
    );
    await until(() => r.records('md.deribit.ETH.dvol').length >= 2, 'live DVOL');
    for (const currency of ['BTC', 'ETH'] as const) {
      const progress = r.collector.dvolBackfill().find((p) => p.currency === currency)!;
      expect(progress.pages).toBe(15);
      // Read back from market/deribit.db.
      const db = r.reader();
      const bars = db.volatility(currency, 0, Number.MAX_SAFE_INTEGER, 60);
      const grid: number[] = [];
      for (let t = progress.from; t <= progress.to; t += 60_000) grid.push(t);
      expect(grid).toHaveLength(1_440);
      expect(bars.map((b) => b.exchangeTs).sort((a, b) => a - b)).toEqual(grid);
      expect(progress.to).toBeLessThan(Date.now() - 60_000); // complete bars only
      const bar = bars[17]!;
      expect([bar.exchangeTs, bar.open, bar.high, bar.low, bar.close]).toEqual(
        dvolBar(currency, bar.exchangeTs, 60_000),
      );
      // The history is recorded, not published.
      const live = r.records<VolatilityIndexRecord>(`md.deribit.${currency}.dvol`);
      expect(live.every((v) => v.resolutionSec === 0)).toBe(true);
      expect(live[0]).toMatchObject({ type: 'dvol', venue: 'deribit', symbol: currency });
      expect(live[0]!.open).toBe(live[0]!.close);
      const stored = db.volatility(currency, 0, Number.MAX_SAFE_INTEGER, 0);
      expect(stored.length).toBeGreaterThanOrEqual(2);
      expect(stored.map((v) => v.close)).toEqual(
        live.filter((v) => v.exchangeTs <= stored.at(-1)!.exchangeTs).map((v) => v.close),
      );
    }
    expect(
      r.logs.some((l) => /DVOL BTC history: 1440 1-minute bars back-filled in 15 pages/.test(l.line)),
    ).toBe(true);
  });
});
