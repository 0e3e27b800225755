/** The Optimizer page's heat map: trials binned over two parameters, aggregated, coloured and labelled. */
import { describe, expect, it } from 'vitest';
import {
  bestCell,
  cellColor,
  cellLabel,
  formatParam,
  formatTick,
  heatMapOf,
  legendStops,
  moveCell,
  scaleColor,
  textOn,
  varyingParams,
  type HeatOptions,
  type HeatTrial,
} from '../../src/shared/optimizer-ui/heatmap';

let nextId = 0;
function trial(
  params: Record<string, number>,
  score: number | null,
  patch: Partial<HeatTrial> = {},
): HeatTrial {
  return {
    id: nextId++,
    params,
    status: 'done',
    score,
    outOfSampleScore: score === null ? null : score / 2,
    meetsConstraints: true,
    ...patch,
  };
}

const best: HeatOptions = { value: 'score', aggregate: 'best', constrained: true };

describe('binning trials over two parameters', () => {
  it('makes one cell per pair of grid values, y and x ascending, each with the best of the trials in it', () => {
    nextId = 0;
    // A third parameter varies inside each cell.
    const trials = [
      trial({ fast: 10, slow: 50, z: 1 }, 0.5),
      trial({ fast: 10, slow: 50, z: 2 }, 1.5),
      trial({ fast: 20, slow: 50, z: 1 }, -0.2),
      trial({ fast: 10, slow: 100, z: 1 }, 0.9),
      trial({ fast: 20, slow: 100, z: 1 }, null),
    ];
    const map = heatMapOf(trials, 'fast', 'slow', best);
    expect(map.x.bins.map((b) => b.label)).toEqual(['10', '20']);
    expect(map.y.bins.map((b) => b.label)).toEqual(['50', '100']);
    expect(map.x.binned).toBe(false);
    expect(map.cells[0]![0]).toMatchObject({ trials: 2, scored: 2, value: 1.5, bestTrialId: 1 });
    expect(map.cells[0]![1]).toMatchObject({ trials: 1, value: -0.2, bestTrialId: 2 });
    expect(map.cells[1]![0]).toMatchObject({ trials: 1, value: 0.9 });
    // No score (no trades): counted as a trial, no value, nothing to open.
    expect(map.cells[1]![1]).toMatchObject({ trials: 1, scored: 0, value: null, bestTrialId: null });
    expect([map.min, map.max]).toEqual([-0.2, 1.5]);
  });

  it('shows the median instead of the best, so one lucky trial does not light a cell up', () => {
    nextId = 0;
    const trials = [1, 2, 30].map((z) => trial({ a: 1, b: 1, z }, z === 30 ? 9 : 0.1 * z));
    const map = heatMapOf(trials, 'a', 'b', { ...best, aggregate: 'median' });
    expect(map.cells[0]![0]!.value).toBeCloseTo(0.2);
    // Still opens the best trial of the cell.
    expect(map.cells[0]![0]!.bestTrialId).toBe(2);
    const even = heatMapOf(trials.slice(0, 2), 'a', 'b', { ...best, aggregate: 'median' });
    expect(even.cells[0]![0]!.value).toBeCloseTo(0.15);
  });

  it('counts only trials meeting the constraints unless asked otherwise, and never failed ones', () => {
    nextId = 0;
    const trials = [
      trial({ a: 1, b: 1 }, 3, { meetsConstraints: false }),
      trial({ a: 1, b: 1 }, 1),
      trial({ a: 2, b: 1 }, 5, { meetsConstraints: false }),
      trial({ a: 2, b: 1 }, 7, { status: 'failed' }),
    ];
    const constrained = heatMapOf(trials, 'a', 'b', best);
    expect(constrained.cells[0]![0]).toMatchObject({ value: 1, scored: 1, meeting: 1, trials: 2 });
    expect(constrained.cells[0]![1]).toMatchObject({ value: null, meeting: 1, trials: 2 });
    const all = heatMapOf(trials, 'a', 'b', { ...best, constrained: false });
    expect(all.cells[0]![0]!.value).toBe(3);
    expect(all.cells[0]![1]!.value).toBe(5);
  });

  it('reads the out-of-sample score when asked', () => {
    nextId = 0;
    const map = heatMapOf([trial({ a: 1, b: 1 }, 2)], 'a', 'b', { ...best, value: 'outOfSampleScore' });
    expect(map.cells[0]![0]!.value).toBe(1);
  });

  it('bins a random search’s many values into equal-width ranges, the top value in the last bin', () => {
    nextId = 0;
    const trials = Array.from({ length: 100 }, (_, i) => trial({ a: i / 10, b: i % 3 }, i));
    const map = heatMapOf(trials, 'a', 'b', { ...best, maxBins: 10 });
    expect(map.x.binned).toBe(true);
    expect(map.x.bins).toHaveLength(10);
    expect(map.x.bins[0]).toMatchObject({ lo: 0, label: '0–0.99' });
    expect(map.x.bins.at(-1)!.hi).toBe(9.9);
    expect(map.y.bins).toHaveLength(3);
    const perColumn = map.x.bins.map((_, xi) => map.cells.reduce((n, row) => n + row[xi]!.trials, 0));
    expect(perColumn).toEqual(Array(10).fill(10));
    expect(map.cells[0]![9]!.bestTrialId).toBe(99);
  });

  it('leaves out trials that lack either parameter, and finds the parameters that vary', () => {
    nextId = 0;
    const trials = [trial({ a: 1, b: 1, c: 5 }, 1), trial({ a: 2, b: 1, c: 5 }, 2), trial({ a: 3 }, 3)];
    expect(varyingParams(trials)).toEqual(['a']);
    const map = heatMapOf(trials, 'a', 'b', best);
    expect(map.x.bins.map((b) => b.label)).toEqual(['1', '2']);
    expect(heatMapOf([], 'a', 'b', best)).toMatchObject({ cells: [], min: null, max: null });
  });
});

describe('colours and the legend', () => {
  it('runs from dark violet to yellow, clamped at both ends', () => {
    expect(scaleColor(0)).toBe('rgb(68, 1, 84)');
    expect(scaleColor(1)).toBe('rgb(253, 231, 37)');
    expect(scaleColor(-3)).toBe(scaleColor(0));
    expect(scaleColor(7)).toBe(scaleColor(1));
    expect(scaleColor(0.5)).toBe('rgb(33, 145, 140)');
  });

  it('places a cell between the map’s min and max; no value has no colour', () => {
    const map = { min: -1, max: 3 };
    expect(cellColor(map, 3)).toBe(scaleColor(1));
    expect(cellColor(map, -1)).toBe(scaleColor(0));
    expect(cellColor(map, 1)).toBe(scaleColor(0.5));
    expect(cellColor(map, null)).toBeNull();
    expect(cellColor({ min: 2, max: 2 }, 2)).toBe(scaleColor(0.5));
    expect(textOn(map, 3)).toBe('dark');
    expect(textOn(map, -1)).toBe('light');
  });

  it('writes legend ticks with only the decimals their span needs', () => {
    expect(formatTick(-1792.243, 544)).toBe('-1792');
    expect(formatTick(12.345, 20)).toBe('12.3');
    expect(formatTick(1.23456, 3)).toBe('1.23');
    expect(formatTick(0.12345, 0.5)).toBe('0.123');
    expect(formatTick(2.5e7, 1e7)).toBe('2.5e+7');
  });

  it('labels evenly spaced values from min to max', () => {
    const stops = legendStops(-1, 3, 5);
    expect(stops.map((s) => s.value)).toEqual([-1, 0, 1, 2, 3]);
    expect(stops[0]!.color).toBe(scaleColor(0));
    expect(stops.at(-1)!.offset).toBe(1);
  });
});

describe('words and keys', () => {
  it('names both parameters’ values and the score in each cell’s label', () => {
    nextId = 0;
    const trials = [
      trial({ fast: 10, slow: 50 }, 1.23456),
      trial({ fast: 10, slow: 50 }, 0.5),
      trial({ fast: 20, slow: 50 }, null),
      trial({ fast: 10, slow: 60 }, 2, { meetsConstraints: false }),
    ];
    const map = heatMapOf(trials, 'fast', 'slow', best);
    expect(cellLabel(map, map.cells[0]![0]!)).toBe('fast 10, slow 50: best in-sample score 1.235, 2 trials');
    expect(cellLabel(map, map.cells[0]![1]!)).toBe(
      'fast 20, slow 50: no score (no trades, or failed), 1 trial',
    );
    expect(cellLabel(map, map.cells[1]![0]!)).toBe('fast 10, slow 60: none meets the constraints, 1 trial');
    expect(cellLabel(map, map.cells[1]![1]!)).toBe('fast 20, slow 60: no trial');
    const median = heatMapOf(trials, 'fast', 'slow', {
      ...best,
      aggregate: 'median',
      value: 'outOfSampleScore',
    });
    expect(cellLabel(median, median.cells[0]![0]!)).toBe(
      'fast 10, slow 50: median out-of-sample score 0.434, 2 trials',
    );
  });

  it('says ranges for binned axes', () => {
    nextId = 0;
    const trials = Array.from({ length: 30 }, (_, i) => trial({ a: i, b: 0 }, 1));
    const map = heatMapOf(trials, 'a', 'b', { ...best, maxBins: 3 });
    expect(cellLabel(map, map.cells[0]![0]!)).toMatch(/^a 0 to 9\.66667, b 0: best in-sample score 1\.000/);
  });

  it('moves with the arrows (up to a higher y), Home and End, within the grid', () => {
    const size = { columns: 3, rows: 2 };
    expect(moveCell({ x: 1, y: 0 }, 'ArrowRight', size)).toEqual({ x: 2, y: 0 });
    expect(moveCell({ x: 2, y: 0 }, 'ArrowRight', size)).toEqual({ x: 2, y: 0 });
    expect(moveCell({ x: 0, y: 0 }, 'ArrowLeft', size)).toEqual({ x: 0, y: 0 });
    expect(moveCell({ x: 1, y: 0 }, 'ArrowUp', size)).toEqual({ x: 1, y: 1 });
    expect(moveCell({ x: 1, y: 1 }, 'ArrowUp', size)).toEqual({ x: 1, y: 1 });
    expect(moveCell({ x: 1, y: 1 }, 'ArrowDown', size)).toEqual({ x: 1, y: 0 });
    expect(moveCell({ x: 1, y: 1 }, 'Home', size)).toEqual({ x: 0, y: 1 });
    expect(moveCell({ x: 1, y: 1 }, 'End', size)).toEqual({ x: 2, y: 1 });
    expect(moveCell({ x: 1, y: 1 }, 'a', size)).toBeNull();
  });

  it('starts at the best cell', () => {
    nextId = 0;
    const map = heatMapOf(
      [trial({ a: 1, b: 1 }, 1), trial({ a: 2, b: 1 }, 4), trial({ a: 1, b: 2 }, 2)],
      'a',
      'b',
      best,
    );
    expect(bestCell(map)).toEqual({ x: 1, y: 0 });
  });

  it('prints parameter values briefly', () => {
    expect(formatParam(10)).toBe('10');
    expect(formatParam(0.30000000000000004)).toBe('0.3');
    expect(formatParam(1 / 3)).toBe('0.333333');
  });
});
