/**
 * Downsampling and retention over 40 simulated days (a fake clock, a real file): raw kept 24 h,
 * minutes 30 days, hours a year; min/avg/max exact; the query resolution follows the range with at
 * most maxPoints points; the file stops growing once retention applies; steps stay within budget.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryQueries } from '../../src/main/store/history-queries';
import { openControlDb } from '../../src/main/store/database';
import { ControlStore } from '../../src/main/store/store';
import { tempDir } from '../helpers/temp-dir';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2026, 0, 1);
const DAYS = 40;
const EVERY_S = 15; // a sample every 15 s: 4 per minute, values 0, 15, 30, 45 for okx/cpu
const GAP = { from: 20 * 24 + 3, hours: 6 }; // Vigil was not running

let dir: ReturnType<typeof tempDir>;
let store: ControlStore;
let now = START;
const stepMs: number[] = [];
const sizes = new Map<number, number>();

/** Simulates DAYS days, an hour at a time: samples, a flush, then rollup steps until caught up. */
beforeAll(() => {
  dir = tempDir('vigil-store-rollups-');
  store = ControlStore.open(dir.path, { now: () => now, flushIntervalMs: 0, maintenanceIntervalMs: 0 });
  for (let h = 0; h < DAYS * 24; h++) {
    const hourStart = START + h * HOUR;
    if (h < GAP.from || h >= GAP.from + GAP.hours) {
      for (let t = hourStart; t < hourStart + HOUR; t += EVERY_S * 1000) {
        now = t;
        store.history.recordSamples(t, [
          { service: 'okx', metric: 'cpu', value: (t / 1000) % 60 },
          { service: 'okx', metric: 'rss', value: 7 },
          { service: 'binance', metric: 'hour', value: h % 24 },
        ]);
      }
      store.history.flush();
    }
    now = hourStart + HOUR + 30_000; // past the last minute and its grace
    for (let i = 0; i < 1000; i++) {
      const { rollup, checkpoint } = store.maintain(5);
      expect(rollup, 'a rollup step failed').not.toBeNull();
      expect(checkpoint).not.toBeNull();
      stepMs.push(rollup!.ms);
      if (!rollup!.more) break;
    }
    if ((h + 1) % 24 === 0) sizes.set((h + 1) / 24, statSync(join(dir.path, 'control.db')).size);
  }
}, 120_000);

afterAll(() => {
  store.close();
  dir.remove();
});

const nowS = () => Math.floor(now / 1000);
const one = <T>(sql: string, ...params: unknown[]) =>
  store.db
    .prepare(sql)
    .pluck()
    .get(...params) as T;
const seriesId = (service: string, metric: string) =>
  one<number>('SELECT id FROM series WHERE service = ? AND metric = ?', service, metric);

describe('retention', () => {
  it('keeps raw samples for 24 hours', () => {
    const oldest = one<number>('SELECT min(at) FROM samples_raw');
    expect(oldest).toBeGreaterThanOrEqual(nowS() - 24 * 3600);
    expect(oldest).toBeLessThan(nowS() - 24 * 3600 + 60);
  });

  it('keeps minute rollups for 30 days (pruned an hour at a time)', () => {
    const oldest = one<number>('SELECT min(at) FROM samples_1m');
    expect(oldest).toBeGreaterThanOrEqual(nowS() - 30 * 86_400 - 3600);
    expect(oldest).toBeLessThan(nowS() - 30 * 86_400 + 3600);
  });

  it('keeps hour rollups from the first day, without the hours Vigil was not running', () => {
    expect(one<number>('SELECT min(at) FROM samples_1h')).toBe(START / 1000);
    const hours = one<number>('SELECT count(DISTINCT at) FROM samples_1h');
    expect(hours).toBe(DAYS * 24 - GAP.hours);
    const gapStart = START / 1000 + GAP.from * 3600;
    expect(
      one<number>(
        'SELECT count(*) FROM samples_1h WHERE at >= ? AND at < ?',
        gapStart,
        gapStart + GAP.hours * 3600,
      ),
    ).toBe(0);
  });

  it('stops the file growing once retention applies', () => {
    const at31 = sizes.get(31)!;
    const at40 = sizes.get(40)!;
    expect(at40).toBeLessThan(at31 * 1.1);
    // Rows stay bounded too: 24 h of raw, 30 days of minutes.
    expect(one<number>('SELECT count(*) FROM samples_raw')).toBeLessThanOrEqual(3 * (86_400 / EVERY_S + 8));
    expect(one<number>('SELECT count(*) FROM samples_1m')).toBeLessThanOrEqual(3 * (30 * 1440 + 120));
  });

  it('keeps each step within its budget', () => {
    const sorted = [...stepMs].sort((a, b) => a - b);
    const p90 = sorted[Math.floor(sorted.length * 0.9)]!;
    const max = sorted.at(-1)!;
    console.log(
      `rollup steps: ${stepMs.length}, p90 ${p90.toFixed(2)} ms, max ${max.toFixed(2)} ms (budget 5 ms)`,
    );
    // p90, not max: on a loaded 2-core machine any call can be stalled by the disk or the scheduler.
    expect(p90).toBeLessThan(8);
  });
});

describe('rollups', () => {
  it('compute min/avg/max/count per minute and per hour exactly', () => {
    const rows = (table: string, id: number) =>
      store.db
        .prepare(`SELECT DISTINCT min, avg, max, count FROM ${table} WHERE series_id = ?`)
        .raw()
        .all(id);
    expect(rows('samples_1m', seriesId('okx', 'cpu'))).toEqual([[0, 22.5, 45, 4]]);
    expect(rows('samples_1h', seriesId('okx', 'cpu'))).toEqual([[0, 22.5, 45, 240]]);
    expect(rows('samples_1h', seriesId('okx', 'rss'))).toEqual([[7, 7, 7, 240]]);
    const hourly = store.db
      .prepare('SELECT at, min, avg, max FROM samples_1h WHERE series_id = ?')
      .raw()
      .all(seriesId('binance', 'hour')) as number[][];
    for (const [at, min, avg, max] of hourly) {
      const h = ((at! - START / 1000) / 3600) % 24;
      expect([min, avg, max]).toEqual([h, h, h]);
    }
  });
});

describe('querySeries', () => {
  const query = (fromAgo: number, toAgo: number, metric = 'cpu') =>
    store.queries.querySeries({
      service: 'okx',
      metric,
      from: now - fromAgo,
      to: now - toAgo,
      maxPoints: 300,
    });

  it.each([
    ['10 minutes', 10 * 60_000, 'raw'],
    ['2 hours', 2 * HOUR, '1m'],
    ['24 hours', DAY, '1m'],
    ['7 days', 7 * DAY, '1h'],
    ['35 days', 35 * DAY, '1h'],
  ] as const)('%s: resolution %s, at most 300 points, values right', (_, range, resolution) => {
    const r = query(range, 0);
    expect(r.resolution).toBe(resolution);
    expect(r.points.length).toBeGreaterThan(range >= DAY ? 100 : 30);
    expect(r.points.length).toBeLessThanOrEqual(300);
    for (const p of r.points) {
      expect(p.min).toBeGreaterThanOrEqual(0);
      expect(p.max).toBeLessThanOrEqual(45);
    }
    if (resolution !== 'raw') {
      // Full buckets of whole minutes: exactly the minute statistics.
      const inner = r.points.slice(1, -1);
      expect(inner.every((p) => p.min === 0 && p.max === 45 && p.avg === 22.5)).toBe(true);
    }
    const ats = r.points.map((p) => p.at);
    expect(ats).toEqual([...ats].sort((a, b) => a - b));
    expect(ats.every((at) => at % r.bucketMs === 0)).toBe(true);
    // bucketMs is the level's step or a multiple, and the spacing of points where nothing is missing.
    expect(r.bucketMs % { raw: 1000, '1m': 60_000, '1h': 3_600_000 }[resolution]).toBe(0);
    const gaps = ats.slice(1).map((at, i) => at - ats[i]!);
    // (Raw: this fixture samples less often than the sample interval the query was told, 1 s.)
    if (resolution === 'raw') expect(Math.min(...gaps)).toBeGreaterThanOrEqual(r.bucketMs);
    else expect(Math.min(...gaps)).toBe(r.bucketMs);
  });

  it('says how far apart its points are: the bucket, and for raw at least the sample interval', () => {
    expect(query(10 * 60_000, 0).bucketMs).toBe(2000); // 600 s in at most 300 points
    expect(query(2 * 60_000, 0).bucketMs).toBe(1000);
    const sampled = (sampleIntervalMs: number) =>
      store.queries.querySeries({
        service: 'okx',
        metric: 'cpu',
        from: now - 2 * 60_000,
        to: now,
        sampleIntervalMs,
      }).bucketMs;
    expect(sampled(5000)).toBe(5000);
    expect(sampled(500)).toBe(1000);
    expect(query(2 * HOUR, 0).bucketMs).toBe(60_000);
    expect(query(DAY, 0).bucketMs).toBe(300_000);
    expect(query(7 * DAY, 0).bucketMs).toBe(3_600_000);
    expect(query(HOUR, 0, 'nope').bucketMs).toBe(60_000); // also when there is no such series
  });

  it('uses the finest level that still holds the start of the range', () => {
    expect(query(3 * DAY, 3 * DAY - 10 * 60_000).resolution).toBe('1m'); // raw gone
    expect(query(35 * DAY, 35 * DAY - 2 * HOUR).resolution).toBe('1h'); // minutes gone
    expect(query(35 * DAY, 35 * DAY - 2 * HOUR).points.length).toBe(2);
  });

  it('returns nothing for a series that does not exist', () => {
    expect(query(HOUR, 0, 'nope').points).toEqual([]);
  });
});

describe('chooseResolution', () => {
  it('picks the coarsest level that still gives half of maxPoints', () => {
    const db = openControlDb(join(dir.path, 'other.db'));
    const q = new HistoryQueries(db, { now: () => START + 100 * DAY });
    const end = (START + 100 * DAY) / 1000;
    const pick = (rangeS: number, maxPoints = 300) => q.chooseResolution(end - rangeS, end, maxPoints);
    expect(pick(300)).toBe('raw');
    expect(pick(1800)).toBe('raw');
    expect(pick(1801)).toBe('1m'); // beyond raw's point-lookup range
    expect(pick(9000)).toBe('1m');
    expect(pick(5 * 86_400)).toBe('1m'); // 1h would give 120 points < 150
    expect(pick(7 * 86_400)).toBe('1h');
    expect(pick(3600, 50)).toBe('1m'); // 60 minute rows ≥ 25
    expect(pick(2 * 86_400, 20)).toBe('1h');
    db.close();
  });
});
