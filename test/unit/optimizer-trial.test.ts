/**
 * One trial on known candles: the in-sample and out-of-sample parts are the backtests of exactly
 * their ranges (warmed up on the candles before each), scored by the objective, checked against the
 * constraints; candles survive the trip through shared memory; Calmar is annualised return over
 * drawdown.
 */
import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../src/services/optimizer/backtest';
import { equityBytes, equityPoints } from '../../src/services/optimizer/equity-codec';
import {
  packCandles,
  runTrial,
  unpackCandles,
  withCalmar,
  type TrialSetup,
} from '../../src/services/optimizer/trial';
import { strategies, type StrategyCandle, type StrategyDefinition } from '../../src/services/strategies';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);
const candles: StrategyCandle[] = Array.from({ length: 600 }, (_, i) => {
  const close = 100 + 10 * Math.sin(i / 25) + (i % 7) / 10;
  return {
    start: T0 + i * MIN,
    open: close - 0.1,
    high: close + 0.5,
    low: close - 0.5,
    close,
    volume: 1,
    trades: 3,
  };
});
const ma: StrategyDefinition = strategies['ma-crossover'];
const costs = { feeBps: 5, slippageBps: 1, latencyMs: 100 };
const setup: TrialSetup = {
  strategyId: 'ma-crossover',
  intervalMs: MIN,
  from: T0 + 100 * MIN,
  split: T0 + 450 * MIN,
  dataTo: T0 + 600 * MIN,
  costs,
  initialEquity: 1000,
  allowShort: true,
  objective: 'sortino',
  constraints: { maxDrawdown: 0.5, minTrades: 1 },
};

describe('runTrial', () => {
  it('backtests [from, split) and [split, dataTo), each warmed up on the candles before it', () => {
    const params = { fast: 5, slow: 20 };
    const t = runTrial(ma, setup, candles, params);
    const expected = (from: number, to: number) =>
      runBacktest({
        strategy: ma,
        params,
        candles: candles.filter((c) => c.start >= from - 20 * MIN && c.start < to),
        intervalMs: MIN,
        costs,
        initialEquity: 1000,
        allowShort: true,
        startAt: from,
        maxEquityPoints: 100,
      });
    const inRun = expected(setup.from, setup.split);
    const outRun = expected(setup.split, setup.dataTo);
    expect(t.inSample).toEqual(withCalmar(inRun.metrics));
    expect(t.outOfSample).toEqual(withCalmar(outRun.metrics));
    expect(t.inSample!.candles).toBe(350);
    expect(t.outOfSample!.candles).toBe(150);
    expect(t.score).toBe(inRun.metrics.sortino);
    expect(t.outOfSampleScore).toBe(outRun.metrics.sortino);
    expect(t.meetsConstraints).toBe(inRun.metrics.trades >= 1 && inRun.metrics.maxDrawdown <= 0.5);
    const curve = equityPoints(equityBytes(t.equity.inSample));
    expect(curve).toEqual(inRun.equity);
    expect(curve.length).toBeLessThanOrEqual(100);
    expect(t.params).toEqual(params);
  });

  it('has no out-of-sample part when the split is the end', () => {
    const t = runTrial(ma, { ...setup, split: setup.dataTo }, candles, { fast: 5, slow: 20 });
    expect(t.outOfSample).toBeNull();
    expect(t.outOfSampleScore).toBeNull();
    expect(t.equity.outOfSample).toBe('');
  });

  it('fails the constraints it breaks', () => {
    const t = runTrial(ma, { ...setup, constraints: { minTrades: 10_000 } }, candles, { fast: 5, slow: 20 });
    expect(t.meetsConstraints).toBe(false);
  });
});

describe('candles in shared memory', () => {
  it('come back the same', () => {
    expect(unpackCandles(packCandles(candles))).toEqual(candles);
  });
});

describe('calmar', () => {
  it('is the annualised return over the largest drawdown, null without one', () => {
    const base = runBacktest({
      strategy: ma,
      params: { fast: 5, slow: 20 },
      candles,
      intervalMs: MIN,
      costs,
      initialEquity: 1000,
    }).metrics;
    const m = { ...base, totalReturn: 0.1, candles: 365, periodsPerYear: 365, maxDrawdown: 0.05 };
    expect(withCalmar(m).calmar).toBeCloseTo(2, 10);
    const halfYear = { ...m, candles: 182.5 };
    expect(withCalmar(halfYear).calmar).toBeCloseTo((1.1 ** 2 - 1) / 0.05, 10);
    expect(withCalmar({ ...m, maxDrawdown: 0 }).calmar).toBeNull();
  });
});
