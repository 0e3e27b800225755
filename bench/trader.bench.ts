/**
 * The trader's two figures, under a real core (`npm run build` first: the built trader and optimizer
 * programs in out/services), with market data published on the real bus by a supervised feed
 * (bench/children/md-feed.ts, as a collector would publish it).
 *
 * 1. Tick-to-order latency: the trader's own measure from bus receive (performance.now() in its
 *    handler) to done handling, for every tick (`tick_p50_ms` / `tick_p99_ms`) and for the ticks that
 *    led to a decision and its order (`decision_p50_ms` / `decision_p99_ms`), over a phase of steady
 *    ticks for 5 symbols on 1 s candles with a moving average crossover that trades every few
 *    seconds. Idle, then with the optimizer busy on a real search (submitted through the core, its
 *    default pool at its lower priority), alternated, each phase on a freshly started trader so the
 *    60 s window holds that phase only. Issue 10 wants loaded ÷ idle ≤ 1.2.
 * 2. Sustained rate for 5 symbols: trades and tops at rising rates; the trader keeps up when its
 *    handled rate (its tick counter) is the published one and no message was dropped from its bus
 *    queues. The same rates to a bare subscriber (counts md.>, nothing else) on the same bus are the
 *    baseline. A rate the feed itself cannot reach shows as published below the rate asked.
 *
 * Every database sits in the OS temp folder; `TMPDIR=/dev/shm` puts them on tmpfs, which takes the
 * fsync of each order's insert into trader.db (written before the order is sent) out of tick→order.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCore, type Core } from '../src/main/core';
import type { CommandInput, CommandName, CommandResult } from '../src/shared/api';
import type { OptimizerRequestInput } from '../src/shared/optimizer-api';
import { resolveDefinition, type ServiceDefinitionInput } from '../src/shared/service-definition';
import type { TraderConfigInput, TraderSnapshot } from '../src/shared/trader-api';
import { MarketRecorder } from '../src/services/collector/recorder';
import { tempDir } from '../test/helpers/temp-dir';

const ROOT = resolve(import.meta.dirname, '..');
const FEED = resolve(import.meta.dirname, 'children/md-feed.ts');
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'XRPUSDT'];
const VENUE = 'binance-spot';
const MIN = 60_000;
const T0 = Date.UTC(2025, 0, 1);
/** Days of recorded data the optimizer searches over: enough that its search outlasts a phase. */
const DAYS = 30;

/** Phase 1: ticks per second (all symbols), seconds per phase, idle/busy rounds. */
const LATENCY_RATE = 500;
const LATENCY_SECONDS = 40;
const ROUNDS = 2;
/** Phase 2: the rates tried (messages per second, all symbols together) and seconds at each. */
const RATES = [5_000, 20_000, 40_000, 60_000, 80_000, 100_000, 120_000, 140_000, 160_000, 200_000];
const RATE_SECONDS = 5;

const traderConfig: TraderConfigInput = {
  mode: 'paper',
  venue: VENUE,
  symbols: SYMBOLS,
  resolution: '1s',
  strategy: { id: 'ma-crossover', params: { fast: 2, slow: 5 } },
  equity: 100_000,
  costs: { feeBps: 10, slippageBps: 2, latencyMs: 50 },
  // Never the limit that stops it: the bench measures handling, not refusals.
  limits: {
    maxPositionNotional: 1e9,
    maxOrderNotional: 1e9,
    maxOrdersPerMinute: 10_000,
    maxDailyLoss: 1e9,
  },
  staleAfterMs: 10_000,
};

const feedProgram = (role: 'publisher' | 'counter'): ServiceDefinitionInput['program'] => ({
  type: 'command',
  command: process.execPath,
  args: ['--import', 'tsx', FEED, role],
});

const definitions: ServiceDefinitionInput[] = [
  { name: 'feed', kind: 'custom', program: feedProgram('publisher'), protocol: 'vigil', cwd: ROOT },
  { name: 'counter', kind: 'custom', program: feedProgram('counter'), protocol: 'vigil', cwd: ROOT },
  { name: 'trader', kind: 'trader', program: { type: 'builtin', name: 'trader' }, config: traderConfig },
  { name: 'optimizer', kind: 'optimizer', program: { type: 'builtin', name: 'optimizer' } },
];

async function call<C extends CommandName>(
  core: Core,
  command: C,
  input: CommandInput<C>,
): Promise<CommandResult<C>> {
  const r = await core.router.dispatch(command, input, { transport: 'internal' });
  if (!r.ok) throw new Error(`${command}: ${r.error.code} ${r.error.message}`);
  return r.result as CommandResult<C>;
}

async function until<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 60_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Starts a service and waits until it runs; a trader is started with the person's confirmation. */
async function start(core: Core, name: string): Promise<void> {
  const input = name === 'trader' ? { name, confirm: { mode: 'paper' as const } } : { name };
  const r = await core.router.dispatch('services.start', input, { transport: 'internal' });
  if (!r.ok) throw new Error(`services.start ${name}: ${r.error.code} ${r.error.message}`);
  await until(() => core.supervisor.get(name).state === 'running', `${name} running`);
}

async function stop(core: Core, name: string): Promise<void> {
  await call(core, 'services.stop', { name });
  await until(() => ['stopped', 'failed'].includes(core.supervisor.get(name).state), `${name} stopped`);
}

const snapshot = async (core: Core): Promise<TraderSnapshot> =>
  (await core.supervisor.request('trader', 'trader.snapshot', {})) as TraderSnapshot;

interface FeedRun {
  published: number;
  ms: number;
  subscribers: { id: string; patterns: string[]; delivered: number; dropped: number }[];
}

/** Prices swing over 4 s: the 2/5 averages of 1 s candles cross every couple of seconds. */
const feed = async (core: Core, rate: number, seconds: number): Promise<FeedRun> =>
  (await core.supervisor.request(
    'feed',
    'feed.run',
    { venue: VENUE, symbols: SYMBOLS, rate, seconds, periodMs: 4_000 },
    seconds * 1000 + 60_000,
  )) as FeedRun;

/** Messages the feed dropped from `name`'s queues so far. */
const droppedFor = (subscribers: FeedRun['subscribers'], name: string): number =>
  subscribers.filter((s) => s.id === name).reduce((n, s) => n + s.dropped, 0);

const feedStats = async (core: Core): Promise<FeedRun['subscribers']> =>
  (await core.supervisor.request('feed', 'feed.stats', {})) as FeedRun['subscribers'];

/** 30 days of BTCUSDT trades every 20 s in market/binance-usdm.db: what the optimizer searches. */
function recordMarket(dataDir: string): void {
  const recorder = MarketRecorder.open({
    dataDir,
    venue: 'binance-usdm',
    retentionDays: 3650,
    flushIntervalMs: 0,
    pruneIntervalMs: 0,
    checkpointThread: false,
  });
  for (let ts = T0, id = 0; ts < T0 + DAYS * 1440 * MIN; ts += 20_000) {
    recorder.addTrade({
      type: 'trade',
      venue: 'binance-usdm',
      symbol: 'BTCUSDT',
      id: String(++id),
      exchangeTs: ts,
      localTs: ts,
      price: 100 + 10 * Math.sin(ts / 7_200_000) + (id % 11) / 10,
      size: 1,
      side: id % 2 ? 'buy' : 'sell',
    });
    if (id % 5000 === 0) recorder.flush();
  }
  recorder.close();
}

/** A breakout grid over the month (8,000 trials): it outlasts a phase by far. */
const search: OptimizerRequestInput = {
  strategy: 'breakout',
  venue: 'binance-usdm',
  symbol: 'BTCUSDT',
  from: T0 + 1440 * MIN,
  to: T0 + DAYS * 1440 * MIN,
  space: {
    type: 'grid',
    params: { lookback: { min: 10, max: 500, step: 5 }, exitLookback: { min: 2, max: 200, step: 2 } },
  },
};

interface Latency {
  tickP50: number;
  tickP99: number;
  decisionP50: number;
  decisionP99: number;
  ticks: number;
  decisions: number;
  orders: number;
}

/** One phase on a freshly started trader: steady ticks, then its metrics over the phase. */
async function latencyPhase(core: Core, label: string): Promise<Latency> {
  await start(core, 'trader');
  await feed(core, LATENCY_RATE, LATENCY_SECONDS);
  await sleep(2_500); // the next heartbeat carries the metrics of the whole phase
  const m = core.supervisor.get('trader').metrics ?? {};
  const s = await snapshot(core);
  await stop(core, 'trader');
  const need = (k: string): number => {
    if (typeof m[k] !== 'number')
      throw new Error(`the trader reported no ${k} (metrics: ${JSON.stringify(m)})`);
    return m[k];
  };
  const phase = {
    tickP50: need('tick_p50_ms'),
    tickP99: need('tick_p99_ms'),
    decisionP50: need('decision_p50_ms'),
    decisionP99: need('decision_p99_ms'),
    ticks: s.counters.ticks,
    decisions: s.counters.decisions,
    orders: s.counters.orders,
  };
  console.log(
    `    ${label}: tick p50 ${phase.tickP50} / p99 ${phase.tickP99} ms, tick→order p50 ${phase.decisionP50} / p99 ${phase.decisionP99} ms ` +
      `(${phase.ticks} ticks, ${phase.decisions} decisions, ${phase.orders} orders)`,
  );
  return phase;
}

async function main(): Promise<void> {
  const dir = tempDir('vigil-trader-bench-');
  recordMarket(dir.path);
  const core = await createCore({
    mode: 'headless',
    dataDir: dir.path,
    servicesDir: resolve(ROOT, 'out/services'),
    definitions: definitions.map((d) => {
      const r = resolveDefinition(d);
      if (!r.ok) throw new Error(`${d.name}: ${r.error.message}`);
      return r.definition;
    }),
    supervisor: { autostart: false, metricsIntervalMs: 500 },
  });
  try {
    await start(core, 'feed');
    const cores = availableParallelism();

    // ---- 1. tick-to-order latency, idle vs optimizer busy ----
    console.log(
      `${cores} cores; trader on ${SYMBOLS.length} symbols, 1 s candles, ma-crossover 2/5; ` +
        `${LATENCY_RATE} ticks/s (trades and tops) for ${LATENCY_SECONDS} s per phase, ${ROUNDS} rounds`,
    );
    const idle: Latency[] = [];
    const busy: Latency[] = [];
    let trialsPerSec = 0;
    for (let round = 0; round < ROUNDS; round++) {
      idle.push(await latencyPhase(core, 'idle'));
      await start(core, 'optimizer');
      const submitted = await call(core, 'optimizer.submit', { request: search });
      await until(
        async () => (await call(core, 'optimizer.run', { id: submitted.id })).status === 'running',
        'the search running',
      );
      await sleep(1_000); // its workers at full speed
      const before = (await call(core, 'optimizer.run', { id: submitted.id })).progress.done;
      const t = Date.now();
      busy.push(await latencyPhase(core, 'optimizer busy'));
      const run = await call(core, 'optimizer.run', { id: submitted.id });
      trialsPerSec = ((run.progress.done - before) / (Date.now() - t)) * 1000;
      console.log(
        `  round ${round + 1}: optimizer did ${trialsPerSec.toFixed(1)} trials/s (${run.progress.done} of ${run.progress.total} done, ${run.status})`,
      );
      if (run.status === 'running' || run.status === 'queued') {
        await call(core, 'optimizer.cancel', { id: submitted.id });
      }
      await stop(core, 'optimizer');
    }
    const mean = (xs: Latency[], k: keyof Latency) => xs.reduce((a, x) => a + x[k], 0) / xs.length;
    const line = (label: string, xs: Latency[]) =>
      `  ${label}: tick p50 ${mean(xs, 'tickP50').toFixed(3)} / p99 ${mean(xs, 'tickP99').toFixed(3)} ms; ` +
      `tick→order p50 ${mean(xs, 'decisionP50').toFixed(3)} / p99 ${mean(xs, 'decisionP99').toFixed(3)} ms ` +
      `(${mean(xs, 'ticks').toFixed(0)} ticks, ${mean(xs, 'decisions').toFixed(0)} decisions, ${mean(xs, 'orders').toFixed(0)} orders a phase)`;
    console.log(line('idle', idle));
    console.log(line('optimizer busy', busy));
    const ratio = (k: keyof Latency) => (mean(busy, k) / mean(idle, k)).toFixed(2);
    console.log(
      `  ratio busy ÷ idle: tick p50 ${ratio('tickP50')}, p99 ${ratio('tickP99')}; ` +
        `tick→order p50 ${ratio('decisionP50')}, p99 ${ratio('decisionP99')} (issue 10 target ≤ 1.2)`,
    );

    // ---- 2. sustained market-data rate for 5 symbols ----
    console.log(
      `\nsustained rate, ${SYMBOLS.length} symbols, trades and tops alternating, ${RATE_SECONDS} s per rate:`,
    );
    const keeps = { trader: 0, bare: 0 };
    const behind = new Set<string>();
    // Each rate to each subscriber alone, freshly started, in alternating order: the machine's other
    // load drifts, and the two should share its drift.
    for (const [i, rate] of RATES.entries()) {
      const order = i % 2 === 0 ? (['trader', 'bare'] as const) : (['bare', 'trader'] as const);
      for (const who of order) {
        if (behind.has(who)) continue;
        const name = who === 'trader' ? 'trader' : 'counter';
        await start(core, name);
        await sleep(1_000);
        const count = async (): Promise<number> =>
          who === 'trader'
            ? (await snapshot(core)).counters.ticks
            : ((await core.supervisor.request('counter', 'feed.count', {})) as { received: number }).received;
        const dropsBefore = droppedFor(await feedStats(core), name);
        const before = await count();
        const t0 = Date.now();
        const run = await feed(core, rate, RATE_SECONDS);
        // Handled: until the count stops moving (what is queued is still being worked through).
        let handled = await count();
        let at = Date.now();
        for (;;) {
          await sleep(200);
          const now = await count();
          if (now === handled) break;
          handled = now;
          at = Date.now();
        }
        await stop(core, name);
        const got = handled - before;
        const dropped = droppedFor(run.subscribers, name) - dropsBefore;
        const publishedRate = (run.published / run.ms) * 1000;
        const handledRate = (got / Math.max(run.ms, at - t0)) * 1000;
        const kept = dropped === 0 && got >= run.published * 0.99;
        if (kept) keeps[who] = Math.max(keeps[who], publishedRate);
        else behind.add(who);
        console.log(
          `  ${who.padEnd(7)} ${String(rate).padStart(6)}/s: published ${publishedRate.toFixed(0)}/s, handled ${handledRate.toFixed(0)}/s ` +
            `(${got} of ${run.published}), dropped ${dropped}${kept ? '' : '  ← falls behind'}`,
        );
      }
      if (behind.size === 2) break;
    }
    console.log(
      `  kept up to: trader ${keeps.trader.toFixed(0)} msg/s, bare subscriber ${keeps.bare.toFixed(0)} msg/s ` +
        `(trader ÷ bare ${(keeps.trader / Math.max(1, keeps.bare)).toFixed(2)})`,
    );
  } finally {
    await core.close();
    dir.remove();
  }
}

await main();
