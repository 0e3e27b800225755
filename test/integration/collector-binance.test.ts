/**
 * The Binance collector against the market simulator over real sockets, recording into a real
 * market/<venue>.db: books equal the simulator's true book after thousands of updates, every injected
 * fault is detected, written to the gap ledger and recovered from, and recorded candles match trades.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseCollectorConfig, type CollectorConfig } from '../../src/shared/collector-config';
import type { BookRecord, GapRecord, Venue } from '../../src/shared/market';
import { BinanceCollector, type BinanceConfig } from '../../src/services/collector/binance/binance-collector';
import { marketDbPath } from '../../src/services/collector/market-db';
import { MarketRecorder } from '../../src/services/collector/recorder';
import { MarketReader } from '../../src/services/collector/market-reader';
import { startSimulator, type Simulator } from '../../src/services/simulator/simulator';
import { until } from '../helpers/process-fixtures';
import { tempDir } from '../helpers/temp-dir';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type CollectorVenue = 'binance-spot' | 'binance-usdm';

interface Rig {
  sim: Simulator;
  collector: BinanceCollector;
  recorder: MarketRecorder;
  published: { subject: string; data: unknown }[];
  health: { health: string; message: string }[];
  dataDir: string;
  gaps(): GapRecord[];
}

async function rig(
  venue: CollectorVenue,
  overrides: Partial<CollectorConfig> = {},
  sim?: Simulator,
): Promise<Rig> {
  const simulator =
    sim ??
    (await startSimulator({
      seed: 7,
      stepMs: 10,
      depthIntervalMs: 20,
      pingIntervalMs: { 'binance-spot': 2_000, 'binance-usdm': 2_000 },
    }));
  if (!sim) cleanups.push(() => simulator.close());
  const dir = tempDir('vcoll-');
  cleanups.push(() => dir.remove());
  const urls = simulator.urls[venue];
  const parsed = parseCollectorConfig({
    venue,
    simulated: true,
    endpoints: urls,
    staleAfterMs: 3_000,
    pollIntervalMs: 1_000,
    ...overrides,
  });
  if (!parsed.ok) throw new Error(parsed.error);
  const recorder = MarketRecorder.open({ dataDir: dir.path, venue, retentionDays: 30, flushIntervalMs: 50 });
  const published: Rig['published'] = [];
  const health: Rig['health'] = [];
  const collector = new BinanceCollector(parsed.config as BinanceConfig, {
    publish: (subject, data) => published.push({ subject, data }),
    recorder,
    health: (h, message) => health.push({ health: h, message }),
    log: () => undefined,
  });
  cleanups.push(() => void recorder.close());
  cleanups.push(() => collector.close());
  collector.start();
  return {
    sim: simulator,
    collector,
    recorder,
    published,
    health,
    dataDir: dir.path,
    gaps: () => {
      recorder.flush();
      const reader = MarketReader.open(marketDbPath(dir.path, venue as Venue));
      try {
        return reader.gaps({});
      } finally {
        reader.close();
      }
    },
  };
}

/** Freezes the market, lets the last diffs arrive, and compares the collector's book with the truth. */
async function expectBookEqualsTruth(r: Rig, venue: CollectorVenue, symbol: string): Promise<void> {
  r.sim.pause();
  try {
    await until(() => {
      const book = r.collector.book(symbol);
      const truth = r.sim.trueBook(venue, symbol);
      const depth = r.collector.config.bookDepth;
      return (
        book !== undefined &&
        r.collector.bookSyncs().get(symbol)!.bookId === truth.lastUpdateId &&
        book.depth('bid') <= depth && // trimmed each second to the configured depth
        book.depth('ask') <= depth
      );
    }, `${symbol} book to reach the true book's update id`);
    const book = r.collector.book(symbol)!;
    const truth = r.sim.trueBook(venue, symbol);
    expect(book.levels('bid')).toEqual(truth.bids.slice(0, book.depth('bid')));
    expect(book.levels('ask')).toEqual(truth.asks.slice(0, book.depth('ask')));
    // Every level held is exact and contiguous from the top; after deletions near the top a book cut
    // at the snapshot's depth holds a few fewer until its next snapshot (BinanceBookSync.trim).
    const depth = r.collector.config.bookDepth;
    for (const side of ['bid', 'ask'] as const) {
      const held = book.depth(side);
      expect(held).toBeLessThanOrEqual(depth);
      expect(held).toBeGreaterThanOrEqual(Math.min(truth[`${side}s`].length, depth) * 0.8);
    }
  } finally {
    r.sim.resume();
  }
}

describe.each(['binance-spot', 'binance-usdm'] as const)('collector %s against the simulator', (venue) => {
  it(
    'keeps every book equal to the true book over thousands of updates, and publishes normalized data',
    { timeout: 90_000 },
    async () => {
      const r = await rig(venue);
      expect(await r.collector.whenSubscribed(10_000)).toBe(true);
      const levelUpdates = (symbol: string): number =>
        r.published
          .filter(
            (p) => p.subject === `md.${venue}.${symbol}.book` && (p.data as BookRecord).kind === 'delta',
          )
          .reduce((n, p) => n + (p.data as BookRecord).bids.length + (p.data as BookRecord).asks.length, 0);
      await until(
        () => levelUpdates('BTCUSDT') > 3_000 && levelUpdates('ETHUSDT') > 3_000,
        'thousands of level updates per book',
        60_000,
      );
      for (const symbol of ['BTCUSDT', 'ETHUSDT']) await expectBookEqualsTruth(r, venue, symbol);
      const subjects = new Set(r.published.map((p) => p.subject));
      for (const t of ['book', 'trade', 'top']) expect(subjects).toContain(`md.${venue}.BTCUSDT.${t}`);
      if (venue === 'binance-usdm') {
        await until(() => r.published.some((p) => p.subject.endsWith('.oi')), 'open interest polled');
        await until(() => r.published.some((p) => p.subject.endsWith('.funding')), 'funding from markPrice');
      }
      const trade = r.published.find((p) => p.subject === `md.${venue}.BTCUSDT.trade`)!.data;
      expect(trade).toMatchObject({
        type: 'trade',
        venue,
        symbol: 'BTCUSDT',
        side: expect.stringMatching(/^(buy|sell)$/),
      });
      const snapshot = r.published.find((p) => (p.data as BookRecord).kind === 'snapshot')!
        .data as BookRecord;
      expect(snapshot.bids[0]![0]).toBeLessThan(snapshot.asks[0]![0]);
      expect(r.health.at(-1)).toMatchObject({ health: 'healthy' });
      expect(r.gaps()).toEqual([]);
    },
  );

  it(
    'detects a sequence gap and a crossed book, writes both to the ledger, and resyncs to the truth',
    { timeout: 90_000 },
    async () => {
      const r = await rig(venue, { symbols: ['BTCUSDT'] });
      await until(() => r.collector.book('BTCUSDT') !== undefined, 'first sync');
      r.sim.inject({ type: 'gap', venue, symbol: 'BTCUSDT' });
      await until(
        () => r.gaps().some((g) => g.cause === 'sequence' && g.end !== null),
        'a closed sequence gap',
      );
      // A crossed event that lands while the book is still resyncing is a failed sync, not a new gap:
      // inject again until one reaches a synced book (on a loaded machine the first may not).
      await until(
        async () => {
          if (r.gaps().some((g) => g.cause === 'crossed' && g.end !== null)) return true;
          if (r.collector.book('BTCUSDT') !== undefined)
            r.sim.inject({ type: 'crossed', venue, symbol: 'BTCUSDT' });
          await new Promise((res) => setTimeout(res, 2_000));
          return r.gaps().some((g) => g.cause === 'crossed' && g.end !== null);
        },
        'a closed crossed gap',
        40_000,
      );
      const gaps = r.gaps();
      for (const g of gaps) {
        expect(g).toMatchObject({ venue, symbol: 'BTCUSDT', stream: 'book' });
        expect(g.end!).toBeGreaterThanOrEqual(g.start);
      }
      expect(r.collector.bookSyncs().get('BTCUSDT')!.counters.syncs).toBeGreaterThanOrEqual(3);
      await expectBookEqualsTruth(r, venue, 'BTCUSDT');
      // Published too, so a strategy hears of it.
      expect(r.published.some((p) => p.subject === `md.${venue}.BTCUSDT.gap`)).toBe(true);
    },
  );

  it('rides out a disconnect, a silent stall and a serverShutdown, each in the ledger, and converges again', async () => {
    const r = await rig(venue, { symbols: ['BTCUSDT'], types: ['book', 'trade'] });
    await until(() => r.collector.book('BTCUSDT') !== undefined, 'first sync');
    r.sim.inject({ type: 'disconnect', venue });
    await until(
      () => r.gaps().some((g) => g.cause === 'disconnect' && g.symbol === null),
      'the disconnect in the ledger',
    );
    await until(() => r.collector.book('BTCUSDT') !== undefined, 'resync after the disconnect');

    r.sim.inject({ type: 'stall', venue, ms: 6_000 });
    await until(() => r.gaps().some((g) => g.cause === 'stale'), 'the stall detected as stale', 20_000);
    expect(r.health.some((h) => h.health === 'degraded')).toBe(true);

    await until(() => r.collector.book('BTCUSDT') !== undefined, 'in sync after the stall', 20_000);
    const rotationsBefore = r.collector.connectionStats().reduce((n, c) => n + c.stats.rotations, 0);
    r.sim.inject({ type: 'server-shutdown', venue, graceMs: 1_500 });
    await until(
      () =>
        r.collector.connectionStats().reduce((n, c) => n + c.stats.rotations, 0) > rotationsBefore ||
        r.gaps().some((g) => g.cause === 'server-shutdown'),
      'a move to a new connection on serverShutdown',
    );
    await until(() => r.collector.book('BTCUSDT') !== undefined, 'in sync after everything');
    await expectBookEqualsTruth(r, venue, 'BTCUSDT');
    await until(() => r.health.at(-1)?.health === 'healthy', 'healthy again');
  });

  it('counts and skips malformed messages, honours a 429 on the snapshot, and keeps the book to its depth', async () => {
    // 100 levels: fewer than the simulator's book, so levels that drift past it must be trimmed.
    const r = await rig(venue, { symbols: ['BTCUSDT'], bookDepth: 100 });
    await until(() => r.collector.book('BTCUSDT') !== undefined, 'first sync');
    r.sim.inject({ type: 'malformed', venue });
    await until(() => r.collector.stats.parseErrors >= 3, 'three malformed messages counted');
    expect(r.collector.book('BTCUSDT')).toBeDefined();

    r.sim.inject({ type: 'rate-limit', venue, status: 429, retryAfterSec: 2, count: 1 });
    r.sim.inject({ type: 'gap', venue, symbol: 'BTCUSDT' });
    await until(() => r.gaps().some((g) => g.cause === 'rate-limit'), 'the 429 in the ledger');
    const limited = r.gaps().find((g) => g.cause === 'rate-limit')!;
    expect(limited.end! - limited.start).toBeGreaterThanOrEqual(1_500);
    await until(() => r.collector.book('BTCUSDT') !== undefined, 'resync after Retry-After', 20_000);
    expect(r.collector.restStats().rateLimited).toBe(1);
    await expectBookEqualsTruth(r, venue, 'BTCUSDT');
  });
});

describe('recording', () => {
  it('records trades and candles that match them, and loses no trade across a shortened 24 h rotation', async () => {
    const r = await rig('binance-spot', { symbols: ['BTCUSDT'], types: ['trade'], rotateAfterMs: 10_000 });
    await until(
      () => r.collector.connectionStats().every((c) => c.stats.rotations >= 1),
      'a rotation',
      40_000,
    );
    await new Promise((res) => setTimeout(res, 1_000));
    r.sim.pause();
    await new Promise((res) => setTimeout(res, 500));
    r.recorder.flush();
    const reader = MarketReader.open(marketDbPath(r.dataDir, 'binance-spot'));
    cleanups.push(() => reader.close());
    const recorded = reader.trades('BTCUSDT', 0, Date.now() + 1);
    expect(recorded.length).toBeGreaterThan(50);
    // No aggregate id missing from the first recorded to the last: the rotation lost nothing.
    const ids = recorded.map((t) => Number(t.id)).sort((a, b) => a - b);
    expect(ids.at(-1)! - ids[0]! + 1).toBe(ids.length);
    expect(r.gaps()).toEqual([]);
    // 1-minute candles equal a brute-force aggregation of the recorded trades.
    r.recorder.flush();
    const candles = reader.candles('BTCUSDT', '1s', 0, Date.now() + 1);
    const bySecond = new Map<number, { n: number; volume: number; high: number; low: number }>();
    for (const t of recorded) {
      const start = Math.floor(t.exchangeTs / 1000) * 1000;
      const c = bySecond.get(start) ?? { n: 0, volume: 0, high: -Infinity, low: Infinity };
      c.n += 1;
      c.volume += t.size;
      c.high = Math.max(c.high, t.price);
      c.low = Math.min(c.low, t.price);
      bySecond.set(start, c);
    }
    expect(candles.length).toBeGreaterThan(0);
    for (const c of candles) {
      const want = bySecond.get(c.start);
      expect(want, `candle ${c.start}`).toBeDefined();
      expect(c.trades).toBe(want!.n);
      expect(c.high).toBe(want!.high);
      expect(c.low).toBe(want!.low);
      expect(c.volume).toBeCloseTo(want!.volume, 9);
    }
  });
});
