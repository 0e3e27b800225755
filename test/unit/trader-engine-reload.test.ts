/**
 * Reload under a steady tick stream: ticks arriving meanwhile are buffered, the order in flight
 * finishes first, the new parameters apply (the strategy warmed from the engine's own candles), the
 * buffer is handled in arrival order, and every tick is handled exactly once; plus the reloads that
 * are refused, and one whose order never answers.
 */
import { describe, expect, it } from 'vitest';
import { StrategyParamsError } from '../../src/services/strategies';
import type { ExecutionAdapter, ExecutionListener, OrderRequest } from '../../src/services/trader/types';
import { traderConfigSchema } from '../../src/shared/trader-api';
import { CROSSOVER_1S, setupEngine, top, trade } from './trader-doubles';

const T0 = Date.UTC(2026, 2, 3, 9, 0, 0);
const CONFIG = CROSSOVER_1S;
const NEW = traderConfigSchema.parse({
  ...CONFIG,
  strategy: { id: 'ma-crossover', params: { fast: 3, slow: 5 } },
});
// The price of every trade in second i. Candle 6 crosses above with SMA(2) and with SMA(3) alike.
// With SMA(3)/SMA(5), candle 9 (90) crosses below: SMA(3) (102 + 102 + 90) / 3 = 98 < SMA(5) 99
// (with SMA(2) it would read 96).
const PRICES = [100, 100, 100, 100, 100, 99, 102, 102, 102, 90, 90, 90, 90];

/**
 * onLatency reports performance.now() − receivedAt: passing receivedAt = performance.now() − n × 1e6
 * makes the reported value, in millions, tick n's number, so the test sees which tick was handled when.
 */
const tag = (n: number) => performance.now() - n * 1e6;
const untag = (ms: number) => Math.round(ms / 1e6);

describe('reload', () => {
  it('under a steady stream: buffers, finishes the order in flight, applies, replays in order', async () => {
    const handled: number[] = [];
    const { engine, clock, store } = setupEngine(CONFIG, {
      t0: T0,
      onLatency: (kind, ms) => {
        if (kind === 'tick') handled.push(untag(ms));
      },
    });
    // A tick every 50 ms: a top at :x00, a trade at :x50. The first trade of second 7 (t0 + 7.05 s)
    // closes candle 6: the buy goes out then and fills at t0 + 7.3 s.
    let n = 0;
    let reload: Promise<void> | null = null;
    let reloaded = false;
    let ticksBefore = 0;
    for (let ms = 0; ms < PRICES.length * 1000; ms += 50) {
      clock.advanceTo(T0 + ms);
      if (ms === 7100) {
        expect(engine.snapshot().workingOrders.map((o) => o.clientOrderId)).toEqual(['paper1-1']);
        ticksBefore = engine.snapshot().counters.ticks;
        reload = engine.reload(NEW);
        void reload.then(() => (reloaded = true));
      }
      const price = PRICES[Math.floor(ms / 1000)]!;
      n += 1;
      if (ms % 100 === 0) engine.onTop(top('BTCUSDT', T0 + ms, price), tag(n));
      else engine.onTrade(trade('BTCUSDT', T0 + ms, price, n), tag(n));
      if (ms === 7250) {
        // Four ticks arrived since; none handled; the order is still in flight.
        const s = engine.snapshot();
        expect(s.reloading).toBe(true);
        expect(s.blocks).toContain('reloading');
        expect(s.counters.ticks).toBe(ticksBefore);
        expect(s.strategy.params).toEqual({ fast: 2, slow: 5 });
        expect(store.orders.get('paper1-1')!.status).toBe('working');
      }
      if (ms === 7300) {
        // The fill at t0 + 7.3 s ended the in-flight work: applied, the four replayed, this one live.
        const s = engine.snapshot();
        expect(store.orders.get('paper1-1')!.status).toBe('filled');
        expect(s.reloading).toBe(false);
        expect(s.blocks).toEqual([]);
        expect(s.counters.ticks).toBe(ticksBefore + 5);
        expect(s.strategy).toMatchObject({ params: { fast: 3, slow: 5 }, warmupLeft: 0 });
      }
    }
    await reload;
    expect(reloaded).toBe(true);

    const s = engine.snapshot();
    expect(s.counters.ticks).toBe(n);
    expect(handled).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    // The new parameters decide: candle 9 closes at t0 + 10.05 s.
    expect(s.lastDecision).toEqual({
      symbol: 'BTCUSDT',
      target: -1,
      reason: 'SMA(3) 98 crossed below SMA(5) 99',
      at: T0 + 10_050,
    });
    // It sells the 10 000 / 102 bought at t0 + 7.05 s (mid 102 then).
    expect(store.orders.get('paper1-2')).toMatchObject({ side: 'sell', reason: s.lastDecision!.reason });
    expect(store.orders.get('paper1-2')!.qty).toBeCloseTo(10_000 / 102, 12);
    expect(s.positions[0]!.qty).toBe(0);
  });

  it('with nothing in flight it applies at once; limits, staleness and costs take the new values', async () => {
    const { engine, market, store, clock } = setupEngine(CONFIG, { t0: T0 });
    market.path(PRICES.slice(0, 6));
    const limits = {
      maxPositionNotional: 3_000,
      maxOrderNotional: 3_000,
      maxOrdersPerMinute: 5,
      maxDailyLoss: 100,
    };
    await engine.reload(
      traderConfigSchema.parse({
        ...CONFIG,
        costs: { feeBps: 100, slippageBps: 0, latencyMs: 100 },
        limits,
        staleAfterMs: 2_000,
      }),
    );
    expect(engine.snapshot().limits).toEqual(limits);
    expect(store.limits).toEqual(limits);
    // Candle 6 crosses at t0 + 7.2 s: 3 000 / 102 bought, filled 100 ms later with a 1 % fee.
    market.path(PRICES.slice(6, 8), 6);
    clock.advanceTo(T0 + 7_300);
    expect(store.fills[0]!.qty).toBeCloseTo(3_000 / 102, 12);
    expect(store.fills[0]!.fee).toBeCloseTo((3_000 / 102) * 102.5 * 0.01, 12);
    // No top for 2 s is stale now: the last came at t0 + 7.1 s, stale at the check of t0 + 9.25 s.
    clock.advanceTo(T0 + 9_000);
    expect(engine.snapshot().blocks).not.toContain('stale');
    clock.advanceTo(T0 + 9_250);
    expect(engine.snapshot().blocks).toContain('stale');
  });

  it('refuses bad parameters, a new venue and dropping a held symbol; may add one', async () => {
    const { engine, market, clock } = setupEngine(CONFIG, { t0: T0 });
    market.path(PRICES.slice(0, 8));
    clock.advanceTo(T0 + 7_500); // long 10 000 / 102 BTCUSDT
    const bad = traderConfigSchema.parse({
      ...CONFIG,
      strategy: { id: 'ma-crossover', params: { fast: 9, slow: 5 } },
    });
    await expect(engine.reload(bad)).rejects.toBeInstanceOf(StrategyParamsError);
    await expect(engine.reload({ ...NEW, venue: 'okx-spot' })).rejects.toThrow(
      'a reload cannot change the venue (binance-spot → okx-spot): stop the trader and start it again',
    );
    await expect(engine.reload({ ...NEW, symbols: ['ETHUSDT'] })).rejects.toThrow(
      'a reload cannot drop BTCUSDT: it holds 98.0392 (close it first)',
    );
    const s = engine.snapshot();
    expect(s.reloading).toBe(false);
    expect(s.strategy.params).toEqual({ fast: 2, slow: 5 });
    // Adding a symbol is fine (nothing in flight: it applies at once).
    market.second(8, 102);
    await engine.reload({ ...NEW, symbols: ['BTCUSDT', 'ETHUSDT'] });
    expect(engine.snapshot().feeds.map((f) => f.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(engine.snapshot().positions.map((p) => p.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
  });

  it('an order that never answers: after 10 s the reload applies anyway, with a warning; one reload at a time', async () => {
    let listener: ExecutionListener | null = null;
    const silent: ExecutionAdapter = {
      mode: 'paper',
      setListener: (l) => (listener = l),
      submit: (_o: OrderRequest) => {},
      cancel: () => {},
      onQuote: () => {},
      inFlight: () => 0,
      close: () => {},
    };
    const { engine, market, clock, alerts } = setupEngine(CONFIG, { t0: T0, execution: () => silent });
    market.path(PRICES.slice(0, 8)); // the buy is out at t0 + 7.2 s, forever
    expect(listener).not.toBeNull();
    const reload = engine.reload(NEW);
    const again = engine.reload(NEW);
    await expect(again).rejects.toThrow('a reload is already under way');
    market.path(PRICES.slice(8, 13), 8); // buffered
    expect(engine.snapshot().counters.ticks).toBe(16);
    clock.advanceTo(T0 + 17_200);
    await reload;
    expect(alerts.filter((a) => a.kind === 'reload')).toEqual([
      {
        kind: 'reload',
        severity: 'warning',
        message: 'reload: 1 order(s) still working after 10 s; the new parameters apply anyway',
      },
    ]);
    const s = engine.snapshot();
    expect(s.counters.ticks).toBe(26);
    expect(s.strategy.params).toEqual({ fast: 3, slow: 5 });
    // The buy still counts as in flight: candle 9's cross below (replayed) sells what it would buy.
    expect(s.workingOrders.map((o) => [o.clientOrderId, o.side])).toEqual([
      ['paper1-1', 'buy'],
      ['paper1-2', 'sell'],
    ]);
    expect(s.lastDecision!.reason).toBe('SMA(3) 98 crossed below SMA(5) 99');
  });
});
