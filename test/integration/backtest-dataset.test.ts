/**
 * Loading a backtest's data from a real `market/<venue>.db`, written by the collectors' own recorder
 * (trades → 1 m candles, and the gap ledger): ranges that cross a gap of the symbol's trades or of a
 * whole connection are refused naming each gap, unless allowed; book gaps and other symbols' gaps do
 * not count; warmup is read before `from` and checked too; empty ranges, unknown symbols, a venue
 * never recorded and candles not closed yet; then a backtest on what was loaded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MarketRecorder } from '../../src/services/collector/recorder';
import { MarketReader, type StoredGap } from '../../src/services/collector/market-reader';
import { marketDbPath } from '../../src/services/collector/market-db';
import {
  DatasetError,
  loadDataset,
  readDataset,
  type DatasetRequest,
} from '../../src/services/optimizer/dataset';
import { runBacktest } from '../../src/services/optimizer/backtest';
import { strategies } from '../../src/services/strategies';
import type { GapRecord } from '../../src/shared/market';
import { tempDir } from '../helpers/temp-dir';

const VENUE = 'binance-usdm' as const;
const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 3, 9, 0, 0);
// Long after the recorded hour: every candle is closed.
const NOW = T0 + 24 * 60 * MIN;

let dir: ReturnType<typeof tempDir>;
const files = () => ({ dataDir: dir.path });
const req = (over: Partial<DatasetRequest>): DatasetRequest => ({
  venue: VENUE,
  symbol: 'BTCUSDT',
  resolution: '1m',
  from: T0,
  to: T0 + 60 * MIN,
  now: NOW,
  ...over,
});

const gaps: Record<string, GapRecord> = {
  tradeIds: {
    venue: VENUE,
    symbol: 'BTCUSDT',
    stream: 'trade',
    start: T0 + 20 * MIN + 5_000,
    end: T0 + 20 * MIN + 5_000,
    cause: 'trade-id',
    detail: 'trade ids 1201–1230 never arrived',
  },
  book: {
    venue: VENUE,
    symbol: 'BTCUSDT',
    stream: 'book',
    start: T0 + 5 * MIN,
    end: T0 + 6 * MIN,
    cause: 'sequence',
    detail: 'update 77 did not chain',
  },
  connection: {
    venue: VENUE,
    symbol: null,
    stream: 'binance-usdm/0',
    start: T0 + 40 * MIN,
    end: T0 + 41 * MIN + 30_000,
    cause: 'disconnect',
    detail: 'socket closed (1006)',
  },
  otherSymbol: {
    venue: VENUE,
    symbol: 'ETHUSDT',
    stream: 'trade',
    start: T0 + 10 * MIN,
    end: T0 + 10 * MIN,
    cause: 'trade-id',
    detail: 'trade ids 5–9 never arrived',
  },
  stillOpen: {
    venue: VENUE,
    symbol: null,
    stream: 'binance-usdm/1',
    start: T0 + 55 * MIN,
    end: null,
    cause: 'stale',
    detail: 'no message for 30 s',
  },
};

beforeAll(() => {
  dir = tempDir('vigil-backtest-dataset-');
  const r = MarketRecorder.open({
    dataDir: dir.path,
    venue: VENUE,
    retentionDays: 30,
    flushIntervalMs: 0,
    pruneIntervalMs: 0,
    checkpointThread: false,
  });
  try {
    let id = 0;
    // A trade every 10 s for an hour (6 per 1 m candle), and a few of ETHUSDT.
    for (let ts = T0; ts < T0 + 60 * MIN; ts += 10_000) {
      for (const symbol of ts % MIN === 0 ? ['BTCUSDT', 'ETHUSDT'] : ['BTCUSDT']) {
        id += 1;
        r.addTrade({
          type: 'trade',
          venue: VENUE,
          symbol,
          id: String(id),
          exchangeTs: ts,
          localTs: ts + 3,
          price: 100 + 5 * Math.sin((ts - T0) / (7 * MIN)) + (id % 3) / 10,
          size: 0.5,
          side: id % 2 ? 'buy' : 'sell',
        });
      }
    }
    r.flush();
    for (const g of Object.values(gaps)) r.recordGap(g);
  } finally {
    r.close();
  }
});
afterAll(() => dir.remove());

function refusal(run: () => unknown): DatasetError {
  try {
    run();
  } catch (error) {
    if (error instanceof DatasetError) return error;
    throw error;
  }
  throw new Error('expected a DatasetError');
}

const pick = (list: readonly StoredGap[]) => list.map((g) => g.detail);

describe('loadDataset', () => {
  it('loads a range without gaps: the recorded candles, book gaps and other symbols not counted', () => {
    // [T0, T0 + 15 min) holds the book gap and ETHUSDT's trade gap: neither touches BTCUSDT's candles.
    const d = loadDataset(files(), req({ to: T0 + 15 * MIN }));
    expect(d).toMatchObject({ venue: VENUE, symbol: 'BTCUSDT', resolution: '1m', intervalMs: MIN });
    expect(d).toMatchObject({ from: T0, to: T0 + 15 * MIN, startAt: T0, gaps: [] });
    expect(d.candles).toHaveLength(15);
    expect(d.candles.map((c) => c.start)).toEqual(Array.from({ length: 15 }, (_, i) => T0 + i * MIN));
    expect(d.candles.every((c) => c.trades === 6)).toBe(true);
    const reader = MarketReader.open(marketDbPath(dir.path, VENUE));
    try {
      expect(d.candles).toEqual(reader.candles('BTCUSDT', '1m', T0, T0 + 15 * MIN));
      expect(readDataset(reader, req({ to: T0 + 15 * MIN }))).toEqual(d);
    } finally {
      reader.close();
    }
  });

  it('refuses a range crossing a gap of the symbol’s trades, naming it', () => {
    const e = refusal(() => loadDataset(files(), req({ to: T0 + 30 * MIN })));
    expect(e.code).toBe('gaps');
    expect(pick(e.gaps)).toEqual(['trade ids 1201–1230 never arrived']);
    expect(e.message).toBe(
      'BTCUSDT on binance-usdm [2026-03-03T09:00:00.000Z, 2026-03-03T09:30:00.000Z) crosses 1 recorded gap: ' +
        '2026-03-03T09:20:05.000Z → 2026-03-03T09:20:05.000Z, stream BTCUSDT trade, trade-id: ' +
        'trade ids 1201–1230 never arrived. Choose a range without them, or allow gaps to run across them.',
    );
  });

  it('counts whole-connection gaps, open ones until now; allowGaps loads and lists them', () => {
    const e = refusal(() => loadDataset(files(), req({ from: T0 + 15 * MIN })));
    expect(e.code).toBe('gaps');
    expect(pick(e.gaps)).toEqual([
      'trade ids 1201–1230 never arrived',
      'socket closed (1006)',
      'no message for 30 s',
    ]);
    expect(e.message).toContain('crosses 3 recorded gaps');
    expect(e.message).toContain(
      '2026-03-03T09:40:00.000Z → 2026-03-03T09:41:30.000Z, stream binance-usdm/0 (whole connection), disconnect: socket closed (1006)',
    );
    expect(e.message).toContain(
      '2026-03-03T09:55:00.000Z → still open, stream binance-usdm/1 (whole connection), stale',
    );

    const d = loadDataset(files(), req({ from: T0 + 15 * MIN, allowGaps: true }));
    expect(d.candles).toHaveLength(45);
    expect(pick(d.gaps)).toEqual(pick(e.gaps));
    expect(d.gaps[1]).toMatchObject({
      symbol: null,
      stream: 'binance-usdm/0',
      cause: 'disconnect',
      end: T0 + 41 * MIN + 30_000,
    });

    // Between the gaps, nothing is crossed; an open gap covers every later range.
    expect(loadDataset(files(), req({ from: T0 + 42 * MIN, to: T0 + 55 * MIN })).gaps).toEqual([]);
    expect(refusal(() => loadDataset(files(), req({ from: T0 + 58 * MIN }))).gaps).toHaveLength(1);
  });

  it('reads warmup candles before from, and checks them for gaps too', () => {
    const d = loadDataset(files(), req({ from: T0 + 25 * MIN, to: T0 + 35 * MIN, warmupCandles: 3 }));
    expect(d.startAt).toBe(T0 + 25 * MIN);
    expect(d.candles).toHaveLength(13);
    expect(d.candles[0]!.start).toBe(T0 + 22 * MIN);
    // 10 warmup candles reach back to 09:15, over the trade-id gap at 09:20.
    const e = refusal(() =>
      loadDataset(files(), req({ from: T0 + 25 * MIN, to: T0 + 35 * MIN, warmupCandles: 10 })),
    );
    expect(e.code).toBe('gaps');
    expect(e.message).toContain('(with 10 warmup candles) crosses 1 recorded gap');
  });

  it('leaves out candles not closed by now', () => {
    // 09:10:02 − 5 s settling: the candles up to 09:09 have closed (09:09 itself ended at 09:10).
    const d = loadDataset(files(), req({ to: T0 + 15 * MIN, now: T0 + 10 * MIN + 2_000 }));
    expect(d.to).toBe(T0 + 9 * MIN);
    expect(d.candles).toHaveLength(9);
    const e = refusal(() => loadDataset(files(), req({ now: T0 + 30_000 })));
    expect(e.code).toBe('empty');
    expect(e.message).toContain('the range has not ended yet');
  });

  it('refuses an empty range, an unknown symbol, a venue never recorded and a bad request', () => {
    const before = refusal(() => loadDataset(files(), req({ from: T0 - 60 * MIN, to: T0 })));
    expect(before.code).toBe('empty');
    expect(before.message).toBe(
      'no 1m candles of BTCUSDT on binance-usdm in [2026-03-03T08:00:00.000Z, 2026-03-03T09:00:00.000Z)',
    );
    const unknown = refusal(() => loadDataset(files(), req({ symbol: 'XRPUSDT' })));
    expect(unknown.code).toBe('empty');
    expect(unknown.message).toContain('XRPUSDT was never recorded there (recorded: BTCUSDT, ETHUSDT)');
    // Warmup candles alone do not make a range.
    expect(
      refusal(() => loadDataset(files(), req({ from: T0 + 60 * MIN, to: T0 + 70 * MIN, warmupCandles: 30 })))
        .code,
    ).toBe('empty');

    const none = refusal(() => loadDataset(files(), req({ venue: 'okx-spot' })));
    expect(none.code).toBe('no-database');
    expect(none.message).toContain(`there is no ${marketDbPath(dir.path, 'okx-spot')}`);

    expect(refusal(() => loadDataset(files(), req({ to: T0 }))).message).toBe(
      'the range must end after it starts (from 2026-03-03T09:00:00.000Z, to 2026-03-03T09:00:00.000Z)',
    );
    expect(refusal(() => loadDataset(files(), req({ resolution: '5m' as '1m' }))).code).toBe('bad-request');
    expect(refusal(() => loadDataset(files(), req({ warmupCandles: -1 }))).code).toBe('bad-request');
  });

  it('feeds a backtest: warmup before startAt, measured from there', () => {
    const def = strategies['bollinger-reversion'];
    const params = def.schema.parse({ period: 5, entryZ: 1, exitZ: 0 });
    const d = loadDataset(files(), req({ to: T0 + 15 * MIN, warmupCandles: 0 }));
    const w = loadDataset(
      files(),
      req({ from: T0 + 5 * MIN, to: T0 + 15 * MIN, warmupCandles: def.warmup(params) }),
    );
    const r = runBacktest({
      strategy: def,
      params,
      candles: w.candles,
      intervalMs: w.intervalMs,
      startAt: w.startAt,
      costs: { feeBps: 4, slippageBps: 1, latencyMs: 100 },
      initialEquity: 1000,
    });
    expect(r.metrics.candles).toBe(10);
    expect(r.equity[0]!.at).toBe(T0 + 6 * MIN);
    expect(r.trades.length).toBeGreaterThan(0);
    expect(r.trades.every((t) => t.entryAt >= T0 + 5 * MIN)).toBe(true);
    expect(d.candles.slice(1)).toEqual(w.candles);
  });
});
