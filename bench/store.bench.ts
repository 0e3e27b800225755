/**
 * control.db figures, each against a baseline measured in the same run:
 *  1. ingest: metric samples through HistoryWriter (its own batches) against a bare better-sqlite3
 *     prepared insert loop in one transaction (target ≥ 100,000 samples/s);
 *  2. the raw table's key order under the 1 Hz load: time first (what the store uses) against series
 *     first (the obvious layout) — flush time, WAL written per flush, checkpoint time;
 *  3. on a file holding 30 simulated days of 50 services: series queries over 24 h, 7 d and 30 d
 *     against reading the same rows bare (target < 20 ms each);
 *  4. on that file, 15 minutes of 50 services at 1 Hz with a fake clock: every main-thread write
 *     call (flush each second, rollup step and checkpoint every 2 s) against the 10 ms budget;
 *  5. the file's size after the 30 days, per table, against keeping 30 days of raw samples.
 *
 * What is simulated (3–5): 50 services × 4 metrics = 200 series at 1 Hz. The 30 days are written
 * directly, as the store would have left them, instead of being replayed: hour rows for 30 days,
 * minute rows for 30 days (written minute by minute across all series, the order the rollups write
 * them in), raw samples for the last 24 h only (retention would have pruned the rest; written second
 * by second, as the writer does), and the rollup cursors. Values: cpu % and message rates as random
 * walks (non-integral), RSS and heartbeat age as integers, as the supervisor reports them. The bulk
 * fill runs with journal_mode=OFF; everything measured runs as the app does (WAL, synchronous=FULL).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, fsyncSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { openControlDb } from '../src/main/store/database';
import { HistoryWriter, type MetricValue } from '../src/main/store/history-writer';
import { META } from '../src/main/store/meta';
import { ControlStore } from '../src/main/store/store';
import { tempDir } from '../test/helpers/temp-dir';

const SERVICES = 50;
const METRICS = ['cpu', 'rss', 'heartbeatAge', 'msgsPerSec'] as const;
const SERIES = SERVICES * METRICS.length;
const DAY_S = 86_400;

const dir = tempDir('vigil-bench-store-');
const q = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const ms = (x: number) => `${x.toFixed(2)} ms`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const rate = (n: number, msTaken: number) => Math.round((n / msTaken) * 1000);

// Deterministic pseudo-random values (xorshift), so runs compare.
let seed = 2463534242;
const rand = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const walks = new Float64Array(SERIES).map(() => rand() * 50);
/** One second's 200 values: cpu and msgs/s as random walks, rss and heartbeat age as integers. */
function valueOf(series: number): number {
  const m = series % METRICS.length;
  if (m === 1) return 200_000_000 + Math.floor(rand() * 1e6) * 64;
  if (m === 2) return Math.floor(rand() * 1000);
  walks[series] = Math.max(0, walks[series]! + (rand() - 0.5) * 2);
  return walks[series]!;
}
const metricValues = (): MetricValue[] =>
  Array.from({ length: SERIES }, (_, s) => ({
    service: `svc-${Math.floor(s / METRICS.length)}`,
    metric: METRICS[s % METRICS.length]!,
    value: valueOf(s),
  }));

// ---- 1. ingest ----
function ingest(): void {
  settleDisk();
  const N = 400_000;
  const seconds = N / SERIES;
  const t0s = 1_700_000_000;

  const bareDb = openControlDb(join(dir.path, 'ingest-bare', 'control.db'));
  bareDb.exec(
    `INSERT INTO series (id, service, metric) VALUES ${Array.from({ length: SERIES }, (_, i) => `(${i + 1}, 's', 'm${i}')`).join(',')}`,
  );
  const insert = bareDb.prepare('INSERT INTO samples_raw (at, series_id, value) VALUES (?, ?, ?)');
  const values = Array.from({ length: seconds }, () => Array.from({ length: SERIES }, (_, s) => valueOf(s)));
  let t = performance.now();
  bareDb.transaction(() => {
    for (let sec = 0; sec < seconds; sec++) {
      const row = values[sec]!;
      for (let s = 0; s < SERIES; s++) insert.run(t0s + sec, s + 1, row[s]!);
    }
  })();
  const bareMs = performance.now() - t;
  bareDb.close();

  const db = openControlDb(join(dir.path, 'ingest-writer', 'control.db'));
  const writer = new HistoryWriter(db, { flushIntervalMs: 0 });
  const batches = values.map((row) =>
    row.map((value, s) => ({
      service: `svc-${Math.floor(s / METRICS.length)}`,
      metric: METRICS[s % METRICS.length]!,
      value,
    })),
  );
  t = performance.now();
  for (let sec = 0; sec < seconds; sec++) {
    writer.recordSamples((t0s + sec) * 1000, batches[sec]!);
    if (sec % 50 === 49) writer.flush(); // every 50 s of data: 10,000 samples, in batches of 1,000
  }
  writer.flush();
  const writerMs = performance.now() - t;
  const stats = writer.stats();
  writer.close();
  db.close();

  console.log(`1. ingest of ${N.toLocaleString('en')} metric samples (${SERIES} series)`);
  console.log(
    `  baseline: bare prepared insert, one transaction   ${rate(N, bareMs).toLocaleString('en').padStart(9)} samples/s`,
  );
  console.log(
    `  vigil:    HistoryWriter, ${stats.batches} transactions        ${rate(N, writerMs).toLocaleString('en').padStart(9)} samples/s` +
      `   ratio ${(bareMs / writerMs).toFixed(2)} (target ≥ 100,000/s); longest batch ${ms(stats.maxBatchMs)}`,
  );
}

/**
 * Earlier phases leave hundreds of MB of unsynced pages (bulk fills run with synchronous=OFF); the
 * kernel writing them back would land in the fsyncs measured next. Flush them first.
 */
function settleDisk(): void {
  if (process.platform !== 'win32') spawnSync('sync');
}

// ---- 2. raw key order ----
function rawLayout(): void {
  settleDisk();
  const run = (name: string, key: string) => {
    const path = join(dir.path, `layout-${name}.db`);
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec(`CREATE TABLE raw (series_id INTEGER NOT NULL, at INTEGER NOT NULL, value REAL NOT NULL,
             PRIMARY KEY (${key})) STRICT, WITHOUT ROWID`);
    const insert = db.prepare('INSERT INTO raw (series_id, at, value) VALUES (?, ?, ?)');
    const t0s = 1_700_000_000;
    db.transaction(() => {
      for (let sec = 0; sec < 3600; sec++)
        for (let s = 1; s <= SERIES; s++) insert.run(s, t0s + sec, valueOf(s - 1));
    })(); // an hour already there: a realistic tree
    db.pragma('wal_checkpoint(TRUNCATE)');
    const flush: number[] = [];
    const wal: number[] = [];
    const ckpt: number[] = [];
    for (let sec = 3600; sec < 3600 + 300; sec++) {
      let t = performance.now();
      db.transaction(() => {
        for (let s = 1; s <= SERIES; s++) insert.run(s, t0s + sec, valueOf(s - 1));
      })();
      flush.push(performance.now() - t);
      t = performance.now();
      const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
      ckpt.push(performance.now() - t);
      wal.push(r!.log); // frames written since the last complete checkpoint: this flush's
    }
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.close();
    return { flush, walKb: (q(wal, 0.5) * (pageSize + 24)) / 1024, ckpt };
  };
  const series = run('series-first', 'series_id, at');
  const time = run('time-first', 'at, series_id');
  console.log(
    `2. raw table key order, ${SERIES} series at 1 Hz, one flush a second (300 flushes on a 1-hour table)`,
  );
  const line = (name: string, r: ReturnType<typeof run>) =>
    `  ${name} flush p50 ${ms(q(r.flush, 0.5))} max ${ms(q(r.flush, 1))}, WAL ${r.walKb.toFixed(0).padStart(5)} KB/flush, checkpoint p50 ${ms(q(r.ckpt, 0.5))} max ${ms(q(r.ckpt, 1))}`;
  console.log(line('baseline: (series_id, at) ', series));
  console.log(line('vigil:    (at, series_id) ', time));
  console.log(
    `  ratio: flush p50 ${(q(series.flush, 0.5) / q(time.flush, 0.5)).toFixed(1)}x faster, ${(series.walKb / time.walKb).toFixed(0)}x less WAL`,
  );
}

// ---- 3–5. thirty days ----
interface Filled {
  store: ControlStore;
  endS: number;
  fillMs: number;
  clock: { now: number };
}

function fillThirtyDays(): Filled {
  const dataDir = join(dir.path, 'thirty-days');
  // The end: 10 minutes before an hour boundary, so the load test below crosses one.
  const endS = Math.floor(1_767_225_600 / 3600) * 3600 + 30 * DAY_S - 600;
  const t0 = performance.now();
  openControlDb(join(dataDir, 'control.db')).close(); // schema
  const db = new Database(join(dataDir, 'control.db'));
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const ids: number[] = [];
  db.transaction(() => {
    const put = db.prepare('INSERT INTO series (id, service, metric) VALUES (?, ?, ?)');
    for (let s = 0; s < SERIES; s++) {
      put.run(s + 1, `svc-${Math.floor(s / METRICS.length)}`, METRICS[s % METRICS.length]!);
      ids.push(s + 1);
    }
  })();
  const CH = 100;
  const multi = (table: string, cols: number) =>
    db.prepare(
      `INSERT INTO ${table} VALUES ${Array(CH)
        .fill(`(${Array(cols).fill('?').join(',')})`)
        .join(',')}`,
    );
  const single = (table: string, cols: number) =>
    db.prepare(`INSERT INTO ${table} VALUES (${Array(cols).fill('?').join(',')})`);
  const rollupRow = (s: number, at: number, n: number): number[] => {
    const avg = valueOf(s);
    const spread = s % METRICS.length === 1 || s % METRICS.length === 2 ? 1000 : 1.5;
    return [s + 1, at, Math.max(0, avg - spread), avg, avg + spread, n];
  };
  // Hours, then minutes, written time step by time step across all series (as the rollups write them).
  const fillRollups = (table: string, stepS: number, fromS: number, toS: number, n: number) => {
    const many = multi(table, 6);
    const one = single(table, 6);
    let buf: number[] = [];
    let rows = 0;
    db.transaction(() => {
      for (let at = fromS; at < toS; at += stepS) {
        for (let s = 0; s < SERIES; s++) {
          buf.push(...rollupRow(s, at, n));
          if (++rows % CH === 0) {
            many.run(...buf);
            buf = [];
          }
        }
      }
      for (let i = 0; i < buf.length; i += 6) one.run(...buf.slice(i, i + 6));
    })();
  };
  const hourTo = Math.floor(endS / 3600) * 3600;
  const minuteTo = Math.floor(endS / 60) * 60 - 60;
  fillRollups('samples_1h', 3600, hourTo - 30 * DAY_S, hourTo, 3600);
  fillRollups('samples_1m', 60, minuteTo - 30 * DAY_S, minuteTo, 60);
  // Raw: the last 24 h, second by second (the writer's order: (at, series_id) appends).
  const manyRaw = db.prepare(
    `INSERT INTO samples_raw (series_id, at, value) VALUES ${Array(CH).fill('(?,?,?)').join(',')}`,
  );
  db.transaction(() => {
    let buf: number[] = [];
    for (let at = endS - DAY_S; at < endS; at++) {
      for (let s = 0; s < SERIES; s++) {
        buf.push(s + 1, at, valueOf(s));
        if (buf.length === CH * 3) {
          manyRaw.run(...buf);
          buf = [];
        }
      }
    }
  })();
  db.transaction(() => {
    const meta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    meta.run(META.minuteRolledTo, minuteTo + 60);
    meta.run(META.hourRolledTo, hourTo);
    meta.run(META.hourSeriesDone, 0);
  })();
  db.pragma('journal_mode = WAL');
  db.close();
  // The fill ran with synchronous=OFF: put its pages on disk now, or the first measured fsync pays for them.
  const fd = openSync(join(dataDir, 'control.db'), 'r+');
  fsyncSync(fd);
  closeSync(fd);
  const clock = { now: endS * 1000 };
  const store = ControlStore.open(dataDir, {
    now: () => clock.now,
    flushIntervalMs: 0,
    maintenanceIntervalMs: 0,
  });
  return { store, endS, fillMs: performance.now() - t0, clock };
}

function queries(f: Filled): void {
  const { store, endS } = f;
  const end = endS * 1000;
  console.log(
    `3. series queries on 30 days of ${SERVICES} services (one metric of each service; fill took ${(f.fillMs / 1000).toFixed(0)} s)`,
  );
  const bare = {
    '1m': store.db.prepare(
      'SELECT at, min, avg, max FROM samples_1m WHERE series_id = ? AND at >= ? AND at < ?',
    ),
    '1h': store.db.prepare(
      'SELECT at, min, avg, max FROM samples_1h WHERE series_id = ? AND at >= ? AND at < ?',
    ),
    raw: store.db.prepare('SELECT at, value FROM samples_raw WHERE at >= ? AND at < ? AND series_id = ?'),
  };
  for (const [label, rangeMs] of [
    ['30 min', 1_800_000],
    ['24 h', 86_400_000],
    ['7 d', 7 * 86_400_000],
    ['30 d', 30 * 86_400_000],
  ] as const) {
    const times: number[] = [];
    const bareTimes: number[] = [];
    let points = 0;
    let resolution = '';
    for (let round = 0; round < 3; round++) {
      for (let svc = 0; svc < SERVICES; svc++) {
        let t = performance.now();
        const r = store.queries.querySeries({
          service: `svc-${svc}`,
          metric: 'cpu',
          from: end - rangeMs,
          to: end,
          maxPoints: 300,
        });
        times.push(performance.now() - t);
        points = r.points.length;
        resolution = r.resolution;
        const id = svc * METRICS.length + 1;
        t = performance.now();
        if (resolution === 'raw') bare.raw.all(endS - rangeMs / 1000, endS, id);
        else bare[resolution as '1m' | '1h'].all(id, endS - rangeMs / 1000, endS);
        bareTimes.push(performance.now() - t);
      }
    }
    console.log(
      `  ${label.padEnd(6)} baseline: bare read of the rows p50 ${ms(q(bareTimes, 0.5))} | vigil: ${resolution.padEnd(3)} → ${String(points).padStart(3)} points` +
        ` p50 ${ms(q(times, 0.5))} max ${ms(q(times, 1))} (target < 20 ms), ratio ${(q(times, 0.5) / q(bareTimes, 0.5)).toFixed(2)};` +
        ` all ${SERVICES} services ${ms(times.slice(0, SERVICES).reduce((a, b) => a + b, 0))}`,
    );
  }
}

function loadAt1Hz(f: Filled): void {
  const { store, clock } = f;
  settleDisk();
  const SECONDS = 900;
  const flush: number[] = [];
  const steps: number[] = [];
  const checkpoints: number[] = [];
  const walFrames: number[] = [];
  const bareCommit: number[] = [];
  const perSecond: number[] = [];
  let rolledMinutes = 0;
  let rolledHours = 0;
  let pruned = 0;
  const bareInsert = store.db.prepare('INSERT INTO samples_raw (at, series_id, value) VALUES (?, ?, ?)');
  const probeFd = openSync(join(dir.path, 'fsync-probe'), 'w');
  const page = Buffer.alloc(4096, 1);
  const fsyncs: number[] = [];
  for (let sec = 0; sec < SECONDS; sec++) {
    clock.now += 1000;
    store.history.recordSamples(clock.now, metricValues());
    if (sec % 60 === 7) {
      store.history.recordTransition({
        service: 'svc-3',
        from: 'running',
        to: 'backoff',
        health: null,
        reason: 'exited with code 1',
        at: clock.now,
        exit: { code: 1, signal: null, at: clock.now, reason: 'exited with code 1' },
        restarts: sec,
        nextRestartAt: clock.now + 5000,
      });
      store.history.raiseAlert({
        service: 'svc-3',
        kind: 'crash-loop',
        severity: 'critical',
        message: 'loop',
        at: clock.now,
      });
    }
    let busy = 0;
    const r = store.history.flush();
    flush.push(r.ms);
    busy += r.ms;
    if (sec % 2 === 1) {
      const step = store.rollups.step(5);
      steps.push(step.ms);
      busy += step.ms;
      rolledMinutes += step.rolledMinutes;
      rolledHours += step.rolledHours;
      pruned += step.pruned;
      const c = store.checkpoint()!;
      checkpoints.push(c.ms);
      walFrames.push(c.walFrames);
      if (process.env.DEBUG_CKPT && c.ms > 5)
        console.log(
          `ckpt sec ${sec} frames ${c.walFrames} ${c.ms.toFixed(1)} ms; step ${step.ms.toFixed(1)} ms m${step.rolledMinutes} h${step.rolledHours} p${step.pruned}`,
        );
      busy += c.ms;
    }
    perSecond.push(busy);
    // Baseline: what this disk does to any fsync right now (4 KB written to another file, then fsync).
    const t = performance.now();
    writeSync(probeFd, page, 0, page.length, 0);
    fsyncSync(probeFd);
    fsyncs.push(performance.now() - t);
    // Baseline: the same 200 rows as one bare commit, into the same table (far ahead, deleted after).
    if (sec % 10 === 5) {
      const t = performance.now();
      store.db.transaction(() => {
        for (let s = 0; s < SERIES; s++) bareInsert.run(Math.floor(clock.now / 1000) + 10 * DAY_S, s + 1, 1);
      })();
      bareCommit.push(performance.now() - t);
    }
  }
  closeSync(probeFd);
  store.db.prepare('DELETE FROM samples_raw WHERE at > ?').run(Math.floor(clock.now / 1000) + DAY_S);
  const row = (name: string, xs: number[]) =>
    `  ${name.padEnd(44)} p50 ${ms(q(xs, 0.5))}  p99 ${ms(q(xs, 0.99))}  max ${ms(q(xs, 1))}`;
  console.log(
    `4. main-thread write calls, ${SERVICES} services × ${METRICS.length} metrics at 1 Hz for ${SECONDS / 60} simulated minutes on the 30-day file` +
      ` (rolled ${rolledMinutes} minutes, ${rolledHours} hour, pruned ${pruned.toLocaleString('en')} rows)`,
  );
  console.log(row('baseline: fsync of 4 KB on this disk, each s', fsyncs));
  console.log(row('baseline: bare commit of 200 raw rows', bareCommit));
  console.log(row('vigil: HistoryWriter.flush (1 s of data)', flush));
  console.log(row('vigil: Rollups.step (budget 5 ms), every 2 s', steps));
  console.log(row('vigil: PASSIVE checkpoint, every 2 s', checkpoints));
  console.log(row('vigil: all three in one second (worst case)', perSecond));
  const calls = [...flush, ...steps, ...checkpoints];
  const over = (xs: number[]) => xs.filter((x) => x > 10).length;
  console.log(
    `  longest single call ${ms(Math.max(...calls))}; calls over the 10 ms budget: ${over(calls)} of ${calls.length}` +
      ` (bare fsyncs over 10 ms in the same seconds: ${over(fsyncs)} of ${fsyncs.length});` +
      ` WAL at checkpoint p50 ${q(walFrames, 0.5)} max ${q(walFrames, 1)} frames; flush/bare p50 ratio ${(q(flush, 0.5) / q(bareCommit, 0.5)).toFixed(2)}`,
  );
}

function fileSize(f: Filled): void {
  const { store } = f;
  store.checkpoint();
  const file = join(dir.path, 'thirty-days', 'control.db');
  const t = performance.now();
  const tables = store.db
    .prepare<[], { name: string; bytes: number }>(
      `SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC`,
    )
    .all();
  const statMs = performance.now() - t;
  const count = (table: string) => store.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  const size = statSync(file).size;
  console.log(
    `5. file size after 30 simulated days of ${SERVICES} services × ${METRICS.length} metrics at 1 Hz: ${mb(size)}`,
  );
  let rawPerRow = 0;
  for (const { name, bytes } of tables.slice(0, 6)) {
    const rows = ['samples_raw', 'samples_1m', 'samples_1h', 'events', 'alerts'].includes(name)
      ? count(name)
      : 0;
    if (name === 'samples_raw') rawPerRow = bytes / rows;
    console.log(
      `  ${name.padEnd(22)} ${mb(bytes).padStart(9)}${rows ? `  ${rows.toLocaleString('en').padStart(11)} rows, ${(bytes / rows).toFixed(1)} bytes/row` : ''}`,
    );
  }
  const rawThirtyDays = rawPerRow * SERIES * 30 * DAY_S;
  console.log(
    `  baseline: 30 days of raw samples at the same bytes/row would be ${mb(rawThirtyDays)}; ratio ${(rawThirtyDays / size).toFixed(1)}x smaller (dbstat took ${(statMs / 1000).toFixed(1)} s)`,
  );
}

const t0 = performance.now();
ingest();
rawLayout();
const filled = fillThirtyDays();
queries(filled);
loadAt1Hz(filled);
fileSize(filled);
const openT = performance.now();
filled.store.close();
const reopen = performance.now();
ControlStore.open(join(dir.path, 'thirty-days'), { maintenanceIntervalMs: 0, flushIntervalMs: 0 }).close();
console.log(
  `open of the 30-day file (header, version, schema walk of every b-tree): ${ms(performance.now() - reopen)}; close ${ms(reopen - openT)}`,
);
dir.remove();
console.log(`(bench took ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
