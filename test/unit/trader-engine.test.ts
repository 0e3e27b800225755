/**
 * The trader engine on a scripted price path, every number worked out by hand in the comments:
 * candles built live from trades, the strategy's decisions, the orders they size, the paper fills
 * (latency, slippage, fee) and the realized and unrealized P&L; then a flip to short, a candle closed
 * by the quiet-market timer, the snapshot cadence and the equity points.
 */
import { describe, expect, it } from 'vitest';
import type { TraderConfigInput } from '../../src/shared/trader-api';
import { setupEngine } from './trader-doubles';

const T0 = Date.UTC(2026, 2, 3, 9, 0, 0);
const BIG = { maxPositionNotional: 1e6, maxOrderNotional: 1e6, maxOrdersPerMinute: 30, maxDailyLoss: 5_000 };
const CONFIG: TraderConfigInput = {
  symbols: ['BTCUSDT'],
  resolution: '1s',
  strategy: { id: 'ma-crossover', params: { fast: 2, slow: 5 } },
  equity: 10_000,
  costs: { feeBps: 10, slippageBps: 10, latencyMs: 250 },
  limits: BIG,
};

// One trade a second at these prices (candle i = second i), a top 100 ms before each with mid = the
// price and a spread of 1 (bid p − 0.5, ask p + 0.5). Fast SMA(2), slow SMA(5) of the closes:
//   i  close  fast   slow
//   4  100    100    100    equal: no regime yet (the strategy's warmup of 5 candles ends here)
//   5   99     99.5   99.8  below: the first regime, not a cross
//   6  102    100.5  100.2  above → cross: target 1, decided when trade 7 arrives (t0 + 7.2 s)
//   7  100    101    100.2  above
//   8  104    102    101    above
//   9  106    105    102.2  above
//  10  100    103    102.4  above
//  11   97     98.5  101.4  below → cross: target −1 (flat on spot), decided at t0 + 12.2 s
const PATH = [100, 100, 100, 100, 100, 99, 102, 100, 104, 106, 100, 97, 98, 98];

describe('a scripted price path (hand-checked)', () => {
  it('gives the exact orders, fills and P&L', () => {
    const { engine, market, store, clock } = setupEngine(CONFIG, { t0: T0 });

    market.path(PATH.slice(0, 5)); // candles 0..3 closed
    expect(engine.snapshot().strategy.warmupLeft).toBe(1);
    expect(engine.snapshot().blocks).toEqual(['warming']);
    market.path(PATH.slice(5, 7), 5); // candle 4 closed at t0 + 5.2 s: warm
    expect(engine.snapshot().strategy.warmupLeft).toBe(0);
    expect(engine.snapshot().blocks).toEqual([]);
    expect(store.orders.size).toBe(0);

    // t0 + 7.2 s: candle 6 closes, target 1. Equity 10 000, one symbol → allocation 10 000; mid 100
    // (the top of second 7) → wanted 100 BTC: one buy of 100, written before it is sent.
    market.second(7, PATH[7]!);
    const buy = store.orders.get('paper1-1')!;
    expect(buy).toMatchObject({
      symbol: 'BTCUSDT',
      side: 'buy',
      qty: 100,
      type: 'market',
      reduceOnly: false,
      status: 'new',
      reason: 'SMA(2) 100.5 crossed above SMA(5) 100.2',
      createdAt: T0 + 7200,
    });
    clock.advance(0);
    expect(store.orders.get('paper1-1')!.status).toBe('working');
    expect(engine.snapshot().workingOrders.map((o) => o.clientOrderId)).toEqual(['paper1-1']);

    // 250 ms later it fills at the top then (second 7's: ask 100.5) plus 10 bps slippage:
    // 100.5 × 1.001 = 100.6005; notional 10 060.05, fee 10 bps = 10.06005;
    // cash 10 000 − 10 060.05 − 10.06005 = −70.11005.
    clock.advanceTo(T0 + 7449);
    expect(store.fills).toHaveLength(0);
    clock.advanceTo(T0 + 7450);
    expect(store.fills).toHaveLength(1);
    expect(store.fills[0]).toMatchObject({
      id: 'paper1-1:1',
      clientOrderId: 'paper1-1',
      side: 'buy',
      qty: 100,
    });
    expect(store.fills[0]!.price).toBeCloseTo(100.6005, 9);
    expect(store.fills[0]!.fee).toBeCloseTo(10.06005, 9);
    expect(store.fills[0]!.realizedPnl).toBe(0);
    expect(store.fills[0]!.ts).toBe(T0 + 7450);
    expect(store.orders.get('paper1-1')).toMatchObject({ status: 'filled', filledQty: 100 });
    expect(store.orders.get('paper1-1')!.avgFillPrice).toBeCloseTo(100.6005, 9);

    // Second 8's top: mid 104. Unrealized 100 × (104 − 100.6005) = 339.95;
    // equity −70.11005 + 100 × 104 = 10 329.88995.
    clock.advanceTo(T0 + 8100);
    market.quote(104);
    let s = engine.snapshot();
    expect(s.positions).toHaveLength(1);
    expect(s.positions[0]!.qty).toBe(100);
    expect(s.positions[0]!.avgPrice).toBeCloseTo(100.6005, 9);
    expect(s.positions[0]!.mark).toBe(104);
    expect(s.positions[0]!.unrealizedPnl).toBeCloseTo(339.95, 9);
    expect(s.account.cash).toBeCloseTo(-70.11005, 9);
    expect(s.account.unrealizedPnl).toBeCloseTo(339.95, 9);
    expect(s.account.equity).toBeCloseTo(10_329.88995, 9);
    expect(s.account.dayPnl).toBeCloseTo(329.88995, 9);
    expect(s.workingOrders).toEqual([]);

    // Candles 7..10 keep the regime: at each close the position already is what is wanted.
    market.path(PATH.slice(8, 12), 8);
    expect(store.orders.size).toBe(1);

    // t0 + 12.2 s: candle 11 crosses below: target −1 → flat on spot → sell the 100.
    market.second(12, PATH[12]!);
    expect(store.orders.get('paper1-2')).toMatchObject({
      side: 'sell',
      qty: 100,
      reduceOnly: false,
      reason: 'SMA(2) 98.5 crossed below SMA(5) 101.4',
    });
    // Fills at second 12's bid 97.5 less 10 bps: 97.4025; notional 9 740.25, fee 9.74025;
    // realized (97.4025 − 100.6005) × 100 = −319.8; cash −70.11005 + 9 740.25 − 9.74025 = 9 660.3997.
    clock.advanceTo(T0 + 12_450);
    expect(store.fills).toHaveLength(2);
    const sell = store.fills[1]!;
    expect(sell).toMatchObject({ id: 'paper1-2:1', side: 'sell', qty: 100, ts: T0 + 12_450 });
    expect(sell.price).toBeCloseTo(97.4025, 9);
    expect(sell.fee).toBeCloseTo(9.74025, 9);
    expect(sell.realizedPnl).toBeCloseTo(-319.8, 9);

    market.second(13, PATH[13]!);
    s = engine.snapshot();
    expect(s.positions[0]).toMatchObject({ symbol: 'BTCUSDT', qty: 0, avgPrice: null, unrealizedPnl: 0 });
    expect(s.positions[0]!.realizedPnl).toBeCloseTo(-319.8, 9);
    expect(s.positions[0]!.fees).toBeCloseTo(19.8003, 9);
    // Equity = initial + realized − fees = 10 000 − 319.8 − 19.8003 = 9 660.3997 = cash.
    expect(s.account.cash).toBeCloseTo(9_660.3997, 9);
    expect(s.account.equity).toBeCloseTo(9_660.3997, 9);
    expect(s.account.realizedPnl).toBeCloseTo(-319.8, 9);
    expect(s.account.fees).toBeCloseTo(19.8003, 9);
    expect(s.account.unrealizedPnl).toBe(0);
    expect(s.account.initialEquity).toBe(10_000);
    expect(s.account.dayStartEquity).toBe(10_000);
    expect(s.lastDecision).toEqual({
      symbol: 'BTCUSDT',
      target: -1,
      reason: 'SMA(2) 98.5 crossed below SMA(5) 101.4',
      at: T0 + 12_200,
    });
    // 14 tops of the path, the one at t0 + 8.1 s and 14 trades; 2 decisions (the regime seen at
    // candle 5 is not one).
    expect(s.counters).toEqual({ ticks: 29, decisions: 2, orders: 2, fills: 2, rejected: 0 });
    expect(s).toMatchObject({
      service: 'paper1',
      mode: 'paper',
      running: true,
      reloading: false,
      venue: 'binance-spot',
      resolution: '1s',
      strategy: { id: 'ma-crossover', version: 1, params: { fast: 2, slow: 5 }, source: null, warmupLeft: 0 },
      limits: BIG,
      feedProblem: null,
    });
    expect(s.feeds).toEqual([{ symbol: 'BTCUSDT', bid: 97.5, ask: 98.5, lastAt: T0 + 13_100, stale: false }]);
    // The store holds what the snapshot says.
    expect(store.positions.get('BTCUSDT')!.qty).toBe(0);
    expect(store.account!.cash).toBeCloseTo(9_660.3997, 9);
    expect(store.account!.nextOrderNo).toBe(3);
    expect(store.limits).toEqual(BIG);
  });

  it('with shorting allowed, the cross below flips the long into a short in one order', () => {
    const { engine, market, store, clock } = setupEngine({ ...CONFIG, allowShort: true }, { t0: T0 });
    market.path(PATH.slice(0, 13)); // the sell decision at t0 + 12.2 s
    // Equity then: −70.11005 + 100 × 98 (mid) = 9 729.88995 → wanted −9 729.88995 / 98 BTC;
    // the order sells the 100 held plus that.
    const short = 9_729.88995 / 98;
    const order = store.orders.get('paper1-2')!;
    expect(order.side).toBe('sell');
    expect(order.qty).toBeCloseTo(100 + short, 9);
    clock.advanceTo(T0 + 12_450);
    // At 97.4025: the 100 long close (realized −319.8), the rest opens a short at 97.4025.
    const fill = store.fills[1]!;
    expect(fill.price).toBeCloseTo(97.4025, 9);
    expect(fill.fee).toBeCloseTo((100 + short) * 97.4025 * 0.001, 9);
    expect(fill.realizedPnl).toBeCloseTo(-319.8, 9);
    const p = engine.snapshot().positions[0]!;
    expect(p.qty).toBeCloseTo(-short, 9);
    expect(p.avgPrice).toBeCloseTo(97.4025, 9);
    // Marked at mid 98: a short from 97.4025 loses (98 − 97.4025) per unit.
    expect(p.unrealizedPnl).toBeCloseTo(-short * (98 - 97.4025), 9);
    const a = engine.snapshot().account;
    expect(a.equity).toBeCloseTo(10_000 + a.realizedPnl - a.fees + a.unrealizedPnl, 9);
  });

  it('a quiet market closes the candle 1 s after its interval ends', () => {
    const { engine, market, clock } = setupEngine(CONFIG, { t0: T0 });
    market.second(0, 100); // candle 0 opens; no trade follows
    clock.advanceTo(T0 + 1999);
    expect(engine.snapshot().strategy.warmupLeft).toBe(5);
    clock.advanceTo(T0 + 2000);
    expect(engine.snapshot().strategy.warmupLeft).toBe(4);
    // The next trade (second 5) opens a later candle; the one closed by timer is not seen twice.
    market.second(5, 100);
    clock.advanceTo(T0 + 7000);
    expect(engine.snapshot().strategy.warmupLeft).toBe(3);
  });

  it('warms the strategy from recorded history and decides on the first live candle', () => {
    // Candles 0..5 of the path come recorded; candle 6 is built live and crosses.
    const history = PATH.slice(0, 6).map((close, i) => ({
      start: T0 + i * 1000,
      open: close,
      high: close,
      low: close,
      close,
      volume: 1,
      trades: 1,
    }));
    const { engine, market, store } = setupEngine(CONFIG, {
      t0: T0,
      startAt: T0 + 5_500,
      history: new Map([['BTCUSDT', history]]),
    });
    expect(engine.snapshot().strategy.warmupLeft).toBe(0);
    expect(engine.snapshot().blocks).toEqual([]);
    market.second(6, 102);
    market.second(7, 100);
    expect(store.orders.get('paper1-1')).toMatchObject({ side: 'buy', qty: 100 });
  });

  it('snapshots: at most every 250 ms, right after an order; equity every 5 s', () => {
    const { snapshots, market, store, clock } = setupEngine(CONFIG, { t0: T0 });
    // A top every 10 ms for 13 s, plus the path's trades.
    for (let ms = 0; ms < 13_000; ms += 10) {
      clock.advanceTo(T0 + ms);
      market.quote(PATH[Math.floor(ms / 1000)]!);
      const i = Math.floor(ms / 1000);
      if (ms % 1000 === 200) market.second(i, PATH[i]!);
    }
    for (let i = 1; i < snapshots.length; i++) {
      expect(snapshots[i]!.at - snapshots[i - 1]!.at).toBeGreaterThanOrEqual(250);
    }
    expect(snapshots.length).toBeGreaterThanOrEqual(13_000 / 250 - 1);
    expect(snapshots.length).toBeLessThanOrEqual(13_000 / 250 + 1);
    // The order sent at t0 + 7.2 s shows within 250 ms.
    const first = snapshots.find((s) => s.counters.orders === 1)!;
    expect(first.at - (T0 + 7200)).toBeLessThanOrEqual(250);
    expect(store.equity.map((p) => p.t)).toEqual([T0 + 5000, T0 + 10_000]);
    expect(store.equity[0]).toEqual({ t: T0 + 5000, equity: 10_000, realizedPnl: 0, unrealizedPnl: 0 });
  });
});
