/**
 * Trial batches are committed without a sync of their own (a search stores one every few tens of ms,
 * and each sync would queue with the trader's on the same disk), and the connection is back to
 * synchronous=FULL afterwards, whatever happened: every other write to control.db stays durable.
 * Their equity curves travel as base64 of the bytes stored.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlStore } from '../../src/main/store/store';
import { encodeEquity, equityBytes, equityPoints } from '../../src/services/optimizer/equity-codec';
import { optimizerRequestSchema } from '../../src/shared/optimizer-api';
import { optimizerTrialEventSchema, type TrialWire } from '../../src/shared/optimizer-protocol';
import { tempDir } from '../helpers/temp-dir';

const FULL = 2;
let dir: ReturnType<typeof tempDir>;
let store: ControlStore;

beforeEach(() => {
  dir = tempDir('vigil-store-optimizer-');
  store = ControlStore.open(dir.path, { flushIntervalMs: 0, maintenanceIntervalMs: 0 });
});
afterEach(() => {
  store.close();
  dir.remove();
});

const request = optimizerRequestSchema.parse({
  strategy: 'ma-crossover',
  venue: 'binance-usdm',
  symbol: 'BTCUSDT',
  from: Date.UTC(2026, 0, 1),
  to: Date.UTC(2026, 0, 2),
  space: { type: 'grid', params: { fast: { min: 2, max: 3, step: 1 }, slow: { min: 10, max: 10, step: 1 } } },
});

const trial = (id: number, score: number | null): TrialWire => ({
  id,
  params: { fast: 2 + id, slow: 10 },
  status: score === null ? 'failed' : 'done',
  inSample: null,
  outOfSample: null,
  score,
  outOfSampleScore: null,
  meetsConstraints: score !== null,
  error: score === null ? 'no data' : null,
  durationMs: 3,
  equity: { inSample: encodeEquity([{ at: 1, equity: 100 }]), outOfSample: '' },
});

const synchronous = (): unknown => store.db.pragma('synchronous', { simple: true });
const newRun = (): number =>
  store.optimizer.createRun({ createdAt: 1, request, strategyVersion: 1, total: 2, skipped: 0 });

describe('optimizer trials in control.db', () => {
  it('stores a batch with the run row, and leaves the connection at synchronous=FULL', () => {
    expect(synchronous()).toBe(FULL);
    const run = newRun();
    expect(store.optimizer.addTrials(run, [trial(0, 1.5), trial(1, null)], 10)).toBe(2);
    expect(synchronous()).toBe(FULL);
    expect(store.optimizer.getRun(run)).toMatchObject({ done: 2, failed: 1 });
    expect(store.optimizer.doneIds(run)).toEqual([0, 1]);
    // A trial stored already is not written again.
    expect(store.optimizer.addTrials(run, [trial(1, null)], 11)).toBe(0);
    expect(synchronous()).toBe(FULL);
  });

  it('is back at synchronous=FULL after a batch that fails, which leaves nothing of itself', () => {
    const run = newRun();
    const broken = { ...trial(1, 2), equity: { inSample: null, outOfSample: [] } } as unknown as TrialWire;
    expect(() => store.optimizer.addTrials(run, [trial(0, 1), broken], 10)).toThrow();
    expect(synchronous()).toBe(FULL);
    expect(store.optimizer.doneIds(run)).toEqual([]);
    expect(store.optimizer.getRun(run)).toMatchObject({ done: 0, failed: 0 });
  });
});

describe('equity curves on the wire', () => {
  const points = [
    { at: Date.UTC(2026, 0, 1), equity: 10_000 },
    { at: Date.UTC(2026, 0, 1, 0, 1), equity: 10_012.345678901 },
    { at: Date.UTC(2026, 0, 1, 0, 2), equity: 9_876.5 },
  ];

  it('travel as base64 of little-endian Float64 pairs and come back exactly', () => {
    const encoded = encodeEquity(points);
    const bytes = equityBytes(encoded);
    expect(bytes.byteLength).toBe(48);
    expect(bytes.readDoubleLE(8)).toBe(10_000);
    expect(equityPoints(bytes)).toEqual(points);
    expect(encodeEquity([])).toBe('');
    expect(equityPoints(equityBytes(''))).toEqual([]);
  });

  it('are refused by the protocol when they are not whole points of base64', () => {
    const event = (inSample: string) =>
      optimizerTrialEventSchema.safeParse({
        runId: 1,
        trial: { ...trial(0, 1), equity: { inSample, outOfSample: '' } },
      }).success;
    expect(event(encodeEquity(points))).toBe(true);
    expect(event('')).toBe(true);
    // 8 bytes: half a point.
    expect(event(Buffer.alloc(8).toString('base64'))).toBe(false);
    expect(event('not base64!')).toBe(false);
    expect(event(encodeEquity(Array.from({ length: 1001 }, (_, i) => ({ at: i, equity: i }))))).toBe(false);
  });
});
