/**
 * The Optimizer page's search form as pure functions: a draft of text fields built from a strategy's
 * ParamSpecs, the request it describes (checked by the very schema `optimizer.submit` applies, plus
 * the strategy's bounds the core checks), and the form field an API field error names.
 *
 * It lives in src/shared, not in the renderer, only so that plain Node tests can import it (the node
 * tsconfig does not include src/renderer); nothing outside the renderer uses it.
 *
 * Field keys: the request's top-level names (`symbol`, `from`, `objective`...), `maxDrawdown` and
 * `minTrades` (constraints), `feeBps`, `slippageBps`, `latencyMs` (costs), `budget` and `seed`
 * (random search), `space` (the search space as a whole), and per parameter `params.<name>` (the
 * row), `params.<name>.min|max|step|values|value`.
 */
import {
  DEFAULT_COSTS,
  MAX_TRIALS,
  optimizerRequestSchema,
  optimizerObjectives,
  type OptimizerObjective,
  type OptimizerRequestInput,
  type ParamSpec,
  type StrategyInfo,
} from '../optimizer-api';

export type ParamMode = 'search' | 'fixed' | 'default';
export type SearchType = 'grid' | 'random';

export interface ParamDraft {
  /** search: part of the space; fixed: held at `value`; default: the strategy's default. */
  mode: ParamMode;
  min: string;
  max: string;
  step: string;
  /** Grid only: a list of values ("5, 10, 20") used instead of min, max and step when not empty. */
  values: string;
  value: string;
}

export interface OptimizerDraft {
  strategy: string;
  venue: string;
  symbol: string;
  resolution: '1s' | '1m';
  /** Local time as a datetime-local input holds it: 2025-11-22T13:37 or 2025-11-22T13:37:05. */
  from: string;
  to: string;
  searchType: SearchType;
  /** Every parameter of the strategy, in its order. */
  params: Record<string, ParamDraft>;
  budget: string;
  seed: string;
  objective: OptimizerObjective;
  /** Percent (20 = 20 %); empty: no constraint. */
  maxDrawdown: string;
  /** Empty: no constraint. */
  minTrades: string;
  /** Percent of the range kept out of sample. */
  outOfSample: string;
  feeBps: string;
  slippageBps: string;
  latencyMs: string;
  initialEquity: string;
  allowGaps: boolean;
  allowShort: boolean;
}

export type FieldErrors = Record<string, string>;

export const objectiveLabels: Record<OptimizerObjective, string> = {
  sharpe: 'Sharpe ratio',
  sortino: 'Sortino ratio',
  totalReturn: 'Total return',
  calmar: 'Calmar ratio',
};
export { optimizerObjectives };

const DAY_MS = 86_400_000;
/** Random search: a budget that explores without taking all day. */
const DEFAULT_BUDGET = 200;

// ---- local time <-> epoch ms ----

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Epoch ms → the local-time text of a datetime-local input, to the second when it has seconds. */
export function toLocalInput(epochMs: number): string {
  const d = new Date(epochMs);
  const base =
    `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return d.getSeconds() === 0 ? base : `${base}:${pad(d.getSeconds())}`;
}

/** The local time a datetime-local input holds, in epoch ms; null when it is not one. */
export function fromLocalInput(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/.exec(text.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((v) => Number(v ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(y, mo - 1, d, h, mi, s);
  // new Date rolls 2025-02-31 over into March: such a date is no date.
  if (date.getMonth() !== mo - 1 || date.getDate() !== d || h > 23 || mi > 59 || s > 59) return null;
  return date.getTime();
}

// ---- building the draft ----

function paramDraft(spec: ParamSpec, mode: ParamMode): ParamDraft {
  return {
    mode,
    min: String(spec.min),
    max: String(spec.max),
    step: String(spec.step),
    values: '',
    value: String(spec.default),
  };
}

function paramsOf(strategy: StrategyInfo): Record<string, ParamDraft> {
  return Object.fromEntries(strategy.params.map((p) => [p.name, paramDraft(p, 'search')]));
}

/** A draft for `strategy`: every parameter searched over its default grid (min..max by its step). */
export function draftFor(
  strategy: StrategyInfo,
  opts: { now: number; venue?: string; symbol?: string },
): OptimizerDraft {
  // Whole minutes: the default range reads cleanly and falls on 1 m candles.
  const to = Math.floor(opts.now / 60_000) * 60_000;
  return {
    strategy: strategy.id,
    venue: opts.venue ?? 'binance-spot',
    symbol: opts.symbol ?? '',
    resolution: '1m',
    from: toLocalInput(to - 7 * DAY_MS),
    to: toLocalInput(to),
    searchType: 'grid',
    params: paramsOf(strategy),
    budget: String(DEFAULT_BUDGET),
    seed: '',
    objective: 'sharpe',
    maxDrawdown: '',
    minTrades: '',
    outOfSample: '30',
    feeBps: String(DEFAULT_COSTS.feeBps),
    slippageBps: String(DEFAULT_COSTS.slippageBps),
    latencyMs: String(DEFAULT_COSTS.latencyMs),
    initialEquity: '10000',
    allowGaps: false,
    allowShort: false,
  };
}

/**
 * The draft with another strategy chosen: the market, range, costs and constraints stay as the
 * person set them; the parameters are the new strategy's.
 */
export function withStrategy(draft: OptimizerDraft, strategy: StrategyInfo): OptimizerDraft {
  return { ...draft, strategy: strategy.id, params: paramsOf(strategy) };
}

// ---- grid arithmetic (the same as the strategies' gridValues) ----

function decimalsOf(x: number): number {
  const s = String(x);
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

/** min, min + step, … up to max (included when it falls on a step), computed from the index. */
export function gridValues(min: number, max: number, step: number): number[] {
  if (!(step > 0) || max < min) return [];
  const count = Math.floor((max - min) / step + 1e-9) + 1;
  const decimals = Math.max(decimalsOf(min), decimalsOf(step));
  const values: number[] = [];
  for (let i = 0; i < count; i++) values.push(Number((min + i * step).toFixed(decimals)));
  return values;
}

// ---- checking the draft ----

type Parsed = { ok: true; value: number } | { ok: false; error: string };

function parseNumber(text: string, opts: { int?: boolean } = {}): Parsed {
  const t = text.trim();
  if (t === '') return { ok: false, error: 'enter a number' };
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return { ok: false, error: 'must be a number' };
  const value = Number(t);
  if (!Number.isFinite(value)) return { ok: false, error: 'must be a finite number' };
  if (opts.int && !Number.isInteger(value)) return { ok: false, error: 'must be a whole number' };
  return { ok: true, value };
}

function parseList(text: string): { ok: true; values: number[] } | { ok: false; error: string } {
  const parts = text
    .split(/[\s,;]+/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const values: number[] = [];
  for (const part of parts) {
    const n = parseNumber(part);
    if (!n.ok) return { ok: false, error: `"${part}" is not a number` };
    values.push(n.value);
  }
  return { ok: true, values };
}

/** What the core checks against the strategy: its bounds, and whole numbers for int parameters. */
function outOfBounds(spec: ParamSpec, v: number, wholeNumbers = true): string | null {
  if (v < spec.min) return `must be at least ${spec.min} (the lowest ${spec.name} the strategy takes)`;
  if (v > spec.max) return `must be at most ${spec.max} (the highest ${spec.name} the strategy takes)`;
  if (wholeNumbers && spec.kind === 'int' && !Number.isInteger(v)) {
    return `must be a whole number (${spec.name} is)`;
  }
  return null;
}

export interface TrialEstimate {
  /** Grid: the product of the values' counts; random: the budget. */
  count: number;
  /** Grid: sets the strategy's rules refuse are skipped, so there may be fewer trials. */
  upTo: boolean;
  /** More than MAX_TRIALS: the optimizer refuses it unless its rules skip enough. */
  tooMany: boolean;
}

export interface DraftCheck {
  /** The request the draft describes, when the form has no problem. */
  request: OptimizerRequestInput | null;
  errors: FieldErrors;
  /** A problem no field of the form shows. */
  formError: string | null;
  /** How many trials the search has, once its space is readable. */
  trials: TrialEstimate | null;
}

/** Checks the whole draft, reporting each problem at its field, and builds the request. */
export function checkDraft(draft: OptimizerDraft, strategy: StrategyInfo): DraftCheck {
  const errors: FieldErrors = {};
  const set = (field: string, message: string): void => {
    errors[field] ??= message;
  };
  const num = (field: string, text: string, opts: { int?: boolean } = {}): number | undefined => {
    const r = parseNumber(text, opts);
    if (r.ok) return r.value;
    set(field, r.error);
    return undefined;
  };
  const optional = (field: string, text: string, opts: { int?: boolean } = {}): number | undefined =>
    text.trim() === '' ? undefined : num(field, text, opts);

  if (draft.symbol.trim() === '') set('symbol', 'enter the symbol to search, e.g. BTCUSDT');
  const from = fromLocalInput(draft.from);
  if (from === null) set('from', 'enter a date and time');
  const to = fromLocalInput(draft.to);
  if (to === null) set('to', 'enter a date and time');

  const grid = draft.searchType === 'grid';
  const space: Record<string, unknown> = {};
  const fixed: Record<string, number> = {};
  const counts: number[] = [];
  for (const spec of strategy.params) {
    const p = draft.params[spec.name];
    if (!p || p.mode === 'default') continue;
    const key = `params.${spec.name}`;
    if (p.mode === 'fixed') {
      const v = num(`${key}.value`, p.value);
      if (v === undefined) continue;
      const bad = outOfBounds(spec, v);
      if (bad) set(`${key}.value`, bad);
      else fixed[spec.name] = v;
      continue;
    }
    if (grid && p.values.trim() !== '') {
      const list = parseList(p.values);
      if (!list.ok) {
        set(`${key}.values`, list.error);
        continue;
      }
      const bad = list.values.map((v) => outOfBounds(spec, v)).find((m) => m !== null);
      if (bad) set(`${key}.values`, bad);
      space[spec.name] = { values: list.values };
      counts.push(new Set(list.values).size);
      continue;
    }
    const min = num(`${key}.min`, p.min);
    const max = num(`${key}.max`, p.max);
    // Random draws need not fall on whole numbers at the bounds: only the range is checked.
    for (const [k, v] of [
      ['min', min],
      ['max', max],
    ] as const) {
      const bad = v === undefined ? null : outOfBounds(spec, v, grid);
      if (bad) set(`${key}.${k}`, bad);
    }
    if (min !== undefined && max !== undefined && max < min) set(`${key}.max`, 'must be at least min');
    if (!grid) {
      if (min !== undefined && max !== undefined && spec.kind === 'int' && Math.ceil(min) > Math.floor(max)) {
        set(`${key}.max`, `no whole number lies between ${min} and ${max} (${spec.name} is a whole number)`);
      }
      space[spec.name] = { min, max };
      continue;
    }
    const step = num(`${key}.step`, p.step);
    if (step !== undefined && step <= 0) set(`${key}.step`, 'must be more than 0');
    else if (step !== undefined && spec.kind === 'int' && !Number.isInteger(step)) {
      set(`${key}.step`, `must be a whole number (${spec.name} is)`);
    }
    space[spec.name] = { min, max, step };
    if (min !== undefined && max !== undefined && step !== undefined && step > 0 && max >= min) {
      counts.push(gridValues(min, max, step).length);
    }
  }
  if (Object.keys(space).length === 0) set('space', 'search at least one parameter');

  let budget: number | undefined;
  let seed: number | undefined;
  if (!grid) {
    budget = num('budget', draft.budget, { int: true });
    seed = optional('seed', draft.seed, { int: true });
  }
  // Fractions in the request, percent in the form: their bounds are checked here, in percent.
  const maxDrawdownPct = optional('maxDrawdown', draft.maxDrawdown);
  if (maxDrawdownPct !== undefined && !(maxDrawdownPct > 0 && maxDrawdownPct <= 100)) {
    set('maxDrawdown', 'must be more than 0 and at most 100 (%)');
  }
  const outOfSamplePct = num('outOfSample', draft.outOfSample);
  if (outOfSamplePct !== undefined && !(outOfSamplePct >= 0 && outOfSamplePct <= 90)) {
    set('outOfSample', 'must be from 0 to 90 (%)');
  }
  const request = {
    strategy: draft.strategy,
    venue: draft.venue,
    symbol: draft.symbol.trim(),
    resolution: draft.resolution,
    from: from ?? 0,
    to: to ?? 0,
    space: grid
      ? { type: 'grid', params: space }
      : { type: 'random', params: space, budget, ...(seed === undefined ? {} : { seed }) },
    fixed,
    objective: draft.objective,
    constraints: {
      ...(maxDrawdownPct === undefined ? {} : { maxDrawdown: maxDrawdownPct / 100 }),
      ...optionalEntry('minTrades', optional('minTrades', draft.minTrades, { int: true })),
    },
    outOfSample: outOfSamplePct === undefined ? undefined : outOfSamplePct / 100,
    costs: {
      feeBps: num('feeBps', draft.feeBps),
      slippageBps: num('slippageBps', draft.slippageBps),
      latencyMs: num('latencyMs', draft.latencyMs, { int: true }),
    },
    allowGaps: draft.allowGaps,
    allowShort: draft.allowShort,
    initialEquity: num('initialEquity', draft.initialEquity),
  };

  const trials = estimate(grid, counts, budget, Object.keys(space).length);
  if (Object.keys(errors).length > 0) return { request: null, errors, formError: null, trials };

  // The schema optimizer.submit applies: what it would refuse is refused here, at the field.
  const parsed = optimizerRequestSchema.safeParse(request);
  if (!parsed.success) {
    let formError: string | null = null;
    for (const issue of parsed.error.issues) {
      const path = issue.path.map(String);
      if (issue.code === 'unrecognized_keys' && issue.keys[0]) path.push(issue.keys[0]);
      const field = fieldOfPath(path.join('.'));
      if (field !== null) set(field, issue.message);
      else formError ??= `${path.join('.') || 'request'}: ${issue.message}`;
    }
    return { request: null, errors, formError, trials };
  }
  return { request: request as OptimizerRequestInput, errors, formError: null, trials };
}

function optionalEntry<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

function estimate(
  grid: boolean,
  counts: number[],
  budget: number | undefined,
  searched: number,
): TrialEstimate | null {
  if (grid) {
    if (searched === 0 || counts.length !== searched) return null;
    const count = counts.reduce((n, c) => n * c, 1);
    return { count, upTo: true, tooMany: count > MAX_TRIALS };
  }
  if (budget === undefined) return null;
  return { count: budget, upTo: false, tooMany: budget > MAX_TRIALS };
}

// ---- API field errors -> form fields ----

const topLevel = new Set([
  'strategy',
  'venue',
  'symbol',
  'resolution',
  'from',
  'to',
  'objective',
  'outOfSample',
  'allowGaps',
  'allowShort',
  'initialEquity',
]);

/** The form field a request path names (`space.params.fast.max` → `params.fast.max`), if any. */
export function fieldOfPath(path: string): string | null {
  const parts = path.split('.');
  const [head, second, name, leaf] = parts;
  if (head === undefined || head === '') return null;
  if (topLevel.has(head)) return head;
  if (head === 'constraints' && (second === 'maxDrawdown' || second === 'minTrades')) return second;
  if (head === 'costs' && (second === 'feeBps' || second === 'slippageBps' || second === 'latencyMs')) {
    return second;
  }
  if (head === 'fixed') return second ? `params.${second}.value` : null;
  if (head !== 'space') return null;
  if (second === 'budget' || second === 'seed') return second;
  if (second !== 'params' || name === undefined) return 'space';
  if (leaf === 'min' || leaf === 'max' || leaf === 'step' || leaf === 'values')
    return `params.${name}.${leaf}`;
  return `params.${name}`;
}

/** The form field an API error names (`request.space.params.fast.max`), if the form has it. */
export function fieldOfApiError(field: string | undefined): string | null {
  if (field === undefined || !field.startsWith('request')) return null;
  if (field === 'request') return null;
  return fieldOfPath(field.slice('request.'.length));
}

/** The message without the path the API puts in front of it ("request.from: no candles…"). */
export function messageAtField(message: string): string {
  return message.replace(/^request(\.[\w-]+)*: /, '');
}

/** The parameters a draft searches, in the strategy's order. */
export function searchedParams(draft: OptimizerDraft, strategy: StrategyInfo): string[] {
  return strategy.params.filter((p) => draft.params[p.name]?.mode === 'search').map((p) => p.name);
}
