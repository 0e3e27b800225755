/**
 * A trader.db written the way the trader program writes it (the schema in TRADER.md and
 * src/services/trader/trader-db.ts), for testing the core's read-only reader without the program.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import type { TraderFill, TraderOrder, TraderSnapshot } from '../../src/shared/trader-api';

const SCHEMA = `
  CREATE TABLE account (id INTEGER PRIMARY KEY CHECK (id = 1), initial_equity REAL, cash REAL,
    realized_pnl REAL, fees REAL, day INTEGER, day_start_equity REAL, opening_stopped_by TEXT,
    daily_loss_halt_day INTEGER, next_order_no INTEGER, limits TEXT, updated_at INTEGER);
  CREATE TABLE orders (seq INTEGER PRIMARY KEY AUTOINCREMENT, client_order_id TEXT NOT NULL UNIQUE,
    symbol TEXT, side TEXT, qty REAL, type TEXT, reduce_only INTEGER, status TEXT, filled_qty REAL,
    avg_fill_price REAL, fees REAL, reason TEXT, created_at INTEGER, updated_at INTEGER);
  CREATE TABLE fills (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    client_order_id TEXT NOT NULL, symbol TEXT, side TEXT, qty REAL, price REAL, fee REAL,
    realized_pnl REAL, ts INTEGER);
  CREATE TABLE positions (symbol TEXT PRIMARY KEY, qty REAL, avg_price REAL, realized_pnl REAL, fees REAL);
  CREATE TABLE equity (t INTEGER PRIMARY KEY, equity REAL, realized_pnl REAL, unrealized_pnl REAL);
  CREATE TABLE last_snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER, json TEXT);
`;

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
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(SCHEMA);
    this.db.pragma('user_version = 1');
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
