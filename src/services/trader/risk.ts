/**
 * The trader's risk rules, pure: how big a position a target means, how big the next order may be,
 * how many orders a minute may go out, and whether the day's loss has hit its limit.
 *
 * - wanted quantity = target × (equity / symbols) / mid; a negative target is flat unless shorting is
 *   allowed; the result is clipped to ±maxPositionNotional / mid.
 * - the next order moves the projected position (position + orders in flight) toward the wanted one:
 *   it never takes the projected position past ±maxPositionNotional / mid (a position that grew past
 *   it because the price moved is not cut, only not added to); it is at most maxOrderNotional / mid
 *   (the rest goes out at later decisions); reduce-only, it only moves toward flat and never past it.
 *   Orders worth less than MIN_ORDER_NOTIONAL are not sent (rounding dust, not a trade).
 * - orders per minute: a sliding 60 s window over the times orders were sent.
 * - daily loss: day-start equity − equity ≥ maxDailyLoss.
 */
import type { RiskLimits } from '../../shared/trader-api';

/** In quote currency: below this an order is float dust, not a trade. */
export const MIN_ORDER_NOTIONAL = 0.01;

export interface SizingInput {
  /** The strategy's target, −1…1. */
  target: number;
  equity: number;
  symbols: number;
  mid: number;
  allowShort: boolean;
  limits: RiskLimits;
}

/** The position (signed base units) a target asks for. */
export function wantedQty(i: SizingInput): number {
  const target = i.allowShort ? i.target : Math.max(0, i.target);
  const qty = (target * (i.equity / i.symbols)) / i.mid;
  const cap = i.limits.maxPositionNotional / i.mid;
  return Math.max(-cap, Math.min(cap, qty));
}

export interface OrderInput {
  wanted: number;
  /** Position plus the signed remaining quantity of the orders in flight. */
  projected: number;
  mid: number;
  limits: RiskLimits;
  reduceOnly: boolean;
}

/** The signed quantity of the next order (0: none). */
export function nextOrderQty(i: OrderInput): number {
  let delta = i.wanted - i.projected;
  if (i.reduceOnly) {
    if (i.projected === 0 || Math.sign(delta) === Math.sign(i.projected)) return 0;
    delta = Math.sign(delta) * Math.min(Math.abs(delta), Math.abs(i.projected));
  }
  const cap = i.limits.maxPositionNotional / i.mid;
  const after = i.projected + delta;
  if (delta > 0 && after > cap) delta = Math.max(i.projected, cap) - i.projected;
  else if (delta < 0 && after < -cap) delta = Math.min(i.projected, -cap) - i.projected;
  const maxQty = i.limits.maxOrderNotional / i.mid;
  if (Math.abs(delta) > maxQty) delta = Math.sign(delta) * maxQty;
  return Math.abs(delta) * i.mid < MIN_ORDER_NOTIONAL ? 0 : delta;
}

const MINUTE_MS = 60_000;

/** Send times of the last 60 s: whether one more order fits under maxOrdersPerMinute. */
export class OrderRate {
  private readonly sent: number[] = [];

  /** Orders sent within 60 s before `now`. */
  count(now: number): number {
    const from = now - MINUTE_MS;
    let drop = 0;
    while (drop < this.sent.length && this.sent[drop]! <= from) drop += 1;
    if (drop > 0) this.sent.splice(0, drop);
    return this.sent.length;
  }

  allows(now: number, maxPerMinute: number): boolean {
    return this.count(now) < maxPerMinute;
  }

  record(now: number): void {
    this.sent.push(now);
  }
}

export function dailyLossHit(dayStartEquity: number, equity: number, limits: RiskLimits): boolean {
  return dayStartEquity - equity >= limits.maxDailyLoss;
}
