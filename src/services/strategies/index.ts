/**
 * The strategies Vigil ships, by id: what the optimizer's requests name and the trader runs.
 *
 *   strategies: { [id]: StrategyDefinition }   strategyIds: the ids as a tuple (for z.enum)
 *   getStrategy(id): StrategyDefinition         (throws naming the known ids)
 */
import { bollingerReversion } from './bollinger-reversion';
import { breakout } from './breakout';
import { maCrossover } from './ma-crossover';
import type { StrategyDefinition } from './strategy';

export * from './strategy';

export const strategyIds = ['ma-crossover', 'bollinger-reversion', 'breakout'] as const;
export type StrategyId = (typeof strategyIds)[number];

export const strategies = {
  'ma-crossover': maCrossover,
  'bollinger-reversion': bollingerReversion,
  breakout,
} as const satisfies Record<StrategyId, StrategyDefinition>;

export function isStrategyId(id: string): id is StrategyId {
  return Object.hasOwn(strategies, id);
}

/** The strategy with this id; throws an error naming the known ones. */
export function getStrategy(id: string): StrategyDefinition {
  if (!isStrategyId(id)) throw new Error(`no strategy "${id}": the strategies are ${strategyIds.join(', ')}`);
  return strategies[id];
}
