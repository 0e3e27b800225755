/**
 * The trader program's seams: the engine (engine.ts, pure, tested with a fake clock) talks to the
 * world only through these. The child main (index.ts) gives it the real ones: the bus, trader.db
 * (trader-db.ts) and the paper execution adapter (paper-execution.ts).
 */
import type {
  OrderSide,
  RiskLimits,
  TraderEquityPoint,
  TraderFill,
  TraderOrder,
  TraderPosition,
} from '../../shared/trader-api';

/** Time and timers: Date.now/setTimeout in the program, a fake clock in tests. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

/** Best bid and ask of one symbol, as the collector published it (`md.<venue>.<symbol>.top`). */
export interface Quote {
  symbol: string;
  bidPrice: number;
  bidSize: number;
  askPrice: number;
  askSize: number;
  /** Local receive time (the collector's localTs). */
  at: number;
}

/** An order as the engine hands it to an execution adapter. */
export interface OrderRequest {
  clientOrderId: string;
  symbol: string;
  side: OrderSide;
  qty: number;
  reduceOnly: boolean;
}

/** A fill as an execution adapter reports it; `id` is unique per fill and stable across resends. */
export interface ExecutionFill {
  id: string;
  clientOrderId: string;
  symbol: string;
  side: OrderSide;
  qty: number;
  price: number;
  fee: number;
  ts: number;
}

export interface ExecutionListener {
  /** The venue accepted the order (it is working). */
  accepted(clientOrderId: string): void;
  fill(fill: ExecutionFill): void;
  /** Refused or canceled by the venue, with why; no more fills follow. */
  ended(clientOrderId: string, status: 'canceled' | 'rejected', reason: string): void;
}

/**
 * Where orders go: paper now, a live exchange adapter later. Every call is idempotent by
 * clientOrderId: submitting an id the adapter already knows does nothing (a live adapter looks the id
 * up on the exchange), so orders recorded as sent but without an outcome are simply submitted again
 * after a restart.
 */
export interface ExecutionAdapter {
  readonly mode: 'paper' | 'live';
  setListener(listener: ExecutionListener): void;
  submit(order: OrderRequest): void;
  cancel(clientOrderId: string): void;
  /** The latest quote the adapter fills against (paper: from the engine's feed). */
  onQuote(quote: Quote): void;
  /** Orders sent and not ended yet. */
  inFlight(): number;
  close(): void;
}

/** The account as stored: what a restart loads back. */
export interface AccountState {
  initialEquity: number;
  cash: number;
  realizedPnl: number;
  fees: number;
  /** UTC day (epoch ms of its start) and the equity at its start. */
  day: number;
  dayStartEquity: number;
  /** A person's "stop opening", the kill switch, the daily loss halt: survive restarts. */
  openingStoppedBy: 'person' | 'kill-switch' | null;
  dailyLossHaltDay: number | null;
  /** The next client order number (ids are `<service>-<n>`). */
  nextOrderNo: number;
}

export type StoredPosition = Omit<TraderPosition, 'mark' | 'unrealizedPnl'>;

/**
 * trader.db, as the engine sees it. Every method is one transaction: a fill, its order's update, the
 * position and the account change together or not at all.
 */
export interface TraderStore {
  load(): { account: AccountState; positions: StoredPosition[]; openOrders: TraderOrder[] } | null;
  /** First start: the account with its initial equity. */
  init(account: AccountState): void;
  /** A new order, before it is submitted; with the account's nextOrderNo advanced. */
  insertOrder(order: TraderOrder, account: AccountState): void;
  updateOrder(order: TraderOrder): void;
  /** A fill with everything it changes; false if this fill id was already recorded (a resend). */
  applyFill(fill: TraderFill, order: TraderOrder, position: StoredPosition, account: AccountState): boolean;
  saveAccount(account: AccountState): void;
  saveLimits(limits: RiskLimits): void;
  appendEquity(point: TraderEquityPoint): void;
}
