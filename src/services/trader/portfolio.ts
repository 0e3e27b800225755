/**
 * Position and account accounting for the trader: pure functions over the stored shapes, so a fill's
 * effect can be computed, written in one store transaction, and only then taken into memory.
 *
 * Rules (average-cost accounting, as the backtester's trades):
 * - A fill in the position's direction (or from flat) adds to it; the average price is the
 *   quantity-weighted mean of the entries.
 * - A fill against the position closes up to its size at the average price: realized P&L =
 *   (fill − average) × closed for a long, (average − fill) × closed for a short. The average of what
 *   stays open does not change. A fill bigger than the position flips it: the rest opens the other
 *   side at the fill price.
 * - Realized P&L is before fees; fees are kept apart (per position and for the account) and paid
 *   from cash. So equity = cash + Σ qty × mark = initial + realized − fees + unrealized.
 * - A position whose remaining size is below a billionth of what it was is flat (floating-point dust
 *   left by a close is not a position).
 */
import type { OrderSide } from '../../shared/trader-api';
import type { AccountState, StoredPosition } from './types';

export interface FillTerms {
  side: OrderSide;
  /** Base units, > 0. */
  qty: number;
  price: number;
  fee: number;
}

const DUST = 1e-9;

export function flatPosition(symbol: string): StoredPosition {
  return { symbol, qty: 0, avgPrice: null, realizedPnl: 0, fees: 0 };
}

/** The position after a fill, and the P&L the fill realized (its closing part, before its fee). */
export function applyFillToPosition(
  p: StoredPosition,
  f: FillTerms,
): { position: StoredPosition; realizedPnl: number } {
  if (!(f.qty > 0) || !Number.isFinite(f.qty)) throw new RangeError(`a fill's qty must be > 0, not ${f.qty}`);
  if (!(f.price > 0) || !Number.isFinite(f.price))
    throw new RangeError(`a fill's price must be > 0, not ${f.price}`);
  const dq = f.side === 'buy' ? f.qty : -f.qty;
  const fees = p.fees + f.fee;
  const avg = p.avgPrice ?? 0;
  if (p.qty === 0 || Math.sign(dq) === Math.sign(p.qty)) {
    const qty = p.qty + dq;
    const avgPrice = (Math.abs(p.qty) * avg + f.qty * f.price) / Math.abs(qty);
    return { position: { ...p, qty, avgPrice, fees }, realizedPnl: 0 };
  }
  const closed = Math.min(f.qty, Math.abs(p.qty));
  const realizedPnl = (p.qty > 0 ? f.price - avg : avg - f.price) * closed;
  let qty = p.qty + dq;
  let avgPrice: number | null = avg;
  if (Math.abs(qty) <= DUST * Math.max(Math.abs(p.qty), f.qty)) {
    qty = 0;
    avgPrice = null;
  } else if (Math.sign(qty) !== Math.sign(p.qty)) {
    avgPrice = f.price; // flipped: the rest opened at this fill
  }
  return { position: { ...p, qty, avgPrice, realizedPnl: p.realizedPnl + realizedPnl, fees }, realizedPnl };
}

/** The account after a fill: cash pays (buy) or receives (sell) the notional, and pays the fee. */
export function applyFillToAccount(a: AccountState, f: FillTerms, realizedPnl: number): AccountState {
  const notional = f.qty * f.price;
  return {
    ...a,
    cash: a.cash + (f.side === 'buy' ? -notional : notional) - f.fee,
    realizedPnl: a.realizedPnl + realizedPnl,
    fees: a.fees + f.fee,
  };
}

/** Unrealized P&L at `mark`; 0 without a mark (nothing to mark against yet) or when flat. */
export function unrealizedPnl(p: StoredPosition, mark: number | null): number {
  if (p.qty === 0 || mark === null || p.avgPrice === null) return 0;
  return p.qty * (mark - p.avgPrice);
}

/** Positions marked to `markOf(symbol)` (unmarked ones at their average price, i.e. no unrealized P&L). */
export function markPortfolio(
  cash: number,
  positions: Iterable<StoredPosition>,
  markOf: (symbol: string) => number | null,
): { equity: number; unrealizedPnl: number } {
  let value = 0;
  let unrealized = 0;
  for (const p of positions) {
    if (p.qty === 0) continue;
    const mark = markOf(p.symbol) ?? p.avgPrice ?? 0;
    value += p.qty * mark;
    unrealized += unrealizedPnl(p, mark);
  }
  return { equity: cash + value, unrealizedPnl: unrealized };
}

const DAY_MS = 86_400_000;

/** The start (epoch ms) of the UTC day holding `t`. */
export function utcDay(t: number): number {
  return Math.floor(t / DAY_MS) * DAY_MS;
}
