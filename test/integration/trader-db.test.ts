/** trader.db on real files: what is written comes back, a fill is all or nothing, bad files are named. */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  moveTraderDbAside,
  openTraderDb,
  TRADER_SCHEMA_VERSION,
  TraderDb,
  TraderDbError,
  traderDbPath,
  EQUITY_RETENTION_MS,
} from '../../src/services/trader/trader-db';
import type { AccountState, StoredPosition } from '../../src/services/trader/types';
import type { TraderFill, TraderOrder, TraderSnapshot } from '../../src/shared/trader-api';
import { DEFAULT_RISK_LIMITS } from '../../src/shared/trader-api';
import { tempDir } from '../helpers/temp-dir';

const T0 = Date.UTC(2026, 2, 3, 9, 0, 0);
let dir: ReturnType<typeof tempDir>;
let file: string;
const open: TraderDb[] = [];

beforeEach(() => {
  dir = tempDir('vigil-trader-db-');
  file = traderDbPath(dir.path, 'paper-1');
});
afterEach(() => {
  for (const db of open.splice(0)) db.close();
  dir.remove();
});

function db(): TraderDb {
  const d = TraderDb.open(file, { now: () => T0 });
  open.push(d);
  return d;
}

function reopen(d: TraderDb): TraderDb {
  d.close();
  open.splice(open.indexOf(d), 1);
  return db();
}

const account = (over: Partial<AccountState> = {}): AccountState => ({
  initialEquity: 10_000,
  cash: 10_000,
  realizedPnl: 0,
  fees: 0,
  day: Date.UTC(2026, 2, 3),
  dayStartEquity: 10_000,
  openingStoppedBy: null,
  dailyLossHaltDay: null,
  nextOrderNo: 1,
  ...over,
});

const order = (n: number, over: Partial<TraderOrder> = {}): TraderOrder => ({
  clientOrderId: `paper-1-${n}`,
  symbol: 'BTCUSDT',
  side: 'buy',
  qty: 0.01,
  type: 'market',
  reduceOnly: false,
  status: 'new',
  filledQty: 0,
  avgFillPrice: null,
  fees: 0,
  reason: 'fast above slow',
  createdAt: T0 + n,
  updatedAt: T0 + n,
  ...over,
});

const fillOf = (o: TraderOrder, price: number, fee: number): TraderFill => ({
  id: `${o.clientOrderId}:1`,
  clientOrderId: o.clientOrderId,
  symbol: o.symbol,
  side: o.side,
  qty: o.qty,
  price,
  fee,
  realizedPnl: 0,
  ts: o.createdAt + 50,
});

/** Order 1 bought and filled: what the engine writes for it. */
function buyOne(d: TraderDb): { o: TraderOrder; f: TraderFill; pos: StoredPosition; acc: AccountState } {
  const o = order(1);
  d.insertOrder(o, account({ nextOrderNo: 2 }));
  const f = fillOf(o, 60_000, 0.6);
  const filled: TraderOrder = { ...o, status: 'filled', filledQty: o.qty, avgFillPrice: 60_000, fees: 0.6 };
  const pos: StoredPosition = { symbol: 'BTCUSDT', qty: 0.01, avgPrice: 60_000, realizedPnl: 0, fees: 0.6 };
  const acc = account({ cash: 10_000 - 600 - 0.6, fees: 0.6, nextOrderNo: 2 });
  expect(d.applyFill(f, filled, pos, acc)).toBe(true);
  return { o: filled, f, pos, acc };
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function openError(fn: () => unknown): TraderDbError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TraderDbError);
    return error as TraderDbError;
  }
  throw new Error('expected an error');
}

describe('trader.db', () => {
  it('is new and empty at first, in WAL, at the current schema', () => {
    const d = db();
    expect(d.load()).toBeNull();
    expect(d.lastSnapshot()).toBeNull();
    expect(d.file).toBe(resolve(dir.path, 'trader', 'paper-1.db'));
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(TRADER_SCHEMA_VERSION);
    const cols = (t: string) => (raw.pragma(`table_info(${t})`) as { name: string }[]).map((c) => c.name);
    // The columns the core's reader (trader-history.ts) counts on.
    expect(cols('account')).toEqual([
      'id',
      'initial_equity',
      'cash',
      'realized_pnl',
      'fees',
      'day',
      'day_start_equity',
      'opening_stopped_by',
      'daily_loss_halt_day',
      'next_order_no',
      'limits',
      'updated_at',
    ]);
    expect(cols('orders')).toEqual([
      'seq',
      'client_order_id',
      'symbol',
      'side',
      'qty',
      'type',
      'reduce_only',
      'status',
      'filled_qty',
      'avg_fill_price',
      'fees',
      'reason',
      'created_at',
      'updated_at',
    ]);
    expect(cols('fills')).toEqual([
      'seq',
      'id',
      'client_order_id',
      'symbol',
      'side',
      'qty',
      'price',
      'fee',
      'realized_pnl',
      'ts',
    ]);
    expect(cols('positions')).toEqual(['symbol', 'qty', 'avg_price', 'realized_pnl', 'fees']);
    expect(cols('equity')).toEqual(['t', 'equity', 'realized_pnl', 'unrealized_pnl']);
    expect(cols('last_snapshot')).toEqual(['id', 'at', 'json']);
    raw.close();
  });

  it('gives back exactly what was written after a reopen', () => {
    let d = db();
    d.init(account());
    const { o, f, pos, acc } = buyOne(d);
    const working = order(2, { side: 'sell', reduceOnly: true, reason: 'flatten' });
    d.insertOrder(working, { ...acc, nextOrderNo: 3 });
    d.updateOrder({ ...working, status: 'working', updatedAt: T0 + 10 });
    const rejected = order(3, { symbol: 'ETHUSDT' });
    d.insertOrder(rejected, { ...acc, nextOrderNo: 4 });
    d.updateOrder({ ...rejected, status: 'rejected', reason: 'no quote for ETHUSDT', updatedAt: T0 + 11 });
    const finalAccount = { ...acc, nextOrderNo: 4, openingStoppedBy: 'person' as const };
    d.saveAccount(finalAccount);
    d.saveLimits({ ...DEFAULT_RISK_LIMITS, maxOrdersPerMinute: 7 });
    d.appendEquity({ t: T0, equity: 10_000, realizedPnl: 0, unrealizedPnl: 0 });
    d.appendEquity({ t: T0 + 5_000, equity: 9_999.1, realizedPnl: 0, unrealizedPnl: -0.3 });
    const snap = { service: 'paper-1', at: T0 + 5_000, running: true, blocks: ['person'] } as TraderSnapshot;
    d.saveSnapshot(snap);

    d = reopen(d);
    expect(d.load()).toEqual({
      account: finalAccount,
      positions: [pos],
      openOrders: [{ ...working, status: 'working', updatedAt: T0 + 10 }],
    });
    expect(d.orders()).toEqual([
      { ...o, seq: 1 },
      { ...working, status: 'working', updatedAt: T0 + 10, seq: 2 },
      { ...rejected, status: 'rejected', reason: 'no quote for ETHUSDT', updatedAt: T0 + 11, seq: 3 },
    ]);
    expect(d.fills()).toEqual([{ ...f, seq: 1 }]);
    expect(d.limits()).toEqual({ ...DEFAULT_RISK_LIMITS, maxOrdersPerMinute: 7 });
    expect(d.equity()).toEqual([
      { t: T0, equity: 10_000, realizedPnl: 0, unrealizedPnl: 0 },
      { t: T0 + 5_000, equity: 9_999.1, realizedPnl: 0, unrealizedPnl: -0.3 },
    ]);
    expect(d.lastSnapshot()).toEqual(snap);
    // The core's reader opens it read-only while the trader writes.
    const ro = openTraderDb(file, { readonly: true });
    expect(ro.prepare('SELECT count(*) FROM orders').pluck().get()).toBe(3);
    ro.close();
  });

  it('records a fill once: a resend of the same fill id changes nothing', () => {
    const d = db();
    d.init(account());
    const { o, f, pos, acc } = buyOne(d);
    const doubled = { ...acc, cash: acc.cash - 600 };
    expect(d.applyFill(f, { ...o, filledQty: 0.02 }, { ...pos, qty: 0.02 }, doubled)).toBe(false);
    expect(d.load()).toEqual({ account: acc, positions: [pos], openOrders: [] });
    expect(d.fills()).toHaveLength(1);
    expect(d.orders()[0]!.filledQty).toBe(0.01);
    // A client order id is never reused for a second order.
    expect(() => d.insertOrder(order(1), acc)).toThrow(TraderDbError);
    expect(d.orders()).toHaveLength(1);
  });

  it('keeps a fill all or nothing when the transaction fails part way', () => {
    const d = db();
    d.init(account());
    const o = order(1);
    const acc = account({ nextOrderNo: 2 });
    d.insertOrder(o, acc);
    const before = { load: d.load(), orders: d.orders() };
    // The account is written last: the fill, the order and the position are already in the
    // transaction when this fails (as a full disk or an I/O error would).
    const raw = new Database(file);
    raw.exec(
      `CREATE TRIGGER fail_account BEFORE UPDATE ON account BEGIN SELECT RAISE(ABORT, 'disk trouble'); END`,
    );
    raw.close();
    const f = fillOf(o, 60_000, 0.6);
    const filled: TraderOrder = { ...o, status: 'filled', filledQty: o.qty, avgFillPrice: 60_000, fees: 0.6 };
    const pos: StoredPosition = { symbol: 'BTCUSDT', qty: 0.01, avgPrice: 60_000, realizedPnl: 0, fees: 0.6 };
    const e = openError(() => d.applyFill(f, filled, pos, { ...acc, cash: 9_399.4 }));
    expect(e.message).toMatch(/failed while recording fill paper-1-1:1 \(disk trouble\)/);
    expect(e.message).toContain(file);
    expect({ load: d.load(), orders: d.orders() }).toEqual(before);
    expect(d.fills()).toEqual([]);

    // Fixed, the same fill goes in whole.
    const fix = new Database(file);
    fix.exec('DROP TRIGGER fail_account');
    fix.close();
    expect(d.applyFill(f, filled, pos, { ...acc, cash: 9_399.4 })).toBe(true);
    expect(d.load()!.positions).toEqual([pos]);

    // A fill of an order never recorded is refused whole too.
    const stray = order(9);
    expect(() =>
      d.applyFill(fillOf(stray, 1, 0), { ...stray, status: 'filled' }, { ...pos, qty: 5 }, acc),
    ).toThrow(/order paper-1-9 is not recorded/);
    expect(d.fills()).toHaveLength(1);
    expect(d.load()!.positions).toEqual([pos]);
  });

  it('prunes equity points older than 30 days behind the newest', () => {
    const d = db();
    d.init(account());
    const day = 24 * 3_600_000;
    d.appendEquity({ t: T0, equity: 1, realizedPnl: 0, unrealizedPnl: 0 });
    d.appendEquity({ t: T0 + 10 * day, equity: 2, realizedPnl: 0, unrealizedPnl: 0 });
    d.appendEquity({ t: T0 + EQUITY_RETENTION_MS + 5 * day, equity: 3, realizedPnl: 0, unrealizedPnl: 0 });
    expect(d.equity().map((p) => p.equity)).toEqual([2, 3]);
  });

  it('gives a clear error for a corrupt file, a truncated one, a foreign one and a newer one, never wiping them', () => {
    mkdirSync(dirname(file), { recursive: true });
    const garbage = Buffer.from('not a database, just text '.repeat(100));
    writeFileSync(file, garbage);
    const e = openError(() => db());
    expect(e.code).toBe('corrupt');
    expect(e.message).toMatch(/is not a valid database \(file is not a database\)/);
    expect(e.message).toMatch(/stop the trader and move the file aside/);
    expect(readFileSync(file).equals(garbage)).toBe(true);

    // A real file cut short: the probe of the tables' ends meets the missing pages.
    moveTraderDbAside(file);
    const d = db();
    d.init(account());
    for (let n = 1; n <= 2000; n++)
      d.insertOrder(order(n, { reason: 'x'.repeat(200) }), account({ nextOrderNo: n + 1 }));
    d.close();
    open.length = 0;
    truncateSync(file, Math.floor(statSync(file).size / 2));
    const before = sha(file);
    const t = openError(() => db());
    expect(t.code).toBe('corrupt');
    expect(sha(file)).toBe(before);

    moveTraderDbAside(file);
    const other = new Database(file);
    other.exec('CREATE TABLE notes (x TEXT)');
    other.close();
    expect(openError(() => db()).message).toMatch(/not a Vigil trader database/);

    moveTraderDbAside(file);
    db().close();
    open.length = 0;
    const raw = new Database(file);
    raw.pragma(`user_version = ${TRADER_SCHEMA_VERSION + 3}`);
    raw.close();
    const newer = openError(() => db());
    expect(newer.code).toBe('newer-version');
    expect(newer.message).toMatch(/trader schema version/);
    expect(() => openTraderDb(join(dir.path, 'trader', 'never.db'), { readonly: true })).toThrow(
      /does not exist/,
    );
  });

  it('loses no acknowledged fill when the writer is SIGKILLed, and every fill has its order and position', async () => {
    const module = resolve(import.meta.dirname, '../../src/services/trader/trader-db.ts');
    // The engine's side: order inserted, then filled (fill + order + position + account in one go),
    // "acked N" once applyFill returned.
    const code = `
      import { TraderDb } from ${JSON.stringify(module)};
      const d = TraderDb.open(${JSON.stringify(file)});
      const acc = { initialEquity: 1e6, cash: 1e6, realizedPnl: 0, fees: 0, day: 0, dayStartEquity: 1e6,
        openingStoppedBy: null, dailyLossHaltDay: null, nextOrderNo: 1 };
      d.init(acc);
      let qty = 0;
      let n = 0;
      const step = () => {
        n += 1;
        const id = 'k-' + n;
        const o = { clientOrderId: id, symbol: 'BTCUSDT', side: 'buy', qty: 1, type: 'market', reduceOnly: false,
          status: 'new', filledQty: 0, avgFillPrice: null, fees: 0, reason: 'r', createdAt: n, updatedAt: n };
        acc.nextOrderNo = n + 1;
        d.insertOrder(o, acc);
        qty += 1;
        acc.cash -= 100;
        d.applyFill({ id: id + ':1', clientOrderId: id, symbol: 'BTCUSDT', side: 'buy', qty: 1, price: 100,
          fee: 0, realizedPnl: 0, ts: n }, { ...o, status: 'filled', filledQty: 1, avgFillPrice: 100, updatedAt: n },
          { symbol: 'BTCUSDT', qty, avgPrice: 100, realizedPnl: 0, fees: 0 }, acc);
        console.log('acked ' + n);
        setImmediate(step);
      };
      step();`;
    const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let acked = 0;
    let out = '';
    const exited = new Promise<void>((r) => proc.on('exit', () => r()));
    await new Promise<void>((resolveKill, reject) => {
      proc.on('exit', (c) => reject(new Error(`the writer exited early (code ${c}): ${stderr}`)));
      proc.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        for (const m of out.matchAll(/^acked (\d+)$/gm)) acked = Math.max(acked, Number(m[1]));
        out = out.slice(out.lastIndexOf('\n') + 1);
        if (acked >= 200) {
          proc.stdout.removeAllListeners('data');
          setTimeout(() => {
            proc.kill('SIGKILL');
            resolveKill();
          }, Math.random() * 20);
        }
      });
    });
    await exited;
    const d = db();
    const state = d.load()!;
    const fills = d.fills();
    const orders = d.orders();
    expect(fills.length).toBeGreaterThanOrEqual(acked);
    // At most the one order in flight at the kill has no fill yet (it would be resubmitted).
    expect(orders.length - fills.length).toBeLessThanOrEqual(1);
    expect(state.openOrders.length).toBe(orders.length - fills.length);
    expect(state.positions).toEqual([
      { symbol: 'BTCUSDT', qty: fills.length, avgPrice: 100, realizedPnl: 0, fees: 0 },
    ]);
    expect(state.account.cash).toBe(1e6 - 100 * fills.length);
    expect(state.account.nextOrderNo).toBe(orders.length + 1);
    for (const f of fills)
      expect(orders.find((o) => o.clientOrderId === f.clientOrderId)!.status).toBe('filled');
    console.log(`killed after ${acked} acknowledged fills; ${fills.length} found, ${orders.length} orders`);
  });
});
