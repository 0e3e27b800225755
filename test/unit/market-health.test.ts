/** Market health: freshness against each type's stale limit, and how series are sampled for the API. */
import { describe, expect, it } from 'vitest';
import { bucketFor, lastPerBucket, mergeCandles } from '../../src/main/api/market-reads';
import { dvolCurrency, judgeFreshness, staleLimitMs } from '../../src/shared/market-api';

describe('stream freshness', () => {
  it('is green up to half the limit, amber past half, red past it, none before the first message', () => {
    expect(judgeFreshness(undefined, 30_000)).toBe('none');
    expect(judgeFreshness(0, 30_000)).toBe('green');
    expect(judgeFreshness(15_000, 30_000)).toBe('green');
    expect(judgeFreshness(15_001, 30_000)).toBe('amber');
    expect(judgeFreshness(30_000, 30_000)).toBe('amber');
    expect(judgeFreshness(30_001, 30_000)).toBe('red');
  });

  it('gives slow types the limit they need: OKX funding, polled open interest, long/short, liquidations', () => {
    const base = { staleAfterMs: 30_000, pollIntervalMs: 60_000 };
    expect(staleLimitMs({ ...base, venue: 'okx-swap' }, 'funding')).toBe(180_000);
    expect(staleLimitMs({ ...base, venue: 'binance-usdm' }, 'funding')).toBe(30_000);
    expect(staleLimitMs({ ...base, venue: 'binance-usdm' }, 'oi')).toBe(130_000);
    expect(staleLimitMs({ ...base, venue: 'deribit' }, 'oi')).toBe(30_000);
    expect(staleLimitMs({ ...base, venue: 'okx-swap' }, 'lsr')).toBe(900_000);
    expect(staleLimitMs({ ...base, venue: 'binance-usdm' }, 'liquidation')).toBe(3_600_000);
    expect(staleLimitMs({ ...base, venue: 'deribit' }, 'dvol')).toBe(30_000);
    expect(staleLimitMs({ ...base, venue: 'binance-spot', staleAfterMs: 5_000 }, 'book')).toBe(5_000);
  });

  it('reads DVOL for an instrument’s currency', () => {
    expect(dvolCurrency('BTC-PERPETUAL')).toBe('BTC');
    expect(dvolCurrency('ETH_USDC-PERPETUAL')).toBe('ETH');
    expect(dvolCurrency('BTC')).toBe('BTC');
  });
});

describe('market series sampling', () => {
  it('picks round bucket widths that keep a range to about maxPoints', () => {
    expect(bucketFor(7 * 86_400_000, 500, 60_000)).toBe(30 * 60_000);
    expect(bucketFor(15 * 60_000, 300, 1_000)).toBe(5_000);
    expect(bucketFor(60_000, 300, 1_000)).toBe(1_000);
    expect(bucketFor(31 * 86_400_000, 10, 60_000)).toBe(4 * 86_400_000);
  });

  it('merges candles into buckets: open first, close last, high and low the extremes', () => {
    const c = (start: number, open: number, high: number, low: number, close: number) => ({
      symbol: 'X',
      start,
      open,
      high,
      low,
      close,
      volume: 1,
      buyVolume: 0,
      trades: 2,
      firstTs: start,
      lastTs: start,
    });
    expect(mergeCandles([c(0, 1, 5, 1, 2), c(1000, 2, 3, 0.5, 4), c(2000, 4, 4, 4, 4)], 2000)).toEqual([
      { at: 0, open: 1, high: 5, low: 0.5, close: 4, volume: 2, trades: 4 },
      { at: 2000, open: 4, high: 4, low: 4, close: 4, volume: 1, trades: 2 },
    ]);
  });

  it('finds each bucket’s last value with short probes, widening only while it finds nothing', () => {
    // Dense (every 100 ms) for the first minute, sparse (every 50 s) for the next ten.
    const rows = [
      ...Array.from({ length: 600 }, (_, i) => ({ ts: i * 100 })),
      ...Array.from({ length: 12 }, (_, i) => ({ ts: 60_000 + i * 50_000 })),
    ];
    const reads: number[] = [];
    const get = (from: number, to: number) => {
      const found = rows.filter((r) => r.ts >= from && r.ts < to);
      reads.push(found.length);
      return found;
    };
    const out = lastPerBucket(get, 0, 660_000, 60_000);
    expect(out.map((p) => p.at)).toEqual(Array.from({ length: 11 }, (_, i) => i * 60_000));
    for (const p of out) {
      const inside = rows.filter((r) => r.ts >= p.at && r.ts < p.at + 60_000);
      expect(p.row).toBe(inside.at(-1));
    }
    // Never a whole dense bucket at once.
    expect(Math.max(...reads)).toBeLessThan(100);
  });
});
