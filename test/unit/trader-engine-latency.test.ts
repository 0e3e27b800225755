/**
 * The engine's latency reports: every tick handled; of a tick that leads to an order, the decision
 * (before the order is stored) and the order (stored and sent) apart, so a slow disk shows in the
 * second only.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { AccountState } from '../../src/services/trader/types';
import type { TraderOrder } from '../../src/shared/trader-api';
import { CROSSOVER_1S, MemoryTraderStore, setupEngine, top, trade } from './trader-doubles';

const T0 = Date.UTC(2026, 2, 3, 9, 0, 0);
// A quote and a trade a second (only trades are timed here); candle 6 crosses above: the trade of second 7 closes it and the buy goes out.
const PRICES = [100, 100, 100, 100, 100, 99, 102, 102, 102];
const SYNC_MS = 30;

/** A store whose order insert takes SYNC_MS, like an fsync on a slow disk. */
class SlowStore extends MemoryTraderStore {
  override insertOrder(order: TraderOrder, account: AccountState): void {
    const until = performance.now() + SYNC_MS;
    while (performance.now() < until) {
      // a disk sync's wait
    }
    super.insertOrder(order, account);
  }
}

describe('latency reports', () => {
  it('tells the decision from the order stored and sent, for the tick that led to it only', () => {
    const seen: { kind: string; second: number; ms: number }[] = [];
    let second = 0;
    const { engine, clock, store } = setupEngine(CROSSOVER_1S, {
      t0: T0,
      store: new SlowStore(),
      onLatency: (kind, ms) => seen.push({ kind, second, ms }),
    });
    PRICES.forEach((price, i) => {
      second = i;
      clock.advanceTo(T0 + i * 1000 + 10);
      engine.onTop(top('BTCUSDT', T0 + i * 1000 + 5, price)); // the quote an order is sized on (untimed)
      engine.onTrade(trade('BTCUSDT', T0 + i * 1000 + 10, price, i + 1), performance.now());
    });
    expect(store.orders.size).toBe(1);
    expect(seen.filter((s) => s.kind === 'tick')).toHaveLength(PRICES.length);
    const decision = seen.filter((s) => s.kind === 'decision');
    const order = seen.filter((s) => s.kind === 'order');
    expect(decision.map((s) => s.second)).toEqual([7]);
    expect(order.map((s) => s.second)).toEqual([7]);
    // The decision was made before the store's sync; the order waited for it.
    expect(decision[0]!.ms).toBeLessThan(SYNC_MS);
    expect(order[0]!.ms).toBeGreaterThanOrEqual(SYNC_MS);
    expect(order[0]!.ms).toBeGreaterThanOrEqual(decision[0]!.ms + SYNC_MS);
  });
});
