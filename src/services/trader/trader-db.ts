/**
 * trader.db, `<dataDir>/trader/<service>.db`: the trader program is its only writer (the core reads
 * it read-only to show a stopped trader). It follows the rules every Vigil database follows
 * (src/services/sqlite): the header checked before SQLite sees the file, a newer schema refused before
 * anything is written, WAL, a damaged file a TraderDbError naming the file and the way forward, never
 * a silent wipe.
 *
 * Durability: synchronous=FULL, so a commit that returned survives a SIGKILL and a power cut (the
 * trader writes a few rows a second at most; an fsync each is cheap next to losing a fill). Every
 * TraderStore method is one transaction: a fill, its order, the position and the account are written
 * together or not at all, and a fill id already recorded (a resend after a restart) changes nothing.
 */
import { basename, join, resolve } from 'node:path';
import type { Database as Db, Statement } from 'better-sqlite3';
import {
  riskLimitsSchema,
  type RiskLimits,
  type TraderEquityPoint,
  type TraderFill,
  type TraderOrder,
  type TraderSnapshot,
} from '../../shared/trader-api';
import { asideName, moveAside } from '../sqlite/db-file';
import { dbErrors, DbFileError } from '../sqlite/errors';
import type { Migration } from '../sqlite/migrations';
import { openOwnedDb } from '../sqlite/open-db';
import { electronNativeBinding } from '../sqlite/native-binding';
import {
  toAccount,
  toEquity,
  toFill,
  toOrder,
  toPosition,
  type AccountRow,
  type EquityRow,
  type FillRow,
  type OrderRow,
  type PositionRow,
} from './trader-rows';
import type { AccountState, StoredPosition, TraderStore } from './types';

export class TraderDbError extends DbFileError {
  override readonly name = 'TraderDbError';
}

export const traderDbErrors = dbErrors<TraderDbError>(
  {
    create: (code, file, problem, wayForward, cause) =>
      new TraderDbError(code, file, problem, wayForward, { cause }),
    moveAside: (file) =>
      `To start fresh, stop the trader and move the file aside with its -wal and -shm files ` +
      `(e.g. to ${basename(asideName(file))}), then start the trader again: it starts with a new account ` +
      `(no positions), and the moved file keeps its orders and fills.`,
    locked:
      'Only one trader program may write it: stop the other one (or the database tool holding the file), ' +
      'then start this trader again.',
    restart: 'start the trader again',
    schema: 'trader schema',
  },
  (error): error is TraderDbError => error instanceof TraderDbError,
);

/** Moves a trader database and its WAL aside (kept, renamed); returns the new path. */
export function moveTraderDbAside(path: string, now: Date = new Date()): string {
  return moveAside(path, traderDbErrors, now);
}

export function traderDbPath(dataDir: string, service: string): string {
  return join(resolve(dataDir), 'trader', `${service}.db`);
}

/** Equity points older than this (behind the newest) are pruned. */
export const EQUITY_RETENTION_MS = 30 * 24 * 3_600_000;
const PRUNE_EVERY_MS = 3_600_000;
const BUSY_TIMEOUT_MS = 200;
const JOURNAL_SIZE_LIMIT = 4 * 1024 * 1024;

/*
 * The layout is the contract with the core's reader (src/main/api/trader-history.ts): change it only
 * with a new migration, and the reader with it. Times are epoch ms; money in quote currency; STRICT
 * tables, so a wrong type is an error at the write.
 */
const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial trader schema',
    up(db) {
      db.exec(`
        CREATE TABLE account (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          initial_equity REAL NOT NULL,
          cash REAL NOT NULL,
          realized_pnl REAL NOT NULL,
          fees REAL NOT NULL,
          day INTEGER NOT NULL,
          day_start_equity REAL NOT NULL,
          opening_stopped_by TEXT,
          daily_loss_halt_day INTEGER,
          next_order_no INTEGER NOT NULL,
          limits TEXT,
          updated_at INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE orders (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          client_order_id TEXT NOT NULL UNIQUE,
          symbol TEXT NOT NULL,
          side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
          qty REAL NOT NULL,
          type TEXT NOT NULL,
          reduce_only INTEGER NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('new', 'working', 'filled', 'canceled', 'rejected')),
          filled_qty REAL NOT NULL,
          avg_fill_price REAL,
          fees REAL NOT NULL,
          reason TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        ) STRICT;
        -- What a restart resubmits and the UI lists as working: few rows, found without a scan.
        CREATE INDEX orders_open ON orders (status) WHERE status IN ('new', 'working');

        CREATE TABLE fills (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          id TEXT NOT NULL UNIQUE,
          client_order_id TEXT NOT NULL,
          symbol TEXT NOT NULL,
          side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
          qty REAL NOT NULL,
          price REAL NOT NULL,
          fee REAL NOT NULL,
          realized_pnl REAL NOT NULL,
          ts INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE positions (
          symbol TEXT PRIMARY KEY,
          qty REAL NOT NULL,
          avg_price REAL,
          realized_pnl REAL NOT NULL,
          fees REAL NOT NULL
        ) STRICT;

        CREATE TABLE equity (
          t INTEGER PRIMARY KEY,
          equity REAL NOT NULL,
          realized_pnl REAL NOT NULL,
          unrealized_pnl REAL NOT NULL
        ) STRICT;

        CREATE TABLE last_snapshot (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          at INTEGER NOT NULL,
          json TEXT NOT NULL
        ) STRICT;
      `);
    },
  },
];

export const TRADER_SCHEMA_VERSION = migrations.at(-1)!.version;

export interface OpenTraderDbOptions {
  /** Open an existing, up-to-date file for reading only: no pragmas, no migrations. */
  readonly?: boolean;
  /** better-sqlite3's addon for this runtime (default: the Electron build inside Electron). */
  nativeBinding?: string;
}

/** Opens a trader database (creating it when writing); every failure is a TraderDbError. */
export function openTraderDb(path: string, opts: OpenTraderDbOptions = {}): Db {
  return openOwnedDb(
    {
      errors: traderDbErrors,
      migrations,
      kind: 'trader',
      missingWayForward: 'The file appears once the trader has been started.',
      writer: 'the trader',
      startOnce: 'Start the trader once',
      busyTimeoutMs: BUSY_TIMEOUT_MS,
      tune(db) {
        // After journal_mode: WAL's default here is NORMAL, which can lose the last commits on power loss.
        db.pragma('synchronous = FULL');
        db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
      },
    },
    path,
    { readonly: opts.readonly, nativeBinding: opts.nativeBinding ?? electronNativeBinding() },
  );
}

export interface TraderDbOptions extends OpenTraderDbOptions {
  /** Wall time for `updated_at` and equity pruning (default Date.now). */
  now?: () => number;
}

/** The trader's store on a trader.db file; see the header for what each write promises. */
export class TraderDb implements TraderStore {
  readonly file: string;
  private readonly now: () => number;
  private readonly stmts = new Map<string, Statement<unknown[], unknown>>();
  private lastPrune = 0;
  private closed = false;

  /** Opens (creating if needed) the trader database at `path`; throws TraderDbError when it cannot. */
  static open(path: string, opts: TraderDbOptions = {}): TraderDb {
    const db = openTraderDb(path, opts);
    return new TraderDb(db, opts.now ?? Date.now);
  }

  private constructor(
    private readonly db: Db,
    now: () => number,
  ) {
    this.file = db.name;
    this.now = now;
  }

  load(): { account: AccountState; positions: StoredPosition[]; openOrders: TraderOrder[] } | null {
    return this.run('loading the account', () => {
      const row = this.stmt<AccountRow>('SELECT * FROM account WHERE id = 1').get() as AccountRow | undefined;
      if (!row) return null;
      const positions = (
        this.stmt<PositionRow>('SELECT * FROM positions ORDER BY symbol').all() as PositionRow[]
      ).map(toPosition);
      const openOrders = (
        this.stmt<OrderRow>(
          `SELECT * FROM orders WHERE status IN ('new', 'working') ORDER BY seq`,
        ).all() as OrderRow[]
      ).map(toOrder);
      return { account: toAccount(row), positions, openOrders };
    });
  }

  init(account: AccountState): void {
    this.write('creating the account', () => {
      this.stmt(
        `INSERT INTO account (id, initial_equity, cash, realized_pnl, fees, day, day_start_equity,
           opening_stopped_by, daily_loss_halt_day, next_order_no, limits, updated_at)
         VALUES (1, @initialEquity, @cash, @realizedPnl, @fees, @day, @dayStartEquity,
           @openingStoppedBy, @dailyLossHaltDay, @nextOrderNo, NULL, @updatedAt)`,
      ).run(this.accountParams(account));
    });
  }

  insertOrder(order: TraderOrder, account: AccountState): void {
    this.write(`recording order ${order.clientOrderId}`, () => {
      this.stmt(
        `INSERT INTO orders (client_order_id, symbol, side, qty, type, reduce_only, status, filled_qty,
           avg_fill_price, fees, reason, created_at, updated_at)
         VALUES (@clientOrderId, @symbol, @side, @qty, @type, @reduceOnly, @status, @filledQty,
           @avgFillPrice, @fees, @reason, @createdAt, @updatedAt)`,
      ).run(orderParams(order));
      this.putAccount(account);
    });
  }

  updateOrder(order: TraderOrder): void {
    this.write(`updating order ${order.clientOrderId}`, () => this.putOrder(order));
  }

  applyFill(fill: TraderFill, order: TraderOrder, position: StoredPosition, account: AccountState): boolean {
    return this.write(`recording fill ${fill.id}`, () => {
      const inserted = this.stmt(
        `INSERT INTO fills (id, client_order_id, symbol, side, qty, price, fee, realized_pnl, ts)
         VALUES (@id, @clientOrderId, @symbol, @side, @qty, @price, @fee, @realizedPnl, @ts)
         ON CONFLICT (id) DO NOTHING`,
      ).run({
        id: fill.id,
        clientOrderId: fill.clientOrderId,
        symbol: fill.symbol,
        side: fill.side,
        qty: fill.qty,
        price: fill.price,
        fee: fill.fee,
        realizedPnl: fill.realizedPnl,
        ts: Math.round(fill.ts),
      });
      if (inserted.changes === 0) return false;
      this.putOrder(order);
      this.stmt(
        `INSERT INTO positions (symbol, qty, avg_price, realized_pnl, fees)
         VALUES (@symbol, @qty, @avgPrice, @realizedPnl, @fees)
         ON CONFLICT (symbol) DO UPDATE SET qty = excluded.qty, avg_price = excluded.avg_price,
           realized_pnl = excluded.realized_pnl, fees = excluded.fees`,
      ).run({
        symbol: position.symbol,
        qty: position.qty,
        avgPrice: position.avgPrice,
        realizedPnl: position.realizedPnl,
        fees: position.fees,
      });
      this.putAccount(account);
      return true;
    });
  }

  saveAccount(account: AccountState): void {
    this.write('saving the account', () => this.putAccount(account));
  }

  saveLimits(limits: RiskLimits): void {
    this.write('saving the risk limits', () => {
      const r = this.stmt('UPDATE account SET limits = ?, updated_at = ? WHERE id = 1').run(
        JSON.stringify(limits),
        Math.round(this.now()),
      );
      if (r.changes === 0) throw new Error('no account yet: init() comes first');
    });
  }

  appendEquity(point: TraderEquityPoint): void {
    this.write('recording equity', () => {
      this.stmt(
        `INSERT INTO equity (t, equity, realized_pnl, unrealized_pnl)
         VALUES (@t, @equity, @realizedPnl, @unrealizedPnl)
         ON CONFLICT (t) DO UPDATE SET equity = excluded.equity, realized_pnl = excluded.realized_pnl,
           unrealized_pnl = excluded.unrealized_pnl`,
      ).run({
        t: Math.round(point.t),
        equity: point.equity,
        realizedPnl: point.realizedPnl,
        unrealizedPnl: point.unrealizedPnl,
      });
      // Pruned from the newest point back, so a clock running ahead of the data cannot empty it.
      if (point.t - this.lastPrune >= PRUNE_EVERY_MS) {
        this.lastPrune = point.t;
        this.stmt('DELETE FROM equity WHERE t < ?').run(point.t - EQUITY_RETENTION_MS);
      }
    });
  }

  /** The limits last saved (null before saveLimits or when unreadable). */
  limits(): RiskLimits | null {
    const raw = this.run('reading the risk limits', () =>
      this.stmt('SELECT limits FROM account WHERE id = 1').pluck().get(),
    ) as string | null | undefined;
    if (!raw) return null;
    const r = riskLimitsSchema.safeParse(safeJson(raw));
    return r.success ? r.data : null;
  }

  /** The state shown for a stopped trader: written every few seconds and at stop. */
  saveSnapshot(snapshot: TraderSnapshot): void {
    this.write('saving the snapshot', () => {
      this.stmt(
        `INSERT INTO last_snapshot (id, at, json) VALUES (1, ?, ?)
         ON CONFLICT (id) DO UPDATE SET at = excluded.at, json = excluded.json`,
      ).run(Math.round(snapshot.at), JSON.stringify(snapshot));
    });
  }

  lastSnapshot(): TraderSnapshot | null {
    const raw = this.run('reading the snapshot', () =>
      this.stmt('SELECT json FROM last_snapshot WHERE id = 1').pluck().get(),
    ) as string | undefined;
    return raw === undefined ? null : (safeJson(raw) as TraderSnapshot | null);
  }

  /** Every order, oldest first (tests and tools; the core pages them itself). */
  orders(): (TraderOrder & { seq: number })[] {
    return this.run('reading orders', () =>
      (this.stmt<OrderRow>('SELECT * FROM orders ORDER BY seq').all() as OrderRow[]).map((r) => ({
        ...toOrder(r),
        seq: r.seq,
      })),
    );
  }

  /** Every fill, oldest first. */
  fills(): (TraderFill & { seq: number })[] {
    return this.run('reading fills', () =>
      (this.stmt<FillRow>('SELECT * FROM fills ORDER BY seq').all() as FillRow[]).map((r) => ({
        ...toFill(r),
        seq: r.seq,
      })),
    );
  }

  /** Equity points with from <= t < to, oldest first. */
  equity(from = 0, to = Number.MAX_SAFE_INTEGER): TraderEquityPoint[] {
    return this.run('reading equity', () =>
      (
        this.stmt<EquityRow>('SELECT * FROM equity WHERE t >= ? AND t < ? ORDER BY t').all(
          from,
          to,
        ) as EquityRow[]
      ).map(toEquity),
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stmts.clear();
    this.db.close();
  }

  private putOrder(order: TraderOrder): void {
    const r = this.stmt(
      `UPDATE orders SET status = @status, filled_qty = @filledQty, avg_fill_price = @avgFillPrice,
         fees = @fees, reason = @reason, updated_at = @updatedAt
       WHERE client_order_id = @clientOrderId`,
    ).run(orderParams(order));
    // An update of an order never recorded is a bug upstream: it must not pass silently (and in a
    // fill's transaction it takes the whole fill back).
    if (r.changes === 0) throw new Error(`order ${order.clientOrderId} is not recorded`);
  }

  private putAccount(a: AccountState): void {
    const r = this.stmt(
      `UPDATE account SET initial_equity = @initialEquity, cash = @cash, realized_pnl = @realizedPnl,
         fees = @fees, day = @day, day_start_equity = @dayStartEquity,
         opening_stopped_by = @openingStoppedBy, daily_loss_halt_day = @dailyLossHaltDay,
         next_order_no = @nextOrderNo, updated_at = @updatedAt
       WHERE id = 1`,
    ).run(this.accountParams(a));
    if (r.changes === 0) throw new Error('no account yet: init() comes first');
  }

  private accountParams(a: AccountState): Record<string, unknown> {
    return {
      initialEquity: a.initialEquity,
      cash: a.cash,
      realizedPnl: a.realizedPnl,
      fees: a.fees,
      day: Math.round(a.day),
      dayStartEquity: a.dayStartEquity,
      openingStoppedBy: a.openingStoppedBy ?? null,
      dailyLossHaltDay: a.dailyLossHaltDay === null ? null : Math.round(a.dailyLossHaltDay),
      nextOrderNo: a.nextOrderNo,
      updatedAt: Math.round(this.now()),
    };
  }

  private stmt<R = unknown>(sql: string): Statement<unknown[], R> {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s as Statement<unknown[], R>;
  }

  /** One write transaction; a failure leaves the file as it was and is a TraderDbError. */
  private write<T>(doing: string, body: () => T): T {
    return this.run(doing, () => this.db.transaction(body).immediate());
  }

  private run<T>(doing: string, body: () => T): T {
    if (this.closed) throw new Error(`${this.file} is closed (${doing})`);
    try {
      return body();
    } catch (error) {
      throw traderDbErrors.from(error, this.file, doing);
    }
  }
}

function orderParams(o: TraderOrder): Record<string, unknown> {
  return {
    clientOrderId: o.clientOrderId,
    symbol: o.symbol,
    side: o.side,
    qty: o.qty,
    type: o.type,
    reduceOnly: o.reduceOnly ? 1 : 0,
    status: o.status,
    filledQty: o.filledQty,
    avgFillPrice: o.avgFillPrice,
    fees: o.fees,
    reason: o.reason,
    createdAt: Math.round(o.createdAt),
    updatedAt: Math.round(o.updatedAt),
  };
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return null;
  }
}
