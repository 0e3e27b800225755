/**
 * What a trading strategy is, for the optimizer's backtests and the trader's live paper trading alike:
 * both feed the same `Strategy` the same closed candles, so a backtest and a live run decide the same.
 *
 *   StrategyDefinition { id, version, label, description, params: ParamSpec[], defaults, schema,
 *                        create(params) → Strategy, warmup(params) → candles }
 *   Strategy           { onCandle(candle) → Decision | null }
 *   Decision           { target: −1…1, reason }
 *
 * A strategy is incremental and pure: `onCandle` gets one closed candle at a time, oldest first, and
 * costs O(1) or O(window) per candle; it sees nothing later than that candle (no look-ahead), does no
 * I/O, reads no clock and no randomness, so the same candles always give the same decisions.
 *
 * A Decision is a target position as a fraction of equity: 1 fully long, −1 fully short, 0 flat
 * (fractions in between are allowed). `null` means "no change": keep the last target. A strategy
 * returns a Decision when its view changes, not on every candle, and never during its warmup.
 *
 * Shorting is not a strategy parameter: strategies say what they would do on both sides, and whoever
 * executes (the backtester's `allowShort`, the trader's venue) turns a negative target into flat where
 * shorting is not allowed (spot venues). So one parameter set means the same thing on spot and perps.
 *
 * Parameters are numbers described by ParamSpecs (for the UI's forms and the optimizer's grids); the
 * zod `schema` is built from them (`defineStrategy`): whole numbers where `kind` is 'int', [min, max],
 * unknown fields refused, missing fields take their default, and rules across fields (fast < slow) as
 * issues on the field to change, so a form can show them next to it.
 *
 * `version` is bumped whenever a strategy's logic changes what it decides: stored results snapshot it.
 */
import { z } from 'zod';
import type { ParamSpec } from '../../shared/optimizer-api';

/** The part of a recorded candle (src/services/collector/candles.ts `Candle`) a strategy may use. */
export interface StrategyCandle {
  /** Epoch ms, the start of the candle's interval. */
  readonly start: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  /** Base quantity traded. */
  readonly volume: number;
  /** Number of trades. */
  readonly trades: number;
}

export interface Decision {
  /** Wanted position as a fraction of equity, in [−1, 1]: 1 long, −1 short, 0 flat. */
  readonly target: number;
  /** Why, for people: shown next to the trade it caused. */
  readonly reason: string;
}

export interface Strategy {
  /** The next closed candle (strictly later than the previous one). */
  onCandle(candle: StrategyCandle): Decision | null;
}

/** Described in src/shared (the renderer's forms read it too). */
export type { ParamSpec } from '../../shared/optimizer-api';

/** Parameter values by name. */
export type Params = { readonly [name: string]: number };

export type ParamsOf<S extends readonly ParamSpec[]> = { readonly [K in S[number]['name']]: number };

export interface StrategyDefinition<P extends Params = Params> {
  readonly id: string;
  /** Bumped whenever the logic changes what the strategy decides. */
  readonly version: number;
  readonly label: string;
  readonly description: string;
  readonly params: readonly ParamSpec[];
  readonly defaults: P;
  /** Parses parameters: missing ones take their default; field errors otherwise (see the top). */
  readonly schema: z.ZodType<P>;
  /** A fresh strategy for parsed parameters. */
  create(params: P): Strategy;
  /** Candles the strategy consumes before the first one that can give a Decision. */
  warmup(params: P): number;
}

/** Bad parameters for a strategy: `fieldErrors` by parameter name (the form's view). */
export class StrategyParamsError extends Error {
  override readonly name = 'StrategyParamsError';
  constructor(
    readonly strategyId: string,
    readonly fieldErrors: Readonly<Record<string, readonly string[]>>,
    readonly issues: readonly z.core.$ZodIssue[],
  ) {
    super(
      `bad parameters for strategy ${strategyId}: ` +
        Object.entries(fieldErrors)
          .map(([field, messages]) => `${field}: ${messages.join('; ')}`)
          .join(', '),
    );
  }
}

/** Parses `input` with the strategy's schema; throws StrategyParamsError naming every bad field. */
export function parseParams<P extends Params>(def: StrategyDefinition<P>, input: unknown): P {
  const r = def.schema.safeParse(input);
  if (r.success) return r.data;
  throw new StrategyParamsError(def.id, paramErrors(r.error), r.error.issues);
}

/** A schema failure as messages by field (issues without a field go under `_`). */
export function paramErrors(error: z.ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const keys =
      issue.code === 'unrecognized_keys' ? issue.keys : [issue.path.length > 0 ? String(issue.path[0]) : '_'];
    for (const key of keys) {
      const message =
        issue.code === 'unrecognized_keys' ? 'is not a parameter of this strategy' : issue.message;
      (out[key] ??= []).push(message);
    }
  }
  return out;
}

/** The values an optimizer grid takes for a parameter: min, min + step, … up to max (included). */
export function gridValues(spec: ParamSpec): number[] {
  const count = Math.floor((spec.max - spec.min) / spec.step + 1e-9) + 1;
  // Computed from the index, not by adding steps, so 0.1-steps do not drift (0.30000000000000004).
  const decimals = Math.max(decimalsOf(spec.min), decimalsOf(spec.step));
  const values: number[] = [];
  for (let i = 0; i < count; i++) values.push(Number((spec.min + i * spec.step).toFixed(decimals)));
  return values;
}

function decimalsOf(x: number): number {
  const s = String(x);
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

/** Reports a rule across fields: the issue goes on `field`, the one to change. */
export type FailParam<N extends string> = (field: N, message: string) => void;

export interface StrategyBlueprint<S extends readonly ParamSpec[]> {
  id: string;
  version: number;
  label: string;
  description: string;
  params: S;
  /** Rules across fields, checked once every field is valid on its own. */
  rules?: (p: ParamsOf<S>, fail: FailParam<S[number]['name']>) => void;
  create(params: ParamsOf<S>): Strategy;
  warmup(params: ParamsOf<S>): number;
}

/** A StrategyDefinition whose schema and defaults are built from its ParamSpecs. */
export function defineStrategy<const S extends readonly ParamSpec[]>(
  bp: StrategyBlueprint<S>,
): StrategyDefinition<ParamsOf<S>> {
  type P = ParamsOf<S>;
  const shape: Record<string, z.ZodType<number>> = {};
  const defaults: Record<string, number> = {};
  for (const spec of bp.params) {
    checkSpec(bp.id, spec);
    shape[spec.name] = paramSchema(spec);
    defaults[spec.name] = spec.default;
  }
  const rules = bp.rules;
  const schema = z
    .object(shape)
    .strict()
    .superRefine((p, ctx) => {
      // zod runs refinements past range errors; a rule about fields already reported adds only noise.
      if (!rules || !bp.params.every((spec) => inSpec(spec, p[spec.name]))) return;
      rules(p as P, (field, message) => ctx.addIssue({ code: 'custom', path: [field], message }));
    }) as unknown as z.ZodType<P>;
  const def: StrategyDefinition<P> = {
    id: bp.id,
    version: bp.version,
    label: bp.label,
    description: bp.description,
    params: bp.params,
    defaults: Object.freeze(defaults) as P,
    schema,
    create: (p) => bp.create(p),
    warmup: (p) => bp.warmup(p),
  };
  // The defaults must pass the strategy's own rules: a definition that cannot run is a bug.
  const r = schema.safeParse({});
  if (!r.success) {
    throw new Error(
      `strategy ${bp.id}: its defaults break its rules: ${JSON.stringify(paramErrors(r.error))}`,
    );
  }
  return def;
}

function paramSchema(spec: ParamSpec): z.ZodType<number> {
  let s = z.number({ error: 'must be a number' });
  if (spec.kind === 'int') s = s.int('must be a whole number');
  return s
    .min(spec.min, `must be at least ${spec.min}`)
    .max(spec.max, `must be at most ${spec.max}`)
    .default(spec.default) as unknown as z.ZodType<number>;
}

function inSpec(spec: ParamSpec, v: number | undefined): boolean {
  return v !== undefined && v >= spec.min && v <= spec.max && (spec.kind === 'float' || Number.isInteger(v));
}

function checkSpec(id: string, spec: ParamSpec): void {
  const bad = (why: string): never => {
    throw new Error(`strategy ${id}: parameter ${spec.name}: ${why}`);
  };
  if (!(spec.min <= spec.max)) bad(`min ${spec.min} is above max ${spec.max}`);
  if (!(spec.step > 0)) bad(`step must be positive, not ${spec.step}`);
  if (!(spec.default >= spec.min && spec.default <= spec.max)) bad(`default ${spec.default} is out of range`);
  if (spec.kind === 'int' && ![spec.min, spec.max, spec.step, spec.default].every(Number.isInteger)) {
    bad('an int parameter needs whole min, max, step and default');
  }
}

/** A number for a Decision's reason: 6 significant digits, no trailing zeros. */
export function fmt(x: number): string {
  return String(Number(x.toPrecision(6)));
}
