/**
 * The risk rules as pure functions: sizing a target, the next order's size under the position and
 * order limits (reduce-only included), the orders-per-minute window and the daily loss test. The
 * engine-level trips are in trader-engine-risk.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  dailyLossHit,
  MIN_ORDER_NOTIONAL,
  nextOrderQty,
  OrderRate,
  wantedQty,
} from '../../src/services/trader/risk';
import type { RiskLimits } from '../../src/shared/trader-api';

const LIMITS: RiskLimits = {
  maxPositionNotional: 5_000,
  maxOrderNotional: 2_500,
  maxOrdersPerMinute: 3,
  maxDailyLoss: 500,
};

describe('sizing', () => {
  const base = { equity: 10_000, symbols: 2, mid: 100, allowShort: false, limits: LIMITS };

  it('target × (equity / symbols) / mid, clipped to the position limit', () => {
    expect(wantedQty({ ...base, target: 0.5 })).toBe(25); // 0.5 × 5 000 / 100
    expect(wantedQty({ ...base, target: 1 })).toBe(50); // 5 000 / 100, at the limit exactly
    expect(wantedQty({ ...base, symbols: 1, target: 1 })).toBe(50); // 10 000 / 100 clipped to 50
  });

  it('a negative target is flat unless shorting is allowed', () => {
    expect(wantedQty({ ...base, target: -1 })).toBe(0);
    expect(wantedQty({ ...base, target: -0.4, allowShort: true })).toBe(-20);
    expect(wantedQty({ ...base, symbols: 1, target: -1, allowShort: true })).toBe(-50);
  });
});

describe('the next order', () => {
  const o = { mid: 100, limits: LIMITS, reduceOnly: false };

  it('moves toward the wanted position, at most maxOrderNotional at a time', () => {
    expect(nextOrderQty({ ...o, wanted: 50, projected: 0 })).toBe(25);
    expect(nextOrderQty({ ...o, wanted: 50, projected: 25 })).toBe(25);
    expect(nextOrderQty({ ...o, wanted: 50, projected: 40 })).toBe(10);
    expect(nextOrderQty({ ...o, wanted: 50, projected: 50 })).toBe(0);
    expect(nextOrderQty({ ...o, wanted: -10, projected: 5 })).toBe(-15);
  });

  it('never adds past the position limit at the current mid, and never cuts a position for it', () => {
    // Wanted 60 (sized at a lower price), now at 125: the limit is 5 000 / 125 = 40.
    expect(nextOrderQty({ ...o, mid: 125, wanted: 60, projected: 30 })).toBe(10);
    expect(nextOrderQty({ ...o, mid: 125, wanted: 60, projected: 45 })).toBe(0);
    expect(nextOrderQty({ ...o, mid: 125, wanted: -60, projected: -45 })).toBe(0);
    // A flip: the whole long closes, the short only to the limit (and the order to its limit: 20).
    expect(nextOrderQty({ ...o, mid: 125, wanted: -60, projected: 10 })).toBe(-20);
  });

  it('reduce-only: toward flat, never past it, never adding', () => {
    const r = { ...o, reduceOnly: true };
    expect(nextOrderQty({ ...r, wanted: 0, projected: 10 })).toBe(-10);
    expect(nextOrderQty({ ...r, wanted: -50, projected: 10 })).toBe(-10);
    expect(nextOrderQty({ ...r, wanted: 5, projected: 10 })).toBe(-5);
    expect(nextOrderQty({ ...r, wanted: 50, projected: 10 })).toBe(0);
    expect(nextOrderQty({ ...r, wanted: 10, projected: 0 })).toBe(0);
    expect(nextOrderQty({ ...r, wanted: 0, projected: -40 })).toBe(25); // order limit still applies
  });

  it('dust is not an order', () => {
    const dust = MIN_ORDER_NOTIONAL / 100 / 2;
    expect(nextOrderQty({ ...o, wanted: 10 + dust, projected: 10 })).toBe(0);
  });
});

describe('orders per minute', () => {
  it('counts the sends of the last 60 s', () => {
    const rate = new OrderRate();
    rate.record(0);
    rate.record(10_000);
    rate.record(20_000);
    expect(rate.allows(59_999, 3)).toBe(false);
    expect(rate.allows(60_000, 3)).toBe(true); // the send at 0 is 60 s old: out of the window
    expect(rate.count(70_000)).toBe(1);
  });
});

describe('daily loss', () => {
  it('trips at the limit exactly', () => {
    expect(dailyLossHit(10_000, 9_500.01, LIMITS)).toBe(false);
    expect(dailyLossHit(10_000, 9_500, LIMITS)).toBe(true);
  });
});
