/**
 * The optimizer end to end under a real core: the built optimizer program (out/services/optimizer,
 * `npm run build` first) with its worker threads, a market db written by the collectors' recorder,
 * and control.db. Submit → progress → done with every trial stored; ranges the data cannot serve
 * refused with field errors; cancel; SIGKILL of the optimizer mid-run → restarted by the supervisor
 * → the run resumes without computing its stored trials again; a worker thread crash survived
 * (retried once, or failed after two); queued while no optimizer runs; apply to a trader.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../src/main/core';
import type { CommandInput, CommandName, CommandResult } from '../../src/shared/api';
import type { ApiErrorShape } from '../../src/shared/errors';
import type {
  OptimizerProgressEvent,
  OptimizerRequestInput,
  OptimizerRun,
} from '../../src/shared/optimizer-api';
import { resolveDefinition, type ServiceDefinitionInput } from '../../src/shared/service-definition';
import { MarketRecorder } from '../../src/services/collector/recorder';
import { until } from '../helpers/process-fixtures';
import { tempDir } from '../helpers/temp-dir';

const servicesDir = resolve(import.meta.dirname, '../../out/services');
const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 2, 3, 0, 0, 0);
const SYMBOL = 'BTCUSDT';
/** A recorded gap of BTCUSDT's trades, 20 h in. */
const GAP_AT = T0 + 20 * HOUR;

let dir: ReturnType<typeof tempDir>;
let core: Core | null = null;

beforeAll(() => {
  dir = tempDir('vigil-optimizer-');
  const r = MarketRecorder.open({
    dataDir: dir.path,
    venue: 'binance-usdm',
    retentionDays: 3650,
    flushIntervalMs: 0,
    pruneIntervalMs: 0,
    checkpointThread: false,
  });
  try {
    // A day of trades every 30 s: swings of a few hours with ripples, so averages cross often.
    let id = 0;
    for (let ts = T0; ts < T0 + 24 * HOUR; ts += 30_000) {
      const t = (ts - T0) / HOUR;
      r.addTrade({
        type: 'trade',
        venue: 'binance-usdm',
        symbol: SYMBOL,
        id: String(++id),
        exchangeTs: ts,
        localTs: ts + 3,
        price: 100 + 8 * Math.sin(t / 1.7) + 2 * Math.sin(t * 3.1) + (id % 5) / 10,
        size: 0.5,
        side: id % 2 ? 'buy' : 'sell',
      });
      if (id % 1000 === 0) r.flush();
    }
    r.flush();
    r.recordGap({
      venue: 'binance-usdm',
      symbol: SYMBOL,
      stream: 'trade',
      start: GAP_AT,
      end: GAP_AT + 30_000,
      cause: 'trade-id',
      detail: 'trade ids 2401–2410 never arrived',
    });
  } finally {
    r.close();
  }
});

afterEach(async () => {
  await core?.close();
  core = null;
});
afterAll(() => dir.remove());

function optimizerDef(over: Partial<ServiceDefinitionInput> = {}): ServiceDefinitionInput {
  return {
    name: 'optimizer',
    kind: 'optimizer',
    program: { type: 'builtin', name: 'optimizer' },
    config: { workers: 2 },
    ...over,
  };
}

async function start(defs: ServiceDefinitionInput[]): Promise<Core> {
  core = await createCore({
    mode: 'headless',
    dataDir: dir.path,
    servicesDir,
    definitions: defs.map((d) => {
      const r = resolveDefinition(d);
      if (!r.ok) throw new Error(r.error.message);
      return r.definition;
    }),
    supervisor: { metricsIntervalMs: 200 },
  });
  return core;
}

async function call<C extends CommandName>(
  c: Core,
  command: C,
  input: CommandInput<C>,
): Promise<CommandResult<C>> {
  const r = await c.router.dispatch(command, input, { transport: 'internal' });
  if (!r.ok) throw new Error(`${command}: ${r.error.code} ${r.error.message}`);
  return r.result as CommandResult<C>;
}

async function refusal(c: Core, command: CommandName, input: unknown): Promise<ApiErrorShape> {
  const r = await c.router.dispatch(command, input, { transport: 'internal' });
  if (r.ok) throw new Error(`${command} was accepted: ${JSON.stringify(r.result).slice(0, 300)}`);
  return r.error;
}

/** ma-crossover over [T0 + 1 h, T0 + 13 h): 1 m candles, the last 30 % out of sample. */
function request(over: Partial<OptimizerRequestInput> = {}): OptimizerRequestInput {
  return {
    strategy: 'ma-crossover',
    venue: 'binance-usdm',
    symbol: SYMBOL,
    from: T0 + HOUR,
    to: T0 + 13 * HOUR,
    space: {
      type: 'grid',
      params: { fast: { min: 4, max: 12, step: 4 }, slow: { min: 20, max: 40, step: 10 } },
    },
    ...over,
  };
}

async function waitRunning(c: Core, name = 'optimizer'): Promise<void> {
  await until(() => c.supervisor.get(name).state === 'running', `${name} running`, 30_000);
}

async function waitRun(c: Core, id: number, done: (r: OptimizerRun) => boolean, what: string, ms = 60_000) {
  let run: OptimizerRun | null = null;
  await until(
    async () => {
      run = await call(c, 'optimizer.run', { id });
      return done(run);
    },
    what,
    ms,
  );
  return run!;
}

const finished = (r: OptimizerRun) => r.status !== 'queued' && r.status !== 'running';

describe('optimizer', () => {
  it(
    'runs a grid search: progress events, every trial stored with in- and out-of-sample metrics, the best one named',
    { timeout: 90_000 },
    async () => {
      const c = await start([optimizerDef()]);
      const progress: OptimizerProgressEvent[] = [];
      c.events.listen((e, p) => e === 'optimizer.progress' && progress.push(p as OptimizerProgressEvent));
      await waitRunning(c);
      const info = c.supervisor.get('optimizer');
      expect(info.detail).toMatchObject({ workers: 2, priority: 19 });
      if (process.platform === 'linux') {
        // Nice and policy are per thread on Linux: every thread of the program runs at nice 19 and
        // under SCHED_IDLE (5), its workers too (chrt comes with util-linux).
        expect(info.detail).toMatchObject({ policy: 'idle' });
        const threads = readdirSync(`/proc/${info.pid}/task`).map((tid) => {
          const stat = readFileSync(`/proc/${info.pid}/task/${tid}/stat`, 'utf8');
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          return `nice ${fields[16]} policy ${fields[38]}`;
        });
        expect(threads.length).toBeGreaterThan(3);
        expect(new Set(threads)).toEqual(new Set(['nice 19 policy 5']));
      }

      const submitted = await call(c, 'optimizer.submit', { request: request() });
      expect(submitted.status).toBe('running');
      expect(submitted.strategyVersion).toBe(1);
      expect(submitted.progress.total).toBe(9);
      expect(submitted.request).toMatchObject({ resolution: '1m', outOfSample: 0.3, objective: 'sharpe' });
      expect(submitted.gaps).toEqual([]);
      // 12 h of 1 m candles, split 70/30 on a candle boundary; warmup (slow ≤ 40) read before `from`.
      expect(submitted.split).toBe(T0 + HOUR + Math.floor(12 * 60 * 0.7) * MIN);
      expect(submitted.candles).toBe(12 * 60 + 40);

      const run = await waitRun(c, submitted.id, finished, 'the run to finish');
      expect(run.status).toBe('done');
      expect(run.progress).toMatchObject({ done: 9, total: 9, failed: 0 });

      const page = await call(c, 'optimizer.trials', { runId: run.id, sort: 'id', order: 'asc' });
      expect(page.total).toBe(9);
      expect(page.items.map((t) => [t.params.fast, t.params.slow])).toEqual([
        [4, 20],
        [4, 30],
        [4, 40],
        [8, 20],
        [8, 30],
        [8, 40],
        [12, 20],
        [12, 30],
        [12, 40],
      ]);
      const inCandles = (run.split! - run.request.from) / MIN;
      for (const t of page.items) {
        expect(t.status).toBe('done');
        expect(t.inSample!.candles).toBe(inCandles);
        expect(t.outOfSample!.candles).toBe(12 * 60 - inCandles);
        expect(t.score).toBe(t.inSample!.sharpe);
        expect(t.outOfSampleScore).toBe(t.outOfSample!.sharpe);
        expect(t.meetsConstraints).toBe(true);
      }
      const scored = page.items.filter((t) => t.score !== null);
      const top = scored.reduce((a, b) => (b.score! > a.score! ? b : a));
      expect(run.progress.best).toEqual({ trialId: top.id, score: top.score });
      const bySort = await call(c, 'optimizer.trials', { runId: run.id, limit: 1 });
      expect(bySort.items[0]!.id).toBe(top.id);

      const detail = await call(c, 'optimizer.trial', { runId: run.id, trialId: top.id });
      expect(detail.equity.inSample.length).toBeGreaterThan(4);
      expect(detail.equity.inSample.length).toBeLessThanOrEqual(100);
      expect(detail.equity.inSample[0]!.at).toBeGreaterThan(run.request.from);
      expect(detail.equity.outOfSample[0]!.at).toBeGreaterThan(run.split!);
      expect(detail.equity.outOfSample.at(-1)!.equity).toBeCloseTo(detail.outOfSample!.finalEquity, 6);

      // Progress went forward only, ended done, and never told more than it had.
      const mine = progress.filter((p) => p.runId === run.id);
      expect(mine.at(-1)).toMatchObject({ status: 'done', done: 9, total: 9 });
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.done).toBeGreaterThanOrEqual(mine[i - 1]!.done);

      // A random search: as many distinct trials as the budget, within bounds, reproducible by its seed.
      const random = await call(c, 'optimizer.submit', {
        request: request({
          space: { type: 'random', params: { fast: { min: 3, max: 15 } }, budget: 6, seed: 7 },
        }),
      });
      const doneRandom = await waitRun(c, random.id, finished, 'the random run');
      expect(doneRandom.progress).toMatchObject({ done: 6, total: 6 });
      const trials = (await call(c, 'optimizer.trials', { runId: random.id, sort: 'id', order: 'asc' }))
        .items;
      expect(new Set(trials.map((t) => t.params.fast)).size).toBe(6);
      for (const t of trials) {
        expect(Number.isInteger(t.params.fast)).toBe(true);
        expect(t.params.fast).toBeGreaterThanOrEqual(3);
        expect(t.params.fast).toBeLessThanOrEqual(15);
        expect(t.params.slow).toBe(30); // the default
      }
      const listed = await call(c, 'optimizer.runs', {});
      expect(listed.items.slice(0, 2).map((r) => r.id)).toEqual([random.id, run.id]);
    },
  );

  it(
    'refuses requests the strategy or the data cannot serve, with the field to fix',
    { timeout: 60_000 },
    async () => {
      const c = await start([optimizerDef()]);
      await waitRunning(c);
      const runsBefore = (await call(c, 'optimizer.runs', {})).total;
      const submit = (over: Partial<OptimizerRequestInput>) =>
        refusal(c, 'optimizer.submit', { request: request(over) });

      expect(await submit({ strategy: 'nope' })).toMatchObject({
        code: 'invalid_input',
        field: 'request.strategy',
      });
      const unknown = await submit({
        space: { type: 'grid', params: { fastest: { min: 2, max: 4, step: 1 } } },
      });
      expect(unknown).toMatchObject({ field: 'request.space.params.fastest' });
      expect(unknown.message).toContain('not a parameter of ma-crossover');
      expect(
        await submit({ space: { type: 'grid', params: { fast: { min: 9, max: 4, step: 1 } } } }),
      ).toMatchObject({
        field: 'request.space.params.fast.max',
      });
      expect(
        await submit({ space: { type: 'grid', params: { fast: { min: 2, max: 400, step: 1 } } } }),
      ).toMatchObject({
        field: 'request.space.params.fast.max',
      });
      // The range crosses the recorded gap: refused naming it, and no run kept.
      const gap = await submit({ from: GAP_AT - 2 * HOUR, to: GAP_AT + HOUR });
      expect(gap).toMatchObject({ code: 'invalid_input', field: 'request.from' });
      expect(gap.message).toContain('trade ids 2401–2410 never arrived');
      const never = await submit({ symbol: 'ETHUSDT' });
      expect(never).toMatchObject({ field: 'request.symbol' });
      expect(never.message).toContain('never recorded');
      expect((await call(c, 'optimizer.runs', {})).total).toBe(runsBefore);

      // Allowed, the gap is run across and kept with the run.
      const crossing = await call(c, 'optimizer.submit', {
        request: request({ from: GAP_AT - 2 * HOUR, to: GAP_AT + HOUR, allowGaps: true }),
      });
      expect(crossing.gaps).toHaveLength(1);
      expect(crossing.gaps![0]!.description).toContain('trade-id');
      await waitRun(c, crossing.id, finished, 'the run across the gap');
    },
  );

  it(
    'cancels a run: no trial is stored after it, and the next run goes on',
    { timeout: 90_000 },
    async () => {
      const c = await start([
        optimizerDef({ env: { VIGIL_OPTIMIZER_TEST_FAULTS: 'slow:100' }, config: { workers: 1 } }),
      ]);
      await waitRunning(c);
      const long = await call(c, 'optimizer.submit', {
        request: request({ space: { type: 'grid', params: { fast: { min: 2, max: 16, step: 1 } } } }),
      });
      const queued = await call(c, 'optimizer.submit', { request: request() });
      expect(queued.status).toBe('queued');
      expect(queued.note).toContain(`queued behind run ${long.id}`);
      await waitRun(c, long.id, (r) => r.progress.done >= 3, 'three trials');
      const cancelled = await call(c, 'optimizer.cancel', { id: long.id });
      expect(cancelled.status).toBe('cancelled');
      const doneAtCancel = cancelled.progress.done;
      expect(doneAtCancel).toBeLessThan(15);

      const next = await waitRun(c, queued.id, finished, 'the queued run');
      expect(next.status).toBe('done');
      expect((await call(c, 'optimizer.run', { id: long.id })).progress.done).toBe(doneAtCancel);
      expect(await refusal(c, 'optimizer.cancel', { id: long.id })).toMatchObject({ code: 'conflict' });
    },
  );

  it(
    'resumes after the optimizer is killed mid-run, computing only the trials not stored',
    { timeout: 120_000 },
    async () => {
      const c = await start([optimizerDef({ env: { VIGIL_OPTIMIZER_TEST_FAULTS: 'slow:80' } })]);
      await waitRunning(c);
      const total = 40;
      const submitted = await call(c, 'optimizer.submit', {
        request: request({
          space: { type: 'grid', params: { fast: { min: 2, max: 41, step: 1 } } },
          fixed: { slow: 60 },
        }),
      });
      expect(submitted.progress.total).toBe(total);
      await waitRun(c, submitted.id, (r) => r.progress.done >= 8, 'eight trials');
      const first = c.supervisor.get('optimizer');
      process.kill(first.pid!, 'SIGKILL');

      await until(() => c.supervisor.get('optimizer').pid !== first.pid, 'the optimizer to go', 10_000);
      const between = await call(c, 'optimizer.run', { id: submitted.id });
      expect(between.status).toBe('running');
      const storedAtKill = between.progress.done;
      expect(storedAtKill).toBeGreaterThanOrEqual(8);

      await waitRunning(c);
      const run = await waitRun(c, submitted.id, finished, 'the resumed run to finish', 90_000);
      expect(run.status).toBe('done');
      expect(run.progress).toMatchObject({ done: total, total, failed: 0 });
      const ids = (
        await call(c, 'optimizer.trials', { runId: run.id, sort: 'id', order: 'asc', limit: 1000 })
      ).items.map((t) => t.id);
      expect(ids).toEqual([...Array(total).keys()]);

      // The second process computed exactly the trials that were not stored.
      const resumed = c.supervisor
        .logTail('optimizer', 500)
        .map((l) => /run \d+: .* \((\d+) to compute\)/.exec(l.text)?.[1])
        .filter((x) => x !== undefined);
      expect(resumed.map(Number)).toEqual([total, total - storedAtKill]);
      const toCompute = total - storedAtKill;
      expect(toCompute).toBe(total - storedAtKill);
      await until(
        () => c.supervisor.get('optimizer').metrics?.trialsComputed === toCompute,
        `trialsComputed = ${toCompute}`,
        10_000,
      );
      expect(c.supervisor.get('optimizer').restarts).toBe(1);
    },
  );

  it(
    'survives worker thread crashes: a trial retried once, or failed after two',
    { timeout: 60_000 },
    async () => {
      const c = await start([
        optimizerDef({ env: { VIGIL_OPTIMIZER_TEST_FAULTS: 'crash:2,crash-always:5' } }),
      ]);
      await waitRunning(c);
      const pid = c.supervisor.get('optimizer').pid;
      const submitted = await call(c, 'optimizer.submit', { request: request() });
      const run = await waitRun(c, submitted.id, finished, 'the run to finish');
      expect(run.status).toBe('done');
      expect(run.progress).toMatchObject({ done: 9, total: 9, failed: 1 });
      const trials = (await call(c, 'optimizer.trials', { runId: run.id, sort: 'id', order: 'asc' })).items;
      expect(trials[2]!.status).toBe('done');
      expect(trials[5]).toMatchObject({
        status: 'failed',
        inSample: null,
        score: null,
        meetsConstraints: false,
      });
      expect(trials[5]!.error).toContain('died on this trial 2 times');
      expect(trials[5]!.params).toMatchObject({ fast: 8, slow: 40 });
      // The process itself never went down.
      expect(c.supervisor.get('optimizer')).toMatchObject({ pid, restarts: 0, state: 'running' });
      expect(
        await refusal(c, 'optimizer.apply', { runId: run.id, trialId: 5, service: 'optimizer' }),
      ).toMatchObject({
        code: 'conflict',
      });
    },
  );

  it('queues a run while no optimizer runs, and starts it when one does', { timeout: 60_000 }, async () => {
    const c = await start([optimizerDef({ autostart: false })]);
    const queued = await call(c, 'optimizer.submit', { request: request() });
    expect(queued.status).toBe('queued');
    expect(queued.note).toContain('optimizer is stopped');
    await call(c, 'services.start', { name: 'optimizer' });
    const run = await waitRun(c, queued.id, finished, 'the queued run');
    expect(run.status).toBe('done');
    expect(run.split).not.toBeNull();
  });

  it(
    'applies a trial to a trader, and refuses other services and stale strategy versions',
    { timeout: 60_000 },
    async () => {
      const trader: ServiceDefinitionInput = {
        name: 'paper',
        kind: 'trader',
        program: { type: 'command', command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] },
        config: { venue: 'binance-usdm' },
      };
      const c = await start([optimizerDef(), trader]);
      await waitRunning(c);
      const submitted = await call(c, 'optimizer.submit', { request: request() });
      const run = await waitRun(c, submitted.id, finished, 'the run');
      const best = run.progress.best!;
      const before = Date.now();
      const info = await call(c, 'optimizer.apply', {
        runId: run.id,
        trialId: best.trialId,
        service: 'paper',
      });
      const trial = await call(c, 'optimizer.trial', { runId: run.id, trialId: best.trialId });
      expect(info.definition.config).toEqual({
        venue: 'binance-usdm',
        strategy: {
          id: 'ma-crossover',
          version: 1,
          params: trial.params,
          source: { runId: run.id, trialId: best.trialId, appliedAt: expect.any(Number) as number },
        },
      });
      expect(
        (info.definition.config!.strategy as { source: { appliedAt: number } }).source.appliedAt,
      ).toBeGreaterThanOrEqual(before);
      // Kept: the stored definition says the same.
      expect(c.store.config.listServices().find((d) => d.name === 'paper')!.config).toEqual(
        info.definition.config,
      );

      expect(
        await refusal(c, 'optimizer.apply', { runId: run.id, trialId: best.trialId, service: 'optimizer' }),
      ).toMatchObject({ code: 'invalid_input', field: 'service' });
      expect(
        await refusal(c, 'optimizer.apply', { runId: run.id, trialId: 999, service: 'paper' }),
      ).toMatchObject({
        code: 'not_found',
        field: 'trialId',
      });
      // A run measured on another version of the strategy: its parameters are not applied.
      const old = c.store.optimizer.createRun({
        createdAt: Date.now(),
        request: run.request,
        strategyVersion: 0,
        total: 1,
        skipped: 0,
      });
      const { runId: _, finishedAt: __, ...wire } = trial;
      c.store.optimizer.addTrials(old, [{ ...wire, equity: { inSample: '', outOfSample: '' } }], Date.now());
      c.store.optimizer.setStatus(old, 'done', { finishedAt: Date.now() });
      const stale = await refusal(c, 'optimizer.apply', { runId: old, trialId: trial.id, service: 'paper' });
      expect(stale).toMatchObject({ code: 'conflict', field: 'runId' });
      expect(stale.message).toContain('version 1 now');
    },
  );
});
