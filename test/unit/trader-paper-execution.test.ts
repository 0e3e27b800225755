/**
 * The paper execution adapter: acknowledgement, latency, the fill price with slippage, the fee, the
 * quote at fill time (not at submit), no quote → rejected, idempotent resubmits, cancel, close.
 */
import { describe, expect, it } from 'vitest';
import { createPaperExecution } from '../../src/services/trader/engine';
import type { ExecutionFill, OrderRequest, Quote } from '../../src/services/trader/types';
import { FakeClock } from './trader-doubles';

const T0 = Date.UTC(2026, 2, 3, 9, 0, 0);

function setup(costs = { feeBps: 10, slippageBps: 20, latencyMs: 250 }) {
  const clock = new FakeClock(T0);
  const paper = createPaperExecution({ clock, costs });
  const events: string[] = [];
  const fills: ExecutionFill[] = [];
  paper.setListener({
    accepted: (id) => events.push(`accepted ${id} @${clock.now() - T0}`),
    fill: (f) => {
      fills.push(f);
      events.push(`fill ${f.id} @${clock.now() - T0}`);
    },
    ended: (id, status, reason) => events.push(`${status} ${id} @${clock.now() - T0}: ${reason}`),
  });
  return { clock, paper, events, fills };
}

const quote = (bid: number, ask: number, symbol = 'BTCUSDT'): Quote => ({
  symbol,
  bidPrice: bid,
  bidSize: 1,
  askPrice: ask,
  askSize: 1,
  at: T0,
});
const order = (id: string, side: 'buy' | 'sell', qty: number, symbol = 'BTCUSDT'): OrderRequest => ({
  clientOrderId: id,
  symbol,
  side,
  qty,
  reduceOnly: false,
});

describe('paper execution', () => {
  it('acknowledges at once and fills the whole order latencyMs later at the top then', () => {
    const { clock, paper, events, fills } = setup();
    paper.onQuote(quote(99, 101));
    paper.submit(order('t-1', 'buy', 2));
    expect(events).toEqual([]); // never inside submit
    expect(paper.inFlight()).toBe(1);
    clock.advance(0);
    expect(events).toEqual(['accepted t-1 @0']);
    paper.onQuote(quote(199, 201)); // the market moves before the order gets there
    clock.advance(249);
    expect(fills).toHaveLength(0);
    clock.advance(1);
    // Buy at the ask then, 201, plus 20 bps: 201 × 1.002 = 201.402; fee 10 bps of 2 × 201.402.
    expect(fills).toHaveLength(1);
    expect(fills[0]).toMatchObject({
      id: 't-1:1',
      clientOrderId: 't-1',
      symbol: 'BTCUSDT',
      side: 'buy',
      qty: 2,
    });
    expect(fills[0]!.price).toBeCloseTo(201.402, 12);
    expect(fills[0]!.fee).toBeCloseTo(2 * 201.402 * 0.001, 12);
    expect(fills[0]!.ts).toBe(T0 + 250);
    expect(paper.inFlight()).toBe(0);
  });

  it('sells at the bid less slippage', () => {
    const { clock, paper, fills } = setup();
    paper.onQuote(quote(99, 101));
    paper.submit(order('t-2', 'sell', 3));
    clock.advance(250);
    expect(fills[0]!.price).toBeCloseTo(99 * 0.998, 12);
    expect(fills[0]!.fee).toBeCloseTo(3 * 99 * 0.998 * 0.001, 12);
  });

  it('rejects an order without a quote for its symbol when it reaches the market', () => {
    const { clock, paper, events, fills } = setup();
    paper.onQuote(quote(99, 101, 'ETHUSDT'));
    paper.submit(order('t-3', 'buy', 1));
    clock.advance(250);
    expect(fills).toEqual([]);
    expect(events).toEqual(['accepted t-3 @0', 'rejected t-3 @250: no quote for BTCUSDT']);
    expect(paper.inFlight()).toBe(0);
  });

  it('is idempotent by clientOrderId: a resubmit, in flight or done, does nothing', () => {
    const { clock, paper, events, fills } = setup();
    paper.onQuote(quote(99, 101));
    paper.submit(order('t-4', 'buy', 1));
    clock.advance(100);
    paper.submit(order('t-4', 'buy', 1));
    clock.advance(1_000);
    paper.submit(order('t-4', 'buy', 1));
    clock.advance(1_000);
    expect(fills.map((f) => f.id)).toEqual(['t-4:1']);
    expect(events).toEqual(['accepted t-4 @0', 'fill t-4:1 @250']);
  });

  it('a new adapter (a restart) fills an id it has never seen, with the same fill id', () => {
    const a = setup();
    a.paper.onQuote(quote(99, 101));
    a.paper.submit(order('t-5', 'buy', 1));
    a.paper.close(); // killed before the fill
    a.clock.advance(1_000);
    expect(a.fills).toEqual([]);
    const b = setup();
    b.paper.onQuote(quote(99, 101));
    b.paper.submit(order('t-5', 'buy', 1));
    b.clock.advance(250);
    expect(b.fills.map((f) => f.id)).toEqual(['t-5:1']);
  });

  it('cancel before the fill ends the order; after, it does nothing', () => {
    const { clock, paper, events, fills } = setup();
    paper.onQuote(quote(99, 101));
    paper.submit(order('t-6', 'buy', 1));
    paper.submit(order('t-7', 'buy', 1));
    clock.advance(100);
    paper.cancel('t-6');
    expect(paper.inFlight()).toBe(1);
    clock.advance(500);
    paper.cancel('t-7');
    paper.cancel('unknown');
    clock.advance(500);
    expect(fills.map((f) => f.id)).toEqual(['t-7:1']);
    expect(events).toEqual([
      'accepted t-6 @0',
      'accepted t-7 @0',
      'canceled t-6 @100: canceled before it filled',
      'fill t-7:1 @250',
    ]);
  });

  it('latency 0 still answers on the next timer turn; new costs apply to later orders', () => {
    const { clock, paper, events, fills } = setup({ feeBps: 0, slippageBps: 0, latencyMs: 0 });
    paper.onQuote(quote(99, 101));
    paper.submit(order('t-8', 'buy', 1));
    expect(fills).toEqual([]);
    clock.advance(0);
    expect(events).toEqual(['accepted t-8 @0', 'fill t-8:1 @0']);
    expect(fills[0]!.price).toBe(101);
    paper.setCosts({ feeBps: 100, slippageBps: 0, latencyMs: 10 });
    paper.submit(order('t-9', 'buy', 1));
    clock.advance(10);
    expect(fills[1]!.fee).toBeCloseTo(1.01, 12);
  });

  it('close stops every callback; bad orders and costs are refused', () => {
    const { clock, paper, events } = setup();
    paper.onQuote(quote(99, 101));
    paper.submit(order('t-10', 'buy', 1));
    paper.close();
    clock.advance(1_000);
    expect(events).toEqual([]);
    expect(() => paper.submit(order('t-11', 'buy', 1))).toThrow(/after close/);
    const fresh = setup();
    expect(() => fresh.paper.submit(order('t-12', 'buy', 0))).toThrow(/qty must be > 0/);
    expect(() => fresh.paper.setCosts({ feeBps: -1, slippageBps: 0, latencyMs: 0 })).toThrow(/feeBps/);
    const bare = createPaperExecution({ clock, costs: { feeBps: 0, slippageBps: 0, latencyMs: 0 } });
    expect(() => bare.submit(order('t-13', 'buy', 1))).toThrow(/setListener/);
  });
});
