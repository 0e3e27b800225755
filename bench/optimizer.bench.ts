/**
 * The optimizer's two figures.
 *
 * 1. Trials per second: the same ma-crossover grid (120 trials over 30 days of synthetic 1 m candles)
 *    through the worker pool with 1 thread, then with more (up to the machine's cores), in
 *    trials/s; the ratio is pool ÷ one worker.
 * 2. Latency under load, of a minimal latency-sensitive child (bench/children/tick-trader.mjs: takes
 *    a tick over its IPC channel, decides on a moving average, answers; the real trader's figures are
 *    bench/trader.bench.ts's) at 200 ticks a second; tick-to-decision is the round trip, p50/p99. Idle,
 *    then with the real, built optimizer program (out/services/optimizer, `npm run build` first)
 *    busy on a big grid: with its default pool (cores − 1 threads at priority 19, SCHED_IDLE on
 *    Linux), with every core
 *    (oversubscribed, priority 19), and the same oversubscribed pool at priority 0, to show what the
 *    lower priority buys. Target: loaded p50 ÷ idle p50 ≤ 1.2.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OptimizerStartParams } from '../src/shared/optimizer-protocol';
import { optimizerRequestSchema } from '../src/shared/optimizer-api';
import { sourceWorkerEntry, TrialPool } from '../src/services/optimizer/pool';
import { planTrials } from '../src/services/optimizer/space';
import { packCandles, type TrialSetup } from '../src/services/optimizer/trial';
import { strategies, type StrategyCandle, type StrategyDefinition } from '../src/services/strategies';
import { tempDir } from '../test/helpers/temp-dir';
import { recordMarket } from './recorded-market';

const MIN = 60_000;
const cores = availableParallelism();

// ---- 1. trials per second ----------------------------------------------------------------------

const DAYS = 30;
const T0 = Date.UTC(2025, 0, 1);
let seed = 7;
const random = () => (seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff;
const candles: StrategyCandle[] = [];
let price = 30_000;
for (let i = 0; i < DAYS * 1440; i++) {
  const open = price;
  price *= 1 + (random() - 0.5) * 0.004;
  candles.push({
    start: T0 + i * MIN,
    open,
    high: Math.max(open, price),
    low: Math.min(open, price),
    close: price,
    volume: 1,
    trades: 5,
  });
}
const ma: StrategyDefinition = strategies['ma-crossover'];
const gridRequest = optimizerRequestSchema.parse({
  strategy: 'ma-crossover',
  venue: 'binance-usdm',
  symbol: 'BTCUSDT',
  from: T0 + 400 * MIN,
  to: T0 + DAYS * 1440 * MIN,
  space: {
    type: 'grid',
    params: { fast: { min: 4, max: 40, step: 4 }, slow: { min: 50, max: 160, step: 10 } },
  },
});
const plan = planTrials(ma, gridRequest);
if (!plan.ok) throw new Error(JSON.stringify(plan.issues));
const setup: TrialSetup = {
  strategyId: 'ma-crossover',
  intervalMs: MIN,
  from: gridRequest.from,
  split: gridRequest.from + Math.floor(((gridRequest.to - gridRequest.from) * 0.7) / MIN) * MIN,
  dataTo: gridRequest.to,
  costs: gridRequest.costs,
  initialEquity: 10_000,
  allowShort: true,
  objective: 'sharpe',
  constraints: {},
};
const shared = packCandles(candles);

async function trialsPerSecond(threads: number): Promise<number> {
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  let count = 0;
  const pool = new TrialPool(threads, sourceWorkerEntry(), {
    result: () => void (count += 1),
    failed: (_r, id, _p, error) => console.error(`trial ${id} failed: ${error}`),
    finished: () => done(),
    broken: (_r, error) => console.error(error),
  });
  const trials = plan.ok ? plan.trials.map((params, id) => ({ id, params })) : [];
  // A warm-up run (threads start, tsx compiles, the JIT warms), then the measured one.
  pool.run({ runId: 1, setup, candles: shared, trials: trials.slice(0, threads * 2) });
  await finished;
  const measured = new Promise<void>((r) => (done = r));
  count = 0;
  const t = performance.now();
  pool.run({ runId: 2, setup, candles: shared, trials });
  await measured;
  const ms = performance.now() - t;
  await pool.close();
  return (count / ms) * 1000;
}

console.log(
  `${cores} cores; ${plan.trials.length} ma-crossover trials over ${DAYS} days of 1 m candles (${candles.length.toLocaleString('en')})`,
);
const one = await trialsPerSecond(1);
console.log(`pool of 1: ${one.toFixed(1)} trials/s`);
for (const threads of [...new Set([Math.max(1, cores - 1), cores])].filter((n) => n > 1)) {
  const many = await trialsPerSecond(threads);
  console.log(`pool of ${threads}: ${many.toFixed(1)} trials/s (${(many / one).toFixed(2)}× one worker)`);
}

// ---- 2. latency of a stand-in trader with the optimizer busy -------------------------------------

const dir = tempDir('vigil-optimizer-bench-');
recordMarket(dir.path, T0, 7);

const TICKS_PER_SEC = 200;
const MEASURE_MS = 4_000;

interface Latency {
  p50: number;
  p99: number;
  max: number;
}

async function tickLatency(): Promise<Latency> {
  const trader = fork(resolve(import.meta.dirname, 'children/tick-trader.mjs'), { serialization: 'json' });
  await new Promise<void>((r) => trader.once('message', () => r()));
  const sentAt = new Map<number, number>();
  const rtt: number[] = [];
  trader.on('message', (m: { seq: number }) => {
    const t = sentAt.get(m.seq);
    if (t !== undefined) rtt.push(performance.now() - t);
    sentAt.delete(m.seq);
  });
  const end = performance.now() + MEASURE_MS;
  for (let seq = 0; performance.now() < end; seq++) {
    sentAt.set(seq, performance.now());
    trader.send({ type: 'tick', seq, price: 100 + Math.sin(seq / 50) });
    await sleep(1000 / TICKS_PER_SEC);
  }
  await sleep(200);
  trader.send({ type: 'stop' });
  rtt.sort((a, b) => a - b);
  const q = (p: number) => rtt[Math.min(rtt.length - 1, Math.floor(p * rtt.length))]!;
  return { p50: q(0.5), p99: q(0.99), max: rtt.at(-1)! };
}

async function withOptimizer<T>(config: Record<string, number>, measure: () => Promise<T>): Promise<T> {
  const request = optimizerRequestSchema.parse({
    strategy: 'breakout',
    venue: 'binance-usdm',
    symbol: 'BTCUSDT',
    from: T0 + 1440 * MIN,
    to: T0 + 7 * 1440 * MIN,
    space: {
      type: 'grid',
      params: { lookback: { min: 10, max: 500, step: 5 }, exitLookback: { min: 2, max: 200, step: 2 } },
    },
  });
  const params: OptimizerStartParams = {
    runId: 1,
    request,
    strategyVersion: strategies.breakout.version,
    snapshot: null,
    done: [],
  };
  const host: ChildProcess = fork(resolve(import.meta.dirname, 'children/optimizer-host.mjs'), [
    JSON.stringify({
      program: resolve(import.meta.dirname, '../out/services/optimizer/index.js'),
      dataDir: dir.path,
      config,
      params,
    }),
  ]);
  const next = () => new Promise<Record<string, unknown>>((r) => host.once('message', r));
  const started = await next();
  if (started.error) throw new Error(String(started.error));
  await sleep(1000); // the workers at full speed
  const count = async () => (host.send('count'), Number((await next()).trials));
  const before = await count();
  const t = performance.now();
  const result = await measure();
  const rate = (((await count()) - before) / (performance.now() - t)) * 1000;
  host.send('stop');
  await new Promise((r) => host.once('exit', r));
  console.log(
    `  (optimizer ${JSON.stringify(config)}: ${rate.toFixed(0)} trials/s of ${String(started.total)} while measured)`,
  );
  return result;
}

console.log(
  `\nstand-in trader (tick → decision round trip over IPC, ${TICKS_PER_SEC} ticks/s for ${MEASURE_MS / 1000} s):`,
);
// The machine's other load changes while we measure: each case alternates idle and loaded runs,
// ROUNDS of each, and compares their means.
const ROUNDS = 2;
const cases: [string, Record<string, number>][] = [
  [`optimizer default pool (${Math.max(1, cores - 1)} threads, priority 19)`, {}],
  [`optimizer on every core (${cores} threads, priority 19)`, { workers: cores }],
  [`optimizer on every core (${cores} threads, priority 0: no lowering)`, { workers: cores, priority: 0 }],
];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
for (const [label, config] of cases) {
  const idle: Latency[] = [];
  const busy: Latency[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    idle.push(await tickLatency());
    busy.push(await withOptimizer(config, tickLatency));
  }
  const p = (xs: Latency[], k: 'p50' | 'p99') => mean(xs.map((x) => x[k]));
  console.log(
    `${label}: idle p50 ${p(idle, 'p50').toFixed(3)} / p99 ${p(idle, 'p99').toFixed(3)} ms; ` +
      `loaded p50 ${p(busy, 'p50').toFixed(3)} / p99 ${p(busy, 'p99').toFixed(3)} ms (max ${Math.max(...busy.map((b) => b.max)).toFixed(1)} ms); ` +
      `ratio p50 ${(p(busy, 'p50') / p(idle, 'p50')).toFixed(2)}, p99 ${(p(busy, 'p99') / p(idle, 'p99')).toFixed(2)}`,
  );
}
dir.remove();
