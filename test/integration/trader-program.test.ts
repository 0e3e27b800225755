/**
 * The trader program end to end: the real supervisor (a core), the market simulator, a real collector
 * child (binance-spot) publishing on the real bus, and the built trader child (`npm run build` first)
 * paper trading on it, with trader.db read (read-only) beside it. It trades; SIGKILLed at several
 * moments (one right after an order is recorded) it comes back with exactly the positions, cash and
 * P&L it had, and no order filled twice or left without an outcome; a reload under the stream loses
 * and repeats nothing; stale data pauses it and fresh data resumes it; the kill switch flattens.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Database } from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../src/main/core';
import type { ChildEvent } from '../../src/shared/child-protocol';
import { resolveDefinition, type ServiceDefinitionInput } from '../../src/shared/service-definition';
import type { ServiceInfo } from '../../src/shared/services';
import type { TraderAlert, TraderConfigInput, TraderSnapshot } from '../../src/shared/trader-api';
import { startSimulator, type Simulator } from '../../src/services/simulator/simulator';
import { openTraderDb, traderDbPath } from '../../src/services/trader/trader-db';
import { until } from '../helpers/process-fixtures';
import { tempDir } from '../helpers/temp-dir';

const servicesDir = resolve(import.meta.dirname, '../../out/services');
const NAME = 'paper';
const EQUITY = 10_000;

const traderConfig: TraderConfigInput = {
  venue: 'binance-spot',
  symbols: ['BTCUSDT', 'ETHUSDT'],
  resolution: '1s',
  // Short averages on 1 s candles: warm in 5 s, crossing every few seconds on the simulator's walk.
  strategy: { id: 'ma-crossover', params: { fast: 2, slow: 5 } },
  equity: EQUITY,
  // A second of latency keeps each order open long enough to be killed right after it is recorded.
  costs: { feeBps: 10, slippageBps: 2, latencyMs: 1_000 },
  limits: {
    maxPositionNotional: 5_000,
    maxOrderNotional: 5_000,
    maxOrdersPerMinute: 600,
    maxDailyLoss: 5_000,
  },
  staleAfterMs: 2_000,
};

let dir: ReturnType<typeof tempDir>;
let sim: Simulator;
let core: Core;
let db: Database;
const events: { at: number; event: ChildEvent }[] = [];

interface Row {
  [k: string]: unknown;
}
interface Fill {
  seq: number;
  id: string;
  client_order_id: string;
  symbol: string;
  side: 'buy' | 'sell';
  qty: number;
  price: number;
  fee: number;
  realized_pnl: number;
  ts: number;
}
interface Order {
  seq: number;
  client_order_id: string;
  symbol: string;
  status: string;
  qty: number;
  filled_qty: number;
}
interface Position {
  symbol: string;
  qty: number;
  avg_price: number | null;
  realized_pnl: number;
  fees: number;
}
interface Account {
  cash: number;
  realized_pnl: number;
  fees: number;
  next_order_no: number;
}

const all = <T>(sql: string, ...args: unknown[]) => db.prepare(sql).all(...args) as T[];
const account = () => db.prepare('SELECT * FROM account WHERE id = 1').get() as Account & Row;
const positions = () => all<Position>('SELECT * FROM positions ORDER BY symbol');
const orders = () => all<Order>('SELECT * FROM orders ORDER BY seq');
const fills = () => all<Fill>('SELECT * FROM fills ORDER BY seq');
const openOrders = () => all<Order>(`SELECT * FROM orders WHERE status IN ('new', 'working') ORDER BY seq`);

const info = (): ServiceInfo => core.supervisor.get(NAME);
const snapshot = async (): Promise<TraderSnapshot> =>
  (await core.supervisor.request(NAME, 'trader.snapshot', {})) as TraderSnapshot;
const close = (a: number, b: number, eps = 1e-6) =>
  Math.abs(a - b) <= eps * Math.max(1, Math.abs(a), Math.abs(b));
const cashFlow = (f: Fill) => (f.side === 'buy' ? -1 : 1) * f.qty * f.price - f.fee;
const signed = (f: Fill) => (f.side === 'buy' ? 1 : -1) * f.qty;

/** What trader.db must always say: positions, cash, P&L and fees are the sums of its fills. */
function expectConsistent(): void {
  const fs = fills();
  const acc = account();
  expect(close(acc.cash, EQUITY + fs.reduce((s, f) => s + cashFlow(f), 0))).toBe(true);
  expect(
    close(
      acc.fees,
      fs.reduce((s, f) => s + f.fee, 0),
    ),
  ).toBe(true);
  expect(
    close(
      acc.realized_pnl,
      fs.reduce((s, f) => s + f.realized_pnl, 0),
    ),
  ).toBe(true);
  for (const p of positions()) {
    const mine = fs.filter((f) => f.symbol === p.symbol);
    expect(
      close(
        p.qty,
        mine.reduce((s, f) => s + signed(f), 0),
        1e-9,
      ),
      `${p.symbol} qty`,
    ).toBe(true);
    expect(
      close(
        p.fees,
        mine.reduce((s, f) => s + f.fee, 0),
      ),
    ).toBe(true);
  }
  // No order filled twice; every fill belongs to a filled order.
  const byOrder = all<{ c: number }>('SELECT count(*) AS c FROM fills GROUP BY client_order_id HAVING c > 1');
  expect(byOrder).toEqual([]);
  const os = new Map(orders().map((o) => [o.client_order_id, o]));
  for (const f of fs) expect(os.get(f.client_order_id)?.status).toBe('filled');
  expect(acc.next_order_no).toBeGreaterThan(orders().length);
}

function def(input: ServiceDefinitionInput) {
  const r = resolveDefinition(input);
  if (!r.ok) throw new Error(`${input.name}: ${r.error.message}`);
  return r.definition;
}

beforeAll(async () => {
  dir = tempDir('vigil-trader-');
  sim = await startSimulator({ seed: 11, pingIntervalMs: { 'binance-spot': 2_000 } });
  core = await createCore({
    mode: 'headless',
    dataDir: dir.path,
    servicesDir,
    definitions: [
      def({
        name: 'binance-spot',
        kind: 'collector',
        program: { type: 'builtin', name: 'collector' },
        config: {
          venue: 'binance-spot',
          simulated: true,
          endpoints: sim.urls['binance-spot'],
          symbols: ['BTCUSDT', 'ETHUSDT'],
        },
      }),
      def({
        name: NAME,
        kind: 'trader',
        program: { type: 'builtin', name: 'trader' },
        dependsOn: ['binance-spot'],
        heartbeat: { intervalMs: 250, timeoutMs: 5_000 },
        // Killed on purpose several times: restarted at once, never judged a crash loop here.
        restart: {
          backoff: { type: 'steps', stepsMs: [100] },
          crashLoop: { maxFailures: 100, windowMs: 600_000, action: 'fatal' },
        },
        config: traderConfig as Record<string, unknown>,
      }),
    ],
    supervisor: { autostart: false },
  });
  core.supervisor.onChildEvent((service, event) => {
    if (service === NAME) events.push({ at: Date.now(), event });
  });
}, 30_000);

afterAll(async () => {
  db?.close();
  await core?.close();
  await sim?.close();
  dir?.remove();
});

describe('the trader program', () => {
  it('refuses a bad configuration with exit 78, naming the field', () => {
    const r = spawnSync(process.execPath, [resolve(servicesDir, 'trader/index.js')], {
      env: {
        ...process.env,
        VIGIL_CONFIG: JSON.stringify({
          symbols: ['BTCUSDT'],
          strategy: { id: 'ma-crossover', params: { fast: 9, slow: 5 } },
        }),
      },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain(
      'trader: configuration strategy.params.slow: must be more than the fast period (9)',
    );
  });

  it(
    'paper trades on simulated data, subscribed to exactly its symbols, with orders and fills in trader.db',
    { timeout: 60_000 },
    async () => {
      await core.supervisor.start(NAME, { mode: 'paper' }); // a person's start: its mode confirmed
      await until(() => info().state === 'running', 'the trader running', 30_000);
      const file = traderDbPath(dir.path, NAME);
      expect(existsSync(file)).toBe(true);
      db = openTraderDb(file, { readonly: true });
      await until(() => (info().bus ?? []).length > 0, 'its bus report');
      const patterns = (info().bus ?? []).filter((s) => !s.remote).flatMap((s) => s.patterns);
      expect(patterns.sort()).toEqual(
        ['BTCUSDT', 'ETHUSDT']
          .flatMap((s) => [`md.binance-spot.${s}.top`, `md.binance-spot.${s}.trade`])
          .sort(),
      );
      await until(() => fills().length >= 3, 'three fills', 45_000);
      expectConsistent();
      const s = await snapshot();
      expect(s).toMatchObject({ service: NAME, mode: 'paper', running: true, venue: 'binance-spot' });
      expect(s.counters.ticks).toBeGreaterThan(0);
      const m = info().metrics ?? {};
      for (const k of [
        'equity',
        'realized_pnl',
        'unrealized_pnl',
        'day_pnl',
        'positions_open',
        'orders_working',
        'blocked',
        'ticks',
        'ticks_per_sec',
        'tick_p50_ms',
        'tick_p99_ms',
        'decisions',
      ]) {
        expect(m[k], k).toBeTypeOf('number');
      }
      expect(events.some((e) => e.event.name === 'trader.snapshot')).toBe(true);
    },
  );

  it(
    'comes back from SIGKILL with exactly its positions, cash and P&L, no order lost or filled twice',
    { timeout: 60_000 },
    async () => {
      for (const moment of ['anytime', 'order recorded', 'order recorded'] as const) {
        if (moment === 'order recorded') {
          // Polled on the file itself: killed within milliseconds of the order's commit.
          await until(() => openOrders().length > 0, 'an order recorded without an outcome', 30_000);
        }
        const pid = info().pid!;
        process.kill(pid, 'SIGKILL');
        await until(() => info().pid !== pid, 'the kill seen');
        const dead = {
          account: account(),
          positions: positions(),
          open: openOrders(),
          lastFill: fills().at(-1)?.seq ?? 0,
        };
        if (moment === 'order recorded') expect(dead.open.length).toBeGreaterThan(0);

        await until(() => info().state === 'running' && info().pid !== pid, 'restarted by policy', 20_000);
        const s = await snapshot();
        // Warmed at once from the candles the collector recorded in market/binance-spot.db.
        expect(s.strategy.warmupLeft).toBe(0);
        // What it restored, plus what filled since (orders resubmitted or new: a second away at least).
        const since = fills().filter((f) => f.seq > dead.lastFill && f.ts <= s.at);
        expect(close(s.account.cash, dead.account.cash + since.reduce((a, f) => a + cashFlow(f), 0))).toBe(
          true,
        );
        expect(
          close(
            s.account.realizedPnl,
            dead.account.realized_pnl + since.reduce((a, f) => a + f.realized_pnl, 0),
          ),
        ).toBe(true);
        expect(close(s.account.fees, dead.account.fees + since.reduce((a, f) => a + f.fee, 0))).toBe(true);
        for (const p of dead.positions) {
          const live = s.positions.find((q) => q.symbol === p.symbol);
          const moved = since.filter((f) => f.symbol === p.symbol).reduce((a, f) => a + signed(f), 0);
          expect(close(live?.qty ?? 0, p.qty + moved, 1e-9), `${moment}: ${p.symbol}`).toBe(true);
          if (moved === 0) {
            expect(live?.avgPrice ?? null).toBe(p.avg_price);
            expect(live?.realizedPnl).toBe(p.realized_pnl);
          }
        }
        // The orders open at the kill were sent again and ended, each once.
        const ids = dead.open.map((o) => o.client_order_id);
        await until(
          () =>
            orders()
              .filter((o) => ids.includes(o.client_order_id))
              .every((o) => !['new', 'working'].includes(o.status)),
          'the orders open at the kill ended',
          20_000,
        );
        expectConsistent();
      }
    },
  );

  it(
    'reloads new parameters under the steady stream, losing and repeating no tick',
    { timeout: 45_000 },
    async () => {
      const pid = info().pid;
      // With an order in flight, the reload waits for it (a second of latency), buffering the stream.
      await until(() => openOrders().length > 0, 'an order in flight', 30_000);
      const inFlight = openOrders().map((o) => o.client_order_id);
      const from = events.length;
      await core.supervisor.reload(NAME, {
        ...traderConfig,
        strategy: { id: 'ma-crossover', params: { fast: 3, slow: 6 } },
      });
      await until(() => info().state === 'running', 'running again after the reload', 20_000);
      expect(info().pid).toBe(pid);
      // The first snapshot after the reload: snapshots are coalesced (≤ 4 a second), so it may come
      // after the state says running.
      const afterReload = (): TraderSnapshot | undefined => {
        const seen = events
          .slice(from)
          .filter((e) => e.event.name === 'trader.snapshot')
          .map((e) => e.event.data as TraderSnapshot);
        const reloading = seen.findIndex((s) => s.reloading);
        return reloading < 0 ? undefined : seen.slice(reloading).find((s) => !s.reloading);
      };
      await until(() => afterReload() !== undefined, 'a reloading snapshot, then one after it', 10_000);
      // It finished before the new parameters applied: filled by the first snapshot after the reload.
      const applied = afterReload()!;
      expect(applied.strategy.params).toEqual({ fast: 3, slow: 6 });
      for (const id of inFlight) {
        const f = fills().find((x) => x.client_order_id === id);
        expect(f, id).toBeDefined();
        expect(f!.ts).toBeLessThanOrEqual(applied.at);
      }
      expect((await snapshot()).strategy.params).toEqual({ fast: 3, slow: 6 });
      // Quiet the market: every message the bus handed the trader must be counted once as a tick.
      sim.pause();
      try {
        let last = -1;
        await until(
          async () => {
            const s = await snapshot();
            const delivered = info().metrics?.['bus.delivered'] ?? -2;
            const settled = s.counters.ticks === delivered && delivered === last;
            last = delivered;
            return settled;
          },
          'ticks handled = messages delivered',
          15_000,
        );
        expect(info().metrics?.['bus.dropped']).toBe(0);
        console.log(`reload: ${last} ticks handled, each message once`);
      } finally {
        sim.resume();
      }
    },
  );

  it(
    'pauses on stale data with an alert, and resumes by itself when fresh',
    { timeout: 45_000 },
    async () => {
      await until(async () => (await snapshot()).blocks.length === 0, 'no blocks', 20_000);
      const from = events.length;
      const alerts = () =>
        events
          .slice(from)
          .filter((e) => e.event.name === 'trader.alert')
          .map((e) => e.event.data as TraderAlert);
      sim.inject({ type: 'stall', venue: 'binance-spot', ms: 4_500 });
      await until(async () => (await snapshot()).blocks.includes('stale'), 'blocked as stale', 10_000);
      expect(alerts().some((a) => a.kind === 'stale' && !a.cleared)).toBe(true);
      await until(() => info().health === 'degraded', 'degraded while stale');
      await until(async () => !(await snapshot()).blocks.includes('stale'), 'fresh again', 20_000);
      await until(() => alerts().some((a) => a.kind === 'stale' && a.cleared === true), 'the alert cleared');
      await until(() => info().health === 'healthy', 'healthy again');
    },
  );

  it(
    'flattens every position with the kill switch, and stops with its last snapshot saved',
    { timeout: 60_000 },
    async () => {
      await until(
        async () => (await snapshot()).positions.some((p) => p.qty > 0),
        'an open position',
        40_000,
      );
      const s = (await core.supervisor.request(NAME, 'trader.kill', {})) as TraderSnapshot;
      expect(s.positions.every((p) => p.qty === 0)).toBe(true);
      expect(s.workingOrders).toEqual([]);
      expect(s.blocks).toContain('kill-switch');
      expect(positions().every((p) => p.qty === 0)).toBe(true);
      expect(openOrders()).toEqual([]);
      expectConsistent();
      // Nothing opens afterwards.
      await new Promise((r) => setTimeout(r, 2_500));
      expect(positions().every((p) => p.qty === 0)).toBe(true);
      await core.supervisor.stop(NAME);
      const last = JSON.parse(
        (db.prepare('SELECT json FROM last_snapshot').pluck().get() as string) ?? 'null',
      ) as TraderSnapshot;
      expect(last).toMatchObject({ running: false, service: NAME });
      expect(last.blocks).toContain('kill-switch');
      expect(orders().every((o) => ['filled', 'canceled', 'rejected'].includes(o.status))).toBe(true);
      console.log(`${orders().length} orders, ${fills().length} fills, cash ${account().cash.toFixed(2)}`);
    },
  );
});
