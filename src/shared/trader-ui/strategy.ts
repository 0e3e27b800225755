/**
 * The active strategy in words: which one, with which parameters, and where they came from
 * ("optimizer run 12, trial 40, applied 2025-11-22 13:37:05", or "set by hand").
 *
 * In src/shared only so plain Node tests can import it; only the renderer uses it.
 */
import { formatTimestamp } from '../format';
import type { TraderSnapshot } from '../trader-api';

type StrategyState = TraderSnapshot['strategy'];

export function strategySourceText(
  source: StrategyState['source'],
  formatTime: (epochMs: number) => string = formatTimestamp,
): string {
  if (source === null) return 'set by hand';
  return `optimizer run ${source.runId}, trial ${source.trialId}, applied ${formatTime(source.appliedAt)}`;
}

/** A parameter value as typed: whole numbers plain, others to 6 significant digits. */
export function formatParamValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(6)));
}

/** The parameters by name, alphabetically (the order a person finds them in). */
export function strategyParams(params: Readonly<Record<string, number>>): { name: string; value: string }[] {
  return Object.keys(params)
    .sort()
    .map((name) => ({ name, value: formatParamValue(params[name]!) }));
}

/** "ma-crossover v2 (fast 10, slow 30)": one line for a card or a dialog. */
export function strategyLine(s: StrategyState): string {
  const params = strategyParams(s.params)
    .map((p) => `${p.name} ${p.value}`)
    .join(', ');
  return `${s.id} v${s.version}${params ? ` (${params})` : ' (its defaults)'}`;
}
