/**
 * The backtester on small hand-checked datasets: every fill, fee, trade and the P&L worked out in the
 * comments (a scripted strategy decides at given candles, so only the backtester is under test); then
 * a real strategy end to end, the metrics on known equity series, the equity curve's downsampling,
 * bad input, and determinism.
 */
import { describe, expect, it } from 'vitest';
import {
  BacktestInputError,
  downsampleEquity,
  equityMetrics,
  runBacktest,
  type BacktestCosts,
  type BacktestResult,
} from '../../src/services/optimizer/backtest';
import {
  defineStrategy,
  strategies,
  StrategyParamsError,
  type StrategyCandle,
  type StrategyDefinition,
} from '../../src/services/strategies';

const T0 = Date.UTC(2026, 2, 3, 9, 0, 0);
const MIN = 60_000;
const FREE: BacktestCosts = { feeBps: 0, slippageBps: 0, latencyMs: 0 };

/** Candles from [open, close] pairs, one a minute from T0. */
function candles(oc: readonly (readonly [number, number])[]): StrategyCandle[] {
  return oc.map(([open, close], i) => ({
    start: T0 + i * MIN,
    open,
    close,
    high: Math.max(open, close),
    low: Math.min(open, close),
    volume: 1,
    trades: 1,
  }));
}

/** A strategy that asks for `targets[i]` at the close of candle i. */
function scripted(targets: Record<number, number>): StrategyDefinition {
  return defineStrategy({
    id: 'scripted',
    version: 1,
    label: 'Scripted',
    description: 'test',
    params: [],
    warmup: () => 0,
    create: () => ({
      onCandle(c) {
        const i = (c.start - T0) / MIN;
        return i in targets ? { target: targets[i]!, reason: `script ${i}` } : null;
      },
    }),
  });
}

function backtest(
  targets: Record<number, number>,
  oc: readonly (readonly [number, number])[],
  costs: BacktestCosts,
  more: { allowShort?: boolean; startAt?: number } = {},
): BacktestResult {
  return runBacktest({
    strategy: scripted(targets),
    params: {},
    candles: candles(oc),
    intervalMs: MIN,
    costs,
    initialEquity: 10_000,
    ...more,
  });
}

describe('fills, fees and P&L (hand-checked)', () => {
  it('a long round trip with slippage and fees', () => {
    // fee 10 bps, slippage 10 bps, latency 0, equity 10 000.
    // c0 close 100: target 1 → wanted qty 10 000 / 100 = 100, sent at c0's close = c1's start.
    // c1 open 100: buy 100 at 100 × 1.001 = 100.1; notional 10 010, fee 10.01; cash −20.01.
    //    close 105: equity −20.01 + 100 × 105 = 10 479.99
    // c2 close 110: equity 10 979.99; target 0 → sell 100.
    // c3 open 110: sell at 110 × 0.999 = 109.89; notional 10 989, fee 10.989; cash 10 958.001.
    // Trade: long 100, 100.1 → 109.89, fees 10.01 + 10.989 = 20.999,
    //        pnl 100 × 9.79 − 20.999 = 958.001 = final equity − 10 000.
    const r = backtest(
      { 0: 1, 2: 0 },
      [
        [100, 100],
        [100, 105],
        [106, 110],
        [110, 108],
        [108, 108],
      ],
      { feeBps: 10, slippageBps: 10, latencyMs: 0 },
    );
    expect(r.trades).toHaveLength(1);
    const t = r.trades[0]!;
    expect(t).toMatchObject({
      side: 'long',
      qty: 100,
      entryAt: T0 + MIN,
      exitAt: T0 + 3 * MIN,
      entryReason: 'script 0',
      exitReason: 'script 2',
    });
    expect(t.entryPrice).toBeCloseTo(100.1, 10);
    expect(t.exitPrice).toBeCloseTo(109.89, 10);
    expect(t.fees).toBeCloseTo(20.999, 9);
    expect(t.pnl).toBeCloseTo(958.001, 9);
    expect(r.equity.map((p) => p.at)).toEqual([1, 2, 3, 4, 5].map((k) => T0 + k * MIN));
    const curve = [10_000, 10_479.99, 10_979.99, 10_958.001, 10_958.001];
    r.equity.forEach((p, i) => expect(p.equity).toBeCloseTo(curve[i]!, 9));
    expect(r.metrics.finalEquity).toBeCloseTo(10_958.001, 9);
    expect(r.metrics.totalReturn).toBeCloseTo(0.0958001, 12);
    expect(r.metrics.fees).toBeCloseTo(20.999, 9);
    expect(r.metrics.trades).toBe(1);
    expect(r.metrics.winRate).toBe(1);
    // Closed holding a position: c1 and c2 of 5.
    expect(r.metrics.exposure).toBe(2 / 5);
    // Peak 10 979.99 → 10 958.001.
    expect(r.metrics.maxDrawdown).toBeCloseTo((10_979.99 - 10_958.001) / 10_979.99, 12);
  });

  it('latency: the order reaches the market later and fills at the open of the candle in progress then', () => {
    const oc = [
      [100, 100],
      [100, 105],
      [106, 110],
      [110, 108],
      [108, 108],
    ] as const;
    // 30 s: sent at c1's start + 30 s, c1 is still in progress then → c1's open, filled at +30 s.
    const late = backtest({ 0: 1, 2: 0 }, oc, { ...FREE, latencyMs: 30_000 });
    expect(late.trades[0]).toMatchObject({ entryAt: T0 + MIN + 30_000, entryPrice: 100, exitPrice: 110 });
    // 60 s: arrives at c2's start: c2's open 106 (buy); the exit arrives at c4's start: open 108.
    const later = backtest({ 0: 1, 2: 0 }, oc, { ...FREE, latencyMs: 60_000 });
    expect(later.trades[0]).toMatchObject({
      entryAt: T0 + 2 * MIN,
      entryPrice: 106,
      exitAt: T0 + 4 * MIN,
      exitPrice: 108,
      qty: 100,
    });
    // 100 × (108 − 106) = 200, no costs.
    expect(later.metrics.finalEquity).toBe(10_200);
  });

  it('a hole in the candles: the order fills at the first candle recorded after it', () => {
    const cs = candles([
      [100, 100],
      [100, 100],
      [120, 125],
    ]);
    // No candle for 2 minutes after c0: c1 starts at T0 + 3 min.
    const gappy = [cs[0]!, { ...cs[1]!, start: T0 + 3 * MIN }, { ...cs[2]!, start: T0 + 4 * MIN }];
    const r = runBacktest({
      strategy: scripted({ 0: 1 }),
      params: {},
      candles: gappy,
      intervalMs: MIN,
      costs: FREE,
      initialEquity: 10_000,
    });
    // Sent at T0 + 1 min, filled at T0 + 3 min at 100; closed at the end at 125 (end of data).
    expect(r.trades).toEqual([
      {
        side: 'long',
        qty: 100,
        entryAt: T0 + 3 * MIN,
        entryPrice: 100,
        exitAt: T0 + 5 * MIN,
        exitPrice: 125,
        fees: 0,
        pnl: 2500,
        entryReason: 'script 0',
        exitReason: 'end of data',
      },
    ]);
  });

  it('a short, then a flip to long sized on the equity at the decision, closed at the end of data', () => {
    // allowShort, no costs. c0 close 100: target −1 → qty −100.
    // c1 open 100: sell 100 at 100; cash 20 000. close 80: equity 20 000 − 8 000 = 12 000;
    //    target +1 → qty 12 000 / 80 = 150: buy 250 at c2's open.
    // c2 open 80: short 100 closed, pnl (100 − 80) × 100 = 2 000; long 150 at 80; cash 0.
    //    close 90: equity 13 500.
    // c3 close 100 (the last): long closed at 100, pnl 150 × 20 = 3 000; final 15 000.
    const oc = [
      [100, 100],
      [100, 80],
      [80, 90],
      [90, 100],
    ] as const;
    const r = backtest({ 0: -1, 1: 1 }, oc, FREE, { allowShort: true });
    expect(r.trades).toEqual([
      {
        side: 'short',
        qty: 100,
        entryAt: T0 + MIN,
        entryPrice: 100,
        exitAt: T0 + 2 * MIN,
        exitPrice: 80,
        fees: 0,
        pnl: 2000,
        entryReason: 'script 0',
        exitReason: 'script 1',
      },
      {
        side: 'long',
        qty: 150,
        entryAt: T0 + 2 * MIN,
        entryPrice: 80,
        exitAt: T0 + 4 * MIN,
        exitPrice: 100,
        fees: 0,
        pnl: 3000,
        entryReason: 'script 1',
        exitReason: 'end of data',
      },
    ]);
    expect(r.equity.map((p) => p.equity)).toEqual([10_000, 12_000, 13_500, 15_000]);
    expect(r.metrics).toMatchObject({
      totalReturn: 0.5,
      trades: 2,
      winRate: 1,
      exposure: 0.75,
      maxDrawdown: 0,
    });

    // Without shorting the −1 means flat (no order); the +1 at c1 buys 10 000 / 80 = 125 at 80,
    // closed at 100 at the end: 125 × 20 = 2 500.
    const long = backtest({ 0: -1, 1: 1 }, oc, FREE);
    expect(long.trades.map((t) => [t.side, t.qty, t.entryPrice, t.exitPrice, t.pnl])).toEqual([
      ['long', 125, 80, 100, 2500],
    ]);
    expect(long.metrics.finalEquity).toBe(12_500);
  });

  it('a smaller target closes part of the position, with its share of the entry fee', () => {
    // fee 10 bps, no slippage. c0 close 100: target 1 → 100; c1 open 100: buy 100, fee 10.
    // c1 close 100: target 0.5 → qty 0.5 × 9 990 / 100 = 49.95 (equity after the fee): sell 50.05.
    // c2 open 120: sell 50.05 at 120, fee 6.006; entry fee share 10 × 50.05 / 100 = 5.005;
    //    trade pnl 50.05 × 20 − 5.005 − 6.006 = 989.989.
    // c3 close 110 (the last): the 49.95 left closed at 110, fee 5.4945; entry fee left 4.995;
    //    pnl 49.95 × 10 − 4.995 − 5.4945 = 489.0105.
    // final 10 000 + 989.989 + 489.0105 = 11 478.9995.
    const r = backtest(
      { 0: 1, 1: 0.5 },
      [
        [100, 100],
        [100, 100],
        [120, 120],
        [120, 110],
      ],
      { feeBps: 10, slippageBps: 0, latencyMs: 0 },
    );
    expect(r.trades.map((t) => [t.side, t.exitReason])).toEqual([
      ['long', 'script 1'],
      ['long', 'end of data'],
    ]);
    const [a, b] = r.trades;
    expect(a!.qty).toBeCloseTo(50.05, 10);
    expect(a!.fees).toBeCloseTo(11.011, 10);
    expect(a!.pnl).toBeCloseTo(989.989, 9);
    expect(b!.qty).toBeCloseTo(49.95, 10);
    expect(b!.fees).toBeCloseTo(10.4895, 10);
    expect(b!.pnl).toBeCloseTo(489.0105, 9);
    expect(b!.entryAt).toBe(T0 + MIN);
    expect(r.metrics.finalEquity).toBeCloseTo(11_478.9995, 9);
    expect(r.metrics.fees).toBeCloseTo(10 + 6.006 + 5.4945, 9);
  });

  it('a target repeated sends no order; warmup candles before startAt decide nothing', () => {
    const oc = [
      [100, 100],
      [100, 100],
      [100, 100],
      [100, 110],
      [110, 120],
    ] as const;
    // Only c0's decision counts; c1's repeats it.
    const r = backtest({ 0: 1, 1: 1 }, oc, { feeBps: 10, slippageBps: 0, latencyMs: 0 });
    expect(r.trades).toHaveLength(1);
    expect(r.metrics.fees).toBeCloseTo(10 + 100 * 120 * 0.001, 9);
    // From c2: c0 and c1 only warm up (their decisions are dropped); c3's buys at c4's open 110.
    const w = backtest({ 0: 1, 3: 1 }, oc, FREE, { startAt: T0 + 2 * MIN });
    expect(w.metrics.candles).toBe(3);
    expect(w.equity[0]).toEqual({ at: T0 + 3 * MIN, equity: 10_000 });
    expect(w.trades.map((t) => [t.entryPrice, t.exitPrice])).toEqual([[110, 120]]);
  });

  it('a short squeezed to ruin is closed there and trades no more', () => {
    // c0: target −1 → −100; c1 open 100 sells; close 250: equity 20 000 − 25 000 = −5 000 → ruined,
    // closed at 250. c2's decision is ignored.
    const r = backtest(
      { 0: -1, 2: 1 },
      [
        [100, 100],
        [100, 250],
        [250, 260],
        [260, 270],
      ],
      FREE,
      { allowShort: true },
    );
    expect(r.trades.map((t) => [t.side, t.exitPrice, t.pnl, t.exitReason])).toEqual([
      ['short', 250, -15_000, 'equity fell to 0 or below'],
    ]);
    expect(r.metrics).toMatchObject({
      ruined: true,
      finalEquity: -5000,
      totalReturn: -1.5,
      maxDrawdown: 1.5,
    });
    expect(r.equity.map((p) => p.equity)).toEqual([10_000, -5000, -5000, -5000]);
  });
});

describe('a real strategy end to end', () => {
  it('ma-crossover on the hand-built series: long at the cross above, short at the cross below', () => {
    // The closes of the strategy test (cross above at c9's close, below at c13's), opens = previous
    // close, plus a last candle to fill the short. allowShort, fee 5 bps, slippage 0.
    // c9 close 10: equity 10 000 → buy 1 000 at c10's open 10, fee 5.
    // c13 close 7: equity 10 000 − 5 + 1 000 × (7 − 10) = 6 995 → target −1: qty −6 995 / 7 = −999.2857…
    //   c14 open 7: sell 1 999.2857… at 7 (notional 13 995, fee 6.9975):
    //   long 1 000 closed: pnl 1 000 × (7 − 10) − 5 − 7 000 × 0.0005 = −3 008.5
    //   short 999.2857… opened at 7 with the rest of the fee (3.4975).
    // c14 close 8 (the last): short closed at 8: pnl −999.2857… − 3.4975 − 8 × 999.2857… × 0.0005.
    const closes = [10, 10, 10, 10, 10, 9, 8, 7, 8, 10, 12, 11, 9, 7, 8];
    const cs = candles(closes.map((c, i) => [i === 0 ? c : closes[i - 1]!, c] as const));
    const r = runBacktest({
      strategy: strategies['ma-crossover'],
      params: { fast: 2, slow: 5 },
      candles: cs,
      intervalMs: MIN,
      costs: { feeBps: 5, slippageBps: 0, latencyMs: 0 },
      initialEquity: 10_000,
      allowShort: true,
    });
    expect(r.strategyId).toBe('ma-crossover');
    expect(r.params).toEqual({ fast: 2, slow: 5 });
    expect(r.trades.map((t) => [t.side, t.entryAt, t.entryPrice, t.exitAt, t.exitPrice])).toEqual([
      ['long', T0 + 10 * MIN, 10, T0 + 14 * MIN, 7],
      ['short', T0 + 14 * MIN, 7, T0 + 15 * MIN, 8],
    ]);
    const shortQty = 6995 / 7;
    expect(r.trades[0]!.qty).toBe(1000);
    expect(r.trades[0]!.pnl).toBeCloseTo(-3008.5, 9);
    expect(r.trades[1]!.qty).toBeCloseTo(shortQty, 9);
    expect(r.trades[1]!.pnl).toBeCloseTo(-shortQty - 3.4975 - 8 * shortQty * 0.0005, 9);
    expect(r.metrics.finalEquity).toBeCloseTo(10_000 + r.trades[0]!.pnl + r.trades[1]!.pnl, 9);
    expect(r.metrics.winRate).toBe(0);
  });
});

describe('metrics', () => {
  it('a steady climb has no drawdown and no downside', () => {
    const up = Array.from({ length: 50 }, (_, i) => 100 * 1.01 ** i);
    const m = equityMetrics(up, 365);
    expect(m.maxDrawdown).toBe(0);
    expect(m.sortino).toBeNull();
  });

  it('Sharpe and Sortino on a known series (returns +10 %, −10 %, +10 %)', () => {
    // mean 1/30; sample sd √(((1/15)² × 2 + (2/15)²) / 2) = 0.11547 → mean/sd = 1/(2√3);
    // downside √(0.01 / 3) → mean/dd = 1/√3. With 4 periods a year: × 2.
    const m = equityMetrics([100, 110, 99, 108.9], 4);
    expect(m.sharpe).toBeCloseTo(1 / Math.sqrt(3), 12);
    expect(m.sortino).toBeCloseTo(2 / Math.sqrt(3), 12);
    expect(m.maxDrawdown).toBeCloseTo(0.1, 12);
  });

  it('max drawdown is the deepest fall from a peak, not from the start', () => {
    // 120 → 90 is 25 %; 130 → 65 is 50 %.
    expect(equityMetrics([100, 120, 90, 130, 65, 70], 365).maxDrawdown).toBeCloseTo(0.5, 12);
  });

  it('undefined ratios are null: a flat curve, a single point', () => {
    expect(equityMetrics([100, 100, 100], 365)).toMatchObject({
      sharpe: null,
      sortino: null,
      maxDrawdown: 0,
    });
    expect(equityMetrics([100], 365)).toMatchObject({ sharpe: null, sortino: null, maxDrawdown: 0 });
    const flat = backtest(
      {},
      [
        [100, 100],
        [100, 101],
      ],
      FREE,
    );
    expect(flat.metrics).toMatchObject({
      trades: 0,
      winRate: null,
      exposure: 0,
      totalReturn: 0,
      sharpe: null,
    });
    // 1 m candles: 365 × 1 440 periods a year.
    expect(flat.metrics.periodsPerYear).toBe(525_600);
  });
});

describe('the equity curve', () => {
  it('keeps at most maxPoints, with the exact first, last, minimum and maximum', () => {
    let seed = 3;
    const n = 10_000;
    const at = new Float64Array(n);
    const eq = new Float64Array(n);
    let e = 1000;
    for (let i = 0; i < n; i++) {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      e *= 1 + (seed / 0x7fffffff - 0.5) * 0.01;
      at[i] = T0 + i * MIN;
      eq[i] = e;
    }
    const all = Array.from(eq);
    for (const max of [4, 5, 100, 1000]) {
      const pts = downsampleEquity(at, eq, max);
      expect(pts.length).toBeLessThanOrEqual(max);
      expect(pts.length).toBeGreaterThan(max / 2);
      expect(pts[0]).toEqual({ at: at[0], equity: eq[0] });
      expect(pts.at(-1)).toEqual({ at: at[n - 1], equity: eq[n - 1] });
      expect(Math.min(...pts.map((p) => p.equity))).toBe(Math.min(...all));
      expect(Math.max(...pts.map((p) => p.equity))).toBe(Math.max(...all));
      for (let i = 1; i < pts.length; i++) expect(pts[i]!.at).toBeGreaterThan(pts[i - 1]!.at);
    }
    // Short curves are kept whole.
    expect(downsampleEquity(at.subarray(0, 3), eq.subarray(0, 3), 4)).toHaveLength(3);
  });
});

describe('bad input', () => {
  const ok = {
    strategy: strategies.breakout,
    params: {},
    candles: candles([
      [1, 1],
      [1, 1],
    ]),
    intervalMs: MIN,
    costs: FREE,
    initialEquity: 1000,
  };

  it('is refused with an error naming what is wrong', () => {
    expect(() => runBacktest({ ...ok, params: { lookback: 3 } })).toThrow(StrategyParamsError);
    expect(() => runBacktest({ ...ok, params: { lookback: 3 } })).toThrow('lookback: must be at least 5');
    const unordered = [ok.candles[1]!, ok.candles[0]!];
    expect(() => runBacktest({ ...ok, candles: unordered })).toThrow(
      /candle 1 \(start \d+\) does not come after candle 0/,
    );
    expect(() => runBacktest({ ...ok, candles: [] })).toThrow('no candles to backtest');
    expect(() => runBacktest({ ...ok, costs: { ...FREE, feeBps: -1 } })).toThrow(
      'costs.feeBps must be 0 or more, not -1',
    );
    expect(() => runBacktest({ ...ok, initialEquity: 0 })).toThrow('initialEquity must be a positive amount');
    expect(() => runBacktest({ ...ok, intervalMs: 0 })).toThrow(BacktestInputError);
    expect(() => runBacktest({ ...ok, startAt: T0 + 10 * MIN })).toThrow('none at or after startAt');
    expect(() => runBacktest({ ...ok, maxEquityPoints: 2 })).toThrow('maxEquityPoints');
    const zero = candles([[0, 0]]);
    expect(() => runBacktest({ ...ok, candles: zero })).toThrow('has no positive open and close');
    expect(() => backtest({ 0: 2 }, [[1, 1]], FREE)).toThrow('asked for a target of 2 at candle 0');
  });
});

describe('every strategy on a random walk', () => {
  let seed = 11;
  let p = 100;
  const walk = candles(
    Array.from({ length: 20_000 }, () => {
      const open = p;
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      p *= 1 + (seed / 0x7fffffff - 0.5) * 0.004;
      return [open, p] as const;
    }),
  );

  it('is deterministic, JSON-clean, and its trades add up to the change in equity', () => {
    for (const def of Object.values(strategies) as StrategyDefinition[]) {
      for (const allowShort of [false, true]) {
        const input = {
          strategy: def,
          params: {},
          candles: walk,
          intervalMs: MIN,
          costs: { feeBps: 4, slippageBps: 1, latencyMs: 250 },
          initialEquity: 10_000,
          allowShort,
        };
        const a = runBacktest(input);
        expect(runBacktest(input), def.id).toEqual(a);
        expect(JSON.parse(JSON.stringify(a)), def.id).toEqual(a);
        expect(a.metrics.trades, def.id).toBeGreaterThan(10);
        expect(a.equity.length).toBeLessThanOrEqual(1000);
        const pnl = a.trades.reduce((s, t) => s + t.pnl, 0);
        expect(a.metrics.finalEquity - 10_000, def.id).toBeCloseTo(pnl, 6);
        const fees = a.trades.reduce((s, t) => s + t.fees, 0);
        expect(a.metrics.fees, def.id).toBeCloseTo(fees, 6);
        if (!allowShort) expect(a.trades.every((t) => t.side === 'long')).toBe(true);
        for (const t of a.trades) expect(t.exitAt).toBeGreaterThan(t.entryAt);
      }
    }
  });
});
