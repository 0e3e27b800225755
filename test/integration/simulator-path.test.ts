/**
 * Scripted price paths over real sockets: the real Binance spot collector sees tops, trades and a book
 * that follow the script (tops a tick either side of each price, every trade at that top, the book
 * equal to the true one with no gap or resync across the jumps); the control endpoint; the child
 * program's `paths` configuration.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseCollectorConfig } from '../../src/shared/collector-config';
import type { TopOfBookRecord, TradeRecord } from '../../src/shared/market';
import { BinanceCollector, type BinanceConfig } from '../../src/services/collector/binance/binance-collector';
import { pathPositionAt, type PricePath } from '../../src/services/simulator/price-path';
import { startSimulator, type Simulator } from '../../src/services/simulator/simulator';
import { until } from '../helpers/process-fixtures';
import { runSimulatorChild } from '../helpers/simulator-child';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** BTCUSDT on Binance spot: prices in cents. */
const TICK = 0.01;
const cents = (price: number, ticks: number): number =>
  Number((Math.round(price / TICK + ticks) * TICK).toFixed(2));

async function simulator(): Promise<Simulator> {
  const sim = await startSimulator({ seed: 11, stepMs: 20, depthIntervalMs: 50 });
  cleanups.push(() => sim.close());
  return sim;
}

describe('scripted price path', () => {
  it(
    'the collector sees tops, trades and a book that follow the script exactly',
    { timeout: 60_000 },
    async () => {
      const sim = await simulator();
      const parsed = parseCollectorConfig({
        venue: 'binance-spot',
        simulated: true,
        endpoints: sim.urls['binance-spot'],
        symbols: ['BTCUSDT'],
        types: ['book', 'trade', 'top'],
        staleAfterMs: 5_000,
      });
      if (!parsed.ok) throw new Error(parsed.error);
      const published: { subject: string; data: unknown }[] = [];
      const collector = new BinanceCollector(parsed.config as BinanceConfig, {
        publish: (subject, data) => published.push({ subject, data }),
        recorder: null,
        health: () => undefined,
        log: () => undefined,
      });
      cleanups.push(() => collector.close());
      collector.start();
      await until(() => collector.book('BTCUSDT') !== undefined, 'the first book sync', 20_000);
      await sleep(500);

      // Up by far more than the book is deep, a tick down, down again, up: distinct prices.
      const path: PricePath = {
        path: [
          { price: 95_050.5, holdMs: 1_500 },
          { price: 96_200, holdMs: 1_500 },
          { price: 96_199.99, holdMs: 1_500 },
          { price: 94_000.01, holdMs: 1_500 },
          { price: 94_500, holdMs: 1_500 },
        ],
      };
      const from = published.length;
      sim.setPath('BTCUSDT', path);
      const startedAt = sim.pathPosition('BTCUSDT')!.since;
      expect(sim.pathPosition('BTCUSDT')).toEqual({
        index: 0,
        price: 95_050.5,
        since: startedAt,
        until: startedAt + 1_500,
      });
      await until(() => sim.pathPosition('BTCUSDT')!.until === null, 'the path to end', 20_000);
      await sleep(1_000);

      const indexOfPrice = (center: number): number =>
        path.path.findIndex((s) => cents(s.price, 0) === Number(center.toFixed(2)));
      const records = published.slice(from);

      const trades = records
        .filter((p) => p.subject === 'md.binance-spot.BTCUSDT.trade')
        .map((p) => p.data as TradeRecord)
        .filter((t) => t.exchangeTs > startedAt);
      const seen = new Set<number>();
      for (const t of trades) {
        const segment = pathPositionAt(path, startedAt, t.exchangeTs);
        expect(t.price).toBe(cents(segment.price, t.side === 'buy' ? 1 : -1));
        seen.add(segment.index);
      }
      expect([...seen].sort()).toEqual([0, 1, 2, 3, 4]); // each price printed
      // Each move printed at once, in its direction, at the new top.
      for (const [index, side] of [
        [1, 'buy'],
        [2, 'sell'],
        [3, 'sell'],
        [4, 'buy'],
      ] as const) {
        const first = trades.find((t) => pathPositionAt(path, startedAt, t.exchangeTs).index === index)!;
        expect(first.side).toBe(side);
        expect(first.exchangeTs - (startedAt + index * 1_500)).toBeLessThan(200); // the first step of the segment
      }
      const ids = trades.map((t) => Number(t.id));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));

      // Tops: a tick either side of a scripted price, never ahead of the script, in its order.
      const tops = records
        .filter((p) => p.subject === 'md.binance-spot.BTCUSDT.top')
        .map((p) => p.data as TopOfBookRecord)
        .filter((t) => t.localTs > startedAt + 100);
      let last = 0;
      for (const top of tops) {
        const index = indexOfPrice((top.bidPrice + top.askPrice) / 2);
        expect(cents(top.askPrice, 0) - cents(top.bidPrice, 0)).toBeCloseTo(2 * TICK, 6);
        expect(index).toBeGreaterThanOrEqual(last);
        expect(index).toBeLessThanOrEqual(pathPositionAt(path, startedAt, top.localTs).index);
        last = index;
      }
      expect(last).toBe(4);
      expect(new Set(tops.map((t) => indexOfPrice((t.bidPrice + t.askPrice) / 2))).size).toBe(5);

      // The book: synced once, never a gap, equal to the truth with its top at the last price.
      expect(records.some((p) => p.subject.endsWith('.gap'))).toBe(false);
      expect(collector.bookSyncs().get('BTCUSDT')!.counters.syncs).toBe(1);
      sim.pause();
      try {
        await until(
          () =>
            collector.bookSyncs().get('BTCUSDT')!.bookId ===
            sim.trueBook('binance-spot', 'BTCUSDT').lastUpdateId,
          'the collector to reach the true book',
        );
        const book = collector.book('BTCUSDT')!;
        const truth = sim.trueBook('binance-spot', 'BTCUSDT');
        expect(book.levels('bid')).toEqual(truth.bids.slice(0, book.depth('bid')));
        expect(book.levels('ask')).toEqual(truth.asks.slice(0, book.depth('ask')));
        expect(book.levels('bid')[0]![0]).toBe(cents(94_500, -1));
        expect(book.levels('ask')[0]![0]).toBe(cents(94_500, 1));
      } finally {
        sim.resume();
      }
    },
  );

  it('the control endpoint scripts a path, says where it is, refuses bad ones, and goes back to random', async () => {
    const sim = await simulator();
    const rest = sim.urls['okx-spot'].rest; // any server reaches every venue
    const post = async (body: unknown) => {
      const res = await fetch(`${rest}/__sim/path`, { method: 'POST', body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as { error?: string; position?: unknown } };
    };
    expect(await post({ symbol: 'BTCUSDT', path: [{ price: -3, holdMs: 100 }] })).toEqual({
      status: 400,
      body: { error: expect.stringMatching(/path\.0\.price/) },
    });
    expect((await post({ symbol: 'DOGEUSDT', path: [{ price: 1, holdMs: 100 }] })).body.error).toMatch(
      /DOGEUSDT/,
    );
    expect((await post({ path: [{ price: 1, holdMs: 100 }] })).body.error).toMatch(/symbol is required/);
    const good = await post({ symbol: 'ETHUSDT', path: [{ price: 3_210.123, holdMs: 60_000 }], loop: true });
    expect(good).toMatchObject({ status: 200, body: { position: { index: 0, price: 3_210.12 } } }); // in the venue's ticks
    await sleep(300);
    const onDeribit = await fetch(`${sim.urls.deribit.rest}/__sim/path?symbol=ETHUSDT&venue=deribit`);
    expect(await onDeribit.json()).toMatchObject({ position: { index: 0, price: 3_210.12 } });
    const book = sim.trueBook('binance-spot', 'ETHUSDT');
    expect([book.bids[0]![0], book.asks[0]![0]]).toEqual([3_210.11, 3_210.13]);
    expect((await post({ symbol: 'ETHUSDT', path: null })).body).toEqual({ ok: true, position: null });
    expect(sim.pathPosition('ETHUSDT')).toBeNull();
  });

  it('the child program scripts paths from its config; a path for a symbol it does not serve exits 78', async () => {
    const run = (config: unknown) => {
      const child = runSimulatorChild(config);
      cleanups.push(child.kill);
      return child;
    };
    const ports = { spotPort: 0, usdmPort: 0, okxPort: 0, deribitPort: 0 };
    const ok = run({
      ...ports,
      symbols: ['SOLUSDT'],
      paths: { SOLUSDT: { path: [{ price: 123.45, holdMs: 60_000 }] } },
    });
    await until(() => ok.messages.some((m) => m.type === 'ready'), 'ready', 20_000);
    const ready = ok.messages.find((m) => m.type === 'ready') as { detail: { urls: Simulator['urls'] } };
    await sleep(300);
    const depth = (await (
      await fetch(`${ready.detail.urls['binance-spot'].rest}/api/v3/depth?symbol=SOLUSDT&limit=1`)
    ).json()) as { bids: [string, string][]; asks: [string, string][] };
    expect([depth.bids[0]![0], depth.asks[0]![0]]).toEqual(['123.44', '123.46']);
    ok.send({ type: 'stop', reason: 'test' });
    expect(await ok.exited).toBe(0);

    const bad = run({ ...ports, paths: { SOLUSDT: { path: [{ price: 1, holdMs: 10 }] } } });
    expect(await bad.exited).toBe(78);
    expect(bad.stderr()).toMatch(/paths\.SOLUSDT: not one of the symbols \(BTCUSDT, ETHUSDT\)/);
  });
});
