/**
 * DVOL history paging: pages walk back with `continuation`, assemble into the full 1-minute grid with
 * no bar missing or repeated (even when pages overlap or a row repeats), a continuation that does not
 * move back ends the paging, and a failed page is retried from where it stopped.
 */
import { describe, expect, it } from 'vitest';
import {
  DvolBackfill,
  DvolHistoryCursor,
  type DvolPageRequest,
} from '../../src/services/collector/deribit/dvol-history';
import { parseVolatilityPage, type VolatilityPage } from '../../src/services/collector/deribit/parse';
import type { VolatilityIndexRecord } from '../../src/shared/market';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);

/**
 * Pages as the simulator (and Deribit) gives them: the newest `size` rows of [start, end], oldest first;
 * `overlap` makes the continuation the oldest row itself (a server whose next page repeats it).
 */
function server(size: number, overlap = false) {
  return (req: DvolPageRequest): VolatilityPage => {
    const first = Math.ceil(req.start_timestamp / MIN) * MIN;
    const last = Math.floor(req.end_timestamp / MIN) * MIN;
    const rows: number[] = [];
    for (let t = Math.max(first, last - (size - 1) * MIN); t <= last; t += MIN) rows.push(t);
    const more = rows.length > 0 && rows[0]! > first;
    const result = {
      data: rows.map((t) => [t, 50, 51, 49, 50.5]),
      continuation: more ? (overlap ? rows[0]! : rows[0]! - MIN) : null,
    };
    const page = parseVolatilityPage(result, 'BTC', 60, 0);
    if (!page.ok) throw new Error(page.error);
    return page.value;
  };
}

function drain(cursor: DvolHistoryCursor, page: (r: DvolPageRequest) => VolatilityPage, limit = 1000) {
  const bars: VolatilityIndexRecord[] = [];
  for (let req = cursor.next(), n = 0; req !== null && n < limit; req = cursor.next(), n++) {
    bars.push(...cursor.accept(page(req)));
  }
  return bars;
}

const grid = (from: number, to: number) => {
  const out: number[] = [];
  for (let t = from; t <= to; t += MIN) out.push(t);
  return out;
};

describe('DvolHistoryCursor', () => {
  it('assembles contiguous pages into the whole grid, newest page first', () => {
    const from = T0;
    const to = T0 + 249 * MIN;
    const cursor = new DvolHistoryCursor(from, to);
    const requests: DvolPageRequest[] = [];
    const source = server(100);
    const bars = drain(cursor, (req) => {
      requests.push(req);
      return source(req);
    });
    expect(requests.map((r) => r.end_timestamp)).toEqual([to, to - 100 * MIN, to - 200 * MIN]);
    expect(requests.every((r) => r.start_timestamp === from)).toBe(true);
    expect(bars.map((b) => b.exchangeTs).sort((a, b) => a - b)).toEqual(grid(from, to));
    expect(cursor).toMatchObject({ done: true, pages: 3, bars: 250 });
  });

  it('pages that overlap by a row, or a row sent twice, still give each bar once', () => {
    const cursor = new DvolHistoryCursor(T0, T0 + 199 * MIN);
    const bars = drain(cursor, server(60, true));
    expect(bars.map((b) => b.exchangeTs).sort((a, b) => a - b)).toEqual(grid(T0, T0 + 199 * MIN));

    const twice = new DvolHistoryCursor(T0, T0 + 2 * MIN);
    const row = (t: number): VolatilityIndexRecord => ({
      type: 'dvol',
      venue: 'deribit',
      symbol: 'BTC',
      exchangeTs: t,
      localTs: 0,
      resolutionSec: 60,
      open: 1,
      high: 1,
      low: 1,
      close: 1,
    });
    const out = twice.accept({
      bars: [row(T0 + MIN), row(T0), row(T0 + MIN), row(T0 + 5 * MIN)],
      continuation: null,
    });
    expect(out.map((b) => b.exchangeTs)).toEqual([T0, T0 + MIN]); // sorted, once, inside the range
  });

  it('stops on a continuation that does not move back, or an empty range', () => {
    const cursor = new DvolHistoryCursor(T0, T0 + 500 * MIN);
    cursor.accept({ bars: [], continuation: T0 + 500 * MIN });
    expect(cursor.done).toBe(true);
    expect(new DvolHistoryCursor(T0, T0 - 1).next()).toBeNull();
  });
});

describe('DvolBackfill', () => {
  it('retries a failed page from where it stopped, and reports its progress', async () => {
    const source = server(10);
    const calls: number[] = [];
    const logs: string[] = [];
    const got: VolatilityIndexRecord[] = [];
    let failOnce = true;
    const backfill = new DvolBackfill({
      currency: 'BTC',
      from: T0,
      to: T0 + 34 * MIN,
      fetchPage: async (req) => {
        calls.push(req.end_timestamp);
        expect(req).toMatchObject({ currency: 'BTC', resolution: '60' });
        if (calls.length === 2 && failOnce) {
          failOnce = false;
          throw new Error('connection 1 closed');
        }
        const page = source(req);
        return {
          data: page.bars.map((b) => [b.exchangeTs, b.open, b.high, b.low, b.close]),
          continuation: page.continuation,
        };
      },
      parse: (result) => parseVolatilityPage(result, 'BTC', 60, 0),
      onBars: (bars) => got.push(...bars),
      ready: () => Promise.resolve(),
      log: (line) => logs.push(line),
      retryMs: { first: 10, cap: 40 },
    });
    await backfill.start();
    expect(calls).toEqual([T0 + 34 * MIN, T0 + 24 * MIN, T0 + 24 * MIN, T0 + 14 * MIN, T0 + 4 * MIN]);
    expect(got.map((b) => b.exchangeTs).sort((a, b) => a - b)).toEqual(grid(T0, T0 + 34 * MIN));
    expect(backfill.progress()).toMatchObject({
      currency: 'BTC',
      pages: 4,
      bars: 35,
      failures: 1,
      done: true,
    });
    expect(logs[0]).toMatch(/page failed \(connection 1 closed\); retrying/);
    expect(logs.at(-1)).toBe('DVOL BTC history: 35 1-minute bars back-filled in 4 pages');
  });

  it('stop ends a back-fill waiting to retry', async () => {
    const backfill = new DvolBackfill({
      currency: 'ETH',
      from: T0,
      to: T0 + 10 * MIN,
      fetchPage: () => Promise.reject(new Error('down')),
      parse: (result) => parseVolatilityPage(result, 'ETH', 60, 0),
      onBars: () => undefined,
      ready: () => Promise.resolve(),
      log: () => undefined,
      retryMs: { first: 60_000, cap: 60_000 },
    });
    const done = backfill.start();
    await new Promise((r) => setTimeout(r, 20));
    backfill.stop();
    await done;
    expect(backfill.progress()).toMatchObject({ failures: 1, done: false, lastError: 'down' });
  });
});
