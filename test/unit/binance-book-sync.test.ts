import { describe, expect, it } from 'vitest';
import type { DepthDiff, DepthSnapshot } from '../../src/services/collector/binance/parse';
import {
  BinanceBookSync,
  type BookGapCause,
  type BookSyncMode,
  type BookSyncOptions,
} from '../../src/services/collector/book/binance-book-sync';
import type { Level } from '../../src/shared/market';

interface Calls {
  requests: number;
  synced: { seq: number; exchangeTs: number; bids: Level[]; asks: Level[] }[];
  deltas: { seq: number; exchangeTs: number; bids: Level[]; asks: Level[] }[];
  gaps: { cause: BookGapCause; detail: string; lastGoodAt: number }[];
  failures: { cause: BookGapCause; detail: string }[];
}

function harness(mode: BookSyncMode, options?: BookSyncOptions): { sync: BinanceBookSync; calls: Calls } {
  const calls: Calls = { requests: 0, synced: [], deltas: [], gaps: [], failures: [] };
  const sync = new BinanceBookSync(
    'BTCUSDT',
    mode,
    {
      requestSnapshot: () => calls.requests++,
      onSynced: (book, seq, exchangeTs) =>
        calls.synced.push({ seq, exchangeTs, bids: book.levels('bid'), asks: book.levels('ask') }),
      onDelta: (bids, asks, seq, exchangeTs) => calls.deltas.push({ seq, exchangeTs, bids, asks }),
      onGap: (cause, detail, lastGoodAt) => calls.gaps.push({ cause, detail, lastGoodAt }),
      onSyncFailed: (cause, detail) => calls.failures.push({ cause, detail }),
    },
    options,
  );
  return { sync, calls };
}

/** A diff event; E is derived from u so that exchange times are checkable. */
function ev(U: number, u: number, bids: Level[] = [], asks: Level[] = [], pu?: number): DepthDiff {
  const e: DepthDiff = { U, u, E: 1_000_000 + u, bids, asks };
  if (pu !== undefined) e.pu = pu;
  return e;
}

function snap(lastUpdateId: number, bids: Level[], asks: Level[]): DepthSnapshot {
  return { lastUpdateId, bids, asks };
}

const baseBids: Level[] = [
  [100, 1],
  [99, 2],
  [98, 3],
];
const baseAsks: Level[] = [
  [101, 1],
  [102, 2],
  [103, 3],
];

describe('BinanceBookSync — spot', () => {
  it('buffers, requests one snapshot, drops older events and syncs on a snapshot landing mid-event', () => {
    const { sync, calls } = harness('spot');
    expect(sync.state).toBe('idle');
    sync.onDiff(ev(101, 105, [[100, 5]]), 10);
    expect(sync.state).toBe('buffering');
    expect(calls.requests).toBe(1);
    sync.onDiff(ev(106, 110, [[99, 7]], [[101, 0]]), 20);
    sync.onDiff(ev(111, 115, [], [[104, 1]]), 30);
    expect(calls.requests).toBe(1);
    expect(sync.buffered).toBe(3);

    // lastUpdateId 107 lies inside the second event [106; 110].
    sync.onSnapshot(snap(107, baseBids, baseAsks), 35);
    expect(sync.state).toBe('synced');
    expect(sync.bookId).toBe(115);
    expect(sync.counters).toMatchObject({ dropped: 1, applied: 2, syncs: 1 });
    expect(calls.synced).toHaveLength(1);
    expect(calls.synced[0]).toMatchObject({ seq: 115, exchangeTs: 1_000_115 });
    // The first event (u 105 <= 107) was dropped: bid 100 keeps the snapshot's size.
    expect(calls.synced[0]!.bids).toEqual([
      [100, 1],
      [99, 7],
      [98, 3],
    ]);
    expect(calls.synced[0]!.asks).toEqual([
      [102, 2],
      [103, 3],
      [104, 1],
    ]);

    sync.onDiff(ev(116, 118, [[100.5, 1]]), 40);
    expect(sync.bookId).toBe(118);
    expect(calls.deltas).toEqual([{ seq: 118, exchangeTs: 1_000_118, bids: [[100.5, 1]], asks: [] }]);
    expect(sync.book.bestBid()).toEqual([100.5, 1]);
    expect(calls.gaps).toEqual([]);
  });

  it('accepts a snapshot at an event boundary (first remaining U == lastUpdateId + 1)', () => {
    const { sync, calls } = harness('spot');
    sync.onDiff(ev(101, 105), 1);
    sync.onDiff(ev(106, 110), 2);
    sync.onDiff(ev(111, 115, [[97, 1]]), 3);
    sync.onSnapshot(snap(110, baseBids, baseAsks), 4);
    expect(sync.state).toBe('synced');
    expect(sync.bookId).toBe(115);
    expect(sync.counters.dropped).toBe(2);
    expect(sync.book.size('bid', 97)).toBe(1);
    expect(calls.failures).toEqual([]);
  });

  it("trims to what it can vouch for: nothing past a full snapshot's edge, never a wrong level", () => {
    // The snapshot came back full (limit 3): the exchange cut it at 98 and 103.
    const { sync } = harness('spot', { snapshotLimit: 3 });
    sync.onSnapshot(snap(100, baseBids, baseAsks), 1);
    sync.onDiff(ev(101, 101), 2);
    expect(sync.state).toBe('synced');
    // 99 is deleted; a level at 95 (past the edge) changes: what lies between 98 and 95 is unknown.
    sync.onDiff(
      ev(
        102,
        103,
        [
          [99, 0],
          [95, 4],
        ],
        [[104, 1]],
      ),
      3,
    );
    sync.trim(3);
    expect(sync.book.levels('bid')).toEqual([
      [100, 1],
      [98, 3],
    ]);
    expect(sync.book.levels('ask')).toEqual(baseAsks);
    // A new level inside the edge is kept; cutting to depth moves the edge in.
    sync.onDiff(ev(104, 105, [[98.5, 2]], [[101.5, 1]]), 4);
    sync.trim(3);
    expect(sync.book.levels('ask')).toEqual([
      [101, 1],
      [101.5, 1],
      [102, 2],
    ]);
    sync.onDiff(ev(106, 106, [], [[103, 5]]), 5); // past the new edge at 102
    sync.trim(3);
    expect(sync.book.levels('ask').map(([p]) => p)).toEqual([101, 101.5, 102]);
    expect(sync.book.levels('bid').map(([p]) => p)).toEqual([100, 98.5, 98]);
  });

  it('keeps a short snapshot whole: a side with fewer levels than the limit has no edge', () => {
    const { sync } = harness('spot', { snapshotLimit: 5 });
    sync.onSnapshot(snap(100, baseBids, baseAsks), 1);
    sync.onDiff(ev(101, 101, [[90, 1]]), 2);
    sync.trim(5);
    expect(sync.book.levels('bid').map(([p]) => p)).toEqual([100, 99, 98, 90]);
  });

  it('asks again when the snapshot is older than the first buffered event, keeping the buffer', () => {
    const { sync, calls } = harness('spot');
    sync.onDiff(ev(101, 105, [[100, 5]]), 1);
    sync.onDiff(ev(106, 110), 2);
    sync.onSnapshot(snap(100, baseBids, baseAsks), 3);
    expect(sync.state).toBe('buffering');
    expect(calls.requests).toBe(2);
    expect(calls.failures).toHaveLength(1);
    expect(calls.failures[0]!.cause).toBe('snapshot');
    expect(calls.failures[0]!.detail).toMatch(/lastUpdateId 100 < first buffered U 101/);
    expect(sync.counters.snapshotsRejected).toBe(1);
    expect(sync.buffered).toBe(2);
    // The documented rule is strict: lastUpdateId must be >= the first U, not merely U - 1.
    sync.onSnapshot(snap(100, baseBids, baseAsks), 4);
    expect(calls.requests).toBe(3);
    sync.onSnapshot(snap(103, baseBids, baseAsks), 5);
    expect(sync.state).toBe('synced');
    expect(sync.bookId).toBe(110);
    expect(sync.book.size('bid', 100)).toBe(5);
    expect(calls.gaps).toEqual([]);
  });

  it('keeps a snapshot that arrives before any event and checks the first events against it', () => {
    const { sync, calls } = harness('spot');
    sync.onSnapshot(snap(103, baseBids, baseAsks), 1);
    expect(sync.state).toBe('buffering');
    expect(calls.requests).toBe(0);
    // An event entirely older than the snapshot: dropped, still waiting.
    sync.onDiff(ev(95, 100), 2);
    expect(sync.state).toBe('buffering');
    expect(sync.counters.dropped).toBe(1);
    sync.onDiff(ev(101, 105, [[99, 0]]), 3);
    expect(sync.state).toBe('synced');
    expect(sync.bookId).toBe(105);
    expect(sync.book.size('bid', 99)).toBeUndefined();
    expect(calls.requests).toBe(0);
  });

  it('accepts an early snapshot whose id is exactly the one before the first event', () => {
    const { sync, calls } = harness('spot');
    sync.onSnapshot(snap(100, baseBids, baseAsks), 1);
    sync.onDiff(ev(101, 105, [[100, 3]]), 2);
    expect(sync.state).toBe('synced');
    expect(sync.bookId).toBe(105);
    expect(sync.book.size('bid', 100)).toBe(3);
    expect(calls.requests).toBe(0);
  });

  it('rejects an early snapshot that the first event shows to be too old', () => {
    const { sync, calls } = harness('spot');
    sync.onSnapshot(snap(90, baseBids, baseAsks), 1);
    sync.onDiff(ev(101, 105), 2);
    expect(sync.state).toBe('buffering');
    expect(calls.requests).toBe(1);
    expect(sync.buffered).toBe(1);
    sync.onSnapshot(snap(104, baseBids, baseAsks), 3);
    expect(sync.state).toBe('synced');
    expect(sync.bookId).toBe(105);
  });

  it('reports a U jump as a sequence gap, requests a new snapshot and recovers to the right book', () => {
    const { sync, calls } = harness('spot');
    sync.onDiff(ev(101, 105), 10);
    sync.onSnapshot(snap(104, baseBids, baseAsks), 11);
    sync.onDiff(ev(106, 110, [[100, 4]]), 20);
    expect(sync.bookId).toBe(110);
    sync.onDiff(ev(116, 120, [[99, 9]]), 30); // 111..115 missed
    expect(sync.state).toBe('buffering');
    expect(sync.bookId).toBeUndefined();
    expect(sync.book.depth('bid')).toBe(0);
    expect(calls.gaps).toHaveLength(1);
    expect(calls.gaps[0]).toMatchObject({ cause: 'sequence', lastGoodAt: 20 });
    expect(calls.gaps[0]!.detail).toContain('U=116');
    expect(calls.gaps[0]!.detail).toContain('111..115');
    expect(calls.requests).toBe(2);
    expect(sync.buffered).toBe(1);

    sync.onDiff(ev(121, 125, [], [[101, 8]]), 40);
    // The true book at 118 (the exchange's, including the missed updates).
    sync.onSnapshot(
      snap(
        118,
        [
          [100, 4],
          [99, 6],
        ],
        [[101, 1]],
      ),
      45,
    );
    expect(sync.state).toBe('synced');
    expect(sync.bookId).toBe(125);
    expect(sync.book.levels('bid')).toEqual([
      [100, 4],
      [99, 9],
    ]);
    expect(sync.book.levels('ask')).toEqual([[101, 8]]);
    expect(sync.counters).toMatchObject({ gaps: 1, syncs: 2 });
    expect(calls.synced).toHaveLength(2);
  });

  it('ignores the same event delivered twice, and the replay of a rotated connection', () => {
    const { sync, calls } = harness('spot');
    sync.onDiff(ev(101, 105), 1);
    sync.onSnapshot(snap(102, baseBids, baseAsks), 2);
    const e2 = ev(106, 110, [[100, 2]]);
    const e3 = ev(111, 115, [[100, 3]]);
    sync.onDiff(e2, 3);
    sync.onDiff(e2, 3);
    sync.onDiff(e3, 4);
    // The new connection starts a little behind the old one.
    sync.onDiff(ev(106, 110, [[100, 2]]), 5);
    sync.onDiff(ev(111, 115, [[100, 3]]), 5);
    sync.onDiff(ev(116, 120, [[100, 6]]), 6);
    expect(calls.gaps).toEqual([]);
    expect(sync.counters.ignoredDuplicates).toBe(3);
    expect(sync.bookId).toBe(120);
    expect(sync.book.size('bid', 100)).toBe(6);
    expect(calls.deltas.map((d) => d.seq)).toEqual([110, 115, 120]);
  });

  it('applies an event overlapping the book id (U <= bookId < u)', () => {
    const { sync } = harness('spot');
    sync.onDiff(ev(101, 105), 1);
    sync.onSnapshot(snap(103, baseBids, baseAsks), 2);
    sync.onDiff(ev(104, 112, [[100, 9]]), 3);
    expect(sync.state).toBe('synced');
    expect(sync.bookId).toBe(112);
    expect(sync.book.size('bid', 100)).toBe(9);
  });

  it('treats a crossed book as corruption: gap, resync, recovery', () => {
    const { sync, calls } = harness('spot');
    sync.onDiff(ev(101, 105), 1);
    sync.onSnapshot(snap(103, baseBids, baseAsks), 2);
    sync.onDiff(ev(106, 106, [[101.5, 1]]), 3); // bid above the best ask
    expect(sync.state).toBe('buffering');
    expect(calls.gaps).toHaveLength(1);
    expect(calls.gaps[0]!.cause).toBe('crossed');
    expect(calls.gaps[0]!.detail).toMatch(/best bid 101.5 >= best ask 101/);
    expect(calls.gaps[0]!.lastGoodAt).toBe(2);
    expect(calls.requests).toBe(2);
    expect(sync.buffered).toBe(0);
    expect(calls.deltas).toEqual([]);
    // The snapshot may arrive before the next event: it is held until an event confirms it.
    sync.onSnapshot(snap(108, baseBids, baseAsks), 4);
    expect(sync.state).toBe('buffering');
    sync.onDiff(ev(107, 109, [[100, 2]]), 5);
    expect(sync.state).toBe('synced');
    expect(sync.book.isCrossed()).toBe(false);
    expect(sync.book.size('bid', 100)).toBe(2);
  });

  it('rejects a crossed snapshot', () => {
    const { sync, calls } = harness('spot');
    sync.onDiff(ev(101, 105), 1);
    sync.onSnapshot(snap(103, [[102, 1]], [[101, 1]]), 2);
    expect(sync.state).toBe('buffering');
    expect(calls.failures[0]!.detail).toMatch(/crossed/);
    expect(calls.requests).toBe(2);
    expect(sync.buffered).toBe(1);
    sync.onSnapshot(snap(104, baseBids, baseAsks), 3);
    expect(sync.state).toBe('synced');
  });

  it('restarts when the buffered stream itself has a hole', () => {
    const { sync, calls } = harness('spot');
    sync.onDiff(ev(101, 105), 1);
    sync.onDiff(ev(111, 115, [[100, 3]]), 2); // 106..110 never came
    sync.onDiff(ev(116, 120), 3);
    sync.onSnapshot(snap(103, baseBids, baseAsks), 4);
    expect(sync.state).toBe('buffering');
    expect(calls.failures[0]).toMatchObject({ cause: 'sequence' });
    expect(calls.requests).toBe(2);
    expect(sync.buffered).toBe(2);
    sync.onSnapshot(snap(112, baseBids, baseAsks), 5);
    expect(sync.state).toBe('synced');
    expect(sync.bookId).toBe(120);
    expect(sync.book.size('bid', 100)).toBe(3);
  });

  it('restarts on a hole between the snapshot and the first remaining event', () => {
    const { sync, calls } = harness('spot');
    sync.onDiff(ev(101, 105), 1);
    sync.onDiff(ev(111, 115), 2);
    sync.onSnapshot(snap(107, baseBids, baseAsks), 3);
    expect(sync.state).toBe('buffering');
    expect(calls.failures[0]!.detail).toMatch(/U 111 > 108/);
    sync.onSnapshot(snap(111, baseBids, baseAsks), 4);
    expect(sync.state).toBe('synced');
    expect(sync.bookId).toBe(115);
  });

  it('rejects a snapshot followed by an event one update too far (U == lastUpdateId + 2)', () => {
    const { sync, calls } = harness('spot');
    sync.onDiff(ev(101, 105), 1);
    sync.onDiff(ev(107, 110), 2); // update 106 was lost
    sync.onSnapshot(snap(105, baseBids, baseAsks), 3);
    expect(sync.state).toBe('buffering');
    expect(calls.failures[0]!.detail).toMatch(/U 107 > 106/);
  });

  it('bounds the buffer by count: overflow starts over with a snapshot failure and a fresh snapshot', () => {
    const { sync, calls } = harness('spot', { maxBufferedEvents: 5 });
    for (let i = 0; i < 5; i++) sync.onDiff(ev(101 + i * 5, 105 + i * 5), i);
    expect(sync.buffered).toBe(5);
    sync.onDiff(ev(126, 130), 5);
    expect(sync.counters.overflows).toBe(1);
    expect(sync.buffered).toBe(1);
    expect(calls.failures).toHaveLength(1);
    expect(calls.failures[0]!.cause).toBe('snapshot');
    expect(calls.failures[0]!.detail).toMatch(/5 events buffered/);
    // The first request is still outstanding: no second one until it is answered.
    expect(calls.requests).toBe(1);
    sync.onSnapshot(snap(103, baseBids, baseAsks), 6); // the late answer: older than the new buffer
    expect(sync.state).toBe('buffering');
    expect(calls.requests).toBe(2);
    sync.onSnapshot(snap(127, baseBids, baseAsks), 7);
    expect(sync.state).toBe('synced');
    expect(sync.bookId).toBe(130);
    expect(calls.gaps).toEqual([]);
  });

  it('bounds the buffer by time', () => {
    const { sync, calls } = harness('spot', { maxBufferMs: 1000 });
    sync.onDiff(ev(101, 105), 0);
    sync.onDiff(ev(106, 110), 900);
    expect(sync.counters.overflows).toBe(0);
    sync.onDiff(ev(111, 115), 1001);
    expect(sync.counters.overflows).toBe(1);
    expect(sync.buffered).toBe(1);
    expect(calls.failures[0]!.detail).toMatch(/over 1001 ms/);
  });

  it('asks again after a failed snapshot request', () => {
    const { sync, calls } = harness('spot');
    sync.onDiff(ev(101, 105), 1);
    sync.onSnapshotFailed(new Error('HTTP 503'));
    expect(calls.requests).toBe(2);
    expect(calls.failures[0]!.detail).toMatch(/HTTP 503/);
    sync.onSnapshot(snap(102, baseBids, baseAsks), 2);
    expect(sync.state).toBe('synced');
  });

  it('reset goes idle, forgets everything and requests a snapshot on the next event', () => {
    const { sync, calls } = harness('spot');
    sync.onDiff(ev(101, 105), 1);
    sync.onSnapshot(snap(102, baseBids, baseAsks), 2);
    sync.reset('disconnect');
    expect(sync.state).toBe('idle');
    expect(sync.bookId).toBeUndefined();
    expect(sync.book.depth('ask')).toBe(0);
    expect(sync.lastProblem).toMatch(/disconnect/);
    expect(calls.gaps).toEqual([]); // the collector records the disconnect itself
    sync.onSnapshotFailed('late failure of a forgotten request');
    expect(calls.requests).toBe(1);
    sync.onDiff(ev(150, 155), 3);
    expect(calls.requests).toBe(2);
    sync.onSnapshot(snap(152, baseBids, baseAsks), 4);
    expect(sync.state).toBe('synced');
    expect(sync.bookId).toBe(155);
  });

  it('ignores a snapshot that arrives while synced', () => {
    const { sync } = harness('spot');
    sync.onDiff(ev(101, 105), 1);
    sync.onSnapshot(snap(102, baseBids, baseAsks), 2);
    sync.onSnapshot(snap(200, [[1, 1]], [[2, 1]]), 3);
    expect(sync.counters.snapshotsIgnored).toBe(1);
    expect(sync.bookId).toBe(105);
    expect(sync.book.bestBid()).toEqual([100, 1]);
  });

  it('does not require pu on spot and treats an id jump as a gap', () => {
    const { sync, calls } = harness('spot');
    sync.onDiff(ev(101, 105), 1);
    sync.onSnapshot(snap(102, baseBids, baseAsks), 2);
    sync.onDiff(ev(110, 120, [], [], 105), 3);
    expect(calls.gaps).toHaveLength(1);
  });
});

describe('BinanceBookSync — USD-M', () => {
  // Ids jump between events on USD-M; pu chains them.
  const e1 = (): DepthDiff => ev(1000, 1040, [[100, 5]], [], 990);
  const e2 = (): DepthDiff => ev(1045, 1100, [[99, 7]], [[101, 0]], 1040);
  const e3 = (): DepthDiff => ev(1107, 1150, [], [[104, 1]], 1100);

  it('syncs with U <= lastUpdateId <= u for the first event and pu chaining afterwards', () => {
    const { sync, calls } = harness('usdm');
    sync.onDiff(e1(), 1);
    expect(calls.requests).toBe(1);
    sync.onDiff(e2(), 2);
    sync.onDiff(e3(), 3);
    sync.onSnapshot({ ...snap(1050, baseBids, baseAsks), E: 5, T: 4 }, 4);
    expect(sync.state).toBe('synced');
    expect(sync.bookId).toBe(1150);
    expect(sync.counters).toMatchObject({ dropped: 1, applied: 2 });
    expect(calls.synced[0]!.bids).toEqual([
      [100, 1],
      [99, 7],
      [98, 3],
    ]);
    // Id jumps (1150 → 1160) are fine as long as pu chains.
    sync.onDiff(ev(1160, 1170, [[97, 1]], [], 1150), 5);
    expect(sync.bookId).toBe(1170);
    expect(calls.gaps).toEqual([]);
    expect(calls.deltas.map((d) => d.seq)).toEqual([1170]);
  });

  it('processes the event whose u equals lastUpdateId (dropped are only u < lastUpdateId)', () => {
    const { sync } = harness('usdm');
    sync.onDiff(e1(), 1);
    sync.onDiff(e2(), 2);
    sync.onDiff(e3(), 3);
    sync.onSnapshot(snap(1100, baseBids, baseAsks), 4);
    expect(sync.state).toBe('synced');
    expect(sync.counters).toMatchObject({ dropped: 1, applied: 2 });
    expect(sync.bookId).toBe(1150);
  });

  it('uses the transaction time T as exchangeTs when the event has it', () => {
    const { sync, calls } = harness('usdm');
    sync.onDiff(e1(), 1);
    sync.onSnapshot({ ...snap(1040, baseBids, baseAsks), E: 5, T: 4 }, 2);
    expect(calls.synced[0]!.exchangeTs).toBe(1_001_040);
    sync.onDiff({ ...e2(), T: 777 }, 3);
    expect(calls.deltas[0]!.exchangeTs).toBe(777);
  });

  it('asks again when the snapshot is older than the first event', () => {
    const { sync, calls } = harness('usdm');
    sync.onDiff(e1(), 1);
    sync.onDiff(e2(), 2);
    sync.onSnapshot(snap(995, baseBids, baseAsks), 3);
    expect(sync.state).toBe('buffering');
    expect(calls.requests).toBe(2);
    expect(calls.failures[0]!.detail).toMatch(/U 1000 > 995/);
    sync.onSnapshot(snap(1050, baseBids, baseAsks), 4);
    expect(sync.state).toBe('synced');
    expect(sync.bookId).toBe(1100);
  });

  it('reports a pu mismatch as a sequence gap and recovers', () => {
    const { sync, calls } = harness('usdm');
    sync.onDiff(e1(), 1);
    sync.onSnapshot(snap(1020, baseBids, baseAsks), 2);
    sync.onDiff(e2(), 3);
    expect(sync.bookId).toBe(1100);
    const bad = ev(1200, 1250, [[95, 1]], [], 1180); // the event ending at 1180 was missed
    sync.onDiff(bad, 4);
    expect(calls.gaps).toHaveLength(1);
    expect(calls.gaps[0]).toMatchObject({ cause: 'sequence', lastGoodAt: 3 });
    expect(calls.gaps[0]!.detail).toContain('pu=1180');
    expect(calls.gaps[0]!.detail).toContain('previous u=1100');
    expect(calls.requests).toBe(2);
    sync.onDiff(ev(1260, 1300, [[94, 1]], [], 1250), 5);
    sync.onSnapshot(snap(1230, baseBids, baseAsks), 6);
    expect(sync.state).toBe('synced');
    expect(sync.bookId).toBe(1300);
    expect(sync.book.size('bid', 95)).toBe(1);
    expect(sync.book.size('bid', 94)).toBe(1);
  });

  it('ignores duplicates before the pu check (rotation overlap)', () => {
    const { sync, calls } = harness('usdm');
    sync.onDiff(e1(), 1);
    sync.onSnapshot(snap(1020, baseBids, baseAsks), 2);
    sync.onDiff(e2(), 3);
    sync.onDiff(e2(), 3);
    sync.onDiff(e3(), 4);
    sync.onDiff(e2(), 5);
    sync.onDiff(e3(), 5);
    sync.onDiff(ev(1151, 1160, [], [], 1150), 6);
    expect(calls.gaps).toEqual([]);
    expect(sync.counters.ignoredDuplicates).toBe(3);
    expect(sync.bookId).toBe(1160);
  });

  it('ignores duplicates among buffered events at sync', () => {
    const { sync, calls } = harness('usdm');
    sync.onDiff(e1(), 1);
    sync.onDiff(e2(), 2);
    sync.onDiff(e1(), 3);
    sync.onDiff(e2(), 3);
    sync.onDiff(e3(), 4);
    sync.onSnapshot(snap(1030, baseBids, baseAsks), 5);
    expect(sync.state).toBe('synced');
    expect(sync.bookId).toBe(1150);
    expect(sync.counters.ignoredDuplicates).toBe(2);
    expect(calls.failures).toEqual([]);
  });

  it('does not check U == previous u + 1', () => {
    const { sync, calls } = harness('usdm');
    sync.onDiff(e1(), 1);
    sync.onSnapshot(snap(1020, baseBids, baseAsks), 2);
    sync.onDiff(ev(5000, 6000, [], [], 1040), 3);
    expect(calls.gaps).toEqual([]);
    expect(sync.bookId).toBe(6000);
  });

  it('treats a crossed book as corruption', () => {
    const { sync, calls } = harness('usdm');
    sync.onDiff(e1(), 1);
    sync.onSnapshot(snap(1020, baseBids, baseAsks), 2);
    sync.onDiff(ev(1045, 1100, [], [[99.5, 1]], 1040), 3);
    expect(calls.gaps[0]!.cause).toBe('crossed');
    expect(sync.state).toBe('buffering');
    expect(calls.requests).toBe(2);
  });

  it('detects a crossed book when replaying the first buffered event', () => {
    const { sync, calls } = harness('usdm');
    sync.onDiff(ev(1000, 1040, [[200, 1]], [], 990), 1);
    sync.onDiff(e2(), 2);
    sync.onSnapshot(snap(1020, baseBids, baseAsks), 3);
    expect(sync.state).toBe('buffering');
    expect(calls.failures[0]).toMatchObject({ cause: 'crossed' });
    expect(sync.buffered).toBe(1);
    sync.onSnapshot(snap(1050, baseBids, baseAsks), 4);
    expect(sync.state).toBe('synced');
  });
});

// ---------------------------------------------------------------------------------------------------
// Property test: a simulated exchange with a random true book, random diffs, snapshots taken at random
// moments (mid-event, lagging, too old), and a lossy, duplicating delivery. Whenever the sync says it
// is synced, its book must equal the true book at its book id; after the faults stop it must resync.

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface TrueBook {
  bids: Map<number, number>;
  asks: Map<number, number>;
}

function sortedLevels(m: Map<number, number>, desc: boolean): Level[] {
  return [...m.entries()].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0]));
}

function sameLevels(a: Level[], b: Level[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]![0] !== b[i]![0] || a[i]![1] !== b[i]![1]) return false;
  return true;
}

class SimExchange {
  readonly book: TrueBook = { bids: new Map(), asks: new Map() };
  /** The last update id. */
  id: number;
  private lastU: number;
  private pending: TrueBook = { bids: new Map(), asks: new Map() };
  private pendingU = -1;
  /** The true book after each emitted event, by its u. */
  readonly stateAt = new Map<number, { bids: Level[]; asks: Level[] }>();

  constructor(
    private readonly rand: () => number,
    private readonly mode: BookSyncMode,
  ) {
    this.id = 1000 + Math.floor(rand() * 1000);
    this.lastU = this.id;
    // Bids strictly below 1000 and asks strictly above: the true book never crosses.
    for (let k = 1; k <= 40; k++) {
      if (rand() < 0.7) this.book.bids.set(1000 - k * 0.5, 1 + Math.floor(rand() * 20));
      if (rand() < 0.7) this.book.asks.set(1000 + k * 0.5, 1 + Math.floor(rand() * 20));
    }
  }

  /** One exchange update: a level changes (or disappears). */
  update(): void {
    this.id += this.mode === 'usdm' ? 1 + Math.floor(this.rand() * 4) : 1;
    if (this.pendingU === -1) this.pendingU = this.id;
    const bid = this.rand() < 0.5;
    const price = bid
      ? 1000 - (1 + Math.floor(this.rand() * 50)) * 0.5
      : 1000 + (1 + Math.floor(this.rand() * 50)) * 0.5;
    const size = this.rand() < 0.3 ? 0 : 1 + Math.floor(this.rand() * 20);
    const side = bid ? this.book.bids : this.book.asks;
    if (size > 0) side.set(price, size);
    else side.delete(price);
    (bid ? this.pending.bids : this.pending.asks).set(price, size);
  }

  /** Emits the updates since the last event as one diff event. */
  emit(): DepthDiff {
    const e: DepthDiff = {
      U: this.pendingU,
      u: this.id,
      E: this.id,
      bids: [...this.pending.bids.entries()],
      asks: [...this.pending.asks.entries()],
    };
    if (this.mode === 'usdm') e.pu = this.lastU;
    this.lastU = this.id;
    this.pending = { bids: new Map(), asks: new Map() };
    this.pendingU = -1;
    this.stateAt.set(e.u, this.current());
    return e;
  }

  current(): { bids: Level[]; asks: Level[] } {
    return { bids: sortedLevels(this.book.bids, true), asks: sortedLevels(this.book.asks, false) };
  }

  snapshot(): DepthSnapshot {
    const c = this.current();
    return { lastUpdateId: this.id, bids: c.bids, asks: c.asks };
  }
}

interface Faults {
  drop: number;
  duplicate: number;
  overlap: number;
  disconnect: number;
  snapshotFail: number;
  staleSnapshot: number;
}

function runScenario(seed: number, mode: BookSyncMode, faults: Faults): { gaps: number; syncs: number } {
  const rand = mulberry32(seed);
  const ex = new SimExchange(rand, mode);
  let requested = 0;
  let gaps = 0;
  let lastSeq = -Infinity;
  const sync = new BinanceBookSync(
    'SIM',
    mode,
    {
      requestSnapshot: () => requested++,
      onSynced: (_book, seq) => {
        lastSeq = seq;
      },
      onDelta: (_b, _a, seq) => {
        // Deltas only move forward within a synced period.
        if (seq <= lastSeq) throw new Error(`delta seq ${seq} after ${lastSeq}`);
        lastSeq = seq;
      },
      onGap: () => gaps++,
    },
    { maxBufferedEvents: 60 },
  );

  const inFlight: { at: number; snapshot: DepthSnapshot | undefined }[] = [];
  const history: DepthSnapshot[] = [];
  const recent: DepthDiff[] = [];

  const check = (): void => {
    if (sync.state !== 'synced') return;
    const truth = ex.stateAt.get(sync.bookId!);
    expect(truth, `seed ${seed}: book id ${sync.bookId} is not an event boundary`).toBeDefined();
    // A hand-written comparison first: expect().toEqual on every step would dominate the run time.
    const bids = sync.book.levels('bid');
    const asks = sync.book.levels('ask');
    if (!sameLevels(bids, truth!.bids) || !sameLevels(asks, truth!.asks)) {
      expect({ seed, bookId: sync.bookId, bids, asks }).toEqual({ seed, bookId: sync.bookId, ...truth });
    }
  };

  const tick = (t: number, f: Faults): void => {
    const n = 1 + Math.floor(rand() * 4);
    for (let i = 0; i < n; i++) {
      ex.update();
      // A snapshot can be taken mid-event, before the event carrying the same updates is out.
      if (requested > 0 && rand() < 0.3) {
        requested--;
        const fail = rand() < f.snapshotFail;
        const stale = !fail && history.length > 0 && rand() < f.staleSnapshot;
        const s = fail ? undefined : stale ? history[Math.floor(rand() * history.length)]! : ex.snapshot();
        const delay = rand() < 0.05 ? 40 + Math.floor(rand() * 60) : Math.floor(rand() * 6);
        inFlight.push({ at: t + delay, snapshot: s });
      }
    }
    if (rand() < 0.1) {
      history.push(ex.snapshot());
      if (history.length > 5) history.shift();
    }
    const e = ex.emit();
    const deliver = (d: DepthDiff): void => {
      sync.onDiff(
        {
          ...d,
          bids: d.bids.map((l) => [l[0], l[1]] as Level),
          asks: d.asks.map((l) => [l[0], l[1]] as Level),
        },
        t * 100,
      );
      check();
    };
    if (rand() < f.disconnect) {
      sync.reset('disconnect');
      requested = 0; // the collector drops its in-flight fetch...
      if (rand() < 0.5) inFlight.length = 0; // ...or lets it land late
    } else if (rand() >= f.drop) {
      deliver(e);
      if (rand() < f.duplicate) deliver(e);
      if (rand() < f.overlap && recent.length > 0) {
        // A rotated connection replays the last few events, then goes on.
        for (const old of recent.slice(-1 - Math.floor(rand() * 3))) deliver(old);
        deliver(e);
      }
    }
    recent.push(e);
    if (recent.length > 5) recent.shift();
    for (let i = 0; i < inFlight.length;) {
      const r = inFlight[i]!;
      if (r.at <= t) {
        inFlight.splice(i, 1);
        if (r.snapshot === undefined) sync.onSnapshotFailed(new Error('simulated HTTP 503'));
        else sync.onSnapshot(r.snapshot, t * 100);
        check();
      } else i++;
    }
  };

  let t = 0;
  for (; t < 1500; t++) tick(t, faults);
  const clean: Faults = {
    drop: 0,
    duplicate: 0,
    overlap: 0,
    disconnect: 0,
    snapshotFail: 0,
    staleSnapshot: 0,
  };
  // Faults stop: the sync must come back (a long-delayed snapshot may still be in flight).
  let recoveredAt = -1;
  for (const end = t + 400; t < end; t++) {
    tick(t, clean);
    if (sync.state === 'synced' && recoveredAt === -1) recoveredAt = t;
  }
  expect(sync.state, `seed ${seed} ${mode}: not synced after the faults stopped`).toBe('synced');
  expect(sync.bookId).toBe(ex.id);
  expect(sync.book.levels('bid')).toEqual(ex.current().bids);
  expect(sync.book.levels('ask')).toEqual(ex.current().asks);
  return { gaps, syncs: sync.counters.syncs };
}

describe('BinanceBookSync — randomized', () => {
  const faulty: Faults = {
    drop: 0.01,
    duplicate: 0.05,
    overlap: 0.02,
    disconnect: 0.002,
    snapshotFail: 0.1,
    staleSnapshot: 0.15,
  };
  for (const mode of ['spot', 'usdm'] as const) {
    it(`${mode}: the synced book always equals the true book, through drops, duplicates and resyncs`, () => {
      let gaps = 0;
      let syncs = 0;
      for (let seed = 1; seed <= 20; seed++) {
        const r = runScenario(seed * 7919 + (mode === 'usdm' ? 1 : 0), mode, faulty);
        gaps += r.gaps;
        syncs += r.syncs;
      }
      // The faults were really exercised.
      expect(gaps).toBeGreaterThan(20);
      expect(syncs).toBeGreaterThan(40);
    });

    it(`${mode}: duplicates and overlaps alone never cause a gap`, () => {
      for (let seed = 1; seed <= 10; seed++) {
        const r = runScenario(seed * 104729 + 3, mode, { ...faulty, drop: 0, disconnect: 0 });
        expect(r.gaps).toBe(0);
      }
    });
  }
});
