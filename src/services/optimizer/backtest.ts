/**
 * The backtester: runs a strategy (src/services/strategies) over recorded candles, event by event,
 * and says what it would have earned. Pure and deterministic: no I/O, no clock, no randomness; the
 * same input gives the same result, to the last bit.
 *
 *   runBacktest({ strategy, params, candles, intervalMs, costs: { feeBps, slippageBps, latencyMs },
 *                 initialEquity, allowShort?, startAt?, maxEquityPoints? }) → BacktestResult
 *   BacktestResult { strategyId, strategyVersion, params, metrics, trades, equity }
 *
 * Events, per candle, in order:
 * 1. Orders whose time has come fill at the candle's open: an order sent at time e fills in the first
 *    candle still in progress at e (start + interval > e), i.e. the next candle's open when the latency
 *    is shorter than an interval, one more candle per whole interval of latency, or the first candle
 *    recorded after a hole. The open moved against us by `slippageBps` (buys higher, sells lower) is
 *    the fill price; the fee is `feeBps` of the fill's notional. Fill time: max(e, candle start).
 * 2. Equity is marked at the close: cash + position × close.
 * 3. The strategy sees the closed candle. A Decision whose target (a negative one becomes 0 unless
 *    `allowShort`) differs from the last one is sized on that equity and close, with no look-ahead:
 *    wanted quantity = target × equity / close, and sent at close + latencyMs (close = start + interval).
 *    It fills as in 1, moving the position to that quantity (orders fill in the order they were sent).
 *
 * Candles before `startAt` only warm the strategy up: their decisions are dropped, and metrics, trades
 * and the equity curve start at `startAt`. A position still open after the last candle is closed at its
 * close (with slippage and fee, reason "end of data"), so the trades' P&L adds up to the equity's
 * change; orders still in flight then are dropped. If equity falls to 0 or below at a close (a short
 * squeezed), the position is closed there and the run trades no more (`metrics.ruined`).
 *
 * Trades are closings: a position's reduction (to flat, a flip, or a smaller target) is one trade of
 * the quantity closed, at the position's average entry price, carrying its share of the entry fees.
 *
 * Metrics come from the equity at each candle's close (returns r = e[i] / e[i−1] − 1):
 * - totalReturn: final equity / initial − 1; maxDrawdown: the largest fall from a peak, as a fraction
 *   of that peak (0.25 = 25 %);
 * - sharpe = mean(r) / sd(r) × √periodsPerYear, sd the sample deviation (n − 1); sortino = mean(r) /
 *   √(Σ min(r, 0)² / n) × √periodsPerYear; risk-free rate 0; periodsPerYear = 365 days / interval
 *   (crypto trades every day). Null when undefined: fewer than 2 returns, or no deviation (downside);
 * - winRate: trades with pnl > 0 / trades (null without trades); exposure: the share of candles that
 *   reached their close holding a position (the end-of-data close included).
 *
 * The equity curve keeps at most `maxEquityPoints` (default 1000) of the per-candle points: per time
 * bucket the first, last, lowest and highest, so the curve's first, last, minimum and maximum are exact.
 */
import {
  parseParams,
  type Params,
  type StrategyCandle,
  type StrategyDefinition,
} from '../strategies/strategy';
import type { EquityPoint, TrialMetrics } from '../../shared/optimizer-api';

export interface BacktestCosts {
  /** Fee per fill, in basis points of its notional (e.g. 4 = 0.04 %). */
  feeBps: number;
  /** Price moved against every fill, in basis points of the open (or close, at the end). */
  slippageBps: number;
  /** From a decision (the candle's close) to its order reaching the market. */
  latencyMs: number;
}

export interface BacktestInput<P extends Params = Params> {
  strategy: StrategyDefinition<P>;
  /** Checked with the strategy's schema (missing ones take their default): StrategyParamsError if bad. */
  params: Partial<P>;
  /** Closed candles, oldest first, starts strictly increasing (holes allowed). */
  candles: readonly StrategyCandle[];
  /** The candles' interval in ms (60_000 for 1 m candles). */
  intervalMs: number;
  costs: BacktestCosts;
  initialEquity: number;
  /** Whether a negative target opens a short (default false: it means flat). */
  allowShort?: boolean;
  /** Epoch ms: candles starting before this only warm the strategy up. Default: the first candle. */
  startAt?: number;
  /** Bound on the equity curve's points (at least 4). Default 1000. */
  maxEquityPoints?: number;
}

/** A trial's metrics without calmar (the optimizer adds it from these); defined once in the contract. */
export type BacktestMetrics = Omit<TrialMetrics, 'calmar'>;

export interface BacktestTrade {
  side: 'long' | 'short';
  /** Quantity closed (base units, positive). */
  qty: number;
  entryAt: number;
  /** Average fill price of the quantity, slippage included. */
  entryPrice: number;
  exitAt: number;
  exitPrice: number;
  /** Entry fees' share for this quantity plus the exit fee. */
  fees: number;
  /** Net of fees. */
  pnl: number;
  entryReason: string;
  exitReason: string;
}

export type { EquityPoint };

export interface BacktestResult<P extends Params = Params> {
  strategyId: string;
  strategyVersion: number;
  /** The parameters run, defaults filled in. */
  params: P;
  metrics: BacktestMetrics;
  trades: BacktestTrade[];
  equity: EquityPoint[];
}

/** Input the backtester cannot run on (params have their own StrategyParamsError). */
export class BacktestInputError extends Error {
  override readonly name = 'BacktestInputError';
}

const YEAR_MS = 365 * 86_400_000;
const END_OF_DATA = 'end of data';
const RUINED = 'equity fell to 0 or below';

interface Order {
  /** When it reaches the market. */
  at: number;
  qty: number;
  reason: string;
}

export function runBacktest<P extends Params>(input: BacktestInput<P>): BacktestResult<P> {
  const { strategy, candles, intervalMs, costs, initialEquity } = input;
  const params = parseParams(strategy, input.params);
  checkInput(input);
  const allowShort = input.allowShort ?? false;
  const fee = costs.feeBps / 10_000;
  const slip = costs.slippageBps / 10_000;
  const latency = costs.latencyMs;
  const maxPoints = input.maxEquityPoints ?? 1000;

  const n = candles.length;
  let first = 0;
  if (input.startAt !== undefined) while (first < n && candles[first]!.start < input.startAt) first += 1;
  const measured = n - first;
  if (measured === 0) throw new BacktestInputError('no candles to backtest (none at or after startAt)');

  const equityAt = new Float64Array(measured);
  const equity = new Float64Array(measured);
  const trades: BacktestTrade[] = [];
  const orders: Order[] = [];
  let nextOrder = 0;

  let cash = initialEquity;
  let qty = 0;
  // The open position: average entry price, when it opened, why, entry fees not yet charged to a trade.
  let avgEntry = 0;
  let entryAt = 0;
  let entryReason = '';
  let entryFees = 0;
  let feesPaid = 0;
  let lastTarget = 0;
  let held = 0;
  let ruined = false;

  // Moves the position by `dq` at `price` (slippage already in), at time `at`.
  const fill = (dq: number, price: number, at: number, reason: string): void => {
    const f = Math.abs(dq) * price * fee;
    cash -= dq * price + f;
    feesPaid += f;
    if (qty === 0 || Math.sign(dq) === Math.sign(qty)) {
      if (qty === 0) {
        entryAt = at;
        entryReason = reason;
      }
      avgEntry = (Math.abs(qty) * avgEntry + Math.abs(dq) * price) / (Math.abs(qty) + Math.abs(dq));
      entryFees += f;
      qty += dq;
      return;
    }
    const closing = Math.min(Math.abs(dq), Math.abs(qty));
    const entryShare = (entryFees * closing) / Math.abs(qty);
    const exitShare = (f * closing) / Math.abs(dq);
    const long = qty > 0;
    trades.push({
      side: long ? 'long' : 'short',
      qty: closing,
      entryAt,
      entryPrice: avgEntry,
      exitAt: at,
      exitPrice: price,
      fees: entryShare + exitShare,
      pnl: (long ? price - avgEntry : avgEntry - price) * closing - entryShare - exitShare,
      entryReason,
      exitReason: reason,
    });
    entryFees -= entryShare;
    const rest = Math.abs(dq) - closing;
    if (closing === Math.abs(qty)) {
      qty = 0;
      entryFees = 0;
      if (rest > 0) {
        // A flip: the remainder opens the other side, with the rest of this fill's fee.
        qty = Math.sign(dq) * rest;
        avgEntry = price;
        entryAt = at;
        entryReason = reason;
        entryFees = f - exitShare;
      }
    } else {
      qty += dq;
    }
  };

  // Closes the whole position at `ref` (a close), with slippage.
  const closeAll = (ref: number, at: number, reason: string): void => {
    if (qty === 0) return;
    fill(-qty, qty > 0 ? ref * (1 - slip) : ref * (1 + slip), at, reason);
    qty = 0;
  };

  const runner = strategy.create(params);
  for (let i = 0; i < n; i++) {
    const c = candles[i]!;
    const end = c.start + intervalMs;
    if (i > 0 && !(c.start > candles[i - 1]!.start)) {
      throw new BacktestInputError(
        `candle ${i} (start ${c.start}) does not come after candle ${i - 1} (start ${candles[i - 1]!.start}): ` +
          'candles must be oldest first, one per start',
      );
    }
    if (!(c.open > 0 && c.close > 0)) {
      throw new BacktestInputError(`candle ${i} (start ${c.start}) has no positive open and close`);
    }

    // 1. Orders that have reached the market fill at this open.
    while (nextOrder < orders.length && end > orders[nextOrder]!.at) {
      const o = orders[nextOrder++]!;
      const dq = o.qty - qty;
      if (dq !== 0)
        fill(dq, dq > 0 ? c.open * (1 + slip) : c.open * (1 - slip), Math.max(o.at, c.start), o.reason);
    }

    // 2. Mark at the close.
    if (i >= first && qty !== 0) held += 1;
    let eq = cash + qty * c.close;
    if (i >= first && !ruined && eq <= 0) {
      ruined = true;
      closeAll(c.close, end, RUINED);
      orders.length = 0;
      nextOrder = 0;
      eq = cash;
    }

    // 3. The strategy sees the closed candle (always, so its state stays whole).
    const d = runner.onCandle(c);
    if (d !== null && i >= first && !ruined) {
      if (!(d.target >= -1 && d.target <= 1)) {
        throw new BacktestInputError(
          `strategy ${strategy.id} asked for a target of ${d.target} at candle ${i} (start ${c.start}): targets are in [-1, 1]`,
        );
      }
      const target = allowShort ? d.target : Math.max(0, d.target);
      if (target !== lastTarget) {
        lastTarget = target;
        orders.push({ at: end + latency, qty: (target * eq) / c.close, reason: d.reason });
      }
    }

    if (i >= first) {
      if (i === n - 1) {
        closeAll(c.close, end, END_OF_DATA);
        eq = cash;
      }
      equityAt[i - first] = end;
      equity[i - first] = eq;
    }
  }

  return {
    strategyId: strategy.id,
    strategyVersion: strategy.version,
    params,
    metrics: {
      ...equityMetrics(equity, YEAR_MS / intervalMs),
      totalReturn: equity[measured - 1]! / initialEquity - 1,
      winRate: trades.length ? trades.filter((t) => t.pnl > 0).length / trades.length : null,
      trades: trades.length,
      exposure: held / measured,
      finalEquity: equity[measured - 1]!,
      fees: feesPaid,
      candles: measured,
      ruined,
    },
    trades,
    equity: downsampleEquity(equityAt, equity, maxPoints),
  };
}

function checkInput(input: BacktestInput<Params>): void {
  const bad = (what: string): never => {
    throw new BacktestInputError(what);
  };
  const { costs } = input;
  if (!Number.isInteger(input.intervalMs) || input.intervalMs <= 0) {
    bad(`intervalMs must be a positive whole number of ms, not ${input.intervalMs}`);
  }
  if (!(Number.isFinite(input.initialEquity) && input.initialEquity > 0)) {
    bad(`initialEquity must be a positive amount, not ${input.initialEquity}`);
  }
  for (const k of ['feeBps', 'slippageBps', 'latencyMs'] as const) {
    if (!(Number.isFinite(costs[k]) && costs[k] >= 0)) bad(`costs.${k} must be 0 or more, not ${costs[k]}`);
  }
  if (costs.slippageBps >= 10_000)
    bad(`costs.slippageBps must be under 10000 (100 %), not ${costs.slippageBps}`);
  const max = input.maxEquityPoints;
  if (max !== undefined && !(Number.isInteger(max) && max >= 4)) {
    bad(`maxEquityPoints must be a whole number of at least 4, not ${max}`);
  }
  if (input.candles.length === 0) bad('no candles to backtest');
}

/** Sharpe, Sortino and max drawdown of an equity series sampled once per period. */
export function equityMetrics(
  equity: ArrayLike<number>,
  periodsPerYear: number,
): { sharpe: number | null; sortino: number | null; maxDrawdown: number; periodsPerYear: number } {
  let count = 0;
  let mean = 0;
  let m2 = 0;
  let downside = 0;
  let peak = equity.length > 0 ? equity[0]! : 0;
  let maxDrawdown = 0;
  for (let i = 1; i < equity.length; i++) {
    const prev = equity[i - 1]!;
    const e = equity[i]!;
    // After ruin (equity at or below 0) there is no return to speak of.
    const r = prev > 0 ? e / prev - 1 : 0;
    count += 1;
    const delta = r - mean;
    mean += delta / count;
    m2 += delta * (r - mean);
    if (r < 0) downside += r * r;
    if (e > peak) peak = e;
    else if (peak > 0 && (peak - e) / peak > maxDrawdown) maxDrawdown = (peak - e) / peak;
  }
  const annual = Math.sqrt(periodsPerYear);
  const sd = count > 1 ? Math.sqrt(m2 / (count - 1)) : 0;
  const dd = count > 0 ? Math.sqrt(downside / count) : 0;
  return {
    sharpe: count > 1 && sd > 0 ? (mean / sd) * annual : null,
    sortino: count > 1 && dd > 0 ? (mean / dd) * annual : null,
    maxDrawdown,
    periodsPerYear,
  };
}

/**
 * At most `maxPoints` (≥ 4) of a curve: the points split into maxPoints / 4 buckets of consecutive
 * points, each keeping its first, last, lowest and highest (once each, in time order). The whole
 * curve's first, last, minimum and maximum are therefore kept exactly.
 */
export function downsampleEquity(
  at: ArrayLike<number>,
  equity: ArrayLike<number>,
  maxPoints: number,
): EquityPoint[] {
  const n = equity.length;
  const out: EquityPoint[] = [];
  if (n <= maxPoints) {
    for (let i = 0; i < n; i++) out.push({ at: at[i]!, equity: equity[i]! });
    return out;
  }
  const buckets = Math.floor(maxPoints / 4);
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * n) / buckets);
    const hi = Math.floor(((b + 1) * n) / buckets) - 1;
    let min = lo;
    let max = lo;
    for (let i = lo + 1; i <= hi; i++) {
      if (equity[i]! < equity[min]!) min = i;
      if (equity[i]! > equity[max]!) max = i;
    }
    const keep = [lo, min, max, hi].sort((x, y) => x - y);
    for (let k = 0; k < keep.length; k++) {
      const i = keep[k]!;
      if (k > 0 && i === keep[k - 1]) continue;
      out.push({ at: at[i]!, equity: equity[i]! });
    }
  }
  return out;
}
