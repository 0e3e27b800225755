/**
 * The core's read-only reader of trader.db (src/main/api/trader-history.ts) on files written as the
 * trader program writes them: pages of orders and fills, the equity curve downsampled, a stopped
 * trader's state from its tables, a never-started one's from its configuration, and clear errors for
 * files that are not trader databases.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSnapshot, TraderHistory } from '../../src/main/api/trader-history';
import { traderDbPath } from '../../src/services/trader/trader-db';
import { traderConfigSchema, type TraderSnapshot } from '../../src/shared/trader-api';
import { tempDir } from '../helpers/temp-dir';
import { fill, order, TraderDbFixture } from '../helpers/trader-db-fixture';

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 10, 15, 0, 0);
const TODAY = Math.floor(NOW / DAY) * DAY;
const config = traderConfigSchema.parse({
  symbols: ['BTCUSDT', 'ETHUSDT'],
  equity: 10_000,
  strategy: { id: 'ma-crossover', params: { fast: 5, slow: 20 } },
  limits: { maxPositionNotional: 3000, maxOrderNotional: 1000, maxOrdersPerMinute: 10, maxDailyLoss: 200 },
});

let dir: ReturnType<typeof tempDir>;
let history: TraderHistory;
let fx: TraderDbFixture | null;

beforeEach(() => {
  dir = tempDir();
  history = new TraderHistory(dir.path);
  fx = null;
});

afterEach(() => {
  fx?.close();
  dir.remove();
});

const file = () => traderDbPath(dir.path, 'paper');
const db = () => (fx = new TraderDbFixture(file()));

describe('trader history', () => {
  it('has nothing for a trader that never ran, and a snapshot from its configuration', () => {
    expect(history.orders({ name: 'paper', status: 'all', limit: 10 })).toEqual({ items: [], next: null });
    expect(history.fills({ name: 'paper', limit: 10 })).toEqual({ items: [], next: null });
    expect(history.equity({ name: 'paper', maxPoints: 10 })).toEqual([]);
    expect(history.stoppedSnapshot('paper', config, NOW)).toBeNull();
    const s = configSnapshot('paper', config, NOW);
    expect(s).toMatchObject({
      service: 'paper',
      mode: 'paper',
      running: false,
      blocks: [],
      venue: 'binance-spot',
      resolution: '1m',
      limits: config.limits,
      account: { initialEquity: 10_000, cash: 10_000, equity: 10_000, realizedPnl: 0, dayPnl: 0 },
      positions: [],
      workingOrders: [],
      strategy: { id: 'ma-crossover', version: 1, params: { fast: 5, slow: 20 }, source: null },
    });
    expect(s.strategy.warmupLeft).toBeGreaterThanOrEqual(20);
    expect(s.feeds.map((f) => [f.symbol, f.bid, f.stale])).toEqual([
      ['BTCUSDT', null, true],
      ['ETHUSDT', null, true],
    ]);
    // A file the trader created but has not set up yet: nothing recorded either.
    mkdirSync(dirname(file()), { recursive: true });
    new Database(file()).close();
    expect(history.stoppedSnapshot('paper', config, NOW)).toBeNull();
    expect(history.orders({ name: 'paper', status: 'all', limit: 10 }).items).toEqual([]);
  });

  it('pages orders newest first, by status, and fills', () => {
    const f = db();
    for (let n = 1; n <= 7; n++) f.order(order(n, n >= 6 ? { status: n === 6 ? 'new' : 'working' } : {}));
    for (let n = 1; n <= 5; n++) f.fill(fill(n));
    const first = history.orders({ name: 'paper', status: 'all', limit: 3 });
    expect(first.items.map((o) => [o.seq, o.clientOrderId])).toEqual([
      [7, 't-7'],
      [6, 't-6'],
      [5, 't-5'],
    ]);
    expect(first.next).toBe(5);
    expect(first.items[2]).toEqual({ ...order(5), seq: 5 });
    const rest = history.orders({ name: 'paper', status: 'all', limit: 10, before: first.next! });
    expect(rest).toMatchObject({ next: null });
    expect(rest.items.map((o) => o.seq)).toEqual([4, 3, 2, 1]);
    expect(
      history.orders({ name: 'paper', status: 'working', limit: 10 }).items.map((o) => o.status),
    ).toEqual(['working', 'new']);
    expect(history.orders({ name: 'paper', status: 'done', limit: 2 })).toMatchObject({ next: 4 });
    const fills = history.fills({ name: 'paper', limit: 2 });
    expect(fills.items).toEqual([
      { ...fill(5), seq: 5 },
      { ...fill(4), seq: 4 },
    ]);
    expect(history.fills({ name: 'paper', limit: 2, before: 2 })).toEqual({
      items: [{ ...fill(1), seq: 1 }],
      next: null,
    });
  });

  it('downsamples the equity curve to maxPoints, the last point of each interval, oldest first', () => {
    const t0 = NOW - 30 * DAY;
    // A month of 5 s points.
    const points = Array.from({ length: (30 * DAY) / 5000 }, (_, i) => ({
      t: t0 + i * 5000,
      equity: 10_000 + i,
    }));
    db().equity(points);
    const all = history.equity({ name: 'paper', maxPoints: 500 });
    expect(all.length).toBeLessThanOrEqual(500);
    expect(all.length).toBeGreaterThan(490);
    expect(all.at(-1)).toEqual({
      t: points.at(-1)!.t,
      equity: points.at(-1)!.equity,
      realizedPnl: 0,
      unrealizedPnl: 0,
    });
    expect(all.every((p, i) => i === 0 || p.t > all[i - 1]!.t)).toBe(true);
    // Each is the last point of its interval: about 1/500 of the month apart.
    const gaps = all.slice(1).map((p, i) => p.t - all[i]!.t);
    expect(Math.max(...gaps) - Math.min(...gaps)).toBeLessThanOrEqual(5000);
    // A short range is every point there.
    const from = t0 + 1000 * 5000;
    const few = history.equity({ name: 'paper', from, to: from + 10 * 5000, maxPoints: 500 });
    expect(few.map((p) => p.equity)).toEqual(Array.from({ length: 10 }, (_, i) => 10_000 + 1000 + i));
    expect(history.equity({ name: 'paper', from: NOW + DAY, maxPoints: 10 })).toEqual([]);
  });

  it('shows a stopped trader: money and positions from its tables, marks and counters from its last snapshot', () => {
    const last = {
      ...configSnapshot('paper', config, NOW - 60_000),
      running: true,
      blocks: ['stale'],
      positions: [
        { symbol: 'BTCUSDT', qty: 0.5, avgPrice: 100, mark: 110, unrealizedPnl: 5, realizedPnl: 3, fees: 1 },
      ],
      feeds: [
        { symbol: 'BTCUSDT', bid: 109, ask: 111, lastAt: NOW - 61_000, stale: false },
        { symbol: 'ETHUSDT', bid: 19, ask: 21, lastAt: NOW - 61_000, stale: false },
        { symbol: 'SOLUSDT', bid: 1, ask: 2, lastAt: NOW - 61_000, stale: false },
      ],
      lastDecision: { symbol: 'BTCUSDT', target: 0.5, reason: 'fast above slow', at: NOW - 70_000 },
      counters: { ticks: 900, decisions: 4, orders: 3, fills: 2, rejected: 1 },
    } satisfies TraderSnapshot;
    db()
      .account({
        initialEquity: 10_000,
        cash: 9_000,
        realizedPnl: 3,
        fees: 1.5,
        day: TODAY,
        dayStartEquity: 9_990,
        openingStoppedBy: 'person',
        dailyLossHaltDay: TODAY,
        updatedAt: NOW - 60_000,
      })
      // Written after the snapshot: the tables win (a fill moved it from 0.5 to 1).
      .position('BTCUSDT', 1, 105, 3, 1)
      .position('ETHUSDT', -2, 25, 0, 0.5)
      .position('XRPUSDT', 0, null, 0, 0)
      .order(order(1))
      .order(order(2, { status: 'working', reason: 'closing' }))
      .snapshot(last);
    const s = history.stoppedSnapshot('paper', config, NOW)!;
    // BTC 1 × (110 − 105) = 5; ETH −2 × (20 − 25) = 10.
    expect(s.positions).toEqual([
      { symbol: 'BTCUSDT', qty: 1, avgPrice: 105, mark: 110, unrealizedPnl: 5, realizedPnl: 3, fees: 1 },
      { symbol: 'ETHUSDT', qty: -2, avgPrice: 25, mark: 20, unrealizedPnl: 10, realizedPnl: 0, fees: 0.5 },
    ]);
    expect(s).toMatchObject({
      service: 'paper',
      running: false,
      reloading: false,
      at: NOW - 60_000,
      // Durable blocks only: stale data means nothing for a trader that is not running.
      blocks: ['person', 'daily-loss'],
      limits: config.limits,
      account: {
        initialEquity: 10_000,
        cash: 9_000,
        equity: 10_000 + 3 - 1.5 + 15,
        realizedPnl: 3,
        unrealizedPnl: 15,
        fees: 1.5,
        dayStartEquity: 9_990,
        dayPnl: 10_016.5 - 9_990,
      },
      lastDecision: last.lastDecision,
      counters: last.counters,
      feedProblem: null,
    });
    expect(s.workingOrders).toEqual([{ ...order(2, { status: 'working', reason: 'closing' }) }]);
    expect(s.feeds).toEqual([
      { symbol: 'BTCUSDT', bid: 109, ask: 111, lastAt: NOW - 61_000, stale: true },
      { symbol: 'ETHUSDT', bid: 19, ask: 21, lastAt: NOW - 61_000, stale: true },
    ]);
    // The next UTC day: yesterday's halt is over, and the day starts at the current equity.
    const tomorrow = history.stoppedSnapshot('paper', config, NOW + DAY)!;
    expect(tomorrow.blocks).toEqual(['person']);
    expect(tomorrow.account).toMatchObject({ dayStartEquity: 10_016.5, dayPnl: 0 });
  });

  it('reads while the trader holds the file open and writes', () => {
    const f = db().account({
      initialEquity: 1000,
      cash: 1000,
      realizedPnl: 0,
      fees: 0,
      day: TODAY,
      dayStartEquity: 1000,
      updatedAt: NOW,
    });
    f.order(order(1));
    expect(history.orders({ name: 'paper', status: 'all', limit: 5 }).items).toHaveLength(1);
    f.order(order(2));
    expect(history.orders({ name: 'paper', status: 'all', limit: 5 }).items).toHaveLength(2);
    // No snapshot yet: positions from the tables, marks unknown.
    f.position('BTCUSDT', 0.1, 100);
    expect(history.stoppedSnapshot('paper', config, NOW)!.positions).toEqual([
      { symbol: 'BTCUSDT', qty: 0.1, avgPrice: 100, mark: null, unrealizedPnl: 0, realizedPnl: 0, fees: 0 },
    ]);
  });

  it('names the file and what is wrong when it is not a trader database', () => {
    mkdirSync(dirname(file()), { recursive: true });
    const refused = (message: RegExp) =>
      expect.objectContaining({
        code: 'unavailable',
        field: 'name',
        message: expect.stringMatching(message),
      });
    const read = () => history.orders({ name: 'paper', status: 'all', limit: 5 });

    writeFileSync(file(), 'not a database at all, just some text that is long enough '.repeat(4));
    expect(read).toThrow(refused(/paper's trader database: .*paper\.db is not a valid database/));

    rmSync(file());
    const foreign = new Database(file());
    foreign.exec('CREATE TABLE notes (x)');
    foreign.close();
    expect(read).toThrow(
      refused(/paper\.db cannot be opened \(it is an SQLite database, but not a Vigil trader database\)/),
    );

    const newer = new Database(file());
    newer.pragma('user_version = 9');
    newer.close();
    expect(read).toThrow(
      refused(/was written by a newer Vigil \(trader schema version 9; this Vigil knows up to 1\)/),
    );
  });
});
