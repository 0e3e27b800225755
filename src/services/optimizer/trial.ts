/**
 * One trial: a parameter set backtested in sample and out of sample over a run's candles, scored by
 * the run's objective and checked against its constraints. Pure (the worker threads and the tests run
 * the same function); the candles travel to the threads once per run, packed in a SharedArrayBuffer.
 *
 *   packCandles(candles) → SharedArrayBuffer      unpackCandles(buffer) → StrategyCandle[]
 *   runTrial(setup, candles, params) → TrialOutcome
 *
 * In sample: the candles of [from, split), warmed up on the strategy's warmup before `from`. Out of
 * sample: [split, dataTo), warmed up on the candles just before `split` (in-sample ones: what the
 * strategy would have seen live). Warmup is the strategy's own for these parameters, so a trial's
 * result depends on its parameters and the data only, never on the other trials of the run.
 */
import {
  TRIAL_EQUITY_POINTS,
  type OptimizerObjective,
  type OptimizerRequest,
  type TrialMetrics,
} from '../../shared/optimizer-api';
import type { TrialWire } from '../../shared/optimizer-protocol';
import type { Params, StrategyCandle, StrategyDefinition } from '../strategies/strategy';
import { runBacktest, type BacktestMetrics, type BacktestResult } from './backtest';
import { encodeEquity } from './equity-codec';

/** What every trial of a run shares (sent to each worker thread once per run). */
export interface TrialSetup {
  strategyId: string;
  intervalMs: number;
  from: number;
  split: number;
  dataTo: number;
  costs: OptimizerRequest['costs'];
  initialEquity: number;
  allowShort: boolean;
  objective: OptimizerObjective;
  constraints: OptimizerRequest['constraints'];
}

export type TrialOutcome = Omit<TrialWire, 'id' | 'durationMs'>;

const COLUMNS = 7;

/** Candles as 7 Float64 columns in shared memory: start, open, high, low, close, volume, trades. */
export function packCandles(candles: readonly StrategyCandle[]): SharedArrayBuffer {
  const n = candles.length;
  const buffer = new SharedArrayBuffer(n * COLUMNS * 8);
  const a = new Float64Array(buffer);
  for (let i = 0; i < n; i++) {
    const c = candles[i]!;
    a[i] = c.start;
    a[n + i] = c.open;
    a[2 * n + i] = c.high;
    a[3 * n + i] = c.low;
    a[4 * n + i] = c.close;
    a[5 * n + i] = c.volume;
    a[6 * n + i] = c.trades;
  }
  return buffer;
}

export function unpackCandles(buffer: SharedArrayBuffer): StrategyCandle[] {
  const a = new Float64Array(buffer);
  const n = a.length / COLUMNS;
  const out: StrategyCandle[] = new Array<StrategyCandle>(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      start: a[i]!,
      open: a[n + i]!,
      high: a[2 * n + i]!,
      low: a[3 * n + i]!,
      close: a[4 * n + i]!,
      volume: a[5 * n + i]!,
      trades: a[6 * n + i]!,
    };
  }
  return out;
}

/** Index of the first candle starting at or after `t` (candles sorted by start). */
export function firstAtOrAfter(candles: readonly StrategyCandle[], t: number): number {
  let lo = 0;
  let hi = candles.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (candles[mid]!.start < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function runTrial(
  strategy: StrategyDefinition,
  setup: TrialSetup,
  candles: readonly StrategyCandle[],
  params: Params,
): TrialOutcome {
  const warmupMs = strategy.warmup(params) * setup.intervalMs;
  const run = (from: number, to: number): BacktestResult =>
    runBacktest({
      strategy,
      params,
      candles: candles.slice(firstAtOrAfter(candles, from - warmupMs), firstAtOrAfter(candles, to)),
      intervalMs: setup.intervalMs,
      costs: setup.costs,
      initialEquity: setup.initialEquity,
      allowShort: setup.allowShort,
      startAt: from,
      maxEquityPoints: TRIAL_EQUITY_POINTS,
    });
  const inRun = run(setup.from, setup.split);
  const hasOut = setup.split < setup.dataTo && firstAtOrAfter(candles, setup.split) < candles.length;
  const outRun = hasOut ? run(setup.split, setup.dataTo) : null;
  const inSample = withCalmar(inRun.metrics);
  const outOfSample = outRun ? withCalmar(outRun.metrics) : null;
  const c = setup.constraints;
  return {
    params: { ...inRun.params },
    status: 'done',
    inSample,
    outOfSample,
    score: objectiveOf(inSample, setup.objective),
    outOfSampleScore: outOfSample ? objectiveOf(outOfSample, setup.objective) : null,
    meetsConstraints:
      (c.maxDrawdown === undefined || inSample.maxDrawdown <= c.maxDrawdown) &&
      (c.minTrades === undefined || inSample.trades >= c.minTrades),
    error: null,
    equity: {
      inSample: encodeEquity(inRun.equity),
      outOfSample: outRun ? encodeEquity(outRun.equity) : '',
    },
  };
}

/**
 * Calmar: the annualised return over the largest drawdown. Annualised by compounding over the sample's
 * length (candles / periods per year); null without a drawdown, or when that is not a finite number
 * (a very short sample compounds to infinity).
 */
export function withCalmar(m: BacktestMetrics): TrialMetrics {
  const years = m.candles / m.periodsPerYear;
  const annual = m.totalReturn <= -1 ? -1 : Math.pow(1 + m.totalReturn, 1 / years) - 1;
  const calmar = m.maxDrawdown > 0 && years > 0 ? annual / m.maxDrawdown : null;
  return { ...m, calmar: calmar !== null && Number.isFinite(calmar) ? calmar : null };
}

export function objectiveOf(m: TrialMetrics, objective: OptimizerObjective): number | null {
  const v = m[objective];
  return v !== null && Number.isFinite(v) ? v : null;
}
