/**
 * Strategy parameters: the schemas built from the ParamSpecs fill defaults and refuse bad values with
 * errors on the field to fix (range, whole numbers, rules across fields, unknown names); the registry;
 * the optimizer's grid values.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  getStrategy,
  gridValues,
  paramErrors,
  parseParams,
  strategies,
  strategyIds,
  StrategyParamsError,
  type StrategyDefinition,
} from '../../src/services/strategies';

const all = Object.values(strategies) as StrategyDefinition[];

function fieldErrors(def: StrategyDefinition, input: unknown): Record<string, string[]> {
  const r = def.schema.safeParse(input);
  if (r.success) throw new Error(`expected ${JSON.stringify(input)} to be refused`);
  return paramErrors(r.error);
}

describe('the registry', () => {
  it('has every id once, with specs that describe the schema', () => {
    expect(strategyIds).toEqual(['ma-crossover', 'bollinger-reversion', 'breakout']);
    expect(Object.keys(strategies)).toEqual([...strategyIds]);
    for (const id of strategyIds) {
      const def = getStrategy(id);
      expect(def.id).toBe(id);
      expect(def.version).toBeGreaterThanOrEqual(1);
      expect(def.label).not.toBe('');
      expect(def.params.length).toBeGreaterThan(0);
      // Defaults: what {} parses to, and each spec's default.
      expect(def.schema.parse({})).toEqual(def.defaults);
      for (const spec of def.params) expect(def.defaults[spec.name]).toBe(spec.default);
      expect(def.warmup(def.defaults)).toBeGreaterThan(0);
    }
    // The ids fit a zod enum (what requests will use).
    expect(z.enum(strategyIds).safeParse('breakout').success).toBe(true);
  });

  it('refuses an unknown id naming the known ones', () => {
    expect(() => getStrategy('rsi')).toThrow(
      'no strategy "rsi": the strategies are ma-crossover, bollinger-reversion, breakout',
    );
    expect(() => getStrategy('toString')).toThrow('no strategy "toString"');
  });
});

describe('parameter schemas', () => {
  const ma = strategies['ma-crossover'];
  const bb = strategies['bollinger-reversion'];
  const bo = strategies.breakout;

  it('fill in missing parameters with their defaults', () => {
    expect(ma.schema.parse({ fast: 4 })).toEqual({ fast: 4, slow: 30 });
    expect(bb.schema.parse({ entryZ: 2.5 })).toEqual({ period: 20, entryZ: 2.5, exitZ: 0 });
  });

  it('refuse a rule across fields on the field to change', () => {
    expect(fieldErrors(ma, { fast: 30, slow: 30 })).toEqual({
      slow: ['must be more than the fast period (30)'],
    });
    expect(fieldErrors(ma, { fast: 40 })).toEqual({ slow: ['must be more than the fast period (40)'] });
    expect(fieldErrors(bb, { entryZ: 1, exitZ: 1.5 })).toEqual({
      exitZ: ['must be less than the entry band (1)'],
    });
    expect(fieldErrors(bo, { lookback: 10, exitLookback: 10 })).toEqual({
      exitLookback: ['must be less than the entry channel (10)'],
    });
  });

  it('refuse values out of range, fractions for whole numbers, non-numbers and unknown names', () => {
    expect(fieldErrors(ma, { fast: 1, slow: 401 })).toEqual({
      fast: ['must be at least 2'],
      slow: ['must be at most 400'],
    });
    expect(fieldErrors(ma, { fast: 2.5 })).toEqual({ fast: ['must be a whole number'] });
    expect(fieldErrors(bb, { entryZ: '2' })).toEqual({ entryZ: ['must be a number'] });
    expect(fieldErrors(bb, { entryZ: Number.NaN })).toEqual({ entryZ: ['must be a number'] });
    expect(fieldErrors(bo, { lookback: 20, exit: 5 })).toEqual({
      exit: ['is not a parameter of this strategy'],
    });
    // A rule across fields says nothing about fields already wrong on their own.
    expect(fieldErrors(ma, { fast: 500, slow: 10 })).toEqual({ fast: ['must be at most 100'] });
    expect(bb.schema.safeParse(null).success).toBe(false);
  });

  it('parseParams throws a StrategyParamsError naming the strategy and every bad field', () => {
    expect(parseParams(ma, { slow: 50 })).toEqual({ fast: 10, slow: 50 });
    let error: unknown;
    try {
      parseParams(ma, { fast: 0.5, slow: 3 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StrategyParamsError);
    const e = error as StrategyParamsError;
    expect(e.strategyId).toBe('ma-crossover');
    expect(e.fieldErrors).toEqual({ fast: ['must be a whole number'], slow: ['must be at least 5'] });
    expect(e.message).toBe(
      'bad parameters for strategy ma-crossover: fast: must be a whole number, slow: must be at least 5',
    );
  });
});

describe('gridValues', () => {
  it('steps from min to max without float drift, for every spec', () => {
    const entryZ = strategies['bollinger-reversion'].params.find((p) => p.name === 'entryZ')!;
    const values = gridValues(entryZ);
    expect(values).toHaveLength(15);
    expect(values.slice(0, 4)).toEqual([0.5, 0.75, 1, 1.25]);
    expect(values.at(-1)).toBe(4);
    expect(gridValues({ ...entryZ, min: 0.1, max: 0.5, step: 0.1 })).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    for (const def of all) {
      for (const spec of def.params) {
        const grid = gridValues(spec);
        expect(grid[0]).toBe(spec.min);
        expect(grid.at(-1)! <= spec.max).toBe(true);
        expect(grid).toContain(spec.default);
        for (const v of grid) {
          expect(v >= spec.min && v <= spec.max, `${def.id}.${spec.name} ${v}`).toBe(true);
          if (spec.kind === 'int') expect(Number.isInteger(v), `${def.id}.${spec.name} ${v}`).toBe(true);
        }
      }
    }
  });
});
