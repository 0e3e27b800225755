import { describe, expect, it } from 'vitest';
import type { Level } from '../../src/shared/market';
import { bookChecksum, checksumText, signedCrc32 } from '../../src/services/collector/okx/checksum';
import { ContractValue } from '../../src/services/collector/okx/contracts';
import { OkxBookSync, type OkxBookGapCause } from '../../src/services/collector/okx/okx-book';
import type { BooksMessage, OkxLevel } from '../../src/services/collector/okx/parse';

const lv = (px: string, sz: string): OkxLevel => ({ price: Number(px), px, sz });

function msg(
  action: 'snapshot' | 'update',
  prevSeqId: number,
  seqId: number,
  bids: OkxLevel[] = [],
  asks: OkxLevel[] = [],
  checksum = 0,
): BooksMessage {
  return {
    kind: 'books',
    instId: 'BTC-USDT',
    action,
    bids,
    asks,
    ts: 1_000 + seqId,
    checksum,
    prevSeqId,
    seqId,
  };
}

function harness(toBase: (s: string) => number = Number) {
  const events = {
    synced: [] as number[],
    deltas: [] as { bids: Level[]; asks: Level[]; seq: number }[],
    gaps: [] as { cause: OkxBookGapCause; detail: string }[],
    resyncs: 0,
  };
  const sync = new OkxBookSync(
    'BTC-USDT',
    {
      onSynced: (_book, seq) => events.synced.push(seq),
      onDelta: (bids, asks, seq) => events.deltas.push({ bids, asks, seq }),
      onGap: (cause, detail) => events.gaps.push({ cause, detail }),
      requestResync: () => events.resyncs++,
    },
    toBase,
  );
  return { sync, events };
}

const snapshotLevels = {
  bids: [lv('3366.1', '7'), lv('3366', '6')],
  asks: [lv('3366.8', '9'), lv('3368', '8')],
};

describe('checksum', () => {
  it('the documented test vectors (signed 32-bit CRC32)', () => {
    expect(signedCrc32('3366.1:7:3366.8:9:3366:6:3368:8')).toBe(-1881014294);
    expect(signedCrc32('3366.1:7:3366.8:9:3368:8:3372:8')).toBe(831078360);
  });

  it('interleaves bids and asks, and skips the missing levels of a shorter side (bid1:ask1:ask2:ask3)', () => {
    expect(
      checksumText(
        [
          ['3366.1', '7'],
          ['3366', '6'],
        ],
        [
          ['3366.8', '9'],
          ['3368', '8'],
        ],
      ),
    ).toBe('3366.1:7:3366.8:9:3366:6:3368:8');
    expect(
      checksumText(
        [['3366.1', '7']],
        [
          ['3366.8', '9'],
          ['3368', '8'],
          ['3372', '8'],
        ],
      ),
    ).toBe('3366.1:7:3366.8:9:3368:8:3372:8');
  });

  it('takes 25 levels per side, no more', () => {
    const side = (base: number) => Array.from({ length: 30 }, (_, i) => [String(base + i), '1'] as const);
    expect(checksumText(side(100), side(200)).split(':')).toHaveLength(25 * 4);
  });

  it("the book's checksum uses the strings as sent: trailing zeros matter", () => {
    const { sync } = harness();
    sync.onMessage(
      msg('snapshot', -1, 10, [lv('3366.1', '7')], [lv('3366.8', '9'), lv('3368', '8'), lv('3372', '8')]),
      1,
      0,
    );
    expect(sync.checksum()).toBe(831078360);
    const { sync: zeros } = harness();
    zeros.onMessage(
      msg('snapshot', -1, 10, [lv('3366.10', '7')], [lv('3366.8', '9'), lv('3368', '8'), lv('3372', '8')]),
      1,
      0,
    );
    expect(zeros.checksum()).not.toBe(831078360);
  });

  it('verifies a non-zero checksum and loses the book on a mismatch', () => {
    const { sync, events } = harness();
    const good = bookChecksum(
      [
        ['3366.1', '7'],
        ['3366', '6'],
      ],
      [
        ['3366.8', '9'],
        ['3368', '8'],
      ],
    );
    sync.onMessage(msg('snapshot', -1, 10, snapshotLevels.bids, snapshotLevels.asks, good), 1, 0);
    expect(sync.state).toBe('synced');
    expect(sync.counters.checksumsVerified).toBe(1);
    // Size 7 → 5 on the best bid, announced with the checksum of the book before the change.
    sync.onMessage(msg('update', 10, 11, [lv('3366.1', '5')], [], good), 1, 0);
    expect(sync.state).toBe('waiting');
    expect(events.gaps).toEqual([{ cause: 'checksum', detail: expect.stringContaining('checksum') }]);
    expect(events.resyncs).toBe(1);
  });
});

describe('sequence rule', () => {
  it('accepts the documented sequence (-1,10), (10,15), (15,15), (15,3), (3,5)', () => {
    const { sync, events } = harness();
    sync.onMessage(msg('snapshot', -1, 10, snapshotLevels.bids, snapshotLevels.asks), 1, 0);
    sync.onMessage(msg('update', 10, 15, [lv('3366.1', '8')]), 1, 0);
    sync.onMessage(msg('update', 15, 15), 1, 0); // keep-alive
    sync.onMessage(msg('update', 15, 3, [], [lv('3368', '0')]), 1, 0); // maintenance reset
    sync.onMessage(msg('update', 3, 5, [lv('3365', '1')]), 1, 0);
    expect(events.gaps).toEqual([]);
    expect(sync.state).toBe('synced');
    expect(sync.seqId).toBe(5);
    expect(sync.counters).toMatchObject({ snapshots: 1, applied: 3, keepalives: 1 });
    expect(sync.book.levels('bid')).toEqual([
      [3366.1, 8],
      [3366, 6],
      [3365, 1],
    ]);
    expect(sync.book.levels('ask')).toEqual([[3366.8, 9]]);
    expect(events.deltas.map((d) => d.seq)).toEqual([15, 15, 3, 5]);
  });

  it('loses the book on a break, ignores updates until a snapshot, and resyncs from it', () => {
    const { sync, events } = harness();
    sync.onMessage(msg('snapshot', -1, 10, snapshotLevels.bids, snapshotLevels.asks), 1, 0);
    sync.onMessage(msg('update', 11, 12, [lv('3366.1', '1')]), 1, 5);
    expect(events.gaps).toEqual([{ cause: 'sequence', detail: expect.stringContaining('prevSeqId=11') }]);
    expect(events.resyncs).toBe(1);
    expect(sync.state).toBe('waiting');
    expect(sync.book.depth('bid')).toBe(0);
    sync.onMessage(msg('update', 12, 13), 1, 6);
    expect(sync.counters.ignored).toBe(1);
    sync.onMessage(msg('snapshot', -1, 20, snapshotLevels.bids, snapshotLevels.asks), 1, 7);
    expect(sync.state).toBe('synced');
    expect(events.synced).toEqual([10, 20]);
    expect(events.gaps).toHaveLength(1);
  });

  it('treats a crossed book after an update as corruption', () => {
    const { sync, events } = harness();
    sync.onMessage(msg('snapshot', -1, 10, snapshotLevels.bids, snapshotLevels.asks), 1, 0);
    sync.onMessage(msg('update', 10, 11, [lv('3367', '1')]), 1, 0);
    expect(events.gaps.map((g) => g.cause)).toEqual(['crossed']);
    expect(sync.state).toBe('waiting');
  });

  it('asks again when a snapshot itself is crossed, without a gap', () => {
    const { sync, events } = harness();
    sync.onMessage(msg('snapshot', -1, 10, [lv('3370', '1')], snapshotLevels.asks), 1, 0);
    expect(sync.state).toBe('waiting');
    expect(events.gaps).toEqual([]);
    expect(events.resyncs).toBe(1);
  });

  it('follows one socket generation and moves to a newer one on its snapshot', () => {
    const { sync, events } = harness();
    sync.onMessage(msg('snapshot', -1, 10, snapshotLevels.bids, snapshotLevels.asks), 1, 0);
    // A rotation: the new socket (2) sends its snapshot; the old one (1) keeps sending updates.
    sync.onMessage(msg('snapshot', -1, 14, snapshotLevels.bids, snapshotLevels.asks), 2, 0);
    sync.onMessage(msg('update', 10, 14, [lv('3366.1', '9')]), 1, 0);
    expect(sync.counters.ignored).toBe(1);
    sync.onMessage(msg('update', 14, 16, [lv('3366.1', '9')]), 2, 0);
    // A late snapshot from the old socket is not used.
    sync.onMessage(msg('snapshot', -1, 16, [lv('1', '1')], snapshotLevels.asks), 1, 0);
    expect(events.gaps).toEqual([]);
    expect(sync.generation).toBe(2);
    expect(sync.seqId).toBe(16);
    expect(sync.book.bestBid()).toEqual([3366.1, 9]);
    // The old socket dying does not touch a book on the new one; the new one dying does.
    expect(sync.reset(1, 'old socket closed')).toBe(false);
    expect(sync.state).toBe('synced');
    expect(sync.reset(2, 'new socket closed')).toBe(true);
    expect(sync.state).toBe('waiting');
  });

  it('keeps sizes in base units (contracts × ctVal) and removes levels of size 0', () => {
    const ct = ContractValue.parse('0.1')!;
    const { sync, events } = harness((s) => ct.toBase(s));
    sync.onMessage(msg('snapshot', -1, 10, [lv('100', '3'), lv('99', '1')], [lv('101', '7')]), 1, 0);
    expect(sync.book.levels('bid')).toEqual([
      [100, 0.3],
      [99, 0.1],
    ]);
    sync.onMessage(msg('update', 10, 11, [lv('99', '0')], [lv('101', '0.3')]), 1, 0);
    expect(sync.book.levels('bid')).toEqual([[100, 0.3]]);
    expect(sync.book.levels('ask')).toEqual([[101, 0.03]]);
    expect(events.deltas[0]).toEqual({ bids: [[99, 0]], asks: [[101, 0.03]], seq: 11 });
  });

  it('trims to the channel depth, keeping the checksum strings in step', () => {
    const bids = Array.from({ length: 450 }, (_, i) => lv(String(1000 - i), '1'));
    const asks = Array.from({ length: 450 }, (_, i) => lv(String(1001 + i), '2'));
    const { sync } = harness();
    sync.onMessage(msg('snapshot', -1, 10, bids, asks), 1, 0);
    expect(sync.book.depth('bid')).toBe(400);
    expect(sync.book.depth('ask')).toBe(400);
    expect(sync.checksum()).toBe(
      bookChecksum(
        bids.slice(0, 25).map((l) => [l.px, l.sz]),
        asks.slice(0, 25).map((l) => [l.px, l.sz]),
      ),
    );
  });
});
