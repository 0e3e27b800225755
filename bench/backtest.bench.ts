/**
 * Backtest throughput on one thread (what one optimizer worker does): each shipped strategy with its
 * default parameters run by the backtester over 1,000,000 synthetic 1 m candles (a random walk, with
 * costs and shorting on), in candles per second, against a bare loop over the same candle objects
 * that only reads their prices. Also the strategy alone (its onCandle loop, no backtester), to show
 * where the time goes. Best of RUNS, after a warm-up run; the ratio is bare loop ÷ backtest.
 */
import { performance } from 'node:perf_hooks';
import { runBacktest } from '../src/services/optimizer/backtest';
import { strategies, type StrategyCandle, type StrategyDefinition } from '../src/services/strategies';

const CANDLES = 1_000_000;
const RUNS = 5;
const MIN = 60_000;

let seed = 42;
const random = (): number => {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
  return seed / 0x7fffffff;
};

const t0 = Date.UTC(2025, 0, 1);
const candles: StrategyCandle[] = [];
let price = 30_000;
for (let i = 0; i < CANDLES; i++) {
  const open = price;
  price *= 1 + (random() - 0.5) * 0.004;
  const close = price;
  candles.push({
    start: t0 + i * MIN,
    open,
    high: Math.max(open, close) * (1 + random() * 0.001),
    low: Math.min(open, close) * (1 - random() * 0.001),
    close,
    volume: 1 + random() * 10,
    trades: 1 + Math.floor(random() * 100),
  });
}

/** Best wall time of `fn` over RUNS runs, after one run to warm the JIT. */
function best(fn: () => unknown): number {
  fn();
  let min = Infinity;
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

let sink = 0;
const bare = best(() => {
  let s = 0;
  for (let i = 0; i < candles.length; i++) {
    const c = candles[i]!;
    s += c.close - c.open + c.high - c.low;
  }
  sink += s;
});

const rate = (ms: number) => `${(((CANDLES / ms) * 1000) / 1e6).toFixed(1)} M candles/s`;
console.log(`${CANDLES.toLocaleString('en')} candles, best of ${RUNS}`);
console.log(`bare loop: ${bare.toFixed(1)} ms (${rate(bare)})`);

for (const def of Object.values(strategies) as StrategyDefinition[]) {
  let trades = 0;
  const backtest = best(() => {
    const r = runBacktest({
      strategy: def,
      params: {},
      candles,
      intervalMs: MIN,
      costs: { feeBps: 4, slippageBps: 1, latencyMs: 200 },
      initialEquity: 10_000,
      allowShort: true,
    });
    trades = r.metrics.trades;
  });
  const alone = best(() => {
    const s = def.create(def.defaults);
    let n = 0;
    for (let i = 0; i < candles.length; i++) if (s.onCandle(candles[i]!)) n += 1;
    sink += n;
  });
  console.log(
    `${def.id} ${JSON.stringify(def.defaults)}: backtest ${backtest.toFixed(1)} ms (${rate(backtest)}, ` +
      `${trades.toLocaleString('en')} trades), ${(backtest / bare).toFixed(1)}× the bare loop; ` +
      `strategy alone ${alone.toFixed(1)} ms (${rate(alone)})`,
  );
}
if (sink === 42) console.log('');
