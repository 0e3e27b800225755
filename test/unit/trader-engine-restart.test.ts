/**
 * Durability: an engine killed at any moment (its clock simply never runs again, as after SIGKILL)
 * and a new one built on the store it wrote. Positions, P&L and blocks come back exactly; an order
 * recorded without an outcome is resubmitted once and filled once; a venue that reports a recorded
 * fill again does not move anything (applyFill returns false); flatten retries rejected closes and
 * gives up with a clear error after 30 s.
 */
import { describe, expect, it } from 'vitest';
import { createPaperExecution } from '../../src/services/trader/engine';
import type {
  ExecutionAdapter,
  ExecutionListener,
  OrderRequest,
  Quote,
} from '../../src/services/trader/types';
import type { TraderConfigInput } from '../../src/shared/trader-api';
import { setupEngine, type FakeClock } from './trader-doubles';

const T0 = Date.UTC(2026, 2, 3, 9, 0, 0);
const UP = [100, 100, 100, 100, 100, 99, 102];

const config = (maxOrderNotional: number): TraderConfigInput => ({
  symbols: ['BTCUSDT'],
  resolution: '1s',
  strategy: { id: 'ma-crossover', params: { fast: 2, slow: 5 } },
  equity: 10_000,
  costs: { feeBps: 10, slippageBps: 0, latencyMs: 250 },
  limits: { maxPositionNotional: 1e6, maxOrderNotional, maxOrdersPerMinute: 100, maxDailyLoss: 5_000 },
});

/** Paper execution that also lists what was submitted to it. */
function countingPaper(submitted: string[]) {
  return (clock: FakeClock): ExecutionAdapter => {
    const paper = createPaperExecution({ clock, costs: { feeBps: 10, slippageBps: 0, latencyMs: 250 } });
    return {
      ...paper,
      submit(o: OrderRequest) {
        submitted.push(`${o.clientOrderId} ${o.side} ${o.qty}`);
        paper.submit(o);
      },
    };
  };
}

/** A venue the test drives by hand: it records submits and reports what the test tells it to. */
class HandVenue implements ExecutionAdapter {
  readonly mode = 'paper';
  listener: ExecutionListener | null = null;
  readonly submitted: OrderRequest[] = [];
  setListener(l: ExecutionListener): void {
    this.listener = l;
  }
  submit(o: OrderRequest): void {
    this.submitted.push({ ...o });
  }
  cancel(): void {}
  onQuote(_q: Quote): void {}
  inFlight(): number {
    return 0;
  }
  close(): void {}
}

describe('restart after SIGKILL', () => {
  it('restores positions and P&L exactly and resubmits the order killed mid-flight once', () => {
    // Orders of 5 000 / 102 at most: the first fills at t0 + 7.45 s (ask 102.5, fee 10 bps); the
    // second is written and submitted at t0 + 8.2 s, and the process dies before anything answers.
    const a = setupEngine(config(5_000), { t0: T0 });
    a.market.path([...UP, 102, 102]);
    const half = 5_000 / 102;
    expect(a.store.orders.get('paper1-2')).toMatchObject({ status: 'new', qty: half });
    const before = a.engine.snapshot();
    // SIGKILL: a's clock never runs again (its order's fill, its timers: gone).

    const submitted: string[] = [];
    const b = setupEngine(config(5_000), {
      t0: T0,
      startAt: T0 + 9_000,
      store: a.store,
      execution: countingPaper(submitted),
    });
    let s = b.engine.snapshot();
    expect(submitted).toEqual([`paper1-2 buy ${half}`]);
    const strip = (p: (typeof s.positions)[number]) => ({ ...p, mark: null, unrealizedPnl: 0 });
    expect(s.positions).toEqual(before.positions.map(strip));
    const { equity: _e, unrealizedPnl: _u, dayPnl: _d, ...account } = before.account;
    expect(s.account).toMatchObject(account);
    expect(s.workingOrders).toEqual(before.workingOrders);
    expect(s.counters).toEqual({ ticks: 0, decisions: 0, orders: 0, fills: 0, rejected: 0 });
    // With the same mid (102) the equity is the same to the last bit.
    b.market.quote(102);
    expect(b.engine.snapshot().account).toEqual(before.account);

    // The resubmitted order fills once at t0 + 9.25 s.
    b.clock.advanceTo(T0 + 9_250);
    expect(b.store.fills.map((f) => f.id)).toEqual(['paper1-1:1', 'paper1-2:1']);
    expect(submitted).toHaveLength(1);
    s = b.engine.snapshot();
    expect(s.positions[0]!.qty).toBeCloseTo(2 * half, 12);
    expect(s.workingOrders).toEqual([]);
    expect(s.counters.fills).toBe(1);
    // Ids continue where the dead engine stopped.
    expect(b.store.account!.nextOrderNo).toBe(3);

    // A third start on the same store: nothing to resubmit, the same state.
    const again: string[] = [];
    const c = setupEngine(config(5_000), {
      t0: T0,
      startAt: T0 + 10_000,
      store: b.store,
      execution: countingPaper(again),
    });
    expect(again).toEqual([]);
    c.market.quote(102);
    expect(c.engine.snapshot().account).toEqual({ ...b.engine.snapshot().account });
    expect(c.engine.snapshot().positions).toEqual(b.engine.snapshot().positions);
  });

  it('a fill reported again after the restart is recorded once (applyFill false), the rest fills', () => {
    const venueA = new HandVenue();
    const a = setupEngine(config(1e6), { t0: T0, execution: () => venueA });
    a.market.path([...UP, 102]); // wanted 10 000 / 102, one order
    const qty = 10_000 / 102;
    expect(venueA.submitted.map((o) => o.clientOrderId)).toEqual(['paper1-1']);
    venueA.listener!.accepted('paper1-1');
    venueA.listener!.fill({
      id: 'paper1-1:1',
      clientOrderId: 'paper1-1',
      symbol: 'BTCUSDT',
      side: 'buy',
      qty: 40,
      price: 102.5,
      fee: 4.1,
      ts: T0 + 7_300,
    });
    expect(a.store.orders.get('paper1-1')).toMatchObject({ status: 'working', filledQty: 40 });
    // SIGKILL with the order partly filled.

    const venueB = new HandVenue();
    const b = setupEngine(config(1e6), {
      t0: T0,
      startAt: T0 + 8_000,
      store: a.store,
      execution: () => venueB,
    });
    // The same order again, whole: the venue knows it by its id.
    expect(venueB.submitted).toEqual([
      { clientOrderId: 'paper1-1', symbol: 'BTCUSDT', side: 'buy', qty, reduceOnly: false },
    ]);
    expect(b.engine.snapshot().positions[0]!.qty).toBe(40);
    // The venue reports the first fill again: already recorded, nothing moves.
    const first = {
      id: 'paper1-1:1',
      clientOrderId: 'paper1-1',
      symbol: 'BTCUSDT',
      side: 'buy' as const,
      qty: 40,
      price: 102.5,
      fee: 4.1,
      ts: T0 + 7_300,
    };
    venueB.listener!.fill(first);
    expect(a.store.duplicateFills).toBe(1);
    let s = b.engine.snapshot();
    expect(s.positions[0]!.qty).toBe(40);
    expect(s.account.fees).toBeCloseTo(4.1, 12);
    expect(s.counters.fills).toBe(0);
    expect(s.workingOrders[0]).toMatchObject({ clientOrderId: 'paper1-1', filledQty: 40 });
    // The rest fills.
    const rest = { ...first, id: 'paper1-1:2', qty: qty - 40, price: 103, fee: 6, ts: T0 + 8_100 };
    venueB.listener!.fill(rest);
    s = b.engine.snapshot();
    expect(s.positions[0]!.qty).toBeCloseTo(qty, 12);
    expect(s.positions[0]!.avgPrice).toBeCloseTo((40 * 102.5 + (qty - 40) * 103) / qty, 12);
    expect(s.workingOrders).toEqual([]);
    expect(s.counters.fills).toBe(1);
    const order = a.store.orders.get('paper1-1')!;
    expect(order.status).toBe('filled');
    expect(order.avgFillPrice).toBeCloseTo((40 * 102.5 + (qty - 40) * 103) / qty, 12);
    expect(order.fees).toBeCloseTo(10.1, 12);
    // A resend of a fill of a finished order, or a fill for an order not ours: ignored.
    venueB.listener!.fill(rest);
    venueB.listener!.fill({ ...rest, id: 'x-1:1', clientOrderId: 'x-1' });
    expect(a.store.fills).toHaveLength(2);
    expect(a.store.duplicateFills).toBe(1);
    expect(b.engine.snapshot().positions[0]!.qty).toBeCloseTo(qty, 12);
  });

  it("a person's stop and the kill switch survive a restart", async () => {
    const a = setupEngine(config(1e6), { t0: T0 });
    a.market.path(UP);
    a.engine.setOpening(false);
    const b = setupEngine(config(1e6), { t0: T0, startAt: T0 + 8_000, store: a.store });
    expect(b.engine.snapshot().blocks).toEqual(['person', 'warming']);
    const killed = b.engine.kill();
    b.clock.advance(0);
    await killed; // flat already: resolves at once
    const c = setupEngine(config(1e6), { t0: T0, startAt: T0 + 9_000, store: a.store });
    expect(c.engine.snapshot().blocks).toEqual(['kill-switch', 'warming']);
  });
});

describe('flatten without quotes', () => {
  // A long of 10 000 / 102 from a first engine; the second starts with no quote at all.
  function longThenRestart() {
    const a = setupEngine(config(1e6), { t0: T0 });
    a.market.path([...UP, 102]);
    a.clock.advanceTo(T0 + 7_500);
    return setupEngine(config(1e6), { t0: T0, startAt: T0 + 10_000, store: a.store });
  }

  it('retries a rejected close every second until a quote lets it fill', async () => {
    const { engine, store, clock, market } = longThenRestart();
    const done = engine.flatten();
    clock.advanceTo(T0 + 12_000); // rejected at 10.25 s and 11.5 s (each retried 1 s later)
    market.quote(102);
    clock.advanceTo(T0 + 12_750); // the third, sent at 12.5 s, fills
    const s = await done;
    expect(s.positions[0]!.qty).toBe(0);
    expect(
      [...store.orders.values()].slice(1).map((o) => [o.clientOrderId, o.status, o.createdAt - T0]),
    ).toEqual([
      ['paper1-2', 'rejected', 10_000],
      ['paper1-3', 'rejected', 11_250],
      ['paper1-4', 'filled', 12_500],
    ]);
    expect(store.orders.get('paper1-2')!.reason).toBe('flatten — rejected: no quote for BTCUSDT');
    expect(s.counters.rejected).toBe(2);
  });

  it('gives up after 30 s with an error naming what is still open', async () => {
    const { engine, clock } = longThenRestart();
    const failed = engine.flatten().catch((e: unknown) => e);
    clock.advance(30_000);
    const e = await failed;
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toBe(
      'flatten: not flat after 30 s: BTCUSDT 98.0392 (last problem: no quote for BTCUSDT)',
    );
  });
});
