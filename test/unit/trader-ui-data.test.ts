/** The Trader page's data: the limits editor's checks, the bounded chart ring, the paged blotter. */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RISK_LIMITS,
  type TraderEquityPoint,
  type TraderSnapshot,
} from '../../src/shared/trader-api';
import {
  historyRows,
  LastValueRing,
  pointOfEquity,
  pointOfSnapshot,
} from '../../src/shared/trader-ui/chart-buffer';
import {
  checkLimits,
  draftChanged,
  draftOf,
  limitFieldOfApiError,
  limitFields,
  limitKeys,
  messageAtLimitField,
} from '../../src/shared/trader-ui/limits-form';
import { appendOlder, emptyList, MAX_ROWS, mergeNewest } from '../../src/shared/trader-ui/pages';

describe('the risk limits editor', () => {
  it('round-trips the limits in force, and says when nothing changed', () => {
    const draft = draftOf(DEFAULT_RISK_LIMITS);
    expect(checkLimits(draft)).toEqual({ limits: DEFAULT_RISK_LIMITS, errors: {} });
    expect(draftChanged(draft, DEFAULT_RISK_LIMITS)).toBe(false);
    expect(draftChanged({ ...draft, maxDailyLoss: '500.0' }, DEFAULT_RISK_LIMITS)).toBe(false);
    expect(draftChanged({ ...draft, maxDailyLoss: '250' }, DEFAULT_RISK_LIMITS)).toBe(true);
    expect(draftChanged({ ...draft, maxDailyLoss: '' }, DEFAULT_RISK_LIMITS)).toBe(true);
  });

  it('accepts grouped figures', () => {
    const r = checkLimits({
      ...draftOf(DEFAULT_RISK_LIMITS),
      maxPositionNotional: '12,500',
      maxDailyLoss: ' 750 ',
    });
    expect(r.errors).toEqual({});
    expect(r.limits).toMatchObject({ maxPositionNotional: 12_500, maxDailyLoss: 750 });
  });

  it('puts each problem at its field, with the API schema’s own words', () => {
    const r = checkLimits({
      maxPositionNotional: '',
      maxOrderNotional: 'lots',
      maxOrdersPerMinute: '2.5',
      maxDailyLoss: '0',
    });
    expect(r.limits).toBeNull();
    expect(r.errors).toEqual({
      maxPositionNotional: 'is required',
      maxOrderNotional: 'must be a number',
      maxOrdersPerMinute: 'must be a whole number',
      maxDailyLoss: 'must be more than 0',
    });
    const negative = checkLimits({ ...draftOf(DEFAULT_RISK_LIMITS), maxOrderNotional: '-5' });
    expect(negative.errors).toEqual({ maxOrderNotional: 'must be more than 0' });
    const zeroOrders = checkLimits({ ...draftOf(DEFAULT_RISK_LIMITS), maxOrdersPerMinute: '0' });
    expect(Object.keys(zeroOrders.errors)).toEqual(['maxOrdersPerMinute']);
  });

  it('maps an API refusal to its field and strips the path from its message', () => {
    expect(limitFieldOfApiError('limits.maxDailyLoss')).toBe('maxDailyLoss');
    expect(limitFieldOfApiError('maxOrderNotional')).toBe('maxOrderNotional');
    expect(limitFieldOfApiError('name')).toBeNull();
    expect(limitFieldOfApiError(undefined)).toBeNull();
    expect(messageAtLimitField('limits.maxDailyLoss: must be more than 0')).toBe('must be more than 0');
    expect(messageAtLimitField('the trader is not running')).toBe('the trader is not running');
  });

  it('has a labelled field for every limit of the contract', () => {
    expect([...limitKeys].sort()).toEqual(Object.keys(DEFAULT_RISK_LIMITS).sort());
    for (const f of limitFields) expect(f.label.length).toBeGreaterThan(0);
  });
});

const point = (equity: number) => ({ equity, total: equity - 10_000, realized: 1, unrealized: 2 });

describe('the live chart ring', () => {
  it('keeps the last value of each bucket, a row per bucket, on a relative axis', () => {
    const ring = new LastValueRing(5, 1_000);
    ring.push(10_100, point(10_001));
    ring.push(10_900, point(10_002)); // same bucket: the later figure stands
    ring.push(12_500, point(10_003));
    const rows = ring.rows(12_600);
    expect(rows).toHaveLength(5);
    expect(rows.map((r) => r.equity)).toEqual([null, null, 10_002, null, 10_003]);
    expect(rows.map((r) => r.t)).toEqual([-4_100, -3_100, -2_100, -1_100, -100]);
    expect(rows.at(-1)!.at).toBe(12_500); // a bucket's middle...
    expect(ring.rows(12_200).at(-1)).toMatchObject({ t: 0, at: 12_200 }); // ...never after now
    expect(rows[2]).toMatchObject({ at: 10_500, total: 2, realized: 1, unrealized: 2 });
    expect(ring.filled(12_600)).toBe(2);
  });

  it('stays the same size however long it runs, dropping what left the window', () => {
    const ring = new LastValueRing(4, 1_000);
    for (let t = 0; t < 100_000; t += 250) ring.push(t, point(t));
    const rows = ring.rows(99_999);
    expect(rows).toHaveLength(4);
    expect(rows.map((r) => r.equity)).toEqual([96_750, 97_750, 98_750, 99_750]);
    ring.push(1_000, point(1)); // older than the window: ignored
    expect(ring.rows(99_999).map((r) => r.equity)).toEqual([96_750, 97_750, 98_750, 99_750]);
    expect(ring.newestBucketAt).toBe(99_000);
    ring.clear();
    expect(ring.filled(99_999)).toBe(0);
    expect(ring.newestBucketAt).toBeNull();
  });

  it('holds a level across short gaps between points, and breaks at longer ones', () => {
    const ring = new LastValueRing(10, 1_000);
    ring.push(1_000, point(1));
    ring.push(4_000, point(4)); // 3 s later: held across the two empty buckets
    ring.push(9_000, point(9)); // 5 s later: a break
    expect(ring.rows(9_999, 3_000).map((r) => r.equity)).toEqual([
      null,
      1,
      1,
      1,
      4,
      null,
      null,
      null,
      null,
      9,
    ]);
    expect(ring.rows(9_999).map((r) => r.equity)).toEqual([
      null,
      1,
      null,
      null,
      4,
      null,
      null,
      null,
      null,
      9,
    ]);
  });

  it('fills the past from history without overwriting live figures', () => {
    const ring = new LastValueRing(5, 1_000);
    ring.push(3_200, point(3));
    ring.fill(3_900, point(30)); // a live figure is there: kept
    ring.fill(1_000, point(1));
    ring.fill(Number.NaN, point(9));
    expect(ring.rows(3_999).map((r) => r.equity)).toEqual([null, null, 1, null, 3]);
  });

  it('breaks the line at a gap, and refuses a nonsense size', () => {
    const ring = new LastValueRing(3, 1_000);
    ring.push(0, point(1));
    ring.push(5_000, point(2)); // a lap later: the first bucket's slot is not shown as current
    expect(ring.rows(5_000).map((r) => r.equity)).toEqual([null, null, 2]);
    ring.push(5_500, { ...point(3), unrealized: Number.NaN });
    expect(ring.rows(5_500).at(-1)!.unrealized).toBeNull();
    expect(() => new LastValueRing(1, 1_000)).toThrow(/buckets/);
    expect(() => new LastValueRing(10, 0)).toThrow(/widthMs/);
  });

  it('takes points from a snapshot or a recorded equity point', () => {
    const s = {
      account: { initialEquity: 10_000, equity: 10_250, realizedPnl: 200, unrealizedPnl: 60 },
    } as TraderSnapshot;
    expect(pointOfSnapshot(s)).toEqual({ equity: 10_250, total: 250, realized: 200, unrealized: 60 });
    const p: TraderEquityPoint = { t: 1, equity: 9_900, realizedPnl: -80, unrealizedPnl: -10 };
    expect(pointOfEquity(p, 10_000)).toEqual({ equity: 9_900, total: -100, realized: -80, unrealized: -10 });
  });

  it('draws recorded history with a break where the trader was stopped', () => {
    const at = (t: number, equity = 10_000): TraderEquityPoint => ({
      t,
      equity,
      realizedPnl: 0,
      unrealizedPnl: 0,
    });
    const rows = historyRows([at(10_000), at(0), at(5_000), at(60_000, 10_050), at(65_000)], 10_000);
    expect(rows.map((r) => [r.t, r.equity])).toEqual([
      [0, 10_000],
      [5_000, 10_000],
      [10_000, 10_000],
      [15_000, null],
      [60_000, 10_050],
      [65_000, 10_000],
    ]);
    expect(rows[4]!.total).toBe(50);
    expect(historyRows([], 10_000)).toEqual([]);
  });
});

type Row = { id: string; seq: number };
const rows = (from: number, to: number): Row[] => {
  const out: Row[] = [];
  for (let s = from; s >= to; s -= 1) out.push({ id: `f${s}`, seq: s });
  return out;
};

describe('the paged blotter', () => {
  it('merges a fresh newest page over the older pages shown, each row once', () => {
    let shown = mergeNewest(emptyList<Row>(), { items: rows(10, 6), next: 6 });
    shown = appendOlder(shown, { items: rows(5, 1), next: null });
    expect(shown.items.map((r) => r.seq)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(shown.next).toBeNull();
    // Two new fills: the newest page overlaps what is shown.
    shown = mergeNewest(shown, { items: rows(12, 8), next: 8 });
    expect(shown.items.map((r) => r.seq)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(shown.next).toBeNull();
    // An older page repeating rows shown adds only the new ones.
    const again = appendOlder(shown, { items: rows(3, 1), next: null });
    expect(again.items).toHaveLength(12);
  });

  it('replaces what is shown when more arrived than a page holds (no silent gap)', () => {
    const shown = mergeNewest(emptyList<Row>(), { items: rows(10, 6), next: 6 });
    const after = mergeNewest(shown, { items: rows(30, 26), next: 26 });
    expect(after.items.map((r) => r.seq)).toEqual([30, 29, 28, 27, 26]);
    expect(after.next).toBe(26);
    // The whole list in one page (no next) joins without a gap whatever the seqs.
    const whole = mergeNewest(shown, { items: rows(20, 18), next: null });
    expect(whole.items.map((r) => r.seq)).toEqual([20, 19, 18]);
    expect(mergeNewest(shown, { items: [], next: null })).toEqual({ items: [], next: null });
  });

  it('keeps at most MAX_ROWS rows, the oldest kept being the next cursor', () => {
    let shown = mergeNewest(emptyList<Row>(), {
      items: rows(MAX_ROWS + 100, MAX_ROWS + 1),
      next: MAX_ROWS + 1,
    });
    shown = appendOlder(shown, { items: rows(MAX_ROWS, 1), next: null });
    expect(shown.items).toHaveLength(MAX_ROWS);
    expect(shown.next).toBe(shown.items.at(-1)!.seq);
  });
});
