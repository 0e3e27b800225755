/**
 * A request's search space against its strategy: the checks that need the strategy (parameter names,
 * its bounds, whole numbers) and the exact list of trials, the same wherever it is computed (the
 * core counts them when a run is submitted, the optimizer computes them, a resumed run finds the same
 * ids again).
 *
 *   planTrials(def, request) → { ok: true, trials, skipped } | { ok: false, issues: FieldIssue[] }
 *     trials[i] is trial id i with every parameter filled in; issue paths are from the request
 *     (`space.params.fast.max`)
 *
 * Grid: the cartesian product of each parameter's values, the first parameter of the space varying
 * slowest; a range gives min, min + step, … up to max (included when it falls on a step). Random:
 * `budget` draws from a seeded generator (mulberry32), each parameter uniform in [min, max] (whole
 * numbers for int parameters, 6 significant digits for floats), a draw already made drawn again, so
 * the trials are distinct; fewer than `budget` when the space holds fewer distinct sets. Either way a
 * parameter set the strategy's rules refuse (fast ≥ slow) is no trial: `skipped` counts those of a
 * grid, and random draws again.
 */
import {
  MAX_TRIALS,
  type GridParam,
  type OptimizerRequest,
  type ParamSpec,
} from '../../shared/optimizer-api';
import { gridValues, type Params, type StrategyDefinition } from '../strategies/strategy';

export interface FieldIssue {
  /** Dotted, from the request: `space.params.fast.max`. */
  path: string;
  message: string;
}

/** The largest grid product enumerated (its rule-abiding sets must still be at most MAX_TRIALS). */
export const MAX_GRID_COMBINATIONS = 200_000;
/** Random search gives up after this many draws per trial of the budget (tiny or rule-bound spaces). */
const DRAWS_PER_TRIAL = 50;

type Space = OptimizerRequest['space'];

export type TrialPlan = { ok: true; trials: Params[]; skipped: number } | { ok: false; issues: FieldIssue[] };

/** The run's trials, by id, or everything wrong with the request's parameters for this strategy. */
export function planTrials(
  def: StrategyDefinition,
  request: Pick<OptimizerRequest, 'space' | 'fixed'>,
): TrialPlan {
  const issues: FieldIssue[] = [];
  const specs = new Map(def.params.map((p) => [p.name, p]));
  const known = def.params.map((p) => p.name).join(', ');
  const add = (path: string, message: string) => issues.push({ path, message });

  for (const [name, value] of Object.entries(request.fixed)) {
    const spec = specs.get(name);
    if (!spec) add(`fixed.${name}`, `is not a parameter of ${def.id} (its parameters: ${known})`);
    else checkValue(spec, value, `fixed.${name}`, add);
  }
  for (const [name, range] of Object.entries(request.space.params)) {
    const path = `space.params.${name}`;
    const spec = specs.get(name);
    if (!spec) {
      add(path, `is not a parameter of ${def.id} (its parameters: ${known})`);
      continue;
    }
    if (request.space.type === 'grid') checkGrid(spec, range as GridParam, path, add);
    else checkRandom(spec, range as { min: number; max: number }, path, add);
  }
  if (issues.length > 0) return { ok: false, issues };

  if (request.space.type === 'grid') {
    const product = Object.values(request.space.params).reduce((n, g) => n * valuesOf(g).length, 1);
    if (product > MAX_GRID_COMBINATIONS) {
      add(
        'space',
        `the grid has ${product.toLocaleString('en')} combinations; at most ${MAX_GRID_COMBINATIONS.toLocaleString('en')} are enumerated and ${MAX_TRIALS.toLocaleString('en')} run: widen the steps or search fewer parameters (or use random search)`,
      );
      return { ok: false, issues };
    }
  }
  const { trials, skipped, firstRefusal } = expand(def, request);
  if (trials.length === 0) {
    add(
      'space',
      `every parameter set of this space breaks ${def.id}'s rules` +
        (firstRefusal ? ` (for example ${firstRefusal})` : ''),
    );
  } else if (request.space.type === 'grid' && trials.length > MAX_TRIALS) {
    add(
      'space',
      `the grid has ${trials.length.toLocaleString('en')} trials; at most ${MAX_TRIALS.toLocaleString('en')}: widen the steps or search fewer parameters (or use random search)`,
    );
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, trials, skipped };
}

function expand(
  def: StrategyDefinition,
  request: Pick<OptimizerRequest, 'space' | 'fixed'>,
): { trials: Params[]; skipped: number; firstRefusal: string | null } {
  const base = { ...def.defaults, ...request.fixed };
  let firstRefusal: string | null = null;
  const accept = (candidate: Record<string, number>): Params | null => {
    const r = def.schema.safeParse(candidate);
    if (r.success) return r.data;
    if (firstRefusal === null) {
      const issue = r.error.issues[0];
      const set = Object.entries(candidate)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      firstRefusal = `${set}: ${issue ? `${issue.path.join('.')} ${issue.message}` : 'refused'}`;
    }
    return null;
  };
  const space = request.space;
  if (space.type === 'grid') return { ...grid(space, base, accept), firstRefusal };
  return { trials: random(def, space, base, accept), skipped: 0, firstRefusal };
}

function grid(
  space: Extract<Space, { type: 'grid' }>,
  base: Params,
  accept: (c: Record<string, number>) => Params | null,
): { trials: Params[]; skipped: number } {
  const names = Object.keys(space.params);
  const values = names.map((n) => valuesOf(space.params[n]!));
  const trials: Params[] = [];
  let skipped = 0;
  const index = names.map(() => 0);
  if (values.some((v) => v.length === 0)) return { trials, skipped };
  for (;;) {
    const candidate: Record<string, number> = { ...base };
    names.forEach((n, i) => (candidate[n] = values[i]![index[i]!]!));
    const ok = accept(candidate);
    if (ok) trials.push(ok);
    else skipped += 1;
    // Odometer: the last parameter turns fastest.
    let k = names.length - 1;
    while (k >= 0) {
      index[k]! += 1;
      if (index[k]! < values[k]!.length) break;
      index[k] = 0;
      k -= 1;
    }
    if (k < 0) return { trials, skipped };
  }
}

function random(
  def: StrategyDefinition,
  space: Extract<Space, { type: 'random' }>,
  base: Params,
  accept: (c: Record<string, number>) => Params | null,
): Params[] {
  const next = mulberry32(space.seed ?? 0);
  const specs = new Map(def.params.map((p) => [p.name, p]));
  const names = Object.keys(space.params);
  const trials: Params[] = [];
  const seen = new Set<string>();
  for (let draws = 0; trials.length < space.budget && draws < space.budget * DRAWS_PER_TRIAL; draws++) {
    const candidate: Record<string, number> = { ...base };
    for (const n of names) {
      const { min, max } = space.params[n]!;
      const u = next();
      candidate[n] =
        specs.get(n)!.kind === 'int'
          ? Math.ceil(min) + Math.floor(u * (Math.floor(max) - Math.ceil(min) + 1))
          : Number((min + u * (max - min)).toPrecision(6));
    }
    const key = names.map((n) => candidate[n]).join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    const ok = accept(candidate);
    if (ok) trials.push(ok);
  }
  return trials;
}

/** The values a grid parameter takes, in order. */
export function valuesOf(g: GridParam): number[] {
  if ('values' in g) return g.values;
  return gridValues({ name: '', label: '', description: '', kind: 'float', default: g.min, ...g });
}

function checkValue(spec: ParamSpec, v: number, path: string, add: (p: string, m: string) => void): void {
  if (v < spec.min) add(path, `must be at least ${spec.min} (the lowest ${spec.name} the strategy takes)`);
  else if (v > spec.max)
    add(path, `must be at most ${spec.max} (the highest ${spec.name} the strategy takes)`);
  else if (spec.kind === 'int' && !Number.isInteger(v)) add(path, `must be a whole number (${spec.name} is)`);
}

function checkGrid(spec: ParamSpec, g: GridParam, path: string, add: (p: string, m: string) => void): void {
  if ('values' in g) {
    g.values.forEach((v, i) => checkValue(spec, v, `${path}.values.${i}`, add));
    return;
  }
  checkValue(spec, g.min, `${path}.min`, add);
  checkValue(spec, g.max, `${path}.max`, add);
  if (spec.kind === 'int' && !Number.isInteger(g.step)) {
    add(`${path}.step`, `must be a whole number (${spec.name} is)`);
  }
}

function checkRandom(
  spec: ParamSpec,
  r: { min: number; max: number },
  path: string,
  add: (p: string, m: string) => void,
): void {
  const before = { n: 0 };
  const counting = (p: string, m: string) => {
    before.n += 1;
    add(p, m);
  };
  // Random draws need not fall on whole numbers at the bounds: only the range is checked.
  checkValue({ ...spec, kind: 'float' }, r.min, `${path}.min`, counting);
  checkValue({ ...spec, kind: 'float' }, r.max, `${path}.max`, counting);
  if (before.n === 0 && spec.kind === 'int' && Math.ceil(r.min) > Math.floor(r.max)) {
    add(`${path}.max`, `no whole number lies between ${r.min} and ${r.max} (${spec.name} is a whole number)`);
  }
}

/** A small, fast, seeded generator of numbers in [0, 1) (mulberry32): the same seed, the same draws. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
