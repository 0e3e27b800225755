/**
 * The Optimizer page's heat map over two parameters, as pure functions: trials binned by the two
 * chosen parameters, each cell the best or the median score of the trials in it (the other
 * parameters vary inside a cell), colours on one sequential scale with its legend, the words a screen
 * reader says for a cell, and arrow-key movement between cells.
 *
 * A robust plateau shows as a block of similar colour; a single lucky point as one bright cell among
 * dark ones, which the median (rather than the best) makes plainer still.
 *
 * In src/shared only so plain Node tests can import it; the renderer is its one user.
 */
import type { OptimizerTrial } from '../optimizer-api';

/** What a cell needs of a trial. */
export type HeatTrial = Pick<
  OptimizerTrial,
  'id' | 'params' | 'status' | 'score' | 'outOfSampleScore' | 'meetsConstraints'
>;

export type HeatValue = 'score' | 'outOfSampleScore';
export type HeatAggregate = 'best' | 'median';

export interface HeatOptions {
  value: HeatValue;
  aggregate: HeatAggregate;
  /** Only trials meeting the run's constraints count (the best trial is chosen among those). */
  constrained: boolean;
  /** More distinct values than this on an axis (a random search): equal-width bins instead. */
  maxBins?: number;
}

export interface HeatBin {
  /** Inclusive bounds; equal for a bin of one value. */
  lo: number;
  hi: number;
  label: string;
}

export interface HeatAxis {
  param: string;
  bins: HeatBin[];
  /** The bins are ranges (too many distinct values to show each). */
  binned: boolean;
}

export interface HeatCell {
  x: number;
  y: number;
  /** Trials that landed here (failed ones included). */
  trials: number;
  /** Of those, the ones that count (done, a score, meeting the constraints when asked). */
  scored: number;
  /** Trials here that meet the constraints. */
  meeting: number;
  /** The aggregate of the counted scores; null when none counts. */
  value: number | null;
  /** The highest counted trial here: what a click on the cell opens. */
  bestTrialId: number | null;
}

export interface HeatMap {
  x: HeatAxis;
  y: HeatAxis;
  /** cells[y][x], y and x in their axes' ascending order. */
  cells: HeatCell[][];
  /** The range of cell values (null when no cell has one). */
  min: number | null;
  max: number | null;
  options: HeatOptions;
}

export const DEFAULT_MAX_BINS = 20;

/** A parameter value as a person reads it: up to 6 significant digits, no trailing zeros. */
export function formatParam(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(6)));
}

/** The parameters that vary across these trials (the ones worth an axis), in first-seen order. */
export function varyingParams(trials: readonly HeatTrial[]): string[] {
  const seen = new Map<string, Set<number>>();
  for (const t of trials) {
    for (const [name, v] of Object.entries(t.params)) {
      let values = seen.get(name);
      if (!values) seen.set(name, (values = new Set()));
      values.add(v);
    }
  }
  return [...seen].filter(([, values]) => values.size > 1).map(([name]) => name);
}

function axisOf(trials: readonly HeatTrial[], param: string, maxBins: number): HeatAxis {
  const distinct = [
    ...new Set(trials.map((t) => t.params[param]).filter((v): v is number => v !== undefined)),
  ].sort((a, b) => a - b);
  if (distinct.length <= maxBins) {
    return { param, binned: false, bins: distinct.map((v) => ({ lo: v, hi: v, label: formatParam(v) })) };
  }
  const lo = distinct[0]!;
  const hi = distinct.at(-1)!;
  const width = (hi - lo) / maxBins;
  const bins: HeatBin[] = [];
  for (let i = 0; i < maxBins; i++) {
    const a = lo + i * width;
    const b = i === maxBins - 1 ? hi : lo + (i + 1) * width;
    bins.push({ lo: a, hi: b, label: `${formatParam(a)}–${formatParam(b)}` });
  }
  return { param, binned: true, bins };
}

function binIndex(axis: HeatAxis, v: number): number {
  if (!axis.binned) return axis.bins.findIndex((b) => b.lo === v);
  const first = axis.bins[0]!;
  const last = axis.bins.at(-1)!;
  if (last.hi === first.lo) return 0;
  const i = Math.floor(((v - first.lo) / (last.hi - first.lo)) * axis.bins.length);
  return Math.min(axis.bins.length - 1, Math.max(0, i));
}

function median(sorted: readonly number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Bins the trials by `xParam` and `yParam`. Trials without either parameter are left out. */
export function heatMapOf(
  trials: readonly HeatTrial[],
  xParam: string,
  yParam: string,
  options: HeatOptions,
): HeatMap {
  const maxBins = options.maxBins ?? DEFAULT_MAX_BINS;
  const placed = trials.filter((t) => t.params[xParam] !== undefined && t.params[yParam] !== undefined);
  const x = axisOf(placed, xParam, maxBins);
  const y = axisOf(placed, yParam, maxBins);
  const scores: number[][][] = y.bins.map(() => x.bins.map(() => []));
  const cells: HeatCell[][] = y.bins.map((_, yi) =>
    x.bins.map((_, xi) => ({
      x: xi,
      y: yi,
      trials: 0,
      scored: 0,
      meeting: 0,
      value: null,
      bestTrialId: null,
    })),
  );
  const bestScore: (number | null)[][] = y.bins.map(() => x.bins.map(() => null));
  for (const t of placed) {
    const xi = binIndex(x, t.params[xParam]!);
    const yi = binIndex(y, t.params[yParam]!);
    const cell = cells[yi]?.[xi];
    if (!cell) continue;
    cell.trials += 1;
    if (t.meetsConstraints) cell.meeting += 1;
    const score = t[options.value];
    if (t.status !== 'done' || score === null || (options.constrained && !t.meetsConstraints)) continue;
    cell.scored += 1;
    scores[yi]![xi]!.push(score);
    const best = bestScore[yi]![xi]!;
    if (best === null || score > best) {
      bestScore[yi]![xi] = score;
      cell.bestTrialId = t.id;
    }
  }
  let min: number | null = null;
  let max: number | null = null;
  for (const row of cells) {
    for (const cell of row) {
      const list = scores[cell.y]![cell.x]!;
      if (list.length === 0) continue;
      list.sort((a, b) => a - b);
      cell.value = options.aggregate === 'best' ? list.at(-1)! : median(list);
      min = min === null ? cell.value : Math.min(min, cell.value);
      max = max === null ? cell.value : Math.max(max, cell.value);
    }
  }
  return { x, y, cells, min, max, options };
}

// ---- colour ----

/** A perceptually even, colour-blind-safe sequential scale (viridis), low to high. */
const STOPS: readonly [number, number, number][] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** The colour of `t` in [0, 1] (clamped) on the scale. */
export function scaleColor(t: number): string {
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(u));
  const f = u - i;
  const a = STOPS[i]!;
  const b = STOPS[i + 1]!;
  const c = a.map((v, k) => Math.round(v + (b[k]! - v) * f));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** Where a value sits between min and max (0.5 when they are equal). */
export function position(value: number, min: number, max: number): number {
  return max === min ? 0.5 : (value - min) / (max - min);
}

export function cellColor(map: Pick<HeatMap, 'min' | 'max'>, value: number | null): string | null {
  if (value === null || map.min === null || map.max === null) return null;
  return scaleColor(position(value, map.min, map.max));
}

/** Text that stays readable on the cell's colour: dark on the bright end, light on the dark end. */
export function textOn(map: Pick<HeatMap, 'min' | 'max'>, value: number): 'dark' | 'light' {
  if (map.min === null || map.max === null) return 'light';
  return position(value, map.min, map.max) > 0.6 ? 'dark' : 'light';
}

/** The legend: `count` evenly spaced values from min to max with their colours. */
export function legendStops(
  min: number,
  max: number,
  count = 5,
): { value: number; color: string; offset: number }[] {
  const n = Math.max(2, count);
  return Array.from({ length: n }, (_, i) => {
    const offset = i / (n - 1);
    return { value: min + (max - min) * offset, color: scaleColor(offset), offset };
  });
}

// ---- words and keys ----

const valueWords: Record<HeatValue, string> = {
  score: 'in-sample score',
  outOfSampleScore: 'out-of-sample score',
};

/** A score as the page shows it. */
export function formatScore(v: number | null): string {
  if (v === null) return '—';
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e5 || a < 1e-3) ? v.toExponential(2) : v.toFixed(3);
}

/** A legend tick: only as many decimals as the legend's span needs, so the ticks stay short. */
export function formatTick(v: number, span: number): string {
  if (Math.abs(v) >= 1e6) return v.toExponential(1);
  const digits = span >= 100 ? 0 : span >= 10 ? 1 : span >= 1 ? 2 : 3;
  return v.toFixed(digits);
}

function binWords(axis: HeatAxis, i: number): string {
  const bin = axis.bins[i]!;
  return bin.lo === bin.hi
    ? `${axis.param} ${bin.label}`
    : `${axis.param} ${formatParam(bin.lo)} to ${formatParam(bin.hi)}`;
}

/** What a screen reader says for a cell: both parameters' values, then the score and what it is of. */
export function cellLabel(map: HeatMap, cell: HeatCell): string {
  const where = `${binWords(map.x, cell.x)}, ${binWords(map.y, cell.y)}`;
  if (cell.trials === 0) return `${where}: no trial`;
  const of = `${cell.trials} trial${cell.trials === 1 ? '' : 's'}`;
  if (cell.value === null) {
    const why =
      map.options.constrained && cell.meeting === 0
        ? 'none meets the constraints'
        : 'no score (no trades, or failed)';
    return `${where}: ${why}, ${of}`;
  }
  const agg = map.options.aggregate === 'best' ? 'best' : 'median';
  const counted = cell.scored === cell.trials ? of : `${cell.scored} of ${of} counted`;
  return `${where}: ${agg} ${valueWords[map.options.value]} ${formatScore(cell.value)}, ${counted}`;
}

/**
 * Arrow keys, Home and End over the grid. Rows are drawn highest y first, so ArrowUp goes to a higher
 * y. Returns null for other keys.
 */
export function moveCell(
  at: { x: number; y: number },
  key: string,
  size: { columns: number; rows: number },
): { x: number; y: number } | null {
  const clampX = (x: number) => Math.min(size.columns - 1, Math.max(0, x));
  const clampY = (y: number) => Math.min(size.rows - 1, Math.max(0, y));
  switch (key) {
    case 'ArrowLeft':
      return { x: clampX(at.x - 1), y: at.y };
    case 'ArrowRight':
      return { x: clampX(at.x + 1), y: at.y };
    case 'ArrowUp':
      return { x: at.x, y: clampY(at.y + 1) };
    case 'ArrowDown':
      return { x: at.x, y: clampY(at.y - 1) };
    case 'Home':
      return { x: 0, y: at.y };
    case 'End':
      return { x: size.columns - 1, y: at.y };
    default:
      return null;
  }
}

/** The cell with the highest value (where focus starts), or the first cell. */
export function bestCell(map: HeatMap): { x: number; y: number } {
  let best: HeatCell | null = null;
  for (const row of map.cells) {
    for (const cell of row) {
      if (cell.value !== null && (best === null || cell.value > best.value!)) best = cell;
    }
  }
  return best ? { x: best.x, y: best.y } : { x: 0, y: 0 };
}
