/**
 * The risk limits editor as pure functions: a draft of text fields from the limits in force, the
 * limits it describes (checked by the very schema `trader.limits` applies), each problem at its field,
 * and the field an API refusal names (`limits.maxOrderNotional` → `maxOrderNotional`).
 *
 * In src/shared only so plain Node tests can import it; only the renderer uses it.
 */
import { riskLimitsSchema, type RiskLimits } from '../trader-api';

export type LimitKey = keyof RiskLimits;
export type LimitsDraft = Record<LimitKey, string>;
export type LimitErrors = Partial<Record<LimitKey, string>>;

export interface LimitField {
  key: LimitKey;
  label: string;
  /** Shown after the input. */
  unit: string;
  hint: string;
}

export const limitFields: readonly LimitField[] = [
  {
    key: 'maxPositionNotional',
    label: 'Max position',
    unit: 'quote / symbol',
    hint: 'Largest position per symbol, as |quantity| × price.',
  },
  {
    key: 'maxOrderNotional',
    label: 'Max order',
    unit: 'quote',
    hint: 'Largest single order; a bigger move is split over later decisions.',
  },
  {
    key: 'maxOrdersPerMinute',
    label: 'Max orders a minute',
    unit: 'orders',
    hint: 'Orders sent in any 60 s; one more is refused and alerted.',
  },
  {
    key: 'maxDailyLoss',
    label: 'Max daily loss',
    unit: 'quote',
    hint: 'Loss since 00:00 UTC (realized + unrealized) that stops opening positions until the next day.',
  },
];

export const limitKeys: readonly LimitKey[] = limitFields.map((f) => f.key);

export function draftOf(limits: RiskLimits): LimitsDraft {
  return {
    maxPositionNotional: String(limits.maxPositionNotional),
    maxOrderNotional: String(limits.maxOrderNotional),
    maxOrdersPerMinute: String(limits.maxOrdersPerMinute),
    maxDailyLoss: String(limits.maxDailyLoss),
  };
}

/** A field's text as a number: grouping commas and spaces are allowed ("5,000"), nothing else. */
function parseNumber(text: string): number | 'empty' | 'nan' {
  const t = text.trim().replace(/[,\s_]/g, '');
  if (t === '') return 'empty';
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return 'nan';
  return Number(t);
}

/** The limits a draft describes, or each field's problem (the API's own schema decides). */
export function checkLimits(draft: LimitsDraft): { limits: RiskLimits | null; errors: LimitErrors } {
  const errors: LimitErrors = {};
  const values: Partial<Record<LimitKey, number>> = {};
  for (const key of limitKeys) {
    const n = parseNumber(draft[key]);
    if (n === 'empty') errors[key] = 'is required';
    else if (n === 'nan') errors[key] = 'must be a number';
    else values[key] = n;
  }
  const parsed = riskLimitsSchema.safeParse(values);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path[0];
      if (typeof key === 'string' && isLimitKey(key) && errors[key] === undefined) {
        errors[key] = issue.message;
      }
    }
  }
  return Object.keys(errors).length > 0 || !parsed.success
    ? { limits: null, errors }
    : { limits: parsed.data, errors };
}

export function isLimitKey(key: string): key is LimitKey {
  return (limitKeys as readonly string[]).includes(key);
}

/** The field of the editor an API error names (`limits.maxDailyLoss`), or null for the form as a whole. */
export function limitFieldOfApiError(field: string | undefined): LimitKey | null {
  if (field === undefined) return null;
  const key = field.replace(/^limits\./, '');
  return isLimitKey(key) ? key : null;
}

/** The message without the path in front of it ("limits.maxDailyLoss: must be more than 0"). */
export function messageAtLimitField(message: string): string {
  return message.replace(/^(limits\.)?\w+: /, '');
}

/** Whether the draft differs from the limits in force (as numbers: "5000.0" is 5000). */
export function draftChanged(draft: LimitsDraft, limits: RiskLimits): boolean {
  return limitKeys.some((key) => {
    const n = parseNumber(draft[key]);
    return typeof n !== 'number' || n !== limits[key];
  });
}
