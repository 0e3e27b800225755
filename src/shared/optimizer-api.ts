/**
 * The optimizer part of the control API: parameter searches over recorded candles, run by the
 * `optimizer` service (src/services/optimizer) and stored in control.db by the supervisor.
 *
 *   optimizer.strategies → StrategyInfo[]          what can be optimized, with its ParamSpecs
 *   optimizer.submit { request } → OptimizerRun     validated here (shape) and by the core (strategy)
 *   optimizer.cancel { id } → OptimizerRun
 *   optimizer.runs { limit, before } → Page<OptimizerRun>   newest first
 *   optimizer.run { id } → OptimizerRun
 *   optimizer.trials { runId, sort, order, limit, offset } → TrialPage
 *   optimizer.trial { runId, trialId } → TrialDetail         with the equity curves
 *   optimizer.apply { runId, trialId, service } → ServiceInfo   the trader's config.strategy
 *   event optimizer.progress → OptimizerProgressEvent        at most ~2/s per run, and at each end
 *
 * Field errors name the path from the command's input: `request.space.params.fast.max`.
 *
 * Semantics, for the UI and anyone reading results:
 * - The range [from, to) is split in two: the first (1 − outOfSample) of it is in-sample, where the
 *   objective is scored and the best trial chosen; the rest is out-of-sample, measured with the same
 *   parameters (warmed up on the candles just before it) and shown beside it, never used to choose.
 * - A trial is one parameter set: the space's parameters, `fixed` ones, and the strategy's defaults for
 *   the rest. Parameter sets the strategy's own rules refuse (ma-crossover's fast ≥ slow) are not
 *   trials: a grid skips them, a random search draws again (`OptimizerRun.skipped` counts them).
 * - Grid trial ids number the cartesian product in order (the first parameter of the space varies
 *   slowest), skipping refused sets; random trial ids number the draws. Ids are stable: a resumed run
 *   computes only the ids not yet stored.
 * - score = the objective of the in-sample metrics (null when undefined: no trades, no deviation).
 *   `meetsConstraints`: the in-sample metrics satisfy every constraint. The best trial is the highest
 *   score among those meeting the constraints.
 */
import { z } from 'zod';
import { venues, type GapRecord } from './market';
import { marketSymbolSchema } from './market-api';
import { serviceNameSchema } from './services';

// ---- strategies -------------------------------------------------------------------------------

/** One numeric parameter of a strategy (for forms and grids). */
export interface ParamSpec<N extends string = string> {
  readonly name: N;
  readonly label: string;
  readonly description: string;
  readonly kind: 'int' | 'float';
  /** Inclusive bounds, enforced by the strategy's schema. */
  readonly min: number;
  readonly max: number;
  /** The default grid step between min and max (not enforced: any value in range is valid). */
  readonly step: number;
  readonly default: number;
}

export interface StrategyInfo {
  id: string;
  /** Bumped whenever the logic changes what the strategy decides; runs snapshot it. */
  version: number;
  label: string;
  description: string;
  params: ParamSpec[];
}

// ---- requests -----------------------------------------------------------------------------------

export const optimizerObjectives = ['sharpe', 'sortino', 'totalReturn', 'calmar'] as const;
export type OptimizerObjective = (typeof optimizerObjectives)[number];

/** Largest number of trials one run may have (grid product after skipping, or random budget). */
export const MAX_TRIALS = 20_000;
/** Points kept of each equity curve (in-sample and out-of-sample) per trial. */
export const TRIAL_EQUITY_POINTS = 100;

const DAY_MS = 86_400_000;
/** Longest range per resolution: about a million 1 s candles, half a million 1 m ones. */
export const MAX_RANGE_MS = { '1s': 7 * DAY_MS, '1m': 400 * DAY_MS } as const;

export const DEFAULT_COSTS = { feeBps: 10, slippageBps: 2, latencyMs: 250 } as const;

const epochMs = z.number().int('must be a whole number of milliseconds').min(0);
const finite = z.number({ error: 'must be a number' }).finite('must be a finite number');
const paramName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'must be a parameter name (letters, digits, _)');

/** A grid parameter: min..max by step (max included when it falls on a step), or a list of values. */
export type GridParam = { min: number; max: number; step: number } | { values: number[] };

// One object checked by hand rather than a union, so a missing `step` is named, not "Invalid input".
const gridParam = z
  .object({
    min: finite.optional(),
    max: finite.optional(),
    step: finite.positive('must be more than 0').optional(),
    values: z
      .array(finite)
      .min(1, 'name at least one value')
      .max(1000, 'at most 1000 values')
      .refine((v) => new Set(v).size === v.length, 'values must not repeat')
      .optional(),
  })
  .strict()
  .superRefine((g, ctx) => {
    const fail = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (g.values !== undefined) {
      for (const k of ['min', 'max', 'step'] as const) {
        if (g[k] !== undefined) fail(k, 'give either values or min, max and step, not both');
      }
      return;
    }
    for (const k of ['min', 'max', 'step'] as const) {
      if (g[k] === undefined) fail(k, 'is required (or give a list of values)');
    }
    if (g.min !== undefined && g.max !== undefined && g.max < g.min) fail('max', 'must be at least min');
  })
  .transform((g): GridParam =>
    g.values !== undefined ? { values: g.values } : { min: g.min!, max: g.max!, step: g.step! },
  );
const randomRange = z
  .object({ min: finite, max: finite })
  .strict()
  .refine((r) => r.max >= r.min, { path: ['max'], message: 'must be at least min' });

const atLeastOneParam = (p: Record<string, unknown>) => Object.keys(p).length > 0;

export const searchSpaceSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('grid'),
      /** Each parameter: min..max by step (max included when it falls on a step), or a list of values. */
      params: z.record(paramName, gridParam).refine(atLeastOneParam, 'name at least one parameter to search'),
    })
    .strict(),
  z
    .object({
      type: z.literal('random'),
      /** Each parameter uniform in [min, max]: whole numbers for int parameters. */
      params: z
        .record(paramName, randomRange)
        .refine(atLeastOneParam, 'name at least one parameter to search'),
      /** Trials to draw (fewer when the space holds fewer distinct parameter sets). */
      budget: z.number().int('must be a whole number').min(1).max(MAX_TRIALS),
      /** The same seed draws the same trials; chosen and stored when absent. */
      seed: z.number().int('must be a whole number').min(0).max(0xffffffff).optional(),
    })
    .strict(),
]);
export type SearchSpace = z.infer<typeof searchSpaceSchema>;

export const optimizerRequestSchema = z
  .object({
    strategy: z.string().min(1, 'must not be empty').max(64),
    venue: z.enum(venues),
    symbol: marketSymbolSchema,
    resolution: z.enum(['1s', '1m']).default('1m'),
    from: epochMs,
    to: epochMs,
    space: searchSpaceSchema,
    /** Parameters held at a value (not searched); those neither here nor in the space take defaults. */
    fixed: z.record(paramName, finite).default({}),
    objective: z.enum(optimizerObjectives).default('sharpe'),
    constraints: z
      .object({
        /** Largest in-sample drawdown allowed, a fraction (0.2 = 20 %). */
        maxDrawdown: z.number().gt(0, 'must be more than 0').max(1, 'must be at most 1 (100 %)').optional(),
        /** Fewest in-sample trades. */
        minTrades: z.number().int('must be a whole number').min(0).optional(),
      })
      .strict()
      .default({}),
    /** The last fraction of the range kept out of sample (0: none). */
    outOfSample: z.number().min(0).max(0.9, 'must be at most 0.9').default(0.3),
    costs: z
      .object({
        feeBps: z.number().min(0).max(1000).default(DEFAULT_COSTS.feeBps),
        slippageBps: z.number().min(0).max(1000).default(DEFAULT_COSTS.slippageBps),
        latencyMs: z
          .number()
          .int('must be a whole number')
          .min(0)
          .max(3_600_000)
          .default(DEFAULT_COSTS.latencyMs),
      })
      .strict()
      .default(DEFAULT_COSTS),
    /** Run across recorded gaps (they are listed in the run) instead of refusing the range. */
    allowGaps: z.boolean().default(false),
    /** Whether a negative target opens a short (false: it means flat, as on spot). */
    allowShort: z.boolean().default(false),
    initialEquity: z.number().gt(0, 'must be more than 0').max(1e12).default(10_000),
  })
  .strict()
  .refine((r) => r.to > r.from, { path: ['to'], message: 'must be after from' })
  .refine((r) => r.to - r.from <= MAX_RANGE_MS[r.resolution], {
    path: ['to'],
    message: 'the range is too long: at most 7 days of 1s candles or 400 days of 1m candles',
  })
  .superRefine((r, ctx) => {
    for (const name of Object.keys(r.fixed)) {
      if (Object.hasOwn(r.space.params, name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['fixed', name],
          message: 'is searched in the space: fix it or search it',
        });
      }
    }
  });

/** A request as sent (defaults may be left out). */
export type OptimizerRequestInput = z.input<typeof optimizerRequestSchema>;
/** A request with every default filled in: what a run stores. */
export type OptimizerRequest = z.output<typeof optimizerRequestSchema>;

// ---- results ------------------------------------------------------------------------------------

/** What a backtest measured over one sample (in or out of sample). */
export interface TrialMetrics {
  /** final equity / initial − 1. */
  totalReturn: number;
  /** Annualised, risk-free 0; null when undefined (fewer than 2 returns, no deviation). */
  sharpe: number | null;
  sortino: number | null;
  /** Annualised return / maxDrawdown; null without a drawdown. */
  calmar: number | null;
  /** Largest fall from a peak, as a fraction of it (≥ 0). */
  maxDrawdown: number;
  /** Winning trades / trades; null without trades. */
  winRate: number | null;
  trades: number;
  /** Share of candles that closed with a position, in [0, 1]. */
  exposure: number;
  finalEquity: number;
  /** Fees paid, in quote currency. */
  fees: number;
  /** Candles measured. */
  candles: number;
  periodsPerYear: number;
  /** Equity fell to 0 or below: the run stopped trading there. */
  ruined: boolean;
}

export interface EquityPoint {
  /** Epoch ms: the candle's close. */
  at: number;
  equity: number;
}

export const optimizerRunStatuses = ['queued', 'running', 'done', 'cancelled', 'failed'] as const;
export type OptimizerRunStatus = (typeof optimizerRunStatuses)[number];

export interface OptimizerBest {
  trialId: number;
  score: number;
}

export interface OptimizerProgress {
  /** Trials finished (failed ones included). */
  done: number;
  total: number;
  failed: number;
  /** Expected time to finish from the recent rate; null until known or when not running. */
  etaMs: number | null;
  best: OptimizerBest | null;
}

/** A gap of the market data the run's range crosses (only with allowGaps). */
export type CrossedGap = GapRecord & { id: number; description: string };

export interface OptimizerRun {
  id: number;
  status: OptimizerRunStatus;
  /** The request as stored, defaults filled in and the random seed chosen: immutable. */
  request: OptimizerRequest;
  /** The strategy's version when the run was submitted (results of another version do not apply). */
  strategyVersion: number;
  /**
   * In-sample [from, split) and out-of-sample [split, dataTo), split on a candle boundary; known once
   * the optimizer has loaded the data (null before), then fixed for the run's life.
   */
  split: number | null;
  /** The end of the data used: `to`, or earlier when the last candles had not closed yet. */
  dataTo: number | null;
  /** Parameter sets the strategy's rules refused (not trials). */
  skipped: number;
  progress: OptimizerProgress;
  /** Gaps crossed, known once the optimizer has loaded the data (null before). */
  gaps: CrossedGap[] | null;
  /** Candles loaded (warmup included), known once loaded. */
  candles: number | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Why it failed or was cancelled, in words. */
  error: string | null;
  /** Where it stands, in words: "queued: the optimizer service is not running", ... */
  note: string | null;
}

export interface OptimizerRunPage {
  items: OptimizerRun[];
  /** Pass as `before` for the following page; null when there is no more. */
  next: number | null;
  total: number;
}

export interface OptimizerTrial {
  runId: number;
  id: number;
  /** Every parameter of the strategy, defaults and fixed ones included. */
  params: Record<string, number>;
  status: 'done' | 'failed';
  inSample: TrialMetrics | null;
  /** Null when the run has no out-of-sample part, or the trial failed. */
  outOfSample: TrialMetrics | null;
  /** The objective in sample; null when undefined or failed. */
  score: number | null;
  /** The same objective out of sample, for comparison. */
  outOfSampleScore: number | null;
  meetsConstraints: boolean;
  /** Why it failed (after one retry). */
  error: string | null;
  durationMs: number;
  finishedAt: number;
}

export interface OptimizerTrialDetail extends OptimizerTrial {
  equity: { inSample: EquityPoint[]; outOfSample: EquityPoint[] };
}

export interface OptimizerTrialPage {
  items: OptimizerTrial[];
  /** Trials matching (all stored trials of the run, or the filter). */
  total: number;
}

/** What `optimizer.apply` writes into the trader's definition as `config.strategy`. */
export interface AppliedStrategy {
  id: string;
  version: number;
  params: Record<string, number>;
  source: { runId: number; trialId: number; appliedAt: number };
}

export interface OptimizerProgressEvent {
  runId: number;
  status: OptimizerRunStatus;
  done: number;
  total: number;
  failed: number;
  etaMs: number | null;
  best: OptimizerBest | null;
}

/** The `optimizer` built-in program's configuration (its definition's `config`). */
export const optimizerConfigSchema = z
  .object({
    /** Worker threads; default: the machine's cores less one (at least one), leaving a core for trading. */
    workers: z.number().int('must be a whole number').min(1).max(256).optional(),
    /** OS scheduling priority, -20 (highest) to 19 (lowest, the default): below the trader's. */
    priority: z.number().int('must be a whole number').min(-20).max(19).optional(),
  })
  .strict();
export type OptimizerConfig = z.infer<typeof optimizerConfigSchema>;

// ---- command inputs -----------------------------------------------------------------------------

const runId = z.number().int().positive();

export const trialSortKeys = [
  'id',
  'score',
  'outOfSampleScore',
  'totalReturn',
  'sharpe',
  'sortino',
  'calmar',
  'maxDrawdown',
  'trades',
  'winRate',
  'exposure',
  'durationMs',
] as const;
export type TrialSortKey = (typeof trialSortKeys)[number];

export const optimizerSubmitInput = z.object({ request: optimizerRequestSchema }).strict();
export const optimizerRunInput = z.object({ id: runId }).strict();
export const optimizerRunsInput = z
  .object({
    limit: z.number().int().min(1).max(500).default(50),
    /** Runs with an id below this (the `next` of the previous page). */
    before: runId.optional(),
  })
  .strict();
export const optimizerTrialsInput = z
  .object({
    runId,
    /** A metric sorts by its in-sample value unless `sample` is 'outOfSample'; nulls go last. */
    sort: z.enum(trialSortKeys).default('score'),
    sample: z.enum(['inSample', 'outOfSample']).default('inSample'),
    order: z.enum(['asc', 'desc']).default('desc'),
    /** Only trials that meet the run's constraints (true) or only those that do not (false). */
    meetsConstraints: z.boolean().optional(),
    limit: z.number().int().min(1).max(1000).default(100),
    offset: z.number().int().min(0).default(0),
  })
  .strict();
export const optimizerTrialInput = z.object({ runId, trialId: z.number().int().min(0) }).strict();
export const optimizerApplyInput = z
  .object({ runId, trialId: z.number().int().min(0), service: serviceNameSchema })
  .strict();
