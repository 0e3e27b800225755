/**
 * The Deribit book sync: the `prev_change_id` chain, resubscription on a break or a crossed book,
 * changes ignored until the new snapshot, and the binding to one socket during a rotation's overlap.
 */
import { describe, expect, it } from 'vitest';
import type { Level } from '../../src/shared/market';
import { DeribitBook } from '../../src/services/collector/deribit/deribit-book';
import type { BookEvent } from '../../src/services/collector/deribit/parse';

function harness() {
  const events: string[] = [];
  const deltas: { bids: Level[]; asks: Level[]; changeId: number }[] = [];
  const book = new DeribitBook('BTC-PERPETUAL', {
    onSynced: (_book, changeId) => events.push(`synced ${changeId}`),
    onDelta: (bids, asks, changeId) => deltas.push({ bids, asks, changeId }),
    onGap: (cause, _detail, lastGoodAt) => events.push(`gap ${cause} ${lastGoodAt}`),
    resubscribe: (generation) => events.push(`resubscribe ${generation}`),
  });
  return { book, events, deltas };
}

const snapshot = (changeId: number, bids: Level[] = [[100, 5]], asks: Level[] = [[101, 7]]): BookEvent => ({
  type: 'snapshot',
  changeId,
  timestamp: changeId,
  bids,
  asks,
});

const change = (
  prevChangeId: number,
  changeId: number,
  bids: Level[] = [],
  asks: Level[] = [],
): BookEvent => ({
  type: 'change',
  prevChangeId,
  changeId,
  timestamp: changeId,
  bids,
  asks,
});

describe('DeribitBook', () => {
  it('applies changes that chain to the last change_id', () => {
    const { book, events, deltas } = harness();
    book.onEvent(change(1, 2, [[99, 1]]), 1, 10); // before any snapshot: ignored
    book.onEvent(snapshot(10), 1, 11);
    book.onEvent(
      change(10, 13, [
        [100, 0],
        [99.5, 3],
      ]),
      1,
      12,
    );
    book.onEvent(
      change(
        13,
        20,
        [],
        [
          [101, 2],
          [102, 4],
        ],
      ),
      1,
      13,
    );
    expect(events).toEqual(['synced 10']);
    expect(deltas.map((d) => d.changeId)).toEqual([13, 20]);
    expect(book.state).toBe('synced');
    expect(book.bookId).toBe(20);
    expect(book.book.levels('bid')).toEqual([[99.5, 3]]);
    expect(book.book.levels('ask')).toEqual([
      [101, 2],
      [102, 4],
    ]);
    expect(book.counters).toMatchObject({ snapshots: 1, applied: 2, ignored: 1, gaps: 0 });
  });

  it('a broken chain is a sequence gap: book dropped, resubscribed, changes ignored until the snapshot', () => {
    const { book, events } = harness();
    book.onEvent(snapshot(10), 1, 100);
    book.onEvent(change(10, 12), 1, 110);
    book.onEvent(change(15, 18), 1, 120); // 12..15 lost
    expect(events).toEqual(['synced 10', 'gap sequence 110', 'resubscribe 1']);
    expect(book.state).toBe('resyncing');
    expect(book.bookId).toBeUndefined();
    expect(book.book.depth('bid')).toBe(0);
    book.onEvent(change(18, 19), 1, 130); // still the old subscription
    expect(book.counters.ignored).toBe(1);
    book.onEvent(snapshot(30, [[99, 1]]), 1, 140);
    book.onEvent(change(30, 31, [[98, 2]]), 1, 150);
    expect(events.at(-1)).toBe('synced 30');
    expect(book.bookId).toBe(31);
    expect(book.book.levels('bid')).toEqual([
      [99, 1],
      [98, 2],
    ]);
    expect(book.counters.gaps).toBe(1);
  });

  it('a change that crosses the book is a crossed gap and a resubscription', () => {
    const { book, events, deltas } = harness();
    book.onEvent(snapshot(10), 1, 100);
    book.onEvent(change(10, 11, [[101.5, 1]]), 1, 110);
    expect(events).toEqual(['synced 10', 'gap crossed 100', 'resubscribe 1']);
    expect(deltas).toEqual([]);
    expect(book.lastProblem).toMatch(/best bid 101.5 >= best ask 101/);
    // A crossed snapshot is asked again, without a second gap.
    book.onEvent(snapshot(20, [[102, 1]], [[101, 1]]), 1, 120);
    expect(events).toEqual(['synced 10', 'gap crossed 100', 'resubscribe 1', 'resubscribe 1']);
    expect(book.state).toBe('resyncing');
  });

  it('is bound to one socket: during an overlap the newer snapshot takes over and the older socket is ignored', () => {
    const { book, events, deltas } = harness();
    book.onEvent(snapshot(10), 1, 100);
    book.onEvent(change(10, 11, [[99, 1]]), 1, 101);
    // The new socket's subscription: its snapshot is at a later change_id, then both deliver.
    book.onEvent(snapshot(12, [[99, 1]], [[101, 7]]), 2, 102);
    book.onEvent(change(11, 12), 1, 103); // the old socket's copy: ignored
    book.onEvent(change(12, 13, [[99.5, 2]]), 2, 104);
    book.onEvent(change(12, 13, [[99.5, 2]]), 1, 105); // ignored again
    book.onEvent(snapshot(9), 1, 106); // an older socket's snapshot never takes over
    expect(events).toEqual(['synced 10', 'synced 12']);
    expect(deltas.map((d) => d.changeId)).toEqual([11, 13]);
    expect(book.generation).toBe(2);
    expect(book.counters).toMatchObject({ ignored: 2, staleSnapshots: 1, gaps: 0 });
  });

  it('lose: the bound socket went down; the next snapshot, from any socket, syncs it', () => {
    const { book, events } = harness();
    expect(book.lose('never synced')).toBe(false);
    book.onEvent(snapshot(10), 3, 100);
    expect(book.lose('deribit/ws disconnect')).toBe(true);
    expect(book.state).toBe('idle');
    expect(book.generation).toBeNull();
    book.onEvent(change(10, 11), 3, 101);
    book.onEvent(snapshot(50), 4, 102);
    expect(events).toEqual(['synced 10', 'synced 50']);
  });

  it('resyncOverdue: a resubscription whose snapshot never came is asked again', () => {
    const { book, events } = harness();
    book.onEvent(snapshot(10), 1, 1_000);
    book.onEvent(change(9, 12), 1, 2_000);
    expect(book.resyncOverdue(2_000 + 9_999, 10_000)).toBe(false);
    expect(book.resyncOverdue(2_000 + 10_000, 10_000)).toBe(true);
    book.requestSnapshot(2, 12_000);
    expect(events.at(-1)).toBe('resubscribe 2');
    expect(book.resyncOverdue(12_001, 10_000)).toBe(false);
    expect(book.counters.resubscribes).toBe(2);
  });
});
