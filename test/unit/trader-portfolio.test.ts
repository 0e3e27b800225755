/**
 * Position and account accounting (average cost): open, add, reduce, flip, close, long and short,
 * with realized P&L and fees worked out by hand; then marking and the UTC day.
 */
import { describe, expect, it } from 'vitest';
import {
  applyFillToAccount,
  applyFillToPosition,
  flatPosition,
  markPortfolio,
  unrealizedPnl,
  utcDay,
  type FillTerms,
} from '../../src/services/trader/portfolio';
import type { AccountState, StoredPosition } from '../../src/services/trader/types';

const ACCOUNT: AccountState = {
  initialEquity: 10_000,
  cash: 10_000,
  realizedPnl: 0,
  fees: 0,
  day: 0,
  dayStartEquity: 10_000,
  openingStoppedBy: null,
  dailyLossHaltDay: null,
  nextOrderNo: 1,
};

/** Applies fills in order; returns each step's position, realized P&L and the account. */
function run(fills: FillTerms[]) {
  let p: StoredPosition = flatPosition('BTCUSDT');
  let a = ACCOUNT;
  const steps: { position: StoredPosition; realized: number; account: AccountState }[] = [];
  for (const f of fills) {
    const r = applyFillToPosition(p, f);
    p = r.position;
    a = applyFillToAccount(a, f, r.realizedPnl);
    steps.push({ position: p, realized: r.realizedPnl, account: a });
  }
  return steps;
}

const buy = (qty: number, price: number, fee = 0): FillTerms => ({ side: 'buy', qty, price, fee });
const sell = (qty: number, price: number, fee = 0): FillTerms => ({ side: 'sell', qty, price, fee });

describe('average-cost accounting', () => {
  it('long: open, add, reduce, flip to short, add, reduce, close', () => {
    const steps = run([
      buy(2, 100, 0.2), //  open long 2 @ 100
      buy(2, 110, 0.22), // add: 4 @ (200 + 220) / 4 = 105
      sell(1, 120, 0.12), // reduce 1: realized (120 − 105) × 1 = 15; 3 @ 105 stay
      sell(5, 90, 0.45), // close 3: (90 − 105) × 3 = −45; the other 2 open a short @ 90
      sell(2, 80, 0.16), // add to the short: 4 @ (180 + 160) / 4 = 85
      buy(1, 70, 0.07), // reduce the short 1: (85 − 70) × 1 = 15; 3 @ 85 stay
      buy(3, 90, 0.27), // close: (85 − 90) × 3 = −15 → flat
    ]);
    const got = steps.map((s) => [s.position.qty, s.position.avgPrice, s.realized]);
    expect(got).toEqual([
      [2, 100, 0],
      [4, 105, 0],
      [3, 105, 15],
      [-2, 90, -45],
      [-4, 85, 0],
      [-3, 85, 15],
      [0, null, -15],
    ]);
    const end = steps.at(-1)!;
    // Realized 15 − 45 + 15 − 15 = −30; fees 0.2 + 0.22 + 0.12 + 0.45 + 0.16 + 0.07 + 0.27 = 1.49.
    expect(end.position.realizedPnl).toBeCloseTo(-30, 12);
    expect(end.position.fees).toBeCloseTo(1.49, 12);
    expect(end.account.realizedPnl).toBeCloseTo(-30, 12);
    expect(end.account.fees).toBeCloseTo(1.49, 12);
    // Cash: −200 − 220 + 120 + 450 + 160 − 70 − 270 = −30, less the fees; flat, so equity = cash.
    expect(end.account.cash).toBeCloseTo(10_000 - 30 - 1.49, 9);
  });

  it('cash, realized, fees and unrealized add up to the marked equity at every step', () => {
    const fills = [buy(3, 50, 0.1), sell(1, 55, 0.05), sell(4, 60, 0.2), buy(1, 40, 0.01)];
    const mark = 57;
    for (const s of run(fills)) {
      const { equity, unrealizedPnl: u } = markPortfolio(s.account.cash, [s.position], () => mark);
      expect(u).toBeCloseTo(unrealizedPnl(s.position, mark), 12);
      expect(equity).toBeCloseTo(10_000 + s.account.realizedPnl - s.account.fees + u, 9);
    }
  });

  it('a close leaves no floating-point dust: 0.1 + 0.2 bought, 0.3 sold is flat', () => {
    const [, , closed] = run([buy(0.1, 100), buy(0.2, 100), sell(0.3, 100)]);
    expect(closed!.position.qty).toBe(0);
    expect(closed!.position.avgPrice).toBeNull();
  });

  it('short: open, reduce, close; unrealized of a short', () => {
    const steps = run([sell(10, 20, 0.2), buy(4, 18), buy(6, 25)]);
    expect(steps[0]!.position).toMatchObject({ qty: -10, avgPrice: 20 });
    expect(unrealizedPnl(steps[0]!.position, 19)).toBe(10); // −10 × (19 − 20)
    expect(steps[1]!.realized).toBe(8); // (20 − 18) × 4
    expect(steps[2]!.realized).toBe(-30); // (20 − 25) × 6
    expect(steps[2]!.position.qty).toBe(0);
  });

  it('unmarked positions count at their average price; bad fills are refused', () => {
    const p: StoredPosition = { symbol: 'X', qty: 2, avgPrice: 10, realizedPnl: 0, fees: 0 };
    expect(markPortfolio(100, [p], () => null)).toEqual({ equity: 120, unrealizedPnl: 0 });
    expect(unrealizedPnl(p, null)).toBe(0);
    expect(() => applyFillToPosition(p, buy(0, 10))).toThrow(/qty must be > 0/);
    expect(() => applyFillToPosition(p, buy(1, Number.NaN))).toThrow(/price must be > 0/);
  });

  it('utcDay is the start of the UTC day', () => {
    expect(utcDay(Date.UTC(2026, 2, 3, 23, 59, 59, 999))).toBe(Date.UTC(2026, 2, 3));
    expect(utcDay(Date.UTC(2026, 2, 4))).toBe(Date.UTC(2026, 2, 4));
  });
});
