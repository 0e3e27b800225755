/** The Optimizer page's search form: drafts from ParamSpecs, requests the API accepts, errors at fields. */
import { describe, expect, it } from 'vitest';
import { optimizerRequestSchema, type StrategyInfo } from '../../src/shared/optimizer-api';
import {
  checkDraft,
  draftFor,
  fieldOfApiError,
  fieldOfPath,
  fromLocalInput,
  gridValues,
  messageAtField,
  searchedParams,
  toLocalInput,
  type OptimizerDraft,
  withStrategy,
} from '../../src/shared/optimizer-ui/form';

const maCrossover: StrategyInfo = {
  id: 'ma-crossover',
  version: 1,
  label: 'Moving-average crossover',
  description: 'Long when the fast average is above the slow one',
  params: [
    {
      name: 'fast',
      label: 'Fast',
      description: 'fast period',
      kind: 'int',
      min: 2,
      max: 100,
      step: 2,
      default: 10,
    },
    {
      name: 'slow',
      label: 'Slow',
      description: 'slow period',
      kind: 'int',
      min: 5,
      max: 400,
      step: 5,
      default: 30,
    },
  ],
};
const bollinger: StrategyInfo = {
  id: 'bollinger-reversion',
  version: 2,
  label: 'Bollinger reversion',
  description: 'Fades moves outside the bands',
  params: [
    { name: 'period', label: 'Period', description: '', kind: 'int', min: 5, max: 200, step: 5, default: 20 },
    {
      name: 'entryZ',
      label: 'Entry z',
      description: '',
      kind: 'float',
      min: 0.5,
      max: 4,
      step: 0.25,
      default: 2,
    },
  ],
};

const NOW = new Date(2025, 10, 22, 13, 37, 42).getTime();

function draft(patch: Partial<OptimizerDraft> = {}): OptimizerDraft {
  return { ...draftFor(maCrossover, { now: NOW, symbol: 'BTCUSDT' }), ...patch };
}

function withParam(d: OptimizerDraft, name: string, patch: Partial<OptimizerDraft['params'][string]>) {
  return { ...d, params: { ...d.params, [name]: { ...d.params[name]!, ...patch } } };
}

describe('local date-time text', () => {
  it('round-trips epoch ms through what a datetime-local input holds, to the second', () => {
    expect(toLocalInput(new Date(2025, 0, 5, 7, 3).getTime())).toBe('2025-01-05T07:03');
    expect(toLocalInput(new Date(2025, 0, 5, 7, 3, 9).getTime())).toBe('2025-01-05T07:03:09');
    expect(fromLocalInput('2025-01-05T07:03')).toBe(new Date(2025, 0, 5, 7, 3).getTime());
    expect(fromLocalInput('2025-01-05T07:03:09')).toBe(new Date(2025, 0, 5, 7, 3, 9).getTime());
    expect(fromLocalInput(toLocalInput(NOW))).toBe(NOW);
  });

  it('refuses what is not a date: empty, malformed, or a day the month does not have', () => {
    expect(fromLocalInput('')).toBeNull();
    expect(fromLocalInput('yesterday')).toBeNull();
    expect(fromLocalInput('2025-02-30T10:00')).toBeNull();
    expect(fromLocalInput('2025-01-01T24:00')).toBeNull();
  });
});

describe('the draft built from a strategy', () => {
  it('searches every parameter over its default grid, over the last 7 days to the whole minute', () => {
    const d = draft();
    expect(d.params).toEqual({
      fast: { mode: 'search', min: '2', max: '100', step: '2', values: '', value: '10' },
      slow: { mode: 'search', min: '5', max: '400', step: '5', values: '', value: '30' },
    });
    expect(fromLocalInput(d.to)).toBe(new Date(2025, 10, 22, 13, 37).getTime());
    expect(fromLocalInput(d.to)! - fromLocalInput(d.from)!).toBe(7 * 86_400_000);
    expect(searchedParams(d, maCrossover)).toEqual(['fast', 'slow']);
  });

  it('keeps the market, range and costs when another strategy is chosen; the parameters are its own', () => {
    const before = { ...draft(), symbol: 'ETHUSDT', feeBps: '4', allowGaps: true };
    const after = withStrategy(before, bollinger);
    expect(after.strategy).toBe('bollinger-reversion');
    expect(after.symbol).toBe('ETHUSDT');
    expect(after.feeBps).toBe('4');
    expect(after.allowGaps).toBe(true);
    expect(Object.keys(after.params)).toEqual(['period', 'entryZ']);
  });
});

describe('the request a draft describes', () => {
  it('is a grid over the searched parameters that optimizer.submit accepts, percent turned to fractions', () => {
    const check = checkDraft(
      { ...draft(), maxDrawdown: '25', minTrades: '3', outOfSample: '20' },
      maCrossover,
    );
    expect(check.errors).toEqual({});
    expect(check.formError).toBeNull();
    const request = check.request!;
    expect(optimizerRequestSchema.safeParse(request).success).toBe(true);
    expect(request).toMatchObject({
      strategy: 'ma-crossover',
      venue: 'binance-spot',
      symbol: 'BTCUSDT',
      resolution: '1m',
      space: {
        type: 'grid',
        params: { fast: { min: 2, max: 100, step: 2 }, slow: { min: 5, max: 400, step: 5 } },
      },
      fixed: {},
      objective: 'sharpe',
      constraints: { maxDrawdown: 0.25, minTrades: 3 },
      outOfSample: 0.2,
      costs: { feeBps: 10, slippageBps: 2, latencyMs: 250 },
      allowGaps: false,
      allowShort: false,
      initialEquity: 10_000,
    });
    expect(request.to - request.from).toBe(7 * 86_400_000);
    // 50 fast values × 80 slow values; the strategy's rules (fast < slow) skip some.
    expect(check.trials).toEqual({ count: 4000, upTo: true, tooMany: false });
  });

  it('holds fixed parameters, leaves defaults out, and takes a list of values instead of a range', () => {
    let d = withParam(draft(), 'fast', { mode: 'fixed', value: '12' });
    d = withParam(d, 'slow', { values: '20, 40 60;80' });
    const check = checkDraft(d, maCrossover);
    expect(check.errors).toEqual({});
    expect(check.request!.fixed).toEqual({ fast: 12 });
    expect(check.request!.space).toEqual({ type: 'grid', params: { slow: { values: [20, 40, 60, 80] } } });
    expect(check.trials?.count).toBe(4);

    const defaults = withParam(withParam(draft(), 'fast', { mode: 'default' }), 'slow', { mode: 'default' });
    expect(checkDraft(defaults, maCrossover).errors).toEqual({ space: 'search at least one parameter' });
  });

  it('is a seeded random search with a budget, whole numbers not required at the bounds', () => {
    const d = withParam({ ...draft(), searchType: 'random', budget: '50', seed: '7' }, 'fast', {
      min: '2.5',
      max: '20',
    });
    const check = checkDraft(d, maCrossover);
    expect(check.errors).toEqual({});
    expect(check.request!.space).toEqual({
      type: 'random',
      params: { fast: { min: 2.5, max: 20 }, slow: { min: 5, max: 400 } },
      budget: 50,
      seed: 7,
    });
    expect(check.trials).toEqual({ count: 50, upTo: false, tooMany: false });
    // No seed: the optimizer chooses one (and stores it).
    expect(checkDraft({ ...d, seed: '' }, maCrossover).request!.space).not.toHaveProperty('seed');
  });

  it('reports each problem at its field: text, the strategy’s bounds, whole numbers, the order of bounds', () => {
    let d = withParam(draft(), 'fast', { min: 'ten', max: '101', step: '1.5' });
    d = withParam(d, 'slow', { min: '300', max: '200' });
    d = { ...d, symbol: ' ', from: '', feeBps: '', outOfSample: '95', maxDrawdown: '0', budget: 'x' };
    const check = checkDraft(d, maCrossover);
    expect(check.request).toBeNull();
    expect(check.errors).toEqual({
      symbol: 'enter the symbol to search, e.g. BTCUSDT',
      from: 'enter a date and time',
      'params.fast.min': 'must be a number',
      'params.fast.max': 'must be at most 100 (the highest fast the strategy takes)',
      'params.fast.step': 'must be a whole number (fast is)',
      'params.slow.max': 'must be at least min',
      feeBps: 'enter a number',
      outOfSample: 'must be from 0 to 90 (%)',
      maxDrawdown: 'must be more than 0 and at most 100 (%)',
    });
  });

  it('says a random range of an int parameter holds no whole number, and a fixed value out of bounds', () => {
    let d = withParam({ ...draft(), searchType: 'random' }, 'fast', { min: '2.2', max: '2.8' });
    d = withParam(d, 'slow', { mode: 'fixed', value: '401' });
    expect(checkDraft(d, maCrossover).errors).toEqual({
      'params.fast.max': 'no whole number lies between 2.2 and 2.8 (fast is a whole number)',
      'params.slow.value': 'must be at most 400 (the highest slow the strategy takes)',
    });
  });

  it('refuses what the API schema refuses, at the field: the range’s order, the symbol, repeated values', () => {
    const later = { ...draft(), from: '2025-11-22T10:00', to: '2025-11-22T09:00', symbol: 'btc usdt' };
    expect(checkDraft(later, maCrossover).errors).toEqual({
      to: 'must be after from',
      symbol: expect.stringContaining('symbols are upper-case letters') as unknown as string,
    });
    const repeated = withParam(draft(), 'slow', { values: '20, 20' });
    expect(checkDraft(repeated, maCrossover).errors).toEqual({
      'params.slow.values': 'values must not repeat',
    });
  });

  it('says when a grid holds more trials than a run may have', () => {
    const d = withParam(withParam(draft(), 'fast', { step: '1' }), 'slow', { step: '1' });
    const check = checkDraft(d, maCrossover);
    expect(check.trials).toEqual({ count: 99 * 396, upTo: true, tooMany: true });
  });

  it('counts float grids without drift', () => {
    expect(gridValues(0.5, 4, 0.25)).toHaveLength(15);
    expect(gridValues(0.1, 0.3, 0.1)).toEqual([0.1, 0.2, 0.3]);
    expect(gridValues(5, 12, 5)).toEqual([5, 10]);
    expect(gridValues(5, 4, 1)).toEqual([]);
    const d = draftFor(bollinger, { now: NOW, symbol: 'BTCUSDT' });
    expect(checkDraft(d, bollinger).trials?.count).toBe(40 * 15);
  });
});

describe('API field errors at the form’s fields', () => {
  it('maps the paths optimizer.submit names to the fields that hold them', () => {
    expect(fieldOfApiError('request.space.params.fast.max')).toBe('params.fast.max');
    expect(fieldOfApiError('request.space.params.fast.values.1')).toBe('params.fast.values');
    expect(fieldOfApiError('request.space.params.speed')).toBe('params.speed');
    expect(fieldOfApiError('request.space.params')).toBe('space');
    expect(fieldOfApiError('request.space')).toBe('space');
    expect(fieldOfApiError('request.space.budget')).toBe('budget');
    expect(fieldOfApiError('request.fixed.slow')).toBe('params.slow.value');
    expect(fieldOfApiError('request.constraints.maxDrawdown')).toBe('maxDrawdown');
    expect(fieldOfApiError('request.costs.latencyMs')).toBe('latencyMs');
    expect(fieldOfApiError('request.from')).toBe('from');
    expect(fieldOfApiError('request.symbol')).toBe('symbol');
  });

  it('leaves what the form has no field for to the form as a whole', () => {
    expect(fieldOfApiError(undefined)).toBeNull();
    expect(fieldOfApiError('request')).toBeNull();
    expect(fieldOfApiError('id')).toBeNull();
    expect(fieldOfPath('costs')).toBeNull();
    expect(fieldOfPath('')).toBeNull();
  });

  it('drops the path the API puts before its message', () => {
    expect(messageAtField('request.from: no candles recorded before 2025-11-20')).toBe(
      'no candles recorded before 2025-11-20',
    );
    expect(messageAtField('request.space.params.fast.max: must be at most 100')).toBe('must be at most 100');
    expect(messageAtField('the optimizer is not built yet')).toBe('the optimizer is not built yet');
  });
});
