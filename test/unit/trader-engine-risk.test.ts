/**
 * The engine's risk limits and controls, each tripped on a scripted market (fees and slippage 0 so
 * the numbers stay short; latency 250 ms): the position and order-size limits, orders per minute,
 * the daily loss halt until the next UTC day, stale data and the collector's feed problem, a
 * person's stop, flatten and the kill switch.
 *
 * The path: candles 0..4 at 100, 5 at 99, 6 at 102 → SMA(2) crosses above SMA(5) on candle 6, so the
 * target 1 is decided when trade 7 arrives (t0 + 7.2 s) with the mid of second 7.
 */
import { describe, expect, it } from 'vitest';
import { utcDay } from '../../src/services/trader/portfolio';
import type { RiskLimits, TraderConfigInput } from '../../src/shared/trader-api';
import { setupEngine } from './trader-doubles';

const T0 = Date.UTC(2026, 2, 3, 9, 0, 0);
const UP = [100, 100, 100, 100, 100, 99, 102];
const REASON_UP = 'SMA(2) 100.5 crossed above SMA(5) 100.2';

function config(limits: Partial<RiskLimits>, more: Partial<TraderConfigInput> = {}): TraderConfigInput {
  return {
    symbols: ['BTCUSDT'],
    resolution: '1s',
    strategy: { id: 'ma-crossover', params: { fast: 2, slow: 5 } },
    equity: 10_000,
    costs: { feeBps: 0, slippageBps: 0, latencyMs: 250 },
    limits: {
      maxPositionNotional: 1e6,
      maxOrderNotional: 1e6,
      maxOrdersPerMinute: 100,
      maxDailyLoss: 5_000,
      ...limits,
    },
    ...more,
  };
}

/** The same price for seconds from..to (inclusive). */
const flat = (price: number, n: number) => Array.from({ length: n }, () => price);

describe('position and order size', () => {
  it('clips the position to maxPositionNotional and splits the way there over decision points', () => {
    const { market, store, engine } = setupEngine(
      config({ maxPositionNotional: 5_000, maxOrderNotional: 2_500 }),
      { t0: T0 },
    );
    // Wanted at t0 + 7.2 s: 10 000 / 102 clipped to 5 000 / 102 (49.02); one order ≤ 2 500 / 102.
    market.path([...UP, ...flat(102, 4)]);
    const orders = [...store.orders.values()];
    expect(orders.map((o) => [o.side, o.createdAt - T0])).toEqual([
      ['buy', 7200],
      ['buy', 8200],
    ]);
    for (const o of orders) {
      expect(o.qty).toBeCloseTo(2_500 / 102, 12);
      expect(o.status).toBe('filled');
    }
    const p = engine.snapshot().positions[0]!;
    expect(p.qty).toBeCloseTo(5_000 / 102, 12);
    expect(p.qty * p.mark!).toBeCloseTo(5_000, 9);
  });
});

describe('orders per minute', () => {
  it('refuses the order past the limit with one alert, and sends it once the window has room', () => {
    const { market, store, alerts } = setupEngine(
      config({ maxPositionNotional: 5_000, maxOrderNotional: 1_000, maxOrdersPerMinute: 2 }),
      { t0: T0 },
    );
    // Wanted 5 000 / 102; orders of 1 000 / 102: two go out (t0 + 7.2 s, 8.2 s), then the window is full.
    market.path([...UP, ...flat(102, 60)]); // up to second 66
    expect([...store.orders.values()].map((o) => o.createdAt - T0)).toEqual([7200, 8200]);
    const risk = () => alerts.filter((a) => a.kind === 'risk');
    expect(risk()).toHaveLength(1);
    expect(risk()[0]).toMatchObject({ severity: 'warning' });
    expect(risk()[0]!.message).toMatch(
      /^2 orders went out in the last minute, the limit: the buy of 9\.80392 BTCUSDT/,
    );
    // t0 + 67.2 s: the send at 7.2 s is 60 s old; at 68.2 s the one at 8.2 s; at 69.2 s full again.
    market.path(flat(102, 3), 67);
    expect([...store.orders.values()].map((o) => o.createdAt - T0)).toEqual([7200, 8200, 67_200, 68_200]);
    expect(risk()).toHaveLength(2);
  });
});

describe('daily loss', () => {
  const T0D = Date.UTC(2026, 2, 3, 23, 59, 0); // a minute before a new UTC day

  it('blocks opening with a critical alert, still allows reducing, and clears on the next UTC day', async () => {
    const { market, store, engine, alerts, clock } = setupEngine(
      config({ maxOrderNotional: 5_000, maxDailyLoss: 500 }),
      { t0: T0D },
    );
    // t0 + 7.2 s: wanted 10 000 / 102 = 98.04; the first order is 5 000 / 102 = 49.02, bought at the
    // ask 102.5: cash 10 000 − 49.02 × 102.5.
    market.path([...UP, 102]);
    clock.advanceTo(T0D + 7500);
    const qty = 5_000 / 102;
    expect(engine.snapshot().positions[0]!.qty).toBeCloseTo(qty, 12);
    // A top at mid 92: equity 10 000 − 49.02 × (102.5 − 92) = 9 485.29, a loss of 514.71 ≥ 500.
    market.quote(92);
    let s = engine.snapshot();
    expect(s.account.dayPnl).toBeCloseTo(-qty * 10.5, 9);
    expect(s.blocks).toEqual(['daily-loss']);
    const dl = () => alerts.filter((a) => a.kind === 'daily-loss');
    expect(dl()).toHaveLength(1);
    expect(dl()[0]).toMatchObject({ severity: 'critical' });
    expect(dl()[0]!.message).toMatch(/the day's loss 514\.706 reached the limit 500/);
    expect(store.account!.dailyLossHaltDay).toBe(utcDay(T0D));

    // Second 8: candle 7 closes, the rest of the wanted position would add: refused.
    market.second(8, 92);
    expect(store.orders.size).toBe(1);
    // Second 9: candle 8 (92) crosses below (SMA(2) 97 < SMA(5) 99): flat → a reduce-only sell, allowed.
    market.second(9, 92);
    const sell = store.orders.get('paper1-2')!;
    expect(sell).toMatchObject({
      side: 'sell',
      reduceOnly: true,
      reason: 'SMA(2) 97 crossed below SMA(5) 99',
    });
    expect(sell.qty).toBeCloseTo(qty, 12);
    clock.advanceTo(T0D + 9450);
    expect(engine.snapshot().positions[0]!.qty).toBe(0);
    expect(dl()).toHaveLength(1); // one alert, not one per check

    // Quotes keep coming (not stale) past midnight: the halt ends there.
    market.path(flat(92, 50), 10); // up to t0 + 59.2 s
    expect(engine.snapshot().blocks).toEqual(['daily-loss']);
    market.second(60, 92); // t0 + 60 s is 00:00:00 UTC
    s = engine.snapshot();
    expect(s.blocks).toEqual([]);
    expect(dl()).toHaveLength(2);
    expect(dl()[1]).toMatchObject({ severity: 'critical', cleared: true });
    // The new day starts at the equity of that moment: 10 000 − 49.02 × (102.5 − 91.5).
    expect(s.account.dayStartEquity).toBeCloseTo(10_000 - qty * 11, 9);
    expect(s.account.dayPnl).toBeCloseTo(0, 9);
    expect(store.account).toMatchObject({ day: utcDay(T0D) + 86_400_000, dailyLossHaltDay: null });
  });
});

describe('stale market data', () => {
  it('no top for staleAfterMs blocks opening with an alert; a fresh top clears it by itself', () => {
    const { market, store, engine, alerts, clock } = setupEngine(config({}, { staleAfterMs: 1_000 }), {
      t0: T0,
    });
    market.path(UP.slice(0, 5)); // the last top at t0 + 4.1 s; candle 4 still open (warming)
    // Stale once more than 1 000 ms passed (checked every 250 ms): at t0 + 5.25 s.
    clock.advanceTo(T0 + 5100);
    expect(engine.snapshot().blocks).toEqual(['warming']);
    clock.advanceTo(T0 + 5250);
    let s = engine.snapshot();
    expect(s.blocks).toEqual(['stale', 'warming']);
    expect(s.feeds[0]).toMatchObject({ symbol: 'BTCUSDT', stale: true, lastAt: T0 + 4100 });
    expect(alerts).toEqual([
      {
        kind: 'stale',
        severity: 'warning',
        message: 'market data stale (BTCUSDT no top of book for 1.15 s): new positions paused',
      },
    ]);
    // Trades only from second 5. At t0 + 7.2 s the target 1 comes while stale: sized on the last
    // mid (100) but not sent.
    market.path([...UP.slice(5), 102], 5, false);
    expect(engine.snapshot().lastDecision?.reason).toBe(REASON_UP);
    expect(store.orders.size).toBe(0);
    clock.advanceTo(T0 + 7300);
    market.quote(102);
    s = engine.snapshot();
    expect(s.blocks).toEqual([]);
    expect(alerts[1]).toEqual({
      kind: 'stale',
      severity: 'warning',
      message: 'market data fresh again: new positions may open',
      cleared: true,
    });
    // The next decision point sends it: 10 000 / 100.
    market.second(8, 102);
    expect(store.orders.get('paper1-1')).toMatchObject({ side: 'buy', qty: 100, reduceOnly: false });
  });

  it("the collector's feed problem blocks the same way until it is gone", () => {
    const { market, engine, alerts } = setupEngine(config({}), { t0: T0 });
    market.path(UP.slice(0, 3));
    let s = engine.setFeedProblem('binance-spot collector degraded: reconnecting');
    expect(s.blocks).toContain('stale');
    expect(s.feedProblem).toBe('binance-spot collector degraded: reconnecting');
    expect(alerts).toEqual([
      {
        kind: 'stale',
        severity: 'warning',
        message:
          'market data stale (collector: binance-spot collector degraded: reconnecting): new positions paused',
      },
    ]);
    market.path(UP.slice(3, 5), 3); // fresh tops do not lift it
    expect(engine.snapshot().blocks).toContain('stale');
    s = engine.setFeedProblem(null);
    expect(s.blocks).not.toContain('stale');
    expect(alerts[1]).toMatchObject({ kind: 'stale', cleared: true });
  });
});

describe('stopping', () => {
  // Orders of 5 000 / 102 at most: the target 1 at t0 + 7.2 s buys 49.02 (filled at 102.5 at
  // t0 + 7.45 s), and another 49.02 at the next decision point (t0 + 8.2 s).
  const SPLIT = config({ maxOrderNotional: 5_000 });
  const half = 5_000 / 102;

  it("a person's stop allows only reduce-only orders; resuming follows the strategy again", () => {
    const { market, store, engine } = setupEngine(SPLIT, { t0: T0 });
    market.path([...UP, 102]);
    market.quote(102);
    let s = engine.setOpening(false);
    expect(s.blocks).toEqual(['person']);
    expect(store.account!.openingStoppedBy).toBe('person');
    market.second(8, 102); // would add the second half: held
    expect(store.orders.size).toBe(1);
    // Second 9 at 90 closes candle 8 (102, still above); second 10 closes candle 9 (90): the
    // cross below (SMA(2) 96 < SMA(5) 99) → flat → a reduce-only sell of the half held.
    market.path([90, 90], 9);
    const sell = store.orders.get('paper1-2')!;
    expect(sell).toMatchObject({
      side: 'sell',
      reduceOnly: true,
      reason: 'SMA(2) 96 crossed below SMA(5) 99',
    });
    expect(sell.qty).toBeCloseTo(half, 12);
    // Candle 11 (110) crosses above (SMA(2) 100 > SMA(5) 98.8), decided at t0 + 12.2 s: held.
    market.path([110, 110], 11);
    expect(store.orders.size).toBe(2);
    s = engine.setOpening(true);
    expect(s.blocks).toEqual([]);
    market.second(13, 110);
    const buy = store.orders.get('paper1-3')!;
    expect(buy).toMatchObject({ side: 'buy', reduceOnly: false, createdAt: T0 + 13_200 });
    expect(buy.qty).toBeCloseTo(5_000 / 110, 12);
  });

  it('flatten closes every position and resolves when flat; the strategy reopens only on a new decision', async () => {
    const { market, store, engine, clock } = setupEngine(SPLIT, { t0: T0 });
    market.path([...UP, 102]);
    clock.advanceTo(T0 + 7500);
    const done = engine.flatten();
    const close = store.orders.get('paper1-2')!;
    expect(close).toMatchObject({ side: 'sell', reduceOnly: true, reason: 'flatten' });
    expect(close.qty).toBeCloseTo(half, 12);
    let resolved = false;
    void done.then(() => (resolved = true));
    clock.advanceTo(T0 + 7749);
    await Promise.resolve();
    expect(resolved).toBe(false);
    clock.advanceTo(T0 + 7750);
    const s = await done;
    expect(s.positions[0]!.qty).toBe(0);
    expect(s.workingOrders).toEqual([]);
    expect(s.blocks).toEqual([]);
    // The wanted 98.04 is forgotten: candle 7's decision point sends nothing.
    market.path([102, 102], 8);
    expect(store.orders.size).toBe(2);
  });

  it('the kill switch cancels working orders, flattens, and blocks opening until setOpening(true)', async () => {
    const { market, store, engine, alerts, clock } = setupEngine(SPLIT, { t0: T0 });
    market.path([...UP, 102, 102]); // the second half is sent at t0 + 8.2 s, in flight
    clock.advanceTo(T0 + 8300);
    expect(engine.snapshot().workingOrders.map((o) => o.clientOrderId)).toEqual(['paper1-2']);
    const killed = engine.kill();
    expect(engine.snapshot().blocks).toEqual(['kill-switch']);
    expect(alerts).toEqual([
      {
        kind: 'kill-switch',
        severity: 'critical',
        message:
          'kill switch: 1 working order(s) canceled, 1 position(s) being closed; no new positions until opening is resumed',
      },
    ]);
    clock.advanceTo(T0 + 8600);
    const s = await killed;
    expect(store.orders.get('paper1-2')).toMatchObject({
      status: 'canceled',
      reason: `${REASON_UP} — canceled: kill switch`,
      filledQty: 0,
    });
    // Closed once the canceled order had ended: sold at the bid 101.5 at t0 + 8.55 s.
    const close = store.orders.get('paper1-3')!;
    expect(close).toMatchObject({ side: 'sell', reduceOnly: true, reason: 'kill switch', status: 'filled' });
    expect(close.createdAt).toBe(T0 + 8300);
    expect(close.qty).toBeCloseTo(half, 12);
    expect(store.fills.at(-1)).toMatchObject({ clientOrderId: 'paper1-3', price: 101.5, ts: T0 + 8550 });
    expect(s.positions[0]!.qty).toBe(0);
    expect(s.workingOrders).toEqual([]);
    expect(s.blocks).toEqual(['kill-switch']);
    // Realized: bought at 102.5, sold at 101.5.
    expect(s.account.realizedPnl).toBeCloseTo(-half, 9);
    expect(store.account!.openingStoppedBy).toBe('kill-switch');

    // Candle 11 crosses above at t0 + 12.2 s: still killed, nothing goes out; a person's stop on top
    // of it keeps the kill switch's reason.
    market.path([90, 90, 110, 110], 9);
    expect(store.orders.size).toBe(3);
    expect(engine.setOpening(false).blocks).toEqual(['kill-switch']);
    expect(engine.snapshot().counters.decisions).toBe(3);
    expect(engine.setOpening(true).blocks).toEqual([]);
    market.second(13, 110);
    expect(store.orders.get('paper1-4')).toMatchObject({ side: 'buy', reduceOnly: false });
  });
});
