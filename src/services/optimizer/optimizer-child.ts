/**
 * The optimizer program's main thread: it lowers its own OS priority (os-priority.ts: before any
 * worker thread exists, so they inherit it), starts a pool of worker threads sized to
 * the machine less one core (left for trading), and runs the searches the core sends, one at a time
 * (src/shared/optimizer-protocol.ts): it loads the data, expands the trials, hands out those not
 * done yet, and reports each as it finishes. It stores nothing: the core is the only writer of
 * control.db.
 */
import { availableParallelism, constants } from 'node:os';
import { childEnv, EXIT_CONFIG_ERROR } from '../../shared/child-protocol';
import {
  optimizerConfigSchema,
  optimizerRequestSchema,
  type CrossedGap,
  type OptimizerRequest,
} from '../../shared/optimizer-api';
import {
  idsOf,
  OPTIMIZER_EVENTS,
  OPTIMIZER_METHODS,
  type OptimizerFinishedEvent,
  type OptimizerStartParams,
  type OptimizerStartReply,
  type OptimizerTrialEvent,
} from '../../shared/optimizer-protocol';
import { startChild } from '../sdk';
import { isStrategyId, strategies, type Params, type StrategyDefinition } from '../strategies';
import { DatasetError, describeGap, loadDataset } from './dataset';
import { TrialPool, type PoolListener, type WorkerEntry } from './pool';
import { planTrials } from './space';
import { lowerPriority } from './os-priority';
import { firstAtOrAfter, packCandles, type TrialSetup } from './trial';

/** An error the reply carries with a code and the request field it concerns. */
class StartError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export function runOptimizerChild(entry: WorkerEntry): void {
  const parsedConfig = optimizerConfigSchema.safeParse(readConfig());
  if (!parsedConfig.success) {
    console.error(`optimizer: bad configuration: ${parsedConfig.error.message}`);
    process.exit(EXIT_CONFIG_ERROR);
  }
  const config = parsedConfig.data;
  const wanted = config.priority ?? constants.priority.PRIORITY_LOW;
  const { priority, policy } = lowerPriority(wanted);
  const size = config.workers ?? Math.max(1, availableParallelism() - 1);

  let active: { runId: number } | null = null;
  let rate = { at: Date.now(), computed: 0, perSec: 0 };

  const listener: PoolListener = {
    result(runId, id, outcome, durationMs) {
      const data: OptimizerTrialEvent = { runId, trial: { id, ...outcome, durationMs } };
      child.event(OPTIMIZER_EVENTS.trial, data);
    },
    failed(runId, id, params, error, durationMs) {
      const data: OptimizerTrialEvent = {
        runId,
        trial: {
          id,
          params: { ...params },
          status: 'failed',
          inSample: null,
          outOfSample: null,
          score: null,
          outOfSampleScore: null,
          meetsConstraints: false,
          error: error.slice(0, 2000),
          durationMs,
          equity: { inSample: '', outOfSample: '' },
        },
      };
      child.event(OPTIMIZER_EVENTS.trial, data);
    },
    finished(runId) {
      if (active?.runId === runId) active = null;
      finish({ runId, status: 'done' });
    },
    broken(runId, error) {
      console.error(`optimizer: ${error}`);
      child.status('degraded', error.slice(0, 500));
      if (runId !== null) {
        if (active?.runId === runId) active = null;
        finish({ runId, status: 'failed', error });
      }
    },
  };
  const finish = (data: OptimizerFinishedEvent) => child.event(OPTIMIZER_EVENTS.finished, data);

  const pool = new TrialPool(size, entry, listener, priority);

  const start = (params: OptimizerStartParams): OptimizerStartReply => {
    if (active) throw new StartError(`the optimizer is busy with run ${active.runId}`, 'busy');
    const parsed = optimizerRequestSchema.safeParse(params.request);
    if (!parsed.success) throw new StartError(`bad request: ${parsed.error.message}`, 'bad-request');
    const request: OptimizerRequest = parsed.data;
    if (!isStrategyId(request.strategy)) {
      throw new StartError(`no strategy "${request.strategy}" here`, 'strategy', 'request.strategy');
    }
    const def: StrategyDefinition = strategies[request.strategy];
    if (def.version !== params.strategyVersion) {
      throw new StartError(
        `${def.id} is at version ${def.version} now; the run was made for version ${params.strategyVersion}: submit it again`,
        'strategy-version',
        'request.strategy',
      );
    }
    const plan = planTrials(def, request);
    if (!plan.ok) {
      const issue = plan.issues[0]!;
      throw new StartError(`request.${issue.path}: ${issue.message}`, 'space', `request.${issue.path}`);
    }
    const warmup = plan.trials.reduce((w, p) => Math.max(w, def.warmup(p)), 0);
    const snapshot = params.snapshot;
    let dataset;
    try {
      dataset = loadDataset(
        { dataDir: child.dataDir ?? '.' },
        {
          venue: request.venue,
          symbol: request.symbol,
          resolution: request.resolution,
          from: request.from,
          to: snapshot?.dataTo ?? request.to,
          warmupCandles: warmup,
          allowGaps: request.allowGaps,
        },
      );
    } catch (error) {
      if (!(error instanceof DatasetError)) throw error;
      const field =
        error.code === 'no-database'
          ? 'request.venue'
          : error.code === 'empty' && error.message.includes('never recorded')
            ? 'request.symbol'
            : 'request.from';
      throw new StartError(error.message, error.code, field);
    }
    const { intervalMs, candles } = dataset;
    const dataTo = dataset.to;
    const split =
      snapshot?.split ??
      (request.outOfSample === 0
        ? dataTo
        : request.from +
          Math.floor(((dataTo - request.from) * (1 - request.outOfSample)) / intervalMs) * intervalMs);
    const inSample = firstAtOrAfter(candles, split) - firstAtOrAfter(candles, request.from);
    if (inSample === 0) {
      throw new StartError(
        `no candles in the in-sample part [${iso(request.from)}, ${iso(split)}): lengthen the range or lower outOfSample`,
        'empty',
        'request.outOfSample',
      );
    }
    if (split < dataTo && firstAtOrAfter(candles, split) === candles.length) {
      throw new StartError(
        `no closed candles in the out-of-sample part [${iso(split)}, ${iso(dataTo)}): lengthen the range or lower outOfSample`,
        'empty',
        'request.outOfSample',
      );
    }
    const gaps: CrossedGap[] = dataset.gaps.map((g) => ({ ...g, description: describeGap(g) }));
    if (snapshot) {
      const ids = gaps.map((g) => g.id);
      const same =
        snapshot.candles === candles.length &&
        ids.length === snapshot.gapIds.length &&
        ids.every((id, i) => id === snapshot.gapIds[i]);
      if (!same) {
        throw new StartError(
          `the data changed since this run started (${snapshot.candles} candles and ${snapshot.gapIds.length} gaps then, ` +
            `${candles.length} and ${ids.length} now): its trials would not be comparable; submit it again`,
          'data-changed',
        );
      }
    }
    const done = idsOf(params.done);
    const pending: { id: number; params: Params }[] = [];
    plan.trials.forEach((p, id) => {
      if (!done.has(id)) pending.push({ id, params: p });
    });
    const setup: TrialSetup = {
      strategyId: def.id,
      intervalMs,
      from: request.from,
      split,
      dataTo,
      costs: request.costs,
      initialEquity: request.initialEquity,
      allowShort: request.allowShort,
      objective: request.objective,
      constraints: request.constraints,
    };
    const runId = params.runId;
    active = { runId };
    // After the reply has gone: the core stores the run's snapshot before its first trial arrives.
    setImmediate(() => {
      if (active?.runId !== runId) return; // cancelled meanwhile
      if (pending.length === 0) {
        active = null;
        finish({ runId, status: 'done' });
        return;
      }
      pool.run({ runId, setup, candles: packCandles(candles), trials: pending });
    });
    console.log(
      `optimizer: run ${runId}: ${def.id} on ${request.venue} ${request.symbol}, ${candles.length} candles, ` +
        `${plan.trials.length} trials (${pending.length} to compute), ${size} worker${size === 1 ? '' : 's'}`,
    );
    return {
      total: plan.trials.length,
      skipped: plan.skipped,
      pending: pending.length,
      candles: candles.length,
      dataTo,
      split,
      gaps,
    };
  };

  const cancel = (params: { runId: number }): { cancelled: boolean } => {
    if (active?.runId !== params.runId) return { cancelled: false };
    active = null;
    pool.cancel();
    console.log(`optimizer: run ${params.runId} cancelled`);
    return { cancelled: true };
  };

  const child = startChild({
    onRequest(method, params) {
      if (method === OPTIMIZER_METHODS.start) return start(params as OptimizerStartParams);
      if (method === OPTIMIZER_METHODS.cancel) return cancel(params as { runId: number });
      throw new StartError(`unknown request ${method}`, 'unknown-method');
    },
    onPause: () => pool.pause(),
    onResume: () => pool.resume(),
    onStop: () => pool.close(),
    metrics() {
      const now = Date.now();
      const computed = pool.computed;
      if (now - rate.at >= 500) {
        rate = { at: now, computed, perSec: ((computed - rate.computed) * 1000) / (now - rate.at) };
      }
      return {
        workers: size,
        busyWorkers: pool.busy,
        queuedTrials: pool.queued,
        trialsComputed: computed,
        trialsPerSec: rate.perSec,
        activeRun: active?.runId ?? 0,
      };
    },
  });
  child.ready({ workers: size, priority, policy, pid: process.pid });
}

/** The definition's config (read before the SDK starts: the priority comes before any thread). */
function readConfig(): unknown {
  const raw = process.env[childEnv.config];
  if (!raw) return {};
  try {
    return (JSON.parse(raw) as unknown) ?? {};
  } catch {
    return `not JSON: ${raw.slice(0, 200)}`;
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
