/**
 * Search spaces and requests: the exact trial sets of grids (order, steps, lists, rule-refused sets
 * skipped), seeded random search (reproducible, in bounds, whole numbers, distinct), and the field
 * errors of bad requests, both those of the contract's schema and those that need the strategy.
 */
import { describe, expect, it } from 'vitest';
import { commands } from '../../src/shared/api';
import {
  MAX_TRIALS,
  optimizerRequestSchema,
  type OptimizerRequest,
  type OptimizerRequestInput,
} from '../../src/shared/optimizer-api';
import { idRanges, idsOf } from '../../src/shared/optimizer-protocol';
import { zodErrorToApiError } from '../../src/shared/validation';
import { planTrials, type TrialPlan } from '../../src/services/optimizer/space';
import { strategies, type StrategyDefinition } from '../../src/services/strategies';

const ma: StrategyDefinition = strategies['ma-crossover'];
const bb: StrategyDefinition = strategies['bollinger-reversion'];

function req(over: Partial<OptimizerRequestInput>): OptimizerRequest {
  return optimizerRequestSchema.parse({
    strategy: 'ma-crossover',
    venue: 'binance-usdm',
    symbol: 'BTCUSDT',
    from: 0,
    to: 86_400_000,
    space: { type: 'grid', params: { fast: { min: 4, max: 8, step: 2 } } },
    ...over,
  });
}

function trials(plan: TrialPlan) {
  if (!plan.ok) throw new Error(JSON.stringify(plan.issues));
  return plan;
}

function issues(plan: TrialPlan) {
  if (plan.ok) throw new Error(`accepted: ${plan.trials.length} trials`);
  return plan.issues;
}

describe('grid search', () => {
  it('enumerates the product, the first parameter slowest, skipping sets the rules refuse', () => {
    const plan = trials(
      planTrials(
        ma,
        req({
          space: { type: 'grid', params: { fast: { min: 4, max: 8, step: 2 }, slow: { values: [6, 10] } } },
        }),
      ),
    );
    expect(plan.trials).toEqual([
      { fast: 4, slow: 6 },
      { fast: 4, slow: 10 },
      { fast: 6, slow: 10 }, // 6/6 refused: slow must be more than fast
      { fast: 8, slow: 10 }, // 8/6 refused
    ]);
    expect(plan.skipped).toBe(2);
  });

  it('takes max when it falls on a step, not past it; float steps do not drift', () => {
    expect(
      trials(
        planTrials(ma, req({ space: { type: 'grid', params: { fast: { min: 2, max: 9, step: 3 } } } })),
      ).trials.map((t) => t.fast),
    ).toEqual([2, 5, 8]);
    const plan = trials(
      planTrials(
        bb,
        req({
          strategy: 'bollinger-reversion',
          space: { type: 'grid', params: { entryZ: { min: 1.5, max: 2.5, step: 0.25 } } },
          fixed: { exitZ: 0.5 },
        }),
      ),
    );
    expect(plan.trials.map((t) => t.entryZ)).toEqual([1.5, 1.75, 2, 2.25, 2.5]);
    expect(plan.trials[0]).toEqual({ period: 20, entryZ: 1.5, exitZ: 0.5 });
  });

  it('fills the parameters not searched with fixed values, then the defaults', () => {
    const plan = trials(
      planTrials(
        ma,
        req({ space: { type: 'grid', params: { fast: { values: [3] } } }, fixed: { slow: 50 } }),
      ),
    );
    expect(plan.trials).toEqual([{ fast: 3, slow: 50 }]);
    expect(
      trials(planTrials(ma, req({ space: { type: 'grid', params: { fast: { values: [3] } } } }))).trials,
    ).toEqual([{ fast: 3, slow: 30 }]);
  });
});

describe('random search', () => {
  const space = (budget: number, seed: number) =>
    req({
      space: {
        type: 'random',
        params: { fast: { min: 2, max: 40 }, slow: { min: 41, max: 400 } },
        budget,
        seed,
      },
    });

  it('draws the same trials from the same seed, other ones from another, all distinct and in bounds', () => {
    const a = trials(planTrials(ma, space(50, 42))).trials;
    expect(trials(planTrials(ma, space(50, 42))).trials).toEqual(a);
    expect(trials(planTrials(ma, space(50, 43))).trials).not.toEqual(a);
    expect(a).toHaveLength(50);
    expect(new Set(a.map((t) => `${t.fast},${t.slow}`)).size).toBe(50);
    for (const t of a) {
      expect(Number.isInteger(t.fast) && Number.isInteger(t.slow)).toBe(true);
      expect(t.fast).toBeGreaterThanOrEqual(2);
      expect(t.fast).toBeLessThanOrEqual(40);
      expect(t.slow).toBeGreaterThanOrEqual(41);
      expect(t.slow).toBeLessThanOrEqual(400);
    }
    // Both ends are reachable.
    const many = trials(
      planTrials(
        ma,
        req({ space: { type: 'random', params: { fast: { min: 2, max: 4 } }, budget: 3, seed: 1 } }),
      ),
    ).trials;
    expect(many.map((t) => t.fast).sort()).toEqual([2, 3, 4]);
  });

  it('gives fewer trials than the budget when the space holds fewer distinct sets', () => {
    const plan = trials(
      planTrials(
        ma,
        req({ space: { type: 'random', params: { fast: { min: 2.5, max: 5.5 } }, budget: 100, seed: 9 } }),
      ),
    );
    expect(plan.trials.map((t) => t.fast).sort()).toEqual([3, 4, 5]);
  });

  it('draws floats with six significant digits, and again when the rules refuse a draw', () => {
    const plan = trials(
      planTrials(
        bb,
        req({
          strategy: 'bollinger-reversion',
          space: {
            type: 'random',
            params: { entryZ: { min: 0.5, max: 2 }, exitZ: { min: 0, max: 2 } },
            budget: 30,
            seed: 5,
          },
        }),
      ),
    );
    expect(plan.trials).toHaveLength(30);
    for (const t of plan.trials) {
      expect(t.exitZ).toBeLessThan(t.entryZ!);
      expect(Number(t.entryZ!.toPrecision(6))).toBe(t.entryZ);
    }
  });
});

describe('request validation', () => {
  const field = (input: unknown) => {
    const r = commands['optimizer.submit'].input.safeParse({ request: input });
    if (r.success) throw new Error('accepted');
    return zodErrorToApiError(r.error);
  };
  const base = { strategy: 'ma-crossover', venue: 'binance-usdm', symbol: 'BTCUSDT', from: 0, to: 3_600_000 };

  it('names the field of shape errors, from the command input', () => {
    expect(
      field({ ...base, space: { type: 'grid', params: { fast: { min: 9, max: 4, step: 1 } } } }),
    ).toMatchObject({
      field: 'request.space.params.fast.max',
      message: 'request.space.params.fast.max: must be at least min',
    });
    expect(field({ ...base, space: { type: 'grid', params: { fast: { min: 2, max: 4 } } } }).field).toBe(
      'request.space.params.fast.step',
    );
    expect(
      field({ ...base, space: { type: 'grid', params: { fast: { min: 2, max: 4, step: 0 } } } }).field,
    ).toBe('request.space.params.fast.step');
    expect(field({ ...base, space: { type: 'grid', params: {} } }).field).toBe('request.space.params');
    expect(field({ ...base, space: { type: 'random', params: { fast: { min: 2, max: 4 } } } }).field).toBe(
      'request.space.budget',
    );
    expect(
      field({
        ...base,
        space: { type: 'random', params: { fast: { min: 2, max: 4 } }, budget: MAX_TRIALS + 1 },
      }).field,
    ).toBe('request.space.budget');
    expect(
      field({
        ...base,
        fixed: { fast: 3 },
        space: { type: 'random', params: { fast: { min: 2, max: 4 } }, budget: 3 },
      }).field,
    ).toBe('request.fixed.fast');
    expect(field({ ...base, to: 0, space: { type: 'grid', params: { fast: { values: [3] } } } }).field).toBe(
      'request.to',
    );
    expect(
      field({
        ...base,
        resolution: '1s',
        to: 8 * 86_400_000,
        space: { type: 'grid', params: { fast: { values: [3] } } },
      }).field,
    ).toBe('request.to');
    expect(
      field({ ...base, outOfSample: 0.95, space: { type: 'grid', params: { fast: { values: [3] } } } }).field,
    ).toBe('request.outOfSample');
    expect(
      field({ ...base, objective: 'profit', space: { type: 'grid', params: { fast: { values: [3] } } } })
        .field,
    ).toBe('request.objective');
  });

  it('fills the defaults', () => {
    expect(req({})).toMatchObject({
      resolution: '1m',
      objective: 'sharpe',
      outOfSample: 0.3,
      constraints: {},
      fixed: {},
      costs: { feeBps: 10, slippageBps: 2, latencyMs: 250 },
      allowGaps: false,
      allowShort: false,
      initialEquity: 10_000,
    });
  });

  it('checks parameters against the strategy: names, bounds, whole numbers', () => {
    const grid = (params: Record<string, unknown>, fixed = {}) =>
      issues(planTrials(ma, req({ space: { type: 'grid', params } as never, fixed })));
    expect(grid({ fastest: { min: 2, max: 4, step: 1 } })).toEqual([
      {
        path: 'space.params.fastest',
        message: 'is not a parameter of ma-crossover (its parameters: fast, slow)',
      },
    ]);
    expect(grid({ fast: { min: 1, max: 4, step: 1 } })[0]!.path).toBe('space.params.fast.min');
    expect(grid({ fast: { min: 2, max: 101, step: 1 } })[0]!.path).toBe('space.params.fast.max');
    expect(grid({ fast: { min: 2, max: 4, step: 0.5 } })[0]).toEqual({
      path: 'space.params.fast.step',
      message: 'must be a whole number (fast is)',
    });
    expect(grid({ fast: { values: [3, 3.5] } })[0]!.path).toBe('space.params.fast.values.1');
    expect(grid({ fast: { values: [3] } }, { slowest: 1 })[0]!.path).toBe('fixed.slowest');
    expect(grid({ fast: { values: [3] } }, { slow: 1000 })[0]!.path).toBe('fixed.slow');
    // Every set breaks the rules (fast must be below slow).
    const refused = grid({ fast: { values: [50, 60] } }, { slow: 40 });
    expect(refused[0]!.path).toBe('space');
    expect(refused[0]!.message).toContain('fast 50, slow 40: slow must be more than the fast period (50)');
    // Too many trials.
    const big = grid({ fast: { min: 2, max: 100, step: 1 }, slow: { min: 5, max: 400, step: 1 } });
    expect(big[0]!.path).toBe('space');
    expect(big[0]!.message).toContain('34,548 trials; at most 20,000');
    const huge = issues(
      planTrials(
        bb,
        req({
          strategy: 'bollinger-reversion',
          space: {
            type: 'grid',
            params: {
              period: { min: 5, max: 200, step: 1 },
              entryZ: { min: 0.5, max: 4, step: 0.01 },
              exitZ: { min: 0, max: 3, step: 0.1 },
            },
          },
        }),
      ),
    );
    expect(huge[0]!.message).toContain('2,132,676 combinations');
    const random = issues(
      planTrials(
        ma,
        req({ space: { type: 'random', params: { fast: { min: 3.2, max: 3.8 } }, budget: 5, seed: 1 } }),
      ),
    );
    expect(random[0]).toMatchObject({ path: 'space.params.fast.max' });
  });
});

describe('trial id ranges', () => {
  it('compress sorted ids and expand back', () => {
    expect(idRanges([0, 1, 2, 5, 7, 8])).toEqual([
      [0, 2],
      [5, 5],
      [7, 8],
    ]);
    expect([...idsOf(idRanges([0, 1, 2, 5, 7, 8]))]).toEqual([0, 1, 2, 5, 7, 8]);
    expect(idRanges([])).toEqual([]);
  });
});
