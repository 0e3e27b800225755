/**
 * trader.db's rows as SQLite returns them, and what they mean in the contract's terms: one mapping,
 * used by the trader's store (trader-db.ts, the writer) and the core's read-only reader
 * (src/main/api/trader-history.ts).
 */
import type {
  OrderSide,
  OrderStatus,
  TraderEquityPoint,
  TraderFill,
  TraderOrder,
} from '../../shared/trader-api';
import type { AccountState, StoredPosition } from './types';

export interface AccountRow {
  initial_equity: number;
  cash: number;
  realized_pnl: number;
  fees: number;
  day: number;
  day_start_equity: number;
  opening_stopped_by: string | null;
  daily_loss_halt_day: number | null;
  next_order_no: number;
  limits: string | null;
  updated_at: number;
}

export interface OrderRow {
  seq: number;
  client_order_id: string;
  symbol: string;
  side: OrderSide;
  qty: number;
  type: string;
  reduce_only: number;
  status: OrderStatus;
  filled_qty: number;
  avg_fill_price: number | null;
  fees: number;
  reason: string;
  created_at: number;
  updated_at: number;
}

export interface FillRow {
  seq: number;
  id: string;
  client_order_id: string;
  symbol: string;
  side: OrderSide;
  qty: number;
  price: number;
  fee: number;
  realized_pnl: number;
  ts: number;
}

export interface PositionRow {
  symbol: string;
  qty: number;
  avg_price: number | null;
  realized_pnl: number;
  fees: number;
}

export interface EquityRow {
  t: number;
  equity: number;
  realized_pnl: number;
  unrealized_pnl: number;
}

export function toOrder(r: OrderRow): TraderOrder {
  return {
    clientOrderId: r.client_order_id,
    symbol: r.symbol,
    side: r.side,
    qty: r.qty,
    type: 'market',
    reduceOnly: r.reduce_only !== 0,
    status: r.status,
    filledQty: r.filled_qty,
    avgFillPrice: r.avg_fill_price,
    fees: r.fees,
    reason: r.reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toFill(r: FillRow): TraderFill {
  return {
    id: r.id,
    clientOrderId: r.client_order_id,
    symbol: r.symbol,
    side: r.side,
    qty: r.qty,
    price: r.price,
    fee: r.fee,
    realizedPnl: r.realized_pnl,
    ts: r.ts,
  };
}

export function toPosition(r: PositionRow): StoredPosition {
  return { symbol: r.symbol, qty: r.qty, avgPrice: r.avg_price, realizedPnl: r.realized_pnl, fees: r.fees };
}

export function toAccount(r: AccountRow): AccountState {
  const stoppedBy = r.opening_stopped_by;
  return {
    initialEquity: r.initial_equity,
    cash: r.cash,
    realizedPnl: r.realized_pnl,
    fees: r.fees,
    day: r.day,
    dayStartEquity: r.day_start_equity,
    openingStoppedBy: stoppedBy === 'person' || stoppedBy === 'kill-switch' ? stoppedBy : null,
    dailyLossHaltDay: r.daily_loss_halt_day,
    nextOrderNo: r.next_order_no,
  };
}

export function toEquity(r: EquityRow): TraderEquityPoint {
  return { t: r.t, equity: r.equity, realizedPnl: r.realized_pnl, unrealizedPnl: r.unrealized_pnl };
}
