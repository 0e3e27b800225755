/**
 * The trader end to end on a scripted market, under a real core (`npm run build` first: the built
 * simulator, collector and trader programs in out/services): the simulator's BTCUSDT follows a price
 * path, the real Binance spot collector publishes it on the bus, and the real trader child trades it
 * on 1 s candles with a channel breakout (lookback 6, exit 4).
 *
 * The expected orders come from the script alone. While a price holds, every trade is a tick either
 * side of it (simulator/market.ts), so a close leaves the channel of the previous candles only when
 * all of them were one-sided (about 5 % a candle at ~6 trades a second, so 4 candles in a row is
 * ~1e-5: why the exit channel is 4); each jump is far outside it, so the candle that holds the jump
 * closes past the channel:
 *   95 000 → 96 000   close above the 6-candle high      → long:  buy  equity / 96 000
 *   96 000 → 94 000   close below the 6-candle low       → short, flat on spot: sell it all
 *   94 000 → 95 500   close above the 6-candle high      → long:  buy  cash / 95 500
 *   95 500 → 95 000   close below the 6-candle low       → short, flat on spot: sell it all
 * Each fill is at the top of book the simulator showed then (a tick either side of the price) with
 * the configured slippage, its fee is feeBps of its notional, and the account's realized P&L, fees and
 * cash are what those fills imply.
 *
 * Then, on the same market, a person sets tighter risk limits live (trader.limits): at most 3,000 of
 * notional an order, and a daily loss 150 beyond what the day has lost. 95 000 → 96 000 → 93 000 →
 * 95 500: the long is built in several orders that add up to the target; the drop trips the daily
 * loss (blocked, one open alert), the exit still goes out reduce-only, and the breakout back up sends
 * nothing.
 */
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../src/main/core';
import type { TopOfBookRecord } from '../../src/shared/market';
import { resolveDefinition, type ServiceDefinitionInput } from '../../src/shared/service-definition';
import type { TraderConfigInput, TraderSnapshot } from '../../src/shared/trader-api';
import { TraderDb, traderDbPath } from '../../src/services/trader/trader-db';
import { until } from '../helpers/process-fixtures';
import { tempDir } from '../helpers/temp-dir';

const servicesDir = resolve(import.meta.dirname, '../../out/services');
const SYMBOL = 'BTCUSDT';
const TICK = 0.01;
const EQUITY = 10_000;
const COSTS = { feeBps: 10, slippageBps: 5, latencyMs: 150 };
/** Long enough for the channel to be all at the held price before the next turn. */
const HOLD_MS = 9_000;
/** The script: a start at the price the market already holds, then the four turns above. */
const PRICES = [95_000, 96_000, 94_000, 95_500, 95_000];

const dir = tempDir('vigil-trader-scripted-');
let core: Core | null = null;
afterAll(async () => {
  await core?.close();
  dir.remove();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** Equal up to float rounding of the same arithmetic done in another order. */
function expectClose(actual: number, expected: number, what: string): void {
  const tolerance = 1e-9 * Math.max(1, Math.abs(expected));
  if (Math.abs(actual - expected) > tolerance) {
    expect.fail(`${what}: ${actual} is not ${expected}`);
  }
}

describe('trader on a scripted price path', () => {
  it(
    'sends the orders the script implies, fills at the shown top with slippage, books exact P&L, and keeps the risk limits set live',
    { timeout: 240_000 },
    async () => {
      const ports = {
        spotPort: await freePort(),
        usdmPort: await freePort(),
        okxPort: await freePort(),
        deribitPort: await freePort(),
      };
      const spot = `127.0.0.1:${ports.spotPort}`;
      const trader: TraderConfigInput = {
        mode: 'paper',
        venue: 'binance-spot',
        symbols: [SYMBOL],
        resolution: '1s',
        strategy: { id: 'breakout', params: { lookback: 6, exitLookback: 4 } },
        equity: EQUITY,
        costs: COSTS,
        allowShort: false,
        limits: {
          maxPositionNotional: 1e6,
          maxOrderNotional: 1e6,
          maxOrdersPerMinute: 100,
          maxDailyLoss: 1e6,
        },
        staleAfterMs: 10_000,
      };
      const defs: ServiceDefinitionInput[] = [
        {
          name: 'simulator',
          kind: 'custom',
          program: { type: 'builtin', name: 'simulator' },
          // Held at the first price from the start, so the warmup candles are all at it.
          config: {
            ...ports,
            symbols: [SYMBOL],
            seed: 5,
            paths: { [SYMBOL]: { path: [{ price: PRICES[0]!, holdMs: 3_600_000 }] } },
          },
        },
        {
          name: 'binance-spot',
          kind: 'collector',
          program: { type: 'builtin', name: 'collector' },
          config: {
            venue: 'binance-spot',
            simulated: true,
            symbols: [SYMBOL],
            types: ['trade', 'top', 'book'],
            endpoints: { ws: `ws://${spot}`, rest: `http://${spot}` },
          },
          dependsOn: ['simulator'],
        },
        {
          name: 'trader',
          kind: 'trader',
          program: { type: 'builtin', name: 'trader' },
          config: trader,
          dependsOn: ['binance-spot'],
        },
      ];
      const c = await createCore({
        mode: 'headless',
        dataDir: dir.path,
        servicesDir,
        definitions: defs.map((d) => {
          const r = resolveDefinition(d);
          if (!r.ok) throw new Error(`${d.name}: ${r.error.message}`);
          return r.definition;
        }),
        supervisor: { autostart: false, metricsIntervalMs: 500 },
      });
      core = c;
      const dispatch = async (command: string, input: unknown): Promise<unknown> => {
        const r = await c.router.dispatch(command as never, input as never, { transport: 'internal' });
        if (!r.ok) throw new Error(`${command}: ${r.error.code} ${r.error.message}`);
        return r.result;
      };
      for (const name of ['simulator', 'binance-spot']) {
        await dispatch('services.start', { name });
        await until(() => c.supervisor.get(name).state === 'running', `${name} running`, 30_000);
      }
      // A person's start, confirming the mode.
      await dispatch('services.start', { name: 'trader', confirm: { mode: 'paper' } });
      await until(() => c.supervisor.get('trader').state === 'running', 'trader running', 30_000);
      const snapshot = async () =>
        (await c.supervisor.request('trader', 'trader.snapshot', {})) as TraderSnapshot;
      await until(
        async () => {
          const s = await snapshot();
          return s.strategy.warmupLeft === 0 && s.blocks.length === 0;
        },
        'the trader warm, nothing blocking',
        60_000,
      );

      // What the collector published, as the trader got it.
      const tops: TopOfBookRecord[] = [];
      const unwatch = c.supervisor.watchBus(`md.binance-spot.${SYMBOL}.top`, (m) =>
        tops.push(m.data as TopOfBookRecord),
      );
      await until(() => tops.length > 0, 'tops on the bus', 10_000);

      const res = await fetch(`http://${spot}/__sim/path`, {
        method: 'POST',
        body: JSON.stringify({
          symbol: SYMBOL,
          path: PRICES.map((price, i) => ({ price, holdMs: i === 0 ? 3_000 : HOLD_MS })),
        }),
      });
      expect(res.status).toBe(200);
      const startedAt = ((await res.json()) as { position: { since: number } }).position.since;
      const segmentOf = (t: number) =>
        Math.min(
          PRICES.length - 1,
          t < startedAt + 3_000 ? 0 : 1 + Math.floor((t - startedAt - 3_000) / HOLD_MS),
        );

      await until(
        async () => {
          const s = await snapshot();
          return (
            s.counters.fills >= 4 &&
            s.workingOrders.length === 0 &&
            Date.now() > startedAt + 3_000 + 3.5 * HOLD_MS
          );
        },
        'four fills and the last turn done',
        90_000,
      );
      const s = await snapshot();
      unwatch();

      // The expectation, from the script and the costs alone.
      const slip = COSTS.slippageBps / 10_000;
      const fee = (notional: number) => (notional * COSTS.feeBps) / 10_000;
      const buy1 = { qty: EQUITY / PRICES[1]!, price: (PRICES[1]! + TICK) * (1 + slip) };
      const sell2 = { qty: buy1.qty, price: (PRICES[2]! - TICK) * (1 - slip) };
      const realized2 = (sell2.price - buy1.price) * buy1.qty;
      const cash2 = EQUITY + realized2 - fee(buy1.qty * buy1.price) - fee(sell2.qty * sell2.price);
      const buy3 = { qty: cash2 / PRICES[3]!, price: (PRICES[3]! + TICK) * (1 + slip) };
      const sell4 = { qty: buy3.qty, price: (PRICES[4]! - TICK) * (1 - slip) };
      const realized4 = (sell4.price - buy3.price) * buy3.qty;
      const expected = [
        { side: 'buy', segment: 1, ...buy1, realized: 0 },
        { side: 'sell', segment: 2, ...sell2, realized: realized2 },
        { side: 'buy', segment: 3, ...buy3, realized: 0 },
        { side: 'sell', segment: 4, ...sell4, realized: realized4 },
      ] as const;

      const db = TraderDb.open(traderDbPath(dir.path, 'trader'), { readonly: true });
      const orders = db.orders();
      const fills = db.fills();
      db.close();
      expect(orders.map((o) => [o.side, o.status])).toEqual(expected.map((e) => [e.side, 'filled']));
      expect(fills).toHaveLength(4);
      for (const [i, e] of expected.entries()) {
        const o = orders[i]!;
        const f = fills[i]!;
        expectClose(o.qty, e.qty, `order ${i + 1} qty`);
        expect(f.clientOrderId).toBe(o.clientOrderId);
        expect(f.id).toBe(`${o.clientOrderId}:1`);
        expect([f.side, f.symbol]).toEqual([e.side, SYMBOL]);
        expectClose(f.qty, e.qty, `fill ${i + 1} qty`);
        // In the segment whose turn caused it, and at least the latency after the order.
        expect(segmentOf(f.ts)).toBe(e.segment);
        expect(f.ts - o.createdAt).toBeGreaterThanOrEqual(COSTS.latencyMs);
        expectClose(f.price, e.price, `fill ${i + 1} price`);
        // The top the collector had published last before the fill shows the same side.
        const shown = tops.filter((t) => t.localTs <= f.ts).at(-1)!;
        expectClose(
          f.price,
          e.side === 'buy' ? shown.askPrice * (1 + slip) : shown.bidPrice * (1 - slip),
          `fill ${i + 1} vs shown top`,
        );
        expectClose(f.fee, fee(f.qty * f.price), `fill ${i + 1} fee`);
        expectClose(f.realizedPnl, e.realized, `fill ${i + 1} realized P&L`);
        expectClose(o.avgFillPrice!, f.price, `order ${i + 1} average fill price`);
        expectClose(o.fees, f.fee, `order ${i + 1} fees`);
      }

      // The account is what the fills imply: flat, realized = Σ closes, fees = Σ fees, cash follows.
      const impliedRealized =
        (fills[1]!.price - fills[0]!.price) * fills[1]!.qty +
        (fills[3]!.price - fills[2]!.price) * fills[3]!.qty;
      const fees = fills.reduce((n, f) => n + f.fee, 0);
      expectClose(s.account.realizedPnl, impliedRealized, 'realized P&L');
      expectClose(s.account.realizedPnl, realized2 + realized4, 'realized P&L from the script');
      expectClose(s.account.fees, fees, 'fees');
      expectClose(s.account.cash, EQUITY + impliedRealized - fees, 'cash');
      expectClose(s.account.equity, s.account.cash, 'equity when flat');
      expect(s.positions.every((p) => p.qty === 0)).toBe(true);
      expect(s.counters).toMatchObject({ orders: 4, fills: 4, rejected: 0 });
      expect(s.lastDecision).toMatchObject({ symbol: SYMBOL, target: -1 });

      // ---- Then the risk limits, on the same market: set live by a person through the API. ----
      // An order is at most 3,000 of notional, so the next long is built over several candles; the
      // day may lose 150 more than it has, so the drop after it stops opening (closing still goes).
      const before = await snapshot();
      const lostSoFar = before.account.dayStartEquity - before.account.equity;
      await dispatch('trader.limits', {
        name: 'trader',
        limits: {
          maxPositionNotional: 1e6,
          maxOrderNotional: 3_000,
          maxOrdersPerMinute: 100,
          maxDailyLoss: lostSoFar + 150,
        },
      });
      const RISK_PRICES = [95_000, 96_000, 93_000, 95_500];
      const res2 = await fetch(`http://${spot}/__sim/path`, {
        method: 'POST',
        body: JSON.stringify({
          symbol: SYMBOL,
          path: RISK_PRICES.map((price, i) => ({ price, holdMs: i === 0 ? 3_000 : HOLD_MS })),
        }),
      });
      expect(res2.status).toBe(200);
      const riskAt = ((await res2.json()) as { position: { since: number } }).position.since;
      const riskSegment = (t: number) =>
        t < riskAt + 3_000 ? 0 : Math.min(3, 1 + Math.floor((t - riskAt - 3_000) / HOLD_MS));
      // Until the breakout back up to 95,500 has had its candles (and been refused).
      await until(
        async () =>
          (await snapshot()).workingOrders.length === 0 && Date.now() > riskAt + 3_000 + 2.6 * HOLD_MS,
        'the last turn of the risk script done',
        60_000,
      );
      const after = await snapshot();
      const db2 = TraderDb.open(traderDbPath(dir.path, 'trader'), { readonly: true });
      const riskOrders = db2.orders().filter((o) => o.createdAt >= riskAt);
      db2.close();
      const buys = riskOrders.filter((o) => o.side === 'buy');
      const sells = riskOrders.filter((o) => o.side === 'sell');
      // The long, split: each order within the limit at the mid it was sized on, together the target.
      expect(buys.length).toBeGreaterThanOrEqual(3);
      for (const o of buys) {
        expect(riskSegment(o.createdAt)).toBe(1);
        expect(o.qty * RISK_PRICES[1]!).toBeLessThanOrEqual(3_000 + 1e-6);
        expect(o.status).toBe('filled');
      }
      expectClose(
        buys.reduce((n, o) => n + o.qty, 0),
        before.account.cash / RISK_PRICES[1]!,
        'the split orders add up to the target',
      );
      // The drop trips the daily loss: the exit still goes out (reduce-only, split like any strategy
      // order), the re-entry does not.
      expect(after.blocks).toContain('daily-loss');
      expect(sells.length).toBeGreaterThanOrEqual(1);
      for (const o of sells) {
        expect(o).toMatchObject({ status: 'filled', reduceOnly: true });
        expect(riskSegment(o.createdAt)).toBe(2);
        expect(o.qty * RISK_PRICES[2]!).toBeLessThanOrEqual(3_000 + 1e-6);
      }
      expectClose(
        sells.reduce((n, o) => n + o.qty, 0),
        buys.reduce((n, o) => n + o.qty, 0),
        'the exit closes it all',
      );
      expect(riskOrders.filter((o) => riskSegment(o.createdAt) === 3)).toEqual([]);
      expect(after.positions.every((p) => p.qty === 0)).toBe(true);
      expect(after.account.dayStartEquity - after.account.equity).toBeGreaterThanOrEqual(lostSoFar + 150);
      const alerts = (await dispatch('alerts.list', {
        service: 'trader',
        kind: 'trader-daily-loss',
        state: 'open',
      })) as { items: { severity?: string }[] };
      expect(alerts.items.length).toBe(1);
    },
  );
});
