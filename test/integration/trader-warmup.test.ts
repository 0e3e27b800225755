/** The trader's warmup candles from a real market/<venue>.db written by the collectors' recorder. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { marketDbPath } from '../../src/services/collector/market-db';
import { MarketRecorder } from '../../src/services/collector/recorder';
import { loadWarmup } from '../../src/services/trader/warmup';
import { tempDir } from '../helpers/temp-dir';

const T0 = Date.UTC(2026, 2, 3, 9, 0, 0);
let dir: ReturnType<typeof tempDir>;

beforeEach(() => {
  dir = tempDir('vigil-trader-warmup-');
});
afterEach(() => dir.remove());

/** One trade a second of BTCUSDT (price = seconds since T0) over [T0, T0 + seconds). */
function record(seconds: number, gap?: { start: number; end: number | null }): void {
  const r = MarketRecorder.open({
    dataDir: dir.path,
    venue: 'binance-spot',
    retentionDays: 30,
    flushIntervalMs: 0,
    pruneIntervalMs: 0,
    checkpointThread: false,
  });
  for (let s = 0; s < seconds; s++) {
    r.addTrade({
      type: 'trade',
      venue: 'binance-spot',
      symbol: 'BTCUSDT',
      id: String(s + 1),
      exchangeTs: T0 + s * 1000 + 100,
      localTs: T0 + s * 1000 + 105,
      price: 100 + s,
      size: 1,
      side: 'buy',
    });
  }
  if (gap) {
    const id = r.openGap({
      venue: 'binance-spot',
      symbol: null,
      stream: 'conn',
      start: gap.start,
      end: null,
      cause: 'disconnect',
      detail: 'test',
    });
    if (gap.end !== null) r.closeGap(id, gap.end);
  }
  r.close();
}

const base = {
  venue: 'binance-spot' as const,
  symbols: ['BTCUSDT', 'ETHUSDT'],
  resolution: '1s' as const,
};

describe('trader warmup', () => {
  it('loads the last closed candles per symbol, oldest first; a symbol never recorded gets none', () => {
    record(120);
    // At T0 + 121.3 s the candle of second 119 ended 1.3 s ago: closed. At T0 + 120.3 s it ended
    // only 0.3 s ago, and is left out (its last trades may still be on their way to the file).
    const w = loadWarmup({ ...base, dataDir: dir.path, count: 30, now: T0 + 121_300 });
    const btc = w.history.get('BTCUSDT')!;
    expect(btc.map((c) => c.start)).toEqual(Array.from({ length: 30 }, (_, i) => T0 + (90 + i) * 1000));
    expect(btc[0]).toEqual({
      start: T0 + 90_000,
      open: 190,
      high: 190,
      low: 190,
      close: 190,
      volume: 1,
      trades: 1,
    });
    expect(w.history.get('ETHUSDT')).toEqual([]);
    expect(w.notes.join('\n')).toMatch(/BTCUSDT: 30 of 30 1s warmup candles/);
    expect(w.notes.join('\n')).toMatch(/ETHUSDT: 0 of 30 .* the rest come live from trades/);

    const settling = loadWarmup({ ...base, dataDir: dir.path, count: 5, now: T0 + 120_300 });
    expect(settling.history.get('BTCUSDT')!.at(-1)!.start).toBe(T0 + 118_000);
    const oneMinute = loadWarmup({
      ...base,
      resolution: '1m',
      dataDir: dir.path,
      count: 5,
      now: T0 + 121_300,
    });
    expect(oneMinute.history.get('BTCUSDT')!.map((c) => [c.start, c.open, c.close, c.trades])).toEqual([
      [T0, 100, 159, 60],
      [T0 + 60_000, 160, 219, 60],
    ]);
  });

  it('never warms across a recorded gap, and ignores history older than the lookback', () => {
    record(120, { start: T0 + 99_500, end: T0 + 100_500 });
    const w = loadWarmup({ ...base, dataDir: dir.path, count: 30, now: T0 + 121_300 });
    expect(w.history.get('BTCUSDT')!.map((c) => c.start)).toEqual(
      Array.from({ length: 19 }, (_, i) => T0 + (101 + i) * 1000),
    );
    expect(w.notes.join('\n')).toMatch(/a recorded gap \(disconnect\) cuts the history/);
    // Hours later, the old candles are not "recent".
    const late = loadWarmup({ ...base, dataDir: dir.path, count: 30, now: T0 + 3 * 3_600_000 });
    expect(late.history.get('BTCUSDT')).toEqual([]);
  });

  it('loads nothing, and says why, without a database or with an unreadable one', () => {
    const none = loadWarmup({ ...base, dataDir: dir.path, count: 30, now: T0 });
    expect(none.history.size).toBe(0);
    expect(none.notes[0]).toMatch(/no recorded binance-spot data .* does not exist\): warming up live/);
    expect(loadWarmup({ ...base, dataDir: null, count: 30, now: T0 }).notes[0]).toMatch(/no data directory/);
    const file = marketDbPath(dir.path, 'binance-spot');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, 'garbage '.repeat(100));
    const bad = loadWarmup({ ...base, dataDir: dir.path, count: 30, now: T0 });
    expect(bad.history.size).toBe(0);
    expect(bad.notes[0]).toMatch(
      /cannot read .*binance-spot\.db, warming up live from trades: .*not a valid database/,
    );
  });
});
