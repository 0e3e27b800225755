/**
 * A trader's configuration checked whole: the shape (traderConfigSchema) and the strategy it names
 * (a known id, parameters its own schema accepts). The program parses VIGIL_CONFIG with it, and the
 * service definitions check it when a definition is saved, so a bad value is refused there with the
 * field it concerns (`strategy.params.slow`), not found at start.
 */
import { traderConfigSchema, type TraderConfig } from '../../shared/trader-api';
import { isStrategyId, paramErrors, strategies, strategyIds, type Params } from '../strategies';
import type { StrategyDefinition } from '../strategies';

export type TraderConfigCheck =
  | { ok: true; config: TraderConfig; strategy: StrategyDefinition; params: Params }
  | { ok: false; path: string[]; error: string };

/** `null` (no configuration) means every default. */
export function parseTraderConfig(raw: unknown): TraderConfigCheck {
  const r = traderConfigSchema.safeParse(raw ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys')
      return { ok: false, path: [...path, issue.keys[0]!], error: 'unknown field' };
    return { ok: false, path, error: issue.message };
  }
  const config = r.data;
  const id = config.strategy.id;
  if (!isStrategyId(id)) {
    return {
      ok: false,
      path: ['strategy', 'id'],
      error: `no strategy "${id}": the strategies are ${strategyIds.join(', ')}`,
    };
  }
  const strategy: StrategyDefinition = strategies[id];
  const p = strategy.schema.safeParse(config.strategy.params);
  if (!p.success) {
    const [field, messages] = Object.entries(paramErrors(p.error))[0]!;
    return {
      ok: false,
      path: field === '_' ? ['strategy', 'params'] : ['strategy', 'params', field],
      error: messages[0]!,
    };
  }
  return { ok: true, config, strategy, params: p.data };
}

/** "strategy.params.slow: must be more than the fast period (10)" */
export function describeConfigError(r: { path: string[]; error: string }): string {
  return `${r.path.join('.') || 'config'}: ${r.error}`;
}
