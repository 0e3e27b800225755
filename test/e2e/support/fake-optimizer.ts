/**
 * A stand-in `window.vigil` for browser tests of the Optimizer page, installed with
 * `page.addInitScript(installFakeVigil, options)` before the renderer loads: the renderer takes it as
 * the desktop app's preload API. It answers the optimizer commands as the contract
 * (src/shared/optimizer-api.ts) describes them: strategies with their ParamSpecs; submit validates the
 * grid against the strategy and refuses a symbol with no data with a field error; the run goes
 * queued → running → done, one `optimizer.progress` event per step; trials sort like the core's
 * (nulls last); apply writes `config.strategy` into the trader's definition and emits `service.state`.
 * Everything else answers `unavailable`, or empty lists for what the shell reads at start.
 *
 * The function is serialised into the page: it must not use anything from outside its own body.
 */

export interface FakeVigilOptions {
  /** Milliseconds between two progress steps of a run. */
  stepMs: number;
  /** Trials finished per step. */
  perStep: number;
  now: number;
}

/** What the test can read back from the page (`window.__vigilFake`). */
export interface FakeVigilRecord {
  submitted: unknown[];
  applied: { runId: number; trialId: number; service: string }[];
  calls: string[];
}

export function installFakeVigil(options: FakeVigilOptions): void {
  type Params = Record<string, number>;
  type Envelope =
    { ok: true; result: unknown } | { ok: false; error: { code: string; message: string; field?: string } };
  interface Spec {
    name: string;
    label: string;
    description: string;
    kind: 'int' | 'float';
    min: number;
    max: number;
    step: number;
    default: number;
  }
  interface Metrics {
    totalReturn: number;
    sharpe: number | null;
    sortino: number | null;
    calmar: number | null;
    maxDrawdown: number;
    winRate: number | null;
    trades: number;
    exposure: number;
    finalEquity: number;
    fees: number;
    candles: number;
    periodsPerYear: number;
    ruined: boolean;
  }
  interface Trial {
    runId: number;
    id: number;
    params: Params;
    status: 'done' | 'failed';
    inSample: Metrics | null;
    outOfSample: Metrics | null;
    score: number | null;
    outOfSampleScore: number | null;
    meetsConstraints: boolean;
    error: string | null;
    durationMs: number;
    finishedAt: number;
  }
  interface Run {
    id: number;
    status: string;
    request: Record<string, unknown> & {
      from: number;
      to: number;
      outOfSample: number;
      initialEquity: number;
      constraints: { maxDrawdown?: number; minTrades?: number };
      space: {
        type: string;
        params: Record<string, { min?: number; max?: number; step?: number; values?: number[] }>;
      };
      fixed: Params;
    };
    strategyVersion: number;
    split: number;
    skipped: number;
    progress: {
      done: number;
      total: number;
      failed: number;
      etaMs: number | null;
      best: { trialId: number; score: number } | null;
    };
    gaps: unknown[] | null;
    candles: number | null;
    createdAt: number;
    startedAt: number | null;
    finishedAt: number | null;
    error: string | null;
    note: string | null;
  }

  const record: FakeVigilRecord = { submitted: [], applied: [], calls: [] };
  (globalThis as unknown as { __vigilFake: FakeVigilRecord }).__vigilFake = record;

  const strategies = [
    {
      id: 'ma-crossover',
      version: 3,
      label: 'Moving-average crossover',
      description: 'Long while the fast average is above the slow one.',
      params: [
        {
          name: 'fast',
          label: 'Fast period',
          description: 'candles',
          kind: 'int',
          min: 2,
          max: 100,
          step: 2,
          default: 10,
        },
        {
          name: 'slow',
          label: 'Slow period',
          description: 'candles',
          kind: 'int',
          min: 5,
          max: 400,
          step: 5,
          default: 30,
        },
      ] as Spec[],
    },
    {
      id: 'bollinger-reversion',
      version: 1,
      label: 'Bollinger reversion',
      description: 'Fades moves outside the bands.',
      params: [
        {
          name: 'period',
          label: 'Period',
          description: 'candles',
          kind: 'int',
          min: 5,
          max: 200,
          step: 5,
          default: 20,
        },
        {
          name: 'entryZ',
          label: 'Entry z',
          description: 'deviations',
          kind: 'float',
          min: 0.5,
          max: 4,
          step: 0.25,
          default: 2,
        },
        {
          name: 'exitZ',
          label: 'Exit z',
          description: 'deviations',
          kind: 'float',
          min: 0,
          max: 3,
          step: 0.25,
          default: 0,
        },
      ] as Spec[],
    },
  ];

  const trader = {
    name: 'paper-trader',
    kind: 'trader',
    description: 'e2e: a trader that never starts',
    program: { type: 'command', command: 'trader', args: [] },
    autostart: false,
    definition: {
      name: 'paper-trader',
      kind: 'trader',
      description: 'e2e: a trader that never starts',
      program: { type: 'command', command: 'trader', args: [] },
      autostart: false,
      config: { mode: 'paper', symbols: ['BTCUSDT'] } as Record<string, unknown>,
    },
    pendingChanges: false,
    state: 'stopped',
    health: null,
    healthReason: null,
    pid: null,
    startedAt: null,
    readyAt: null,
    restarts: 0,
    failures: 0,
    crashLoop: false,
    nextRestartAt: null,
    lastExit: null,
    recentExits: [],
    reason: null,
    lastHeartbeatAt: null,
    heartbeat: null,
    metrics: null,
    bus: null,
    cpuPercent: null,
    rssBytes: null,
    detail: null,
  };

  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const emit = (event: string, payload: unknown): void => {
    for (const l of listeners.get(event) ?? []) l(payload);
  };
  const ok = (result: unknown): Envelope => ({ ok: true, result: JSON.parse(JSON.stringify(result)) });
  const fail = (code: string, message: string, field?: string): Envelope => ({
    ok: false,
    error: field === undefined ? { code, message } : { code, message, field },
  });

  const runs = new Map<number, Run>();
  const trials = new Map<number, Trial[]>();
  let nextRun = 1;

  const gridValues = (g: { min?: number; max?: number; step?: number; values?: number[] }): number[] => {
    if (g.values) return g.values;
    const out: number[] = [];
    const count = Math.floor((g.max! - g.min!) / g.step! + 1e-9) + 1;
    for (let i = 0; i < count; i++) out.push(Number((g.min! + i * g.step!).toFixed(6)));
    return out;
  };

  // A smooth plateau around fast 12, slow 60, with one lucky spike at fast 4, slow 100.
  const scoreOf = (p: Params): number => {
    const fast = p.fast ?? p.period ?? 10;
    const slow = p.slow ?? (p.entryZ ?? 2) * 30;
    if (fast === 4 && slow === 100) return 3.2;
    return Number((1.8 - ((fast - 12) / 10) ** 2 - ((slow - 60) / 50) ** 2).toFixed(4));
  };
  const metricsOf = (score: number, sample: number, initial: number, candles: number): Metrics => ({
    totalReturn: score * 0.04 * sample,
    sharpe: score * sample,
    sortino: score * sample * 1.3,
    calmar: score * sample * 0.8,
    maxDrawdown: Math.max(0.01, 0.2 - score * 0.04),
    winRate: Math.min(1, Math.max(0, 0.45 + score * 0.05)),
    trades: Math.max(0, Math.round(20 + score * 8)),
    exposure: 0.5,
    finalEquity: initial * (1 + score * 0.04 * sample),
    fees: 12.5,
    candles,
    periodsPerYear: 525_600,
    ruined: false,
  });

  function submit(input: { request?: Run['request'] & { strategy: string; symbol: string } }): Envelope {
    const request = input.request;
    if (!request) return fail('invalid_input', 'request: is required', 'request');
    record.submitted.push(request);
    const strategy = strategies.find((s) => s.id === request.strategy);
    if (!strategy)
      return fail('invalid_input', `request.strategy: no strategy "${request.strategy}"`, 'request.strategy');
    if (request.symbol === 'NODATA') {
      return fail(
        'invalid_input',
        `request.symbol: no market data recorded for NODATA on ${String(request.venue)} in this range`,
        'request.symbol',
      );
    }
    for (const [name, g] of Object.entries(request.space.params)) {
      const spec = strategy.params.find((p) => p.name === name);
      if (!spec)
        return fail(
          'invalid_input',
          `request.space.params.${name}: is not a parameter`,
          `request.space.params.${name}`,
        );
      if (g.max !== undefined && g.max > spec.max) {
        return fail(
          'invalid_input',
          `request.space.params.${name}.max: must be at most ${spec.max}`,
          `request.space.params.${name}.max`,
        );
      }
    }
    // The cartesian product, the first parameter varying slowest; fast ≥ slow is refused.
    const names = Object.keys(request.space.params);
    let sets: Params[] = [{}];
    for (const n of names) {
      const values = gridValues(request.space.params[n]!);
      sets = sets.flatMap((s) => values.map((v) => ({ ...s, [n]: v })));
    }
    const defaults = Object.fromEntries(strategy.params.map((p) => [p.name, p.default]));
    const all = sets.map((s) => ({ ...defaults, ...request.fixed, ...s }));
    const accepted = all.filter((p) => p.fast === undefined || p.slow === undefined || p.fast < p.slow);
    const id = nextRun++;
    const now = Date.now();
    // What the core fills in when the request leaves it out.
    const requestDefaults = {
      resolution: '1m',
      objective: 'sharpe',
      constraints: {},
      costs: { feeBps: 10, slippageBps: 2, latencyMs: 250 },
      allowGaps: false,
      allowShort: false,
      initialEquity: 10_000,
    };
    const oos = request.outOfSample ?? 0.3;
    const split = Math.round(request.from + (request.to - request.from) * (1 - oos));
    const run: Run = {
      id,
      status: 'queued',
      request: { ...requestDefaults, ...request, outOfSample: oos },
      strategyVersion: strategy.version,
      split,
      skipped: all.length - accepted.length,
      progress: { done: 0, total: accepted.length, failed: 0, etaMs: null, best: null },
      gaps: null,
      candles: null,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      error: null,
      note: 'queued: optimizer is starting; the run starts when the optimizer runs',
    };
    runs.set(id, run);
    trials.set(id, []);
    progress(run);
    const minTrades = run.request.constraints.minTrades ?? 0;
    const maxDrawdown = run.request.constraints.maxDrawdown ?? 1;
    let step = 0;
    const timer = setInterval(() => {
      if (run.status === 'cancelled') return clearInterval(timer);
      step += 1;
      if (run.status === 'queued') {
        run.status = 'running';
        run.startedAt = Date.now();
        run.note = null;
        run.candles = 4320;
        run.gaps = [
          {
            id: 7,
            venue: run.request.venue,
            symbol: run.request.symbol,
            stream: 'trade',
            start: split - 3_600_000,
            end: split - 3_540_000,
            cause: 'disconnect',
            detail: 'socket closed',
            description: 'trade stream of BTCUSDT: disconnect for 60 s',
          },
        ];
        progress(run);
        return;
      }
      const list = trials.get(id)!;
      for (let k = 0; k < options.perStep && list.length < accepted.length; k++) {
        const tid = list.length;
        const params = accepted[tid]!;
        const s = scoreOf(params);
        const inSample = metricsOf(s, 1, run.request.initialEquity, 3000);
        const outOfSample = oos > 0 ? metricsOf(s * 0.6 - 0.1, 1, run.request.initialEquity, 1300) : null;
        const meets = inSample.trades >= minTrades && inSample.maxDrawdown <= maxDrawdown;
        list.push({
          runId: id,
          id: tid,
          params,
          status: 'done',
          inSample,
          outOfSample,
          score: s,
          outOfSampleScore: outOfSample ? outOfSample.sharpe : null,
          meetsConstraints: meets,
          error: null,
          durationMs: 40 + tid,
          finishedAt: Date.now(),
        });
        const best = run.progress.best;
        if (meets && (best === null || s > best.score)) run.progress.best = { trialId: tid, score: s };
      }
      run.progress.done = list.length;
      run.progress.etaMs = Math.max(0, (accepted.length - list.length) * options.stepMs);
      if (list.length >= accepted.length) {
        run.status = 'done';
        run.finishedAt = Date.now();
        run.progress.etaMs = null;
        clearInterval(timer);
      }
      progress(run);
      void step;
    }, options.stepMs);
    return ok(run);
  }

  function progress(run: Run): void {
    emit('optimizer.progress', {
      runId: run.id,
      status: run.status,
      done: run.progress.done,
      total: run.progress.total,
      failed: run.progress.failed,
      etaMs: run.progress.etaMs,
      best: run.progress.best,
    });
  }

  const metricOf = (t: Trial, sort: string, sample: 'inSample' | 'outOfSample'): number | null => {
    if (sort === 'id') return t.id;
    if (sort === 'score') return t.score;
    if (sort === 'outOfSampleScore') return t.outOfSampleScore;
    if (sort === 'durationMs') return t.durationMs;
    const m = t[sample];
    return m ? ((m as unknown as Record<string, number | null>)[sort] ?? null) : null;
  };

  function equity(
    from: number,
    to: number,
    n: number,
    start: number,
    drift: number,
  ): { at: number; equity: number }[] {
    return Array.from({ length: n }, (_, i) => ({
      at: Math.round(from + ((to - from) * (i + 1)) / n),
      equity: start * (1 + drift * (i / n) + 0.01 * Math.sin(i / 3)),
    }));
  }

  const handlers: Record<string, (input: Record<string, unknown>) => Envelope> = {
    'app.info': () =>
      ok({
        name: 'Vigil',
        version: '0.0.0-fake',
        mode: 'desktop',
        platform: 'linux',
        arch: 'x64',
        runtime: { node: '20', electron: null },
        pid: 1,
        startedAt: options.now,
        dataDir: '/fake',
        demo: false,
      }),
    'services.list': () => ok([trader]),
    'services.get': (i) =>
      i.name === trader.name ? ok(trader) : fail('not_found', `no service ${String(i.name)}`, 'name'),
    'alerts.list': () => ok({ items: [], next: null, total: 0 }),
    'optimizer.strategies': () => ok(strategies),
    'optimizer.submit': (i) => submit(i as Parameters<typeof submit>[0]),
    'optimizer.runs': () => {
      const items = [...runs.values()].sort((a, b) => b.id - a.id);
      return ok({ items, next: null, total: items.length });
    },
    'optimizer.run': (i) => {
      const run = runs.get(i.id as number);
      return run ? ok(run) : fail('not_found', `no optimizer run ${String(i.id)}`, 'id');
    },
    'optimizer.cancel': (i) => {
      const run = runs.get(i.id as number);
      if (!run) return fail('not_found', `no optimizer run ${String(i.id)}`, 'id');
      run.status = 'cancelled';
      run.error = 'cancelled by request';
      run.finishedAt = Date.now();
      progress(run);
      return ok(run);
    },
    'optimizer.trials': (i) => {
      const list = trials.get(i.runId as number);
      if (!list) return fail('not_found', `no optimizer run ${String(i.runId)}`, 'runId');
      const sort = (i.sort as string | undefined) ?? 'score';
      const sample = (i.sample as 'inSample' | 'outOfSample' | undefined) ?? 'inSample';
      const sign = i.order === 'asc' ? 1 : -1;
      const matching = list.filter(
        (t) => i.meetsConstraints === undefined || t.meetsConstraints === i.meetsConstraints,
      );
      const sorted = [...matching].sort((a, b) => {
        const x = metricOf(a, sort, sample);
        const y = metricOf(b, sort, sample);
        if (x === null || y === null) return x === y ? a.id - b.id : x === null ? 1 : -1;
        return x === y ? a.id - b.id : (x - y) * sign;
      });
      const offset = (i.offset as number | undefined) ?? 0;
      const limit = (i.limit as number | undefined) ?? 100;
      return ok({ items: sorted.slice(offset, offset + limit), total: matching.length });
    },
    'optimizer.trial': (i) => {
      const run = runs.get(i.runId as number);
      const t = trials.get(i.runId as number)?.find((x) => x.id === i.trialId);
      if (!run || !t)
        return fail('not_found', `run ${String(i.runId)} has no trial ${String(i.trialId)} (yet)`, 'trialId');
      const e = run.request.initialEquity;
      return ok({
        ...t,
        equity: {
          inSample: equity(run.request.from, run.split, 100, e, (t.inSample?.totalReturn ?? 0) * 1),
          outOfSample: t.outOfSample
            ? equity(run.split, run.request.to, 40, e, t.outOfSample.totalReturn)
            : [],
        },
      });
    },
    'optimizer.apply': (i) => {
      const run = runs.get(i.runId as number);
      const t = trials.get(i.runId as number)?.find((x) => x.id === i.trialId);
      if (!run || !t) return fail('not_found', 'no such trial', 'trialId');
      if (i.service !== trader.name)
        return fail('not_found', `service: no service named "${String(i.service)}"`, 'service');
      const strategy = strategies.find((s) => s.id === run.request.strategy)!;
      trader.definition.config = {
        ...trader.definition.config,
        strategy: {
          id: strategy.id,
          version: strategy.version,
          params: t.params,
          source: { runId: run.id, trialId: t.id, appliedAt: Date.now() },
        },
      };
      record.applied.push({ runId: run.id, trialId: t.id, service: trader.name });
      emit('service.state', JSON.parse(JSON.stringify(trader)));
      return ok(trader);
    },
  };

  const invoke = (name: string, input: unknown): Promise<Envelope> => {
    record.calls.push(name);
    const handler = handlers[name];
    const result = handler
      ? handler((input ?? {}) as Record<string, unknown>)
      : name.endsWith('.list')
        ? ok([])
        : fail('unavailable', `${name} is not part of this fake`);
    // Asynchronous like the real bridge.
    return new Promise((resolve) => setTimeout(() => resolve(result), 5));
  };

  const on = (event: string, listener: (payload: unknown) => void): (() => void) => {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  };

  const commandNames = [
    'app.info',
    'services.list',
    'services.get',
    'alerts.list',
    'alerts.acknowledge',
    'events.list',
    'settings.get',
    'history.series',
    'history.metrics',
    'market.top',
    'market.gaps',
    'market.series',
    'optimizer.strategies',
    'optimizer.submit',
    'optimizer.cancel',
    'optimizer.runs',
    'optimizer.run',
    'optimizer.trials',
    'optimizer.trial',
    'optimizer.apply',
  ];
  const api: Record<string, unknown> = { on };
  for (const name of commandNames) {
    const [ns, method] = name.split('.') as [string, string];
    const group = (api[ns] ??= {}) as Record<string, unknown>;
    group[method] = (input?: unknown) => invoke(name, input);
  }
  // The renderer takes `window.vigil` for the preload's API.
  (globalThis as unknown as { vigil: unknown }).vigil = api;
}
