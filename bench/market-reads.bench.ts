/**
 * market.series off the core's thread: on a week of binance-usdm BTCUSDT recorded at live-like rates
 * (test/helpers/market-fill.ts: ~1.3 M rows), a 7-day series query (maxPoints 1000, everything the
 * venue has) run 30 times, once on the core's thread (how the API read it before: readSeries called
 * directly) and once through the market read thread (MarketReadThread, what the API does now). For
 * each: how long the core's event loop was held up meanwhile (perf_hooks.monitorEventLoopDelay at
 * 1 ms, max and p99), and how long a query took from the caller's side. The ratio printed is the
 * worst event-loop delay before over after; an idle run of the same loop shows the machine's own noise.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { MarketReadThread } from '../src/main/api/market-read-thread';
import { readSeries, type SeriesQuery } from '../src/main/api/market-reads';
import { fillUsdm } from '../test/helpers/market-fill';
import { tempDir } from '../test/helpers/temp-dir';

const DAY = 86_400_000;
const RUNS = 30;
const NOW = Math.floor(Date.now() / 60_000) * 60_000;

const dir = tempDir('vigil-bench-market-reads-');
try {
  const t0 = performance.now();
  const rows = fillUsdm({ dataDir: dir.path, symbol: 'BTCUSDT', from: NOW - 7 * DAY, to: NOW });
  console.log(
    `filled ${rows.toLocaleString('en')} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  const query: SeriesQuery = {
    venue: 'binance-usdm',
    symbol: 'BTCUSDT',
    from: NOW - 7 * DAY,
    to: NOW,
    maxPoints: 1000,
    resolution: 'auto',
  };
  const files = { dataDir: dir.path };

  // The machine's own noise: the same loop with a 60 ms wait in place of the query.
  await measure('idle (no query)', () => new Promise((r) => setTimeout(r, 60)));
  const before = await measure('core thread (before)', () => Promise.resolve(readSeries(files, query)));
  const thread = new MarketReadThread(files);
  let after: Figures;
  try {
    await thread.read('series', query); // the thread's start (and, from source, tsx) is not what is measured
    after = await measure('read thread (after)', () => thread.read('series', query));
  } finally {
    await thread.close();
  }
  console.log(
    `worst core event-loop delay during a 7-day series: ${ms(before.maxDelay)} before, ${ms(after.maxDelay)} after ` +
      `(ratio ${(before.maxDelay / after.maxDelay).toFixed(1)}×); p99 ${ms(before.p99Delay)} → ${ms(after.p99Delay)}`,
  );
  console.log(
    `query time seen by the caller: median ${ms(before.medianQuery)} before, ${ms(after.medianQuery)} after ` +
      `(the thread adds the message round trip and copying the result)`,
  );
} finally {
  dir.remove();
}

interface Figures {
  maxDelay: number;
  p99Delay: number;
  medianQuery: number;
}

async function measure(label: string, query: () => Promise<unknown>): Promise<Figures> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const times: number[] = [];
  histogram.enable();
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await query();
    times.push(performance.now() - t);
    // Let the loop turn between queries, as between requests of a window.
    await nextTurn();
    await new Promise((r) => setTimeout(r, 5));
  }
  histogram.disable();
  const figures = {
    maxDelay: histogram.max / 1e6,
    p99Delay: histogram.percentile(99) / 1e6,
    medianQuery: [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!,
  };
  console.log(
    `${label}: event-loop delay max ${ms(figures.maxDelay)}, p99 ${ms(figures.p99Delay)}; ` +
      `query median ${ms(figures.medianQuery)}`,
  );
  return figures;
}

function ms(x: number): string {
  return `${x.toFixed(1)} ms`;
}
