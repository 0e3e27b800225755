/**
 * Downsampling and retention for metric history, a bounded slice of work per call. Raw samples are
 * rolled into 1-minute min/avg/max/count rows once a minute has closed, minutes into hours once an
 * hour has, and each level is pruned past its retention (and never before it has been rolled up).
 *
 * Every `step(budgetMs)` is one transaction made of small units (~1 ms each: a few thousand rows read,
 * at most a few dozen scattered rows written) and stops starting units when the next one would pass
 * the budget. The cursors are stored in the same transaction as the rows they account for, so a crash
 * at any point resumes exactly; the minute being rolled is kept in memory between steps and is simply
 * re-read after a restart.
 */
import type { Database } from 'better-sqlite3';
import { META, MetaTable } from './meta';

export interface Retention {
  rawHours: number;
  minuteDays: number;
  hourDays: number;
  /** Service events and cleared alerts (an addition: a crash-looping service writes ~9,000 events a day). */
  eventDays?: number;
}

export const DEFAULT_RETENTION: Required<Retention> = {
  rawHours: 24,
  minuteDays: 30,
  hourDays: 365,
  eventDays: 365,
};

export interface RollupStep {
  rolledMinutes: number;
  rolledHours: number;
  /** Rows deleted past retention, all tables together. */
  pruned: number;
  /** Work was left for the next step (the store then steps again sooner). */
  more: boolean;
  ms: number;
}

export interface RollupsOptions {
  /** A minute is rolled this long after it ends, so samples still queued in the writer are in. */
  graceSeconds?: number;
  /** Scattered rollup rows (one b-tree page each) per step: bounds the WAL and the next checkpoint. */
  maxScatteredRows?: number;
}

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86_400;
/** Rows read or deleted per unit of work: ~1 ms on this machine. */
const UNIT_ROWS = 3000;
/** Rows written by one unit into a rollup table, each in its own series' page. */
const UNIT_SCATTERED = 48;
const COMMIT_RESERVE_MS = 1;
/** A series-major table is pruned when its cutoff has moved this far since the last pass. */
const PRUNE_PASS_EVERY = { samples_1m: HOUR, samples_1h: DAY } as const;

interface Agg {
  min: number;
  max: number;
  sum: number;
  count: number;
}

interface MinuteInProgress {
  start: number;
  scannedTo: number;
  acc: Map<number, Agg>;
  /** Set once the minute is fully read: [series_id, at, min, avg, max, count] rows still to write. */
  out: [number, number, number, number, number, number][] | null;
  written: number;
}

interface PrunePass {
  cutoff: number;
  afterSeries: number;
}

type TaskName = 'minute' | 'hour' | 'pruneRaw' | 'prune1m' | 'prune1h' | 'pruneEvents';

interface Task {
  name: TaskName;
  /** Writes rows scattered over many pages (limited by maxScatteredRows). */
  scatters: boolean;
  hasWork(nowS: number): boolean;
  run(nowS: number, result: RollupStep): void;
}

export class Rollups {
  private retention: Required<Retention>;
  private readonly grace: number;
  private readonly maxScattered: number;
  private readonly meta: MetaTable;
  private readonly tasks: Task[];
  private readonly estimateMs = new Map<TaskName, number>();

  // Cursors (epoch s), mirrored from `meta`; null until loaded, and after a failed step.
  private loaded = false;
  private minuteTo: number | null = null;
  private hourTo: number | null = null;
  private hourSeriesDone = 0;
  private hourGapChecked: number | null = null;
  private minute: MinuteInProgress | null = null;
  private rawRowsPerSecond = 1;
  private prunePasses: Record<'samples_1m' | 'samples_1h', { pass: PrunePass | null; lastCutoff: number }> = {
    samples_1m: { pass: null, lastCutoff: -Infinity },
    samples_1h: { pass: null, lastCutoff: -Infinity },
  };
  private eventsPrunedTo = -Infinity;
  private scattered = 0;

  private readonly stmts: ReturnType<typeof prepare>;

  constructor(
    private readonly db: Database,
    retention: Retention = DEFAULT_RETENTION,
    private readonly now: () => number = Date.now,
    opts: RollupsOptions = {},
  ) {
    this.retention = { ...DEFAULT_RETENTION, ...retention };
    this.grace = opts.graceSeconds ?? 10;
    this.maxScattered = opts.maxScatteredRows ?? 128;
    this.meta = new MetaTable(db);
    this.stmts = prepare(db);
    this.tasks = [
      {
        name: 'minute',
        scatters: true,
        hasWork: (n) => this.minuteHasWork(n),
        run: (n, r) => this.rollMinute(n, r),
      },
      { name: 'hour', scatters: true, hasWork: () => this.hourHasWork(), run: (_, r) => this.rollHour(r) },
      {
        name: 'pruneRaw',
        scatters: false,
        hasWork: (n) => this.rawPruneTo(n) !== null,
        run: (n, r) => this.pruneRaw(n, r),
      },
      {
        name: 'prune1m',
        scatters: true,
        hasWork: (n) => this.pruneHasWork('samples_1m', n),
        run: (_, r) => this.pruneSeriesMajor('samples_1m', r),
      },
      {
        name: 'prune1h',
        scatters: true,
        hasWork: (n) => this.pruneHasWork('samples_1h', n),
        run: (_, r) => this.pruneSeriesMajor('samples_1h', r),
      },
      {
        name: 'pruneEvents',
        scatters: false,
        hasWork: (n) => this.eventsCutoff(n) > this.eventsPrunedTo,
        run: (n, r) => this.pruneEvents(n, r),
      },
    ];
  }

  /** Takes effect at the next step (a settings change); shorter retention is pruned in slices too. */
  setRetention(retention: Retention): void {
    this.retention = { ...DEFAULT_RETENTION, ...retention };
    this.eventsPrunedTo = -Infinity;
    for (const state of Object.values(this.prunePasses)) {
      state.pass = null;
      state.lastCutoff = -Infinity;
    }
  }

  /** One bounded slice of rolling up and pruning. Throws on a database error (the store reports it). */
  step(budgetMs = 5): RollupStep {
    const t0 = performance.now();
    const deadline = t0 + budgetMs - COMMIT_RESERVE_MS;
    const nowS = Math.floor(this.now() / 1000);
    const result: RollupStep = { rolledMinutes: 0, rolledHours: 0, pruned: 0, more: false, ms: 0 };
    this.scattered = 0;
    try {
      this.db
        .transaction(() => {
          this.load();
          let ranAny = false;
          for (;;) {
            let ran = false;
            for (const task of this.tasks) {
              if (!task.hasWork(nowS)) continue;
              const blocked =
                ranAny &&
                (performance.now() + (this.estimateMs.get(task.name) ?? 0.5) > deadline ||
                  (task.scatters && this.scattered >= this.maxScattered));
              if (blocked) {
                result.more = true;
                continue;
              }
              const t = performance.now();
              task.run(nowS, result);
              const ms = performance.now() - t;
              const prev = this.estimateMs.get(task.name);
              // Plan with the recent worst case rather than the average: a budget is a ceiling.
              this.estimateMs.set(task.name, prev === undefined ? ms : Math.max(ms, prev * 0.8));
              ran = ranAny = true;
            }
            if (!ran) break;
          }
        })
        .immediate();
    } catch (error) {
      this.forget();
      throw error;
    }
    result.ms = performance.now() - t0;
    return result;
  }

  /** After a failed step: what is in memory may not match the file; start again from the cursors. */
  private forget(): void {
    this.loaded = false;
    this.minute = null;
    this.hourGapChecked = null;
    this.prunePasses.samples_1m.pass = null;
    this.prunePasses.samples_1h.pass = null;
  }

  private load(): void {
    if (this.loaded) return;
    this.minuteTo = this.meta.number(META.minuteRolledTo);
    this.hourTo = this.meta.number(META.hourRolledTo);
    this.hourSeriesDone = this.meta.number(META.hourSeriesDone) ?? 0;
    this.rawRowsPerSecond = Math.max(1, this.stmts.seriesCount.get() ?? 1);
    this.loaded = true;
  }

  private setMinuteTo(to: number): void {
    this.minuteTo = to;
    this.meta.set(META.minuteRolledTo, to);
    if (this.hourTo === null) this.setHourTo(floorTo(to, HOUR), 0);
  }

  private setHourTo(to: number, seriesDone: number): void {
    this.hourTo = to;
    this.hourSeriesDone = seriesDone;
    this.meta.set(META.hourRolledTo, to);
    this.meta.set(META.hourSeriesDone, seriesDone);
  }

  // ---- raw → 1 minute ----

  /** Minutes that end at or before this (epoch s) are closed. */
  private closedTo(nowS: number): number {
    return floorTo(nowS - this.grace, MINUTE);
  }

  private minuteHasWork(nowS: number): boolean {
    if (this.minute) return true;
    if (this.minuteTo === null) return this.stmts.firstRaw.get() !== undefined;
    return this.minuteTo + MINUTE <= this.closedTo(nowS);
  }

  private rollMinute(nowS: number, result: RollupStep): void {
    const m = this.minute;
    if (!m) {
      this.startMinute(nowS);
      return;
    }
    if (m.out) {
      this.writeMinuteRows(m, result);
      return;
    }
    const sliceSeconds = clamp(Math.round(UNIT_ROWS / this.rawRowsPerSecond), 1, MINUTE);
    const to = Math.min(m.start + MINUTE, m.scannedTo + sliceSeconds);
    let rows = 0;
    for (const [series, min, max, sum, count] of this.stmts.rawSlice.all(m.scannedTo, to)) {
      rows += count;
      const a = m.acc.get(series);
      if (!a) m.acc.set(series, { min, max, sum, count });
      else {
        if (min < a.min) a.min = min;
        if (max > a.max) a.max = max;
        a.sum += sum;
        a.count += count;
      }
    }
    if (rows > 0) this.rawRowsPerSecond = Math.max(1, rows / (to - m.scannedTo));
    m.scannedTo = to;
    if (to === m.start + MINUTE) {
      m.out = [...m.acc].map(([series, a]) => [series, m.start, a.min, a.sum / a.count, a.max, a.count]);
      m.out.sort((x, y) => x[0] - y[0]);
      m.acc.clear();
      if (m.out.length === 0) this.finishMinute(m, result);
    }
  }

  /** Picks the next minute to roll, jumping over stretches with no samples at all. */
  private startMinute(nowS: number): void {
    const closedTo = this.closedTo(nowS);
    const from = this.minuteTo ?? -Infinity;
    const next = this.minuteTo === null ? this.stmts.firstRaw.get() : this.stmts.nextRaw.get(from);
    const start = next === undefined ? closedTo : Math.min(floorTo(next, MINUTE), closedTo);
    if (start > from) this.setMinuteTo(start);
    if (start + MINUTE <= closedTo)
      this.minute = { start, scannedTo: start, acc: new Map(), out: null, written: 0 };
  }

  private writeMinuteRows(m: MinuteInProgress, result: RollupStep): void {
    const out = m.out!;
    const n = Math.min(
      out.length - m.written,
      UNIT_SCATTERED,
      Math.max(1, this.maxScattered - this.scattered),
    );
    for (let i = m.written; i < m.written + n; i++) this.stmts.putMinute.run(...out[i]!);
    m.written += n;
    this.scattered += n;
    if (m.written === out.length) this.finishMinute(m, result);
  }

  private finishMinute(m: MinuteInProgress, result: RollupStep): void {
    this.setMinuteTo(m.start + MINUTE);
    this.minute = null;
    result.rolledMinutes += 1;
  }

  // ---- 1 minute → 1 hour ----

  private hourHasWork(): boolean {
    return this.hourTo !== null && this.minuteTo !== null && this.hourTo + HOUR <= this.minuteTo;
  }

  private rollHour(result: RollupStep): void {
    const hour = this.hourTo!;
    if (this.hourSeriesDone === 0 && this.hourGapChecked !== hour) {
      // Skip hours without any minute rows (Vigil was not running) in one go.
      const first = this.stmts.firstMinuteFrom.get(hour) ?? null;
      const rolledUpTo = floorTo(this.minuteTo!, HOUR);
      const start = first === null ? rolledUpTo : Math.min(floorTo(first, HOUR), rolledUpTo);
      this.hourGapChecked = start;
      if (start > hour) {
        this.setHourTo(start, 0);
        return;
      }
    }
    const n = clamp(
      Math.min(Math.floor(UNIT_ROWS / 60), UNIT_SCATTERED, this.maxScattered - this.scattered),
      1,
      UNIT_SCATTERED,
    );
    const written = this.stmts.rollHour.run({ hour, after: this.hourSeriesDone, n }).changes;
    this.scattered += written;
    const slice = this.stmts.seriesSlice.get(this.hourSeriesDone, n)!;
    if (slice.count < n) {
      this.setHourTo(hour + HOUR, 0);
      this.hourGapChecked = null;
      result.rolledHours += 1;
    } else {
      this.setHourTo(hour, slice.last!);
    }
  }

  // ---- retention ----

  /** Raw rows are deleted past retention, and only once rolled into minutes. */
  private rawPruneTo(nowS: number): number | null {
    if (this.minuteTo === null) return null;
    const cutoff = Math.min(nowS - this.retention.rawHours * HOUR, this.minuteTo);
    const oldest = this.stmts.firstRaw.get();
    return oldest !== undefined && oldest < cutoff ? Math.min(cutoff, oldest + this.rawSpan()) : null;
  }

  private rawSpan(): number {
    return clamp(Math.floor(UNIT_ROWS / this.rawRowsPerSecond), 1, HOUR);
  }

  private pruneRaw(nowS: number, result: RollupStep): void {
    const to = this.rawPruneTo(nowS);
    if (to !== null) result.pruned += this.stmts.pruneRaw.run(to).changes;
  }

  private seriesMajorCutoff(table: 'samples_1m' | 'samples_1h', nowS: number): number {
    if (table === 'samples_1h') return nowS - this.retention.hourDays * DAY;
    // Minute rows not yet rolled into hours stay.
    return Math.min(nowS - this.retention.minuteDays * DAY, this.hourTo ?? -Infinity);
  }

  private pruneHasWork(table: 'samples_1m' | 'samples_1h', nowS: number): boolean {
    const state = this.prunePasses[table];
    if (state.pass) return true;
    const cutoff = this.seriesMajorCutoff(table, nowS);
    if (cutoff === -Infinity || cutoff < state.lastCutoff + PRUNE_PASS_EVERY[table]) return false;
    state.pass = { cutoff, afterSeries: 0 };
    return true;
  }

  /** One slice of series: each loses its rows before the cutoff (at most UNIT_ROWS at a time). */
  private pruneSeriesMajor(table: 'samples_1m' | 'samples_1h', result: RollupStep): void {
    const state = this.prunePasses[table];
    const pass = state.pass!;
    const step = table === 'samples_1m' ? MINUTE : HOUR;
    const stmts = this.stmts[table];
    let rows = 0;
    for (const id of this.stmts.seriesAfter.all(pass.afterSeries, UNIT_SCATTERED)) {
      const first = stmts.first.get(id);
      if (first !== undefined && first < pass.cutoff) {
        const to = Math.min(pass.cutoff, first + Math.max(1, Math.floor(UNIT_ROWS / 4)) * step);
        const deleted = stmts.prune.run(id, to).changes;
        result.pruned += deleted;
        rows += deleted;
        this.scattered += 1;
        if (to < pass.cutoff) return; // this series has more: continue with it next time
      }
      pass.afterSeries = id;
      if (rows >= UNIT_ROWS || this.scattered >= this.maxScattered) return;
    }
    if (this.stmts.seriesAfter.get(pass.afterSeries, 1) === undefined) {
      state.lastCutoff = pass.cutoff;
      state.pass = null;
    }
  }

  private eventsCutoff(nowS: number): number {
    return (nowS - this.retention.eventDays * DAY) * 1000;
  }

  private pruneEvents(nowS: number, result: RollupStep): void {
    const cutoff = this.eventsCutoff(nowS);
    const events = this.stmts.pruneEvents.run(cutoff, 500).changes;
    const alerts = this.stmts.pruneAlerts.run(cutoff, 500).changes;
    result.pruned += events + alerts;
    if (events < 500 && alerts < 500) this.eventsPrunedTo = cutoff + HOUR * 1000; // next look in an hour
  }
}

function prepare(db: Database) {
  const seriesMajor = (table: 'samples_1m' | 'samples_1h') => ({
    first: db
      .prepare<[number], number>(`SELECT at FROM ${table} WHERE series_id = ? ORDER BY at LIMIT 1`)
      .pluck(),
    prune: db.prepare<[number, number]>(`DELETE FROM ${table} WHERE series_id = ? AND at < ?`),
  });
  return {
    seriesCount: db.prepare<[], number>('SELECT count(*) FROM series').pluck(),
    firstRaw: db.prepare<[], number>('SELECT at FROM samples_raw ORDER BY at LIMIT 1').pluck(),
    nextRaw: db
      .prepare<[number], number>('SELECT at FROM samples_raw WHERE at >= ? ORDER BY at LIMIT 1')
      .pluck(),
    rawSlice: db
      .prepare<[number, number], [number, number, number, number, number]>(
        `SELECT series_id, min(value), max(value), sum(value), count(*) FROM samples_raw
         WHERE at >= ? AND at < ? GROUP BY series_id`,
      )
      .raw(),
    putMinute: db.prepare<[number, number, number, number, number, number]>(
      'INSERT OR REPLACE INTO samples_1m (series_id, at, min, avg, max, count) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    // One seek per series: the earliest minute row at or after an hour, over all series.
    firstMinuteFrom: db
      .prepare<[number], number | null>(
        `SELECT min((SELECT at FROM samples_1m WHERE series_id = s.id AND at >= ? ORDER BY at LIMIT 1))
         FROM series AS s`,
      )
      .pluck(),
    rollHour: db.prepare<{ hour: number; after: number; n: number }>(
      `INSERT OR REPLACE INTO samples_1h (series_id, at, min, avg, max, count)
       SELECT m.series_id, :hour, min(m.min), sum(m.avg * m.count) / sum(m.count), max(m.max), sum(m.count)
       FROM (SELECT id FROM series WHERE id > :after ORDER BY id LIMIT :n) AS s
       JOIN samples_1m AS m ON m.series_id = s.id AND m.at >= :hour AND m.at < :hour + 3600
       GROUP BY m.series_id`,
    ),
    seriesSlice: db.prepare<[number, number], { count: number; last: number | null }>(
      'SELECT count(*) AS count, max(id) AS last FROM (SELECT id FROM series WHERE id > ? ORDER BY id LIMIT ?)',
    ),
    seriesAfter: db
      .prepare<[number, number], number>('SELECT id FROM series WHERE id > ? ORDER BY id LIMIT ?')
      .pluck(),
    pruneRaw: db.prepare<[number]>('DELETE FROM samples_raw WHERE at < ?'),
    samples_1m: seriesMajor('samples_1m'),
    samples_1h: seriesMajor('samples_1h'),
    pruneEvents: db.prepare<[number, number]>(
      'DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ? ORDER BY at LIMIT ?)',
    ),
    // Open alerts stay, however old: someone still has to see them cleared.
    pruneAlerts: db.prepare<[number, number]>(
      `DELETE FROM alerts WHERE id IN
         (SELECT id FROM alerts WHERE at < ? AND cleared_at IS NOT NULL ORDER BY at LIMIT ?)`,
    ),
  };
}

function floorTo(t: number, unit: number): number {
  return Math.floor(t / unit) * unit;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
