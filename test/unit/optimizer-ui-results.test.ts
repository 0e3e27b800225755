/** The Optimizer page's results: trial table sorting, runs kept current by events, and advice on errors. */
import { describe, expect, it } from 'vitest';
import type { OptimizerRun, OptimizerTrial } from '../../src/shared/optimizer-api';
import { adviceFor, runAdvice } from '../../src/shared/optimizer-ui/advice';
import {
  applyProgress,
  ariaSort,
  defaultTrialSort,
  formatNumber,
  formatPercent,
  insertRunId,
  needsRead,
  nextSort,
  orderedParams,
  paramsWords,
  progressShare,
  progressWords,
  sortWords,
  trialColumns,
} from '../../src/shared/optimizer-ui/results';

const column = (id: string) => {
  const c = trialColumns.find((col) => col.id === id);
  if (!c) throw new Error(`no column ${id}`);
  return c;
};

function run(patch: Partial<OptimizerRun> = {}): OptimizerRun {
  // Cast: the contract gains fields (dataTo) that these functions do not read.
  return {
    id: 4,
    status: 'running',
    request: {} as OptimizerRun['request'],
    strategyVersion: 1,
    split: 1_000,
    skipped: 0,
    progress: { done: 10, total: 100, failed: 0, etaMs: 5000, best: null },
    gaps: null,
    candles: null,
    createdAt: 1,
    startedAt: 2,
    finishedAt: null,
    error: null,
    note: null,
    ...patch,
  } as OptimizerRun;
}

describe('sorting the trial table', () => {
  it('starts on the in-sample score, best first', () => {
    expect(defaultTrialSort).toEqual({ sort: 'score', sample: 'inSample', order: 'desc' });
    expect(ariaSort(defaultTrialSort, column('score'))).toBe('descending');
    expect(ariaSort(defaultTrialSort, column('outOfSampleScore'))).toBe('none');
  });

  it('flips the order on the same column, and starts another at its better end', () => {
    const flipped = nextSort(defaultTrialSort, column('score'));
    expect(flipped).toEqual({ sort: 'score', sample: 'inSample', order: 'asc' });
    expect(ariaSort(flipped, column('score'))).toBe('ascending');
    expect(nextSort(flipped, column('outOfSampleScore'))).toEqual({
      sort: 'outOfSampleScore',
      sample: 'inSample',
      order: 'desc',
    });
    // Lower is better: drawdown, id and duration start ascending.
    expect(nextSort(flipped, column('maxDrawdown:inSample')).order).toBe('asc');
    expect(nextSort(flipped, column('id')).order).toBe('asc');
    expect(nextSort(flipped, column('durationMs')).order).toBe('asc');
  });

  it('tells the in-sample and out-of-sample columns of one metric apart', () => {
    const oos = nextSort(defaultTrialSort, column('totalReturn:outOfSample'));
    expect(oos).toEqual({ sort: 'totalReturn', sample: 'outOfSample', order: 'desc' });
    expect(ariaSort(oos, column('totalReturn:outOfSample'))).toBe('descending');
    expect(ariaSort(oos, column('totalReturn:inSample'))).toBe('none');
    // From the out-of-sample return to the in-sample one: a new column, not a flip.
    expect(nextSort(oos, column('totalReturn:inSample'))).toEqual({
      sort: 'totalReturn',
      sample: 'inSample',
      order: 'desc',
    });
    expect(sortWords(oos)).toBe(
      'Sorted by total return out of sample, highest first, trials without a value last',
    );
    expect(sortWords({ sort: 'id', sample: 'inSample', order: 'asc' })).toBe(
      'Sorted by trial id, lowest first',
    );
  });

  it('has unique columns, each sample’s metrics side by side, read from the trial', () => {
    const ids = trialColumns.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    const groups = trialColumns.map((c) => c.group);
    expect(groups.indexOf('outOfSample')).toBeGreaterThan(groups.lastIndexOf('inSample'));
    const t = {
      id: 3,
      score: 1.5,
      outOfSampleScore: null,
      inSample: { totalReturn: 0.1234, maxDrawdown: 0.05, trades: 12 },
      outOfSample: null,
      durationMs: 1500,
    } as unknown as OptimizerTrial;
    const shown = (id: string) => column(id).format(column(id).value(t));
    expect(shown('id')).toBe('3');
    expect(shown('score')).toBe('1.500');
    expect(shown('outOfSampleScore')).toBe('—');
    expect(shown('totalReturn:inSample')).toBe('12.34 %');
    expect(shown('totalReturn:outOfSample')).toBe('—');
    expect(shown('maxDrawdown:inSample')).toBe('5.0 %');
    expect(shown('trades:inSample')).toBe('12');
    expect(shown('durationMs')).toBe('1.5 s');
  });
});

describe('runs kept current by optimizer.progress', () => {
  const event = {
    runId: 4,
    status: 'running' as const,
    done: 40,
    total: 100,
    failed: 1,
    etaMs: 900,
    best: { trialId: 7, score: 2 },
  };

  it('takes the event’s status and progress', () => {
    const next = applyProgress(run(), event);
    expect(next.status).toBe('running');
    expect(next.progress).toEqual({
      done: 40,
      total: 100,
      failed: 1,
      etaMs: 900,
      best: { trialId: 7, score: 2 },
    });
    expect(progressWords(next)).toBe('40 of 100, 1 failed');
    expect(progressShare(next)).toBe(0.4);
  });

  it('never counts back, keeps a finished run finished, drops the ETA at the end, and ignores other runs', () => {
    expect(applyProgress(run({ progress: { ...run().progress, done: 50 } }), event).progress.done).toBe(50);
    const done = run({ status: 'done' });
    expect(applyProgress(done, event)).toBe(done);
    expect(applyProgress(run(), { ...event, status: 'done', done: 100 }).progress.etaMs).toBeNull();
    const other = run({ id: 5 });
    expect(applyProgress(other, event)).toBe(other);
  });

  it('reads the whole run when it is unknown or its status moved (its gaps, times, error or note change)', () => {
    expect(needsRead(undefined, event)).toBe(true);
    expect(needsRead(run({ status: 'queued' }), event)).toBe(true);
    expect(needsRead(run(), event)).toBe(false);
  });

  it('lists runs newest first', () => {
    expect(insertRunId([9, 5, 2], 7)).toEqual([9, 7, 5, 2]);
    expect(insertRunId([9, 5], 5)).toEqual([9, 5]);
    expect(insertRunId([], 1)).toEqual([1]);
  });

  it('prints figures and parameters', () => {
    expect(
      progressWords(run({ progress: { done: 1234, total: 20000, failed: 0, etaMs: null, best: null } })),
    ).toBe('1,234 of 20,000');
    expect(progressShare(run({ progress: { done: 0, total: 0, failed: 0, etaMs: null, best: null } }))).toBe(
      0,
    );
    expect(formatNumber(null)).toBe('—');
    expect(formatNumber(0)).toBe('0.000');
    expect(formatNumber(1.23456, 2)).toBe('1.23');
    expect(formatPercent(-0.5)).toBe('-50.00 %');
    expect(orderedParams({ a: 1, slow: 2, fast: 3 }, ['fast', 'slow'])).toEqual(['fast', 'slow', 'a']);
    expect(paramsWords({ fast: 10, slow: 0.30000000000000004 })).toBe('fast 10, slow 0.3');
  });
});

describe('what to do about errors', () => {
  it('sends to Services when the optimizer is unavailable, whatever was asked', () => {
    for (const action of ['strategies', 'runs', 'submit'] as const) {
      const advice = adviceFor(action, { code: 'unavailable', message: 'the optimizer is not built yet' });
      expect(advice?.page).toBe('services');
      expect(advice?.text).toContain('start it in Services');
    }
  });

  it('sends to a collector when nothing is recorded, and to the gap option when the range crosses gaps', () => {
    const noData = adviceFor('submit', {
      code: 'invalid_input',
      message: 'request.symbol: no market data recorded for BTCUSDT on binance-spot',
      field: 'request.symbol',
    });
    expect(noData?.text).toMatch(/^No market data recorded for this symbol yet: start a collector/);
    expect(noData?.page).toBe('services');
    const gaps = adviceFor('submit', {
      code: 'invalid_input',
      message: 'request.from: the range crosses 2 gaps (binance-spot BTCUSDT trade)',
      field: 'request.from',
    });
    expect(gaps?.text).toContain('Run across recorded gaps');
    expect(gaps?.page).toBe('market');
    expect(
      adviceFor('submit', { code: 'invalid_input', message: 'request.x: bad', field: 'request.x' }),
    ).toBeNull();
  });

  it('says what an apply refusal calls for', () => {
    expect(
      adviceFor('apply', {
        code: 'conflict',
        message: 'ma-crossover is at version 2 now; run 3 measured version 1',
        field: 'runId',
      })?.text,
    ).toContain('submit the search again');
    expect(
      adviceFor('apply', {
        code: 'invalid_input',
        message: 'service: md is a collector service',
        field: 'service',
      })?.text,
    ).toContain('pick a trader');
    expect(
      adviceFor('apply', { code: 'not_found', message: 'no service', field: 'service' })?.text,
    ).toContain('no longer exists');
  });

  it('tells a waiting run to start the optimizer, a failed one what to fix', () => {
    expect(
      runAdvice({
        status: 'queued',
        note: 'queued: optimizer is stopped; the run starts when the optimizer runs',
        error: null,
      })?.page,
    ).toBe('services');
    expect(runAdvice({ status: 'queued', note: 'queued behind run 3', error: null })).toBeNull();
    expect(
      runAdvice({ status: 'failed', note: null, error: 'no candles recorded in this range' })?.text,
    ).toMatch(/start a collector/);
    expect(runAdvice({ status: 'done', note: null, error: null })).toBeNull();
  });
});
