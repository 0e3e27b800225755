/**
 * Candles from trades: the streaming builder and the accumulator both equal a brute-force aggregation
 * of random trades (out of order, late, same-millisecond ties), once their fragments are merged.
 */
import { describe, expect, it } from 'vitest';
import {
  CandleAccumulator,
  CandleBuilder,
  alignStart,
  mergeCandle,
  type Candle,
  type CandleTrade,
} from '../../src/services/collector/candles';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mostly in time order, with ties and a share arriving late (up to `lateMs` behind). */
function randomTrades(
  n: number,
  seed: number,
  symbols = ['BTCUSDT', 'ETHUSDT'],
  lateMs = 3000,
): CandleTrade[] {
  const r = rng(seed);
  let ts = Date.UTC(2026, 0, 5, 10, 0, 17);
  const price = new Map(symbols.map((s, i) => [s, 100 * (i + 1)]));
  const ids = new Map(symbols.map((s) => [s, 1000]));
  const out: CandleTrade[] = [];
  for (let i = 0; i < n; i++) {
    ts += r() < 0.3 ? 0 : Math.floor(r() * 400);
    const symbol = symbols[Math.floor(r() * symbols.length)]!;
    const p = Math.round((price.get(symbol)! + (r() - 0.5)) * 100) / 100;
    price.set(symbol, p);
    const id = ids.get(symbol)! + 1;
    ids.set(symbol, id);
    const exchangeTs = r() < 0.08 ? ts - Math.floor(r() * lateMs) : ts;
    out.push({
      symbol,
      id: String(id),
      exchangeTs,
      localTs: ts + Math.floor(r() * 50),
      price: p,
      size: Math.round(r() * 2000) / 1000 + 0.001,
      side: r() < 0.5 ? 'buy' : 'sell',
    });
  }
  return out;
}

/** The reference: group, sort by (exchange time, arrival), take first/last/max/min/sums. */
function bruteForce(trades: readonly CandleTrade[], intervalMs: number): Map<string, Candle> {
  const groups = new Map<string, { t: CandleTrade; i: number }[]>();
  trades.forEach((t, i) => {
    const key = `${t.symbol}|${alignStart(t.exchangeTs, intervalMs)}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push({ t, i });
  });
  const out = new Map<string, Candle>();
  for (const [key, g] of groups) {
    g.sort((a, b) => a.t.exchangeTs - b.t.exchangeTs || a.i - b.i);
    const first = g[0]!.t;
    const last = g.at(-1)!.t;
    out.set(key, {
      symbol: first.symbol,
      start: alignStart(first.exchangeTs, intervalMs),
      open: first.price,
      high: Math.max(...g.map((x) => x.t.price)),
      low: Math.min(...g.map((x) => x.t.price)),
      close: last.price,
      volume: g.reduce((s, x) => s + x.t.size, 0),
      buyVolume: g.reduce((s, x) => s + (x.t.side === 'buy' ? x.t.size : 0), 0),
      trades: g.length,
      firstTs: first.exchangeTs,
      lastTs: last.exchangeTs,
      firstTradeId: first.id,
      lastTradeId: last.id,
    });
  }
  return out;
}

/** Merges fragments in the order given (arrival order) by (symbol, start). */
function mergeAll(fragments: readonly Candle[]): Map<string, Candle> {
  const out = new Map<string, Candle>();
  for (const f of fragments) {
    const key = `${f.symbol}|${f.start}`;
    const c = out.get(key);
    if (c) mergeCandle(c, f);
    else out.set(key, { ...f });
  }
  return out;
}

function expectSameCandles(actual: Map<string, Candle>, expected: Map<string, Candle>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [key, e] of expected) {
    const a = actual.get(key)!;
    const { volume, buyVolume, late: _late, ...rest } = a;
    const { volume: ev, buyVolume: eb, ...erest } = e;
    expect(rest, key).toEqual(erest);
    expect(volume).toBeCloseTo(ev, 9);
    expect(buyVolume).toBeCloseTo(eb, 9);
  }
}

describe('CandleBuilder', () => {
  for (const intervalMs of [1000, 60_000]) {
    it(`equals a brute-force aggregation of random trades, late ones merged (${intervalMs} ms)`, () => {
      const trades = randomTrades(20_000, intervalMs);
      const b = new CandleBuilder(intervalMs, { graceMs: 500 });
      const emitted: Candle[] = [];
      trades.forEach((t, i) => {
        emitted.push(...b.add(t));
        if (i % 100 === 0) emitted.push(...b.flush(t.localTs));
      });
      emitted.push(...b.closeAll());
      const late = emitted.filter((c) => c.late);
      expect(b.lateTrades).toBe(late.length);
      expect(b.lateTrades).toBeGreaterThan(0);
      expect(late.every((c) => c.trades === 1)).toBe(true);
      expectSameCandles(mergeAll(emitted), bruteForce(trades, intervalMs));
    });
  }

  it('closes a candle when a trade of a later interval arrives, not before', () => {
    const b = new CandleBuilder(1000);
    const t = (ts: number, price: number, id: string): CandleTrade => ({
      symbol: 'X',
      id,
      exchangeTs: ts,
      localTs: ts,
      price,
      size: 1,
      side: 'buy',
    });
    expect(b.add(t(10_100, 5, '1'))).toEqual([]);
    expect(b.add(t(10_900, 7, '2'))).toEqual([]);
    const closed = b.add(t(12_050, 6, '3'));
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({ start: 10_000, open: 5, high: 7, low: 5, close: 7, trades: 2 });
    expect(closed[0]).toMatchObject({ firstTradeId: '1', lastTradeId: '2' });
    expect(b.openCandles()).toMatchObject([{ start: 12_000, trades: 1 }]);
    // Late: its interval was closed; it comes back as a fragment to merge, and is counted.
    const late = b.add(t(10_500, 9, '4'));
    expect(late).toEqual([expect.objectContaining({ start: 10_000, high: 9, trades: 1, late: true })]);
    expect(b.lateTrades).toBe(1);
    // An interval never opened but behind the open one is late too.
    expect(b.add(t(11_500, 9, '5'))[0]).toMatchObject({ start: 11_000, late: true });
  });

  it('flush(now) waits for the grace period, in the exchange time of the symbol', () => {
    const b = new CandleBuilder(1000, { graceMs: 300 });
    // Local clock 5 s ahead of the exchange: closing by the local clock would be 5 s early.
    b.add({ symbol: 'X', id: '1', exchangeTs: 20_400, localTs: 25_400, price: 1, size: 1, side: 'sell' });
    expect(b.flush(26_200)).toEqual([]); // exchange time 21_200: within the grace
    const closed = b.flush(26_300); // 21_300: interval end 21_000 + 300 grace
    expect(closed).toMatchObject([{ start: 20_000, trades: 1, buyVolume: 0, volume: 1 }]);
    expect(b.flush(99_000)).toEqual([]);
    // A trade for that interval is now late.
    expect(
      b.add({ symbol: 'X', id: '2', exchangeTs: 20_999, localTs: 26_400, price: 2, size: 1, side: 'buy' }),
    ).toMatchObject([{ start: 20_000, late: true }]);
  });

  it('keeps symbols apart', () => {
    const b = new CandleBuilder(1000);
    const mk = (symbol: string, ts: number): CandleTrade => ({
      symbol,
      id: `${symbol}${ts}`,
      exchangeTs: ts,
      localTs: ts,
      price: 1,
      size: 1,
      side: 'buy',
    });
    b.add(mk('A', 1000));
    expect(b.add(mk('B', 5000))).toEqual([]);
    expect(b.add(mk('A', 2000))).toMatchObject([{ symbol: 'A', start: 1000 }]);
    expect(
      b
        .closeAll()
        .map((c) => `${c.symbol}${c.start}`)
        .sort(),
    ).toEqual(['A2000', 'B5000']);
  });

  it('refuses an interval that is not a positive whole number of ms', () => {
    expect(() => new CandleBuilder(0)).toThrow(RangeError);
    expect(() => new CandleBuilder(1.5)).toThrow(RangeError);
  });
});

describe('CandleAccumulator and mergeCandle', () => {
  it('fragments of any split, merged in arrival order, equal the brute force', () => {
    const trades = randomTrades(10_000, 7, ['A', 'B', 'C'], 120_000);
    for (const intervalMs of [1000, 60_000]) {
      const r = rng(intervalMs);
      const fragments: Candle[] = [];
      let acc = new CandleAccumulator(intervalMs);
      for (const t of trades) {
        acc.add(t);
        if (r() < 0.01) {
          fragments.push(...acc.drain());
          acc = r() < 0.5 ? acc : new CandleAccumulator(intervalMs);
        }
      }
      fragments.push(...acc.drain());
      expect(acc.size).toBe(0);
      expectSameCandles(mergeAll(fragments), bruteForce(trades, intervalMs));
    }
  });

  it('one accumulator over shuffled trades keeps the earliest and latest by exchange time', () => {
    const trades = randomTrades(3000, 11);
    // Unique times, so arrival order no longer matters for open and close.
    const base = trades[0]!.exchangeTs - 10_000;
    const unique = trades.map((t, i) => ({ ...t, exchangeTs: (t.exchangeTs - base) * 4000 + i }));
    const r = rng(3);
    const shuffled = [...unique].sort(() => r() - 0.5);
    const acc = new CandleAccumulator(60_000);
    for (const t of shuffled) acc.add(t);
    expectSameCandles(mergeAll(acc.drain()), bruteForce(unique, 60_000));
  });
});
