/**
 * The trader's two figures, under a real core (`npm run build` first: the built trader and optimizer
 * programs in out/services), with market data published on the real bus by a supervised feed
 * (bench/children/md-feed.ts, as a collector would publish it).
 *
 * 1. Tick-to-decision latency: the trader's own measures from bus receive (performance.now() in its
 *    handler), for every tick to done handling (`tick_p50_ms` / `tick_p99_ms`), and for the ticks that
 *    led to an order, to the order decided (`decision_*`: sized and allowed, before it is written) and
 *    to the order written to trader.db (synced to disk) and sent (`order_*`). A phase is 50 s of
 *    steady ticks for 20 symbols on 1 s candles with a moving average crossover that trades every
 *    couple of seconds (~450 orders a phase, so a p99 is not the phase's maximum). Idle, then with
 *    the optimizer busy on a real search (submitted through the core, its default pool at its lower
 *    priority), alternated, each phase on a freshly started trader so the 60 s window holds that
 *    phase only. Issue 10 wants loaded ÷ idle ≤ 1.2.
 *    The order adds the disk's sync to the decision, so the disk is measured alongside as the
 *    baseline: a probe (bench/disk-probe.ts) commits a row with a sync to its own file in the same
 *    folder ten times a second through both phases. The core's own writes in each phase (its trial
 *    batches, mostly) are printed from /proc/self/io where there is one.
 * 2. Sustained rate for 20 symbols: trades and tops at rising rates; the trader keeps up when its
 *    handled rate (its tick counter) is the published one and no message was dropped from its bus
 *    queues. The same rates to a bare subscriber (counts md.>, nothing else) on the same bus are the
 *    baseline. A rate the feed itself cannot reach shows as published below the rate asked.
 *
 * Every database sits in the OS temp folder; `TMPDIR=/dev/shm` puts them on tmpfs, which takes the
 * fsync of each order's insert into trader.db (written before the order is sent) out of tick→order.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCore, type Core } from '../src/main/core';
import type { CommandInput, CommandName, CommandResult } from '../src/shared/api';
import type { OptimizerRequestInput } from '../src/shared/optimizer-api';
import { resolveDefinition, type ServiceDefinitionInput } from '../src/shared/service-definition';
import type { TraderConfigInput, TraderSnapshot } from '../src/shared/trader-api';
import { tempDir } from '../test/helpers/temp-dir';
import { DiskProbe, percentile } from './disk-probe';
import { recordMarket } from './recorded-market';

const ROOT = resolve(import.meta.dirname, '..');
const FEED = resolve(import.meta.dirname, 'children/md-feed.ts');
const SYMBOLS = ['BTC', 'ETH', 'SOL', 'BNB', 'XRP', 'ADA', 'DOGE', 'TRX', 'AVAX', 'LINK', 'DOT', 'LTC', 'BCH']
  .concat(['ATOM', 'NEAR', 'APT', 'ARB', 'OP', 'FIL', 'UNI'])
  .map((base) => `${base}USDT`);
const VENUE = 'binance-spot';
const MIN = 60_000;
const T0 = Date.UTC(2025, 0, 1);
/** Days of recorded data the optimizer searches over: enough that its search outlasts a phase. */
const DAYS = 30;

/** Phase 1: ticks per second (all symbols), seconds per phase, idle/busy rounds. */
const LATENCY_RATE = 500;
const LATENCY_SECONDS = 50;
const ROUNDS = 3;
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

/** A breakout grid over the month (~20,000 trials): it outlasts a phase by far. */
const search: OptimizerRequestInput = {
  strategy: 'breakout',
  venue: 'binance-usdm',
  symbol: 'BTCUSDT',
  from: T0 + 1440 * MIN,
  to: T0 + DAYS * 1440 * MIN,
  space: {
    type: 'grid',
    params: { lookback: { min: 10, max: 500, step: 2 }, exitLookback: { min: 2, max: 200, step: 2 } },
  },
};

const MEASURES = ['tick', 'decision', 'order', 'disk'] as const;
type Measure = (typeof MEASURES)[number];
const LABEL: Record<Measure, string> = {
  tick: 'tick',
  decision: 'tick→decision',
  order: 'tick→order',
  disk: 'disk sync (probe)',
};

interface Phase {
  ms: Record<Measure, { p50: number; p99: number }>;
  ticks: number;
  decisions: number;
  orders: number;
  /** What the core's process wrote to storage during the phase (null: no /proc/self/io). */
  coreWrittenMb: number | null;
}

/** Bytes this process (the core) has caused to be written to storage, where Linux says. */
function writtenBytes(): number | null {
  try {
    const m = /^write_bytes: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** One phase on a freshly started trader: steady ticks, then its metrics over the phase. */
async function latencyPhase(core: Core, probe: DiskProbe, label: string): Promise<Phase> {
  await start(core, 'trader');
  probe.take();
  const written = writtenBytes();
  await feed(core, LATENCY_RATE, LATENCY_SECONDS);
  const disk = probe.take();
  const writtenAfter = writtenBytes();
  await sleep(2_500); // the next heartbeat carries the metrics of the whole phase
  const m = core.supervisor.get('trader').metrics ?? {};
  const s = await snapshot(core);
  await stop(core, 'trader');
  const need = (k: string): number => {
    if (typeof m[k] !== 'number')
      throw new Error(`the trader reported no ${k} (metrics: ${JSON.stringify(m)})`);
    return m[k];
  };
  const trader = (k: Exclude<Measure, 'disk'>) => ({ p50: need(`${k}_p50_ms`), p99: need(`${k}_p99_ms`) });
  const phase: Phase = {
    ms: {
      tick: trader('tick'),
      decision: trader('decision'),
      order: trader('order'),
      disk: { p50: percentile(disk, 50), p99: percentile(disk, 99) },
    },
    ticks: s.counters.ticks,
    decisions: s.counters.decisions,
    orders: s.counters.orders,
    coreWrittenMb: written === null || writtenAfter === null ? null : (writtenAfter - written) / 1e6,
  };
  const figures = MEASURES.map(
    (k) => `${LABEL[k]} ${phase.ms[k].p50.toFixed(3)} / ${phase.ms[k].p99.toFixed(3)}`,
  ).join(', ');
  console.log(
    `    ${label}: p50 / p99 ms: ${figures} (${phase.ticks} ticks, ${phase.orders} orders` +
      `${phase.coreWrittenMb === null ? '' : `; the core wrote ${phase.coreWrittenMb.toFixed(1)} MB`})`,
  );
  return phase;
}

async function main(): Promise<void> {
  const dir = tempDir('vigil-trader-bench-');
  recordMarket(dir.path, T0, DAYS);
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
    const probe = new DiskProbe(dir.path);
    const idle: Phase[] = [];
    const busy: Phase[] = [];
    let trialsPerSec = 0;
    for (let round = 0; round < ROUNDS; round++) {
      idle.push(await latencyPhase(core, probe, 'idle'));
      await start(core, 'optimizer');
      const submitted = await call(core, 'optimizer.submit', { request: search });
      await until(
        async () => (await call(core, 'optimizer.run', { id: submitted.id })).status === 'running',
        'the search running',
      );
      await sleep(1_000); // its workers at full speed
      const before = (await call(core, 'optimizer.run', { id: submitted.id })).progress.done;
      const t = Date.now();
      busy.push(await latencyPhase(core, probe, 'optimizer busy'));
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
    probe.close();
    // Each figure is the mean over the rounds of each phase's percentile.
    const mean = (xs: Phase[], f: (p: Phase) => number) => xs.reduce((a, x) => a + f(x), 0) / xs.length;
    const at = (k: Measure, q: 'p50' | 'p99') => (p: Phase) => p.ms[k][q];
    for (const [label, xs] of [
      ['idle', idle],
      ['optimizer busy', busy],
    ] as const) {
      const figures = MEASURES.map(
        (k) => `${LABEL[k]} ${mean(xs, at(k, 'p50')).toFixed(3)} / ${mean(xs, at(k, 'p99')).toFixed(3)}`,
      ).join(', ');
      const mb = xs.every((x) => x.coreWrittenMb !== null)
        ? `; the core wrote ${mean(xs, (x) => x.coreWrittenMb!).toFixed(1)} MB a phase`
        : '';
      console.log(
        `  ${label}: p50 / p99 ms: ${figures} (${mean(xs, (x) => x.orders).toFixed(0)} orders a phase${mb})`,
      );
    }
    const ratio = (k: Measure, q: 'p50' | 'p99') => (mean(busy, at(k, q)) / mean(idle, at(k, q))).toFixed(2);
    console.log(
      `  ratio busy ÷ idle, p50 / p99: ${MEASURES.map((k) => `${LABEL[k]} ${ratio(k, 'p50')} / ${ratio(k, 'p99')}`).join(', ')}`,
    );
    console.log(
      `  issue 10 target ≤ 1.2 for tick→decision; tick→order adds trader.db's sync, which moves with the disk probe's`,
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
