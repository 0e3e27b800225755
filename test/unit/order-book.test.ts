import { describe, expect, it } from 'vitest';
import { OrderBook } from '../../src/services/collector/book/order-book';

describe('OrderBook', () => {
  it('keeps bids descending and asks ascending whatever the insertion order', () => {
    const book = new OrderBook();
    for (const p of [100, 98, 101, 99.5, 97, 100.5]) book.set('bid', p, p - 90);
    for (const p of [103, 102, 105, 102.5, 110, 104]) book.set('ask', p, 1);
    expect(book.levels('bid').map((l) => l[0])).toEqual([101, 100.5, 100, 99.5, 98, 97]);
    expect(book.levels('ask').map((l) => l[0])).toEqual([102, 102.5, 103, 104, 105, 110]);
    expect(book.bestBid()).toEqual([101, 11]);
    expect(book.bestAsk()).toEqual([102, 1]);
    expect(book.depth('bid')).toBe(6);
    expect(book.levels('bid', 2)).toEqual([
      [101, 11],
      [100.5, 10.5],
    ]);
    expect(book.levels('ask', 0)).toEqual([]);
    expect(book.levels('ask', 100)).toHaveLength(6);
  });

  it('updates an existing level in place and removes with size 0', () => {
    const book = new OrderBook();
    book.reset(
      [
        [100, 1],
        [99, 2],
      ],
      [[101, 3]],
    );
    book.set('bid', 100, 5);
    expect(book.levels('bid')).toEqual([
      [100, 5],
      [99, 2],
    ]);
    book.set('bid', 100, 0);
    expect(book.levels('bid')).toEqual([[99, 2]]);
    expect(book.size('bid', 100)).toBeUndefined();
    expect(book.size('bid', 99)).toBe(2);
  });

  it('treats removing an absent level as a no-op', () => {
    const book = new OrderBook();
    book.reset([[100, 1]], [[101, 1]]);
    book.set('bid', 42, 0);
    book.set('ask', 101.5, 0);
    book.set('ask', 100, 0); // a price that exists on the other side only
    expect(book.levels('bid')).toEqual([[100, 1]]);
    expect(book.levels('ask')).toEqual([[101, 1]]);
  });

  it('reset accepts unsorted levels and skips zero sizes', () => {
    const book = new OrderBook();
    book.set('bid', 1, 1);
    book.reset(
      [
        [99, 1],
        [100, 2],
        [98, 0],
      ],
      [
        [102, 1],
        [101, 2],
      ],
    );
    expect(book.levels('bid')).toEqual([
      [100, 2],
      [99, 1],
    ]);
    expect(book.levels('ask')).toEqual([
      [101, 2],
      [102, 1],
    ]);
  });

  it('detects a crossed book (best bid >= best ask), including a locked one', () => {
    const book = new OrderBook();
    expect(book.isCrossed()).toBe(false);
    book.reset([[100, 1]], []);
    expect(book.isCrossed()).toBe(false);
    book.set('ask', 101, 1);
    expect(book.isCrossed()).toBe(false);
    book.set('ask', 100, 1);
    expect(book.isCrossed()).toBe(true);
    book.set('ask', 100, 0);
    book.set('bid', 102, 1);
    expect(book.isCrossed()).toBe(true);
  });

  it('apply sets a batch of levels on both sides', () => {
    const book = new OrderBook();
    book.reset([[100, 1]], [[101, 1]]);
    book.apply(
      [
        [100, 0],
        [99, 4],
      ],
      [[100.5, 2]],
    );
    expect(book.bestBid()).toEqual([99, 4]);
    expect(book.bestAsk()).toEqual([100.5, 2]);
  });

  it('truncates the worst levels and clears', () => {
    const book = new OrderBook();
    for (let i = 0; i < 10; i++) {
      book.set('bid', 100 - i, 1);
      book.set('ask', 101 + i, 1);
    }
    book.truncate('bid', 3);
    book.truncate('ask', 20);
    expect(book.levels('bid').map((l) => l[0])).toEqual([100, 99, 98]);
    expect(book.size('bid', 97)).toBeUndefined();
    expect(book.depth('ask')).toBe(10);
    // A truncated level can come back.
    book.set('bid', 95, 2);
    expect(book.levels('bid').map((l) => l[0])).toEqual([100, 99, 98, 95]);
    book.clear();
    expect(book.depth('bid')).toBe(0);
    expect(book.bestAsk()).toBeUndefined();
  });

  it('matches a naive model over random operations', () => {
    let seed = 7;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const book = new OrderBook();
    const model = { bid: new Map<number, number>(), ask: new Map<number, number>() };
    for (let i = 0; i < 20_000; i++) {
      const side = rand() < 0.5 ? 'bid' : 'ask';
      const price = Math.round(rand() * 500) / 4;
      const size = rand() < 0.3 ? 0 : Math.round(rand() * 100) / 10;
      book.set(side, price, size);
      if (size > 0) model[side].set(price, size);
      else model[side].delete(price);
    }
    const sorted = (m: Map<number, number>, desc: boolean): [number, number][] =>
      [...m.entries()].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0]));
    expect(book.levels('bid')).toEqual(sorted(model.bid, true));
    expect(book.levels('ask')).toEqual(sorted(model.ask, false));
  });
});
