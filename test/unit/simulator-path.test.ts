/**
 * Scripted price paths in the simulated market, stepped by hand: where a path is at a moment (holds,
 * loop, the last price held), and a market following one: its top one tick either side of the price,
 * every trade at that top, a print in the direction of each move, and the depth diffs still chained.
 */
import { describe, expect, it } from 'vitest';
import { SymbolMarket, type AggregateFill, type SimVenue } from '../../src/services/simulator/market';
import { parsePricePath, pathPositionAt, type PricePath } from '../../src/services/simulator/price-path';

describe('price path position', () => {
  const path: PricePath = {
    path: [
      { price: 100, holdMs: 1_000 },
      { price: 110, holdMs: 500 },
      { price: 90, holdMs: 2_000 },
    ],
  };

  it('holds each price for its holdMs, then the last one for good', () => {
    expect(pathPositionAt(path, 10_000, 10_000)).toEqual({
      index: 0,
      price: 100,
      since: 10_000,
      until: 11_000,
    });
    expect(pathPositionAt(path, 10_000, 10_999)).toMatchObject({ index: 0, price: 100 });
    expect(pathPositionAt(path, 10_000, 11_000)).toEqual({
      index: 1,
      price: 110,
      since: 11_000,
      until: 11_500,
    });
    expect(pathPositionAt(path, 10_000, 11_500)).toEqual({
      index: 2,
      price: 90,
      since: 11_500,
      until: 13_500,
    });
    expect(pathPositionAt(path, 10_000, 99_000)).toEqual({ index: 2, price: 90, since: 11_500, until: null });
    // Before its start (a clock step back) a path is at its beginning.
    expect(pathPositionAt(path, 10_000, 9_000)).toMatchObject({ index: 0, since: 10_000 });
  });

  it('loops when told to', () => {
    const looped = { ...path, loop: true };
    expect(pathPositionAt(looped, 0, 3_500)).toEqual({ index: 0, price: 100, since: 3_500, until: 4_500 });
    expect(pathPositionAt(looped, 0, 3 * 3_500 + 1_200)).toEqual({
      index: 1,
      price: 110,
      since: 3 * 3_500 + 1_000,
      until: 3 * 3_500 + 1_500,
    });
  });

  it('refuses bad paths, naming the field', () => {
    expect(parsePricePath({ path: [] })).toEqual({
      ok: false,
      error: expect.stringMatching(/path: .*at least one/),
    });
    expect(parsePricePath({ path: [{ price: -1, holdMs: 10 }] })).toEqual({
      ok: false,
      error: expect.stringMatching(/path\.0\.price/),
    });
    expect(parsePricePath({ path: [{ price: 1, holdMs: 0.5 }] })).toEqual({
      ok: false,
      error: expect.stringMatching(/path\.0\.holdMs/),
    });
    expect(parsePricePath({ path: [{ price: 1, holdMs: 5 }], speed: 2 })).toEqual({
      ok: false,
      error: expect.stringMatching(/speed/),
    });
    expect(parsePricePath({ path: [{ price: 1, holdMs: 5 }], loop: true })).toMatchObject({ ok: true });
  });
});

/** A market stepped by hand every `stepMs` from `t0`, with its fills, tops and spot depth events. */
function stepped(venue: SimVenue, symbol: string, seed = 5) {
  const stepMs = 50;
  const t0 = 1_700_000_000_000;
  const market = new SymbolMarket({ venue, symbol, seed, stepMs, now: t0 });
  market.openDepthStream('depth');
  const fills: AggregateFill[] = [];
  market.listener = { onFill: (f) => fills.push(f) };
  let now = t0;
  let lastU = market.lastUpdateId;
  const run = (ms: number, onStep?: (at: number) => void): void => {
    for (const end = now + ms; now < end;) {
      now += stepMs;
      market.step(now);
      const diff = market.takeDepth('depth');
      if (diff) {
        // The chain a collector checks is unbroken through every move.
        expect(diff.pu).toBe(lastU);
        if (venue === 'binance-spot') expect(diff.U).toBe(lastU + 1);
        lastU = diff.u;
      }
      onStep?.(now);
    }
  };
  return { market, fills, run, now: () => now, tick: 10 ** -market.spec.priceDecimals };
}

describe('a market on a scripted path', () => {
  const path: PricePath = {
    path: [
      { price: 95_123.45, holdMs: 2_000 },
      { price: 96_000, holdMs: 2_000 }, // far beyond the book's depth: a gap up
      { price: 95_999.5, holdMs: 2_000 }, // a small step down
      { price: 94_000, holdMs: 2_000 },
    ],
  };

  it('binance-spot: the top sits a tick either side of the price; every trade is at that top', () => {
    const m = stepped('binance-spot', 'BTCUSDT');
    m.run(3_000); // the random walk first
    const startedAt = m.now();
    m.market.setPath(path, startedAt);
    const firstFill = m.fills.length;
    m.run(9_000, (at) => {
      const price = pathPositionAt(path, startedAt, at).price;
      const book = m.market.trueBook();
      expect(book.bids[0]![0]).toBeCloseTo(price - m.tick, 6);
      expect(book.asks[0]![0]).toBeCloseTo(price + m.tick, 6);
      expect(book.bids.length).toBeGreaterThanOrEqual(150);
      expect(book.asks.length).toBeGreaterThanOrEqual(150);
      expect(book.bids.length).toBeLessThanOrEqual(300);
      expect(book.asks.length).toBeLessThanOrEqual(300);
    });
    const fills = m.fills.slice(firstFill);
    for (const fill of fills) {
      const price = pathPositionAt(path, startedAt, fill.time).price;
      expect(Number(fill.price)).toBeCloseTo(fill.side === 'buy' ? price + m.tick : price - m.tick, 6);
    }
    // Each move prints at once, in its direction: up, down, down.
    const firstAt = (index: number) =>
      fills.find((f) => pathPositionAt(path, startedAt, f.time).index === index)!;
    expect(firstAt(0).time).toBe(startedAt + 50);
    expect(firstAt(1)).toMatchObject({ side: 'buy', time: startedAt + 2_000, price: '96000.01' });
    expect(firstAt(2)).toMatchObject({ side: 'sell', time: startedAt + 4_000, price: '95999.49' });
    expect(firstAt(3)).toMatchObject({ side: 'sell', time: startedAt + 6_000, price: '93999.99' });
    // Trade ids stay contiguous.
    const ids = fills.flatMap((f) => f.trades.map((t) => t.id));
    expect(ids).toEqual(ids.map((_, i) => ids[0]! + i));
    expect(m.market.pathPosition(m.now())).toEqual({
      index: 3,
      price: 94_000,
      since: startedAt + 6_000,
      until: null,
    });
  });

  it('every venue follows in its own tick; null returns to the random walk from there', () => {
    for (const venue of ['binance-usdm', 'okx-swap', 'deribit'] as const) {
      const m = stepped(venue, 'ETHUSDT');
      m.run(1_000);
      m.market.setPath({ path: [{ price: 3_333.333, holdMs: 1_000 }] }, m.now());
      m.run(2_000);
      const book = m.market.trueBook();
      const ticks = Math.round(3_333.333 / m.tick);
      expect(book.bids[0]![0]).toBeCloseTo((ticks - 1) * m.tick, 6);
      expect(book.asks[0]![0]).toBeCloseTo((ticks + 1) * m.tick, 6);
      m.market.setPath(null, m.now());
      expect(m.market.pathPosition(m.now())).toBeNull();
      m.run(5_000);
      const after = m.market.trueBook();
      // Back to a random walk, near where the script left the price.
      expect(Math.abs(after.bids[0]![0] - 3_333.333)).toBeLessThan(3_333.333 * 0.01);
    }
  });
});
