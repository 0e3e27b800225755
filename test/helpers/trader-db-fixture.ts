/**
 * A trader.db with the trader program's schema (src/services/trader/trader-db.ts) and rows a test
 * chooses, for testing the core's read-only reader without the program.
 */
import type { Database as Db } from 'better-sqlite3';
import { openTraderDb } from '../../src/services/trader/trader-db';
import type { TraderFill, TraderOrder, TraderSnapshot } from '../../src/shared/trader-api';

export interface AccountFixture {
  initialEquity: number;
  cash: number;
  realizedPnl: number;
  fees: number;
  day: number;
  dayStartEquity: number;
  openingStoppedBy?: 'person' | 'kill-switch' | null;
  dailyLossHaltDay?: number | null;
  updatedAt: number;
}

export class TraderDbFixture {
  readonly db: Db;

  constructor(readonly file: string) {
    // The trader's own schema (its migrations), rows written directly: any state a test needs.
    this.db = openTraderDb(file);
  }

  account(a: AccountFixture): this {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO account VALUES (1, @initialEquity, @cash, @realizedPnl, @fees, @day,
           @dayStartEquity, @openingStoppedBy, @dailyLossHaltDay, 1, NULL, @updatedAt)`,
      )
      .run({ openingStoppedBy: null, dailyLossHaltDay: null, ...a });
    return this;
  }

  position(symbol: string, qty: number, avgPrice: number | null, realizedPnl = 0, fees = 0): this {
    this.db
      .prepare('INSERT OR REPLACE INTO positions VALUES (?, ?, ?, ?, ?)')
      .run(symbol, qty, avgPrice, realizedPnl, fees);
    return this;
  }

  order(o: TraderOrder): this {
    this.db
      .prepare(
        `INSERT INTO orders (client_order_id, symbol, side, qty, type, reduce_only, status, filled_qty,
           avg_fill_price, fees, reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        o.clientOrderId,
        o.symbol,
        o.side,
        o.qty,
        o.type,
        o.reduceOnly ? 1 : 0,
        o.status,
        o.filledQty,
        o.avgFillPrice,
        o.fees,
        o.reason,
        o.createdAt,
        o.updatedAt,
      );
    return this;
  }

  fill(f: TraderFill): this {
    this.db
      .prepare(
        `INSERT INTO fills (id, client_order_id, symbol, side, qty, price, fee, realized_pnl, ts)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(f.id, f.clientOrderId, f.symbol, f.side, f.qty, f.price, f.fee, f.realizedPnl, f.ts);
    return this;
  }

  equity(points: { t: number; equity: number; realizedPnl?: number; unrealizedPnl?: number }[]): this {
    const insert = this.db.prepare('INSERT INTO equity VALUES (?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const p of points) insert.run(p.t, p.equity, p.realizedPnl ?? 0, p.unrealizedPnl ?? 0);
    })();
    return this;
  }

  snapshot(s: TraderSnapshot): this {
    this.db.prepare('INSERT OR REPLACE INTO last_snapshot VALUES (1, ?, ?)').run(s.at, JSON.stringify(s));
    return this;
  }

  close(): void {
    this.db.close();
  }
}

export function order(n: number, extra: Partial<TraderOrder> = {}): TraderOrder {
  return {
    clientOrderId: `t-${n}`,
    symbol: 'BTCUSDT',
    side: 'buy',
    qty: 0.01 * n,
    type: 'market',
    reduceOnly: false,
    status: 'filled',
    filledQty: 0.01 * n,
    avgFillPrice: 100 + n,
    fees: 0.1,
    reason: `signal ${n}`,
    createdAt: 1_000 * n,
    updatedAt: 1_000 * n + 50,
    ...extra,
  };
}

export function fill(n: number, extra: Partial<TraderFill> = {}): TraderFill {
  return {
    id: `t-${n}:1`,
    clientOrderId: `t-${n}`,
    symbol: 'BTCUSDT',
    side: 'buy',
    qty: 0.01 * n,
    price: 100 + n,
    fee: 0.1,
    realizedPnl: 0,
    ts: 1_000 * n + 50,
    ...extra,
  };
}
