/**
 * The history writer and the event and alert queries: batched writes, alert ids that are final at
 * once, acknowledge and clear before and after a flush, keyset paging, and failing batches that are
 * retried and reported instead of thrown.
 */
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openControlDb } from '../../src/main/store/database';
import { HistoryQueries } from '../../src/main/store/history-queries';
import { HistoryWriter } from '../../src/main/store/history-writer';
import type { StoreError } from '../../src/main/store/store-error';
import { ControlStore } from '../../src/main/store/store';
import { recordOfTransition } from '../../src/shared/history';
import type { ServiceAlert, ServiceState, ServiceTransition } from '../../src/shared/services';
import { tempDir } from '../helpers/temp-dir';

let dir: ReturnType<typeof tempDir>;
let db: Database;
let errors: StoreError[];
let writer: HistoryWriter;
let queries: HistoryQueries;

const T0 = Date.UTC(2026, 10, 1);

function open(opts: ConstructorParameters<typeof HistoryWriter>[1] = {}) {
  db = openControlDb(join(dir.path, 'control.db'));
  writer = new HistoryWriter(db, { flushIntervalMs: 0, onError: (e) => errors.push(e), ...opts });
  queries = new HistoryQueries(db, { now: () => T0 });
}

beforeEach(() => {
  dir = tempDir('vigil-store-history-');
  errors = [];
  open();
});
afterEach(() => {
  writer.close();
  db.close();
  dir.remove();
});

const alert = (service: string, kind: ServiceAlert['kind'], at = T0): ServiceAlert => ({
  service,
  kind,
  severity: 'warning',
  message: `${service} ${kind}`,
  at,
});

function transition(service: string, to: ServiceState, at: number, restarts = 0): ServiceTransition {
  return {
    service,
    from: 'running',
    to,
    health: null,
    reason: `to ${to}`,
    at,
    exit: to === 'backoff' ? { code: 1, signal: null, at, reason: 'exited with code 1' } : null,
    restarts,
    nextRestartAt: to === 'backoff' ? at + 5000 : null,
  };
}

describe('alerts', () => {
  it('get their final id at once; acknowledging works before and after the flush, durably', () => {
    const a = writer.raiseAlert(alert('okx', 'degraded'));
    const b = writer.raiseAlert(alert('okx', 'memory-soft'));
    expect([a, b]).toEqual([1, 2]);
    expect(queries.getAlert(a)).toBeNull(); // queued

    // Acknowledging a queued alert writes it at once.
    expect(writer.acknowledgeAlert(a, T0 + 10)).toBe(true);
    expect(queries.getAlert(a)).toMatchObject({ id: a, acknowledgedAt: T0 + 10, clearedAt: null });
    expect(writer.acknowledgeAlert(a, T0 + 20)).toBe(false); // already

    writer.flush();
    expect(writer.acknowledgeAlert(b, T0 + 30)).toBe(true);
    expect(writer.acknowledgeAlert(b, T0 + 40)).toBe(false);
    expect(writer.acknowledgeAlert(999, T0)).toBe(false);

    // Ids continue after a restart; nothing is reused.
    writer.close();
    db.close();
    open();
    expect(queries.getAlert(b)).toMatchObject({ acknowledgedAt: T0 + 30 });
    expect(writer.raiseAlert(alert('okx', 'fatal'))).toBe(3);
  });

  it('clear by (service, kind), queued or written, each once', () => {
    const written = writer.raiseAlert(alert('okx', 'degraded', T0));
    const other = writer.raiseAlert(alert('okx', 'memory-soft', T0));
    const elsewhere = writer.raiseAlert(alert('binance', 'degraded', T0));
    writer.flush();
    const queued = writer.raiseAlert(alert('okx', 'degraded', T0 + 1));

    writer.acknowledgeAlert(queued, T0 + 50);

    // Each cleared alert comes back once, as it reads now: for the alert.changed events.
    const cleared = writer.clearAlerts('okx', 'degraded', T0 + 100);
    expect(cleared.sort((x, y) => x.id - y.id)).toEqual([
      {
        id: written,
        at: T0,
        service: 'okx',
        kind: 'degraded',
        severity: 'warning',
        message: 'okx degraded',
        acknowledgedAt: null,
        clearedAt: T0 + 100,
      },
      {
        id: queued,
        at: T0 + 1,
        service: 'okx',
        kind: 'degraded',
        severity: 'warning',
        message: 'okx degraded',
        acknowledgedAt: T0 + 50,
        clearedAt: T0 + 100,
      },
    ]);
    expect(writer.clearAlerts('okx', 'degraded', T0 + 200)).toEqual([]); // the clear of `written` is queued
    writer.flush();
    expect(writer.clearAlerts('okx', 'degraded', T0 + 300)).toEqual([]);
    // What was returned is what is stored.
    for (const record of cleared) expect(queries.getAlert(record.id)).toEqual(record);

    // Pending (not yet written) alerts come back the same way.
    const pending = writer.raiseAlert(alert('okx', 'memory-hard', T0 + 2));
    expect(writer.clearAlerts('okx', 'memory-hard', T0 + 400)).toMatchObject([
      { id: pending, kind: 'memory-hard', acknowledgedAt: null, clearedAt: T0 + 400 },
    ]);
    writer.flush();
    expect(queries.getAlert(pending)).toMatchObject({ clearedAt: T0 + 400 });

    expect(queries.getAlert(written)!.clearedAt).toBe(T0 + 100);
    expect(queries.getAlert(queued)!.clearedAt).toBe(T0 + 100);
    expect(queries.getAlert(other)!.clearedAt).toBeNull();
    expect(queries.getAlert(elsewhere)!.clearedAt).toBeNull();
  });

  it('are listed newest first, by state (open: neither cleared nor acknowledged) and time', () => {
    const ids = [
      writer.raiseAlert(alert('okx', 'degraded', T0 + 1)),
      writer.raiseAlert(alert('okx', 'fatal', T0 + 2)),
      writer.raiseAlert(alert('binance', 'degraded', T0 + 3)),
      writer.raiseAlert(alert('okx', 'degraded', T0 + 4)),
    ];
    writer.flush();
    writer.acknowledgeAlert(ids[1]!, T0 + 10);
    writer.clearAlerts('binance', 'degraded', T0 + 10);
    writer.flush();
    const list = (q: Parameters<HistoryQueries['queryAlerts']>[0]) =>
      queries.queryAlerts(q).items.map((a) => a.id);
    expect(list({})).toEqual([ids[3], ids[2], ids[1], ids[0]]);
    expect(list({ state: 'open' })).toEqual([ids[3], ids[0]]);
    expect(list({ state: 'acknowledged' })).toEqual([ids[1]]);
    expect(list({ state: 'cleared' })).toEqual([ids[2]]);
    // Both acknowledged and cleared: in both lists.
    writer.clearAlerts('okx', 'fatal', T0 + 20);
    writer.flush();
    expect(list({ state: 'acknowledged' })).toEqual([ids[1]]);
    expect(list({ state: 'cleared' })).toEqual([ids[2], ids[1]]);
    // [from, to) of when it was raised.
    expect(list({ from: T0 + 2 })).toEqual([ids[3], ids[2], ids[1]]);
    expect(list({ from: T0 + 2, to: T0 + 4 })).toEqual([ids[2], ids[1]]);
    expect(list({ to: T0 + 2, state: 'open' })).toEqual([ids[0]]);
    expect(list({ from: T0 + 1, state: 'cleared', limit: 1 })).toEqual([ids[2]]);
    expect(list({ from: T0 + 1, state: 'cleared', before: ids[2] })).toEqual([ids[1]]);
    expect(list({ service: 'okx', kind: 'degraded' })).toEqual([ids[3], ids[0]]);
    expect(queries.queryAlerts({ limit: 3 }).next).toBe(ids[1]);
    expect(list({ limit: 3, before: ids[1] })).toEqual([ids[0]]);
  });
});

describe('events', () => {
  it('get their final id at once, continuing after a restart', () => {
    expect(writer.recordTransition(transition('okx', 'starting', T0))).toBe(1);
    expect(writer.recordTransition(transition('okx', 'running', T0 + 1))).toBe(2);
    writer.flush();
    expect(queries.queryEvents().items.map((e) => [e.id, e.to])).toEqual([
      [2, 'running'],
      [1, 'starting'],
    ]);
    writer.close();
    db.close();
    open();
    expect(writer.recordTransition(transition('okx', 'stopping', T0 + 2))).toBe(3);
  });

  it('round-trip a transition, as its live event reads', () => {
    const t = transition('okx', 'backoff', T0, 3);
    const id = writer.recordTransition(t);
    writer.flush();
    expect(queries.queryEvents().items).toEqual([recordOfTransition({ ...t, id })]);
    expect(queries.queryEvents().items).toEqual([
      {
        id: 1,
        service: 'okx',
        from: 'running',
        to: 'backoff',
        health: null,
        reason: 'to backoff',
        at: T0,
        exitCode: 1,
        exitSignal: null,
        restarts: 3,
        nextRestartAt: T0 + 5000,
      },
    ]);
  });

  it('page newest first with a keyset cursor, with every filter', () => {
    const states: ServiceState[] = ['starting', 'running', 'backoff'];
    for (let i = 0; i < 250; i++) {
      // Two events share each millisecond: ids break the tie.
      writer.recordTransition(
        transition(['okx', 'binance', 'deribit'][i % 3]!, states[i % 3]!, T0 + Math.floor(i / 2), i),
      );
    }
    writer.flush();

    const seen: number[] = [];
    let before: number | undefined;
    for (;;) {
      const page = queries.queryEvents({ limit: 100, ...(before !== undefined ? { before } : {}) });
      seen.push(...page.items.map((e) => e.restarts));
      if (page.next === null) break;
      before = page.next;
    }
    expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => 249 - i));

    const okx = queries.queryEvents({ service: 'okx', limit: 1000 }).items;
    expect(okx).toHaveLength(84);
    expect(okx.every((e) => e.service === 'okx')).toBe(true);
    const ranged = queries.queryEvents({
      from: T0 + 10,
      to: T0 + 20,
      states: ['backoff'],
      limit: 1000,
    }).items;
    expect(ranged.map((e) => e.restarts)).toEqual([38, 35, 32, 29, 26, 23, 20]);
    expect(queries.queryEvents({ before: 123456 })).toEqual({ items: [], next: null });
  });
});

describe('writing', () => {
  it('writes in bounded batches, one transaction each', () => {
    writer.close();
    db.close();
    open({ maxBatchRows: 500 });
    for (let s = 0; s < 40; s++) {
      writer.recordSamples(
        T0 + s * 1000,
        Array.from({ length: 50 }, (_, k) => ({ service: 'okx', metric: `m${k}`, value: k })),
      );
    }
    expect(writer.stats().pendingRows).toBe(2050); // 2,000 samples + 50 new series
    expect(writer.flush().rows).toBe(2050);
    expect(writer.stats()).toMatchObject({ batches: 5, pendingRows: 0, failedBatches: 0 });
    expect(db.prepare('SELECT count(*) FROM samples_raw').pluck().get()).toBe(2000);
  });

  it('skips values that are not finite numbers', () => {
    writer.recordSamples(T0, [
      { service: 'okx', metric: 'a', value: 1 },
      { service: 'okx', metric: 'b', value: Number.NaN },
      { service: 'okx', metric: 'c', value: Number.POSITIVE_INFINITY },
    ]);
    writer.flush();
    expect(writer.stats().droppedSamples).toBe(2);
    expect(db.prepare('SELECT count(*) FROM samples_raw').pluck().get()).toBe(1);
  });

  it('retries a failing batch at the next flush, reports it once, never throws', () => {
    db.exec(`CREATE TABLE fail (x);
             CREATE TRIGGER fail_events BEFORE INSERT ON events WHEN EXISTS (SELECT 1 FROM fail)
             BEGIN SELECT RAISE(ABORT, 'disk trouble'); END;
             INSERT INTO fail VALUES (1);`);
    writer.recordTransition(transition('okx', 'running', T0));
    writer.raiseAlert(alert('okx', 'degraded'));
    writer.recordSamples(T0, [{ service: 'okx', metric: 'cpu', value: 1 }]);
    expect(() => writer.flush()).not.toThrow();
    expect(() => writer.flush()).not.toThrow();
    expect(writer.stats()).toMatchObject({ failedBatches: 2, pendingRows: 4 });
    expect(writer.stats().lastError).toMatch(/failed while writing history \(disk trouble\)/);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.file).toBe(join(dir.path, 'control.db'));
    expect(db.prepare('SELECT count(*) FROM alerts').pluck().get()).toBe(0); // the whole batch rolled back

    db.exec('DELETE FROM fail');
    expect(writer.flush().rows).toBe(4);
    expect(writer.stats()).toMatchObject({ pendingRows: 0, lastError: null });
    expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(1);
    expect(db.prepare('SELECT count(*) FROM alerts').pluck().get()).toBe(1);
    expect(db.prepare('SELECT count(*) FROM samples_raw').pluck().get()).toBe(1);
  });

  it('bounds what it queues while writes fail: the oldest samples go, counted', () => {
    writer.close();
    db.close();
    open({ maxPendingSamples: 1000 });
    db.exec(`CREATE TRIGGER fail BEFORE INSERT ON samples_raw BEGIN SELECT RAISE(ABORT, 'full'); END`);
    for (let s = 0; s < 30; s++) {
      writer.recordSamples(
        T0 + s * 1000,
        Array.from({ length: 100 }, (_, k) => ({ service: 'a', metric: `m${k}`, value: s })),
      );
      writer.flush();
    }
    const stats = writer.stats();
    expect(stats.pendingRows).toBeLessThanOrEqual(1000 + 100); // + the series rows
    expect(stats.droppedSamples).toBe(3000 - (stats.pendingRows - 100));
    db.exec('DROP TRIGGER fail');
    writer.flush();
    // What is left is the newest.
    expect(db.prepare('SELECT max(value) FROM samples_raw').pluck().get()).toBe(29);
  });

  it('flushes on its own timer, and at close', async () => {
    writer.close();
    db.close();
    open({ flushIntervalMs: 20 });
    writer.recordTransition(transition('okx', 'running', T0));
    await vi.waitFor(() => expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(1));
    writer.recordTransition(transition('okx', 'stopping', T0 + 1));
    writer.close();
    expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(2);
  });
});

describe('timers', () => {
  it('the writer works off a backlog one bounded batch per turn of the event loop', async () => {
    writer.close();
    db.close();
    open({ flushIntervalMs: 20, maxBatchRows: 200 });
    for (let s = 0; s < 10; s++) {
      writer.recordSamples(
        T0 + s * 1000,
        Array.from({ length: 100 }, (_, k) => ({ service: 'a', metric: `m${k}`, value: s })),
      );
    }
    await vi.waitFor(() => expect(db.prepare('SELECT count(*) FROM samples_raw').pluck().get()).toBe(1000));
    expect(writer.stats().batches).toBeGreaterThanOrEqual(6);
    expect(writer.stats().maxBatchMs).toBeLessThan(100);
  });

  it('the store flushes, rolls up and checkpoints on its own', async () => {
    writer.close();
    db.close();
    const now = T0 + 10 * 60_000;
    const store = ControlStore.open(dir.path, {
      now: () => now,
      flushIntervalMs: 10,
      maintenanceIntervalMs: 10,
      onError: (e) => errors.push(e),
    });
    for (let s = 0; s < 300; s++) {
      store.history.recordSamples(T0 + s * 1000, [{ service: 'okx', metric: 'cpu', value: s }]);
    }
    await vi.waitFor(() => expect(store.db.prepare('SELECT count(*) FROM samples_1m').pluck().get()).toBe(5));
    await vi.waitFor(() => {
      const [r] = store.db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
      expect(r!.log).toBe(r!.checkpointed);
    });
    store.close();
    expect(errors).toEqual([]);
    open(); // for afterEach
  });
});

describe('ControlStore', () => {
  it('ties it together: write, roll up, checkpoint, query, close and reopen', () => {
    writer.close();
    db.close();
    let now = T0;
    const store = ControlStore.open(dir.path, {
      now: () => now,
      flushIntervalMs: 0,
      maintenanceIntervalMs: 0,
    });
    for (let s = 0; s < 600; s++) {
      now += 1000;
      store.history.recordSamples(now, [{ service: 'okx', metric: 'cpu', value: s % 60 }]);
      if (s % 10 === 0) {
        store.history.flush();
        store.maintain();
      }
    }
    store.history.flush();
    const { rollup, checkpoint } = store.maintain();
    expect(rollup).not.toBeNull();
    expect(checkpoint!.walFrames).toBe(checkpoint!.checkpointed);
    const minutes = store.db.prepare('SELECT count(*) FROM samples_1m').pluck().get() as number;
    expect(minutes).toBeGreaterThanOrEqual(8);
    const series = store.queries.querySeries({
      service: 'okx',
      metric: 'cpu',
      from: now - 3_600_000,
      to: now,
    });
    expect(series.resolution).toBe('1m');
    expect(series.points.length).toBeGreaterThanOrEqual(10);
    expect(store.queries.listSeries()).toEqual([{ service: 'okx', metric: 'cpu' }]);
    store.close();
    const again = ControlStore.open(dir.path, { maintenanceIntervalMs: 0 });
    expect(again.queries.listSeries('okx')).toEqual([{ service: 'okx', metric: 'cpu' }]);
    again.close();
    open(); // for afterEach
  });
});
