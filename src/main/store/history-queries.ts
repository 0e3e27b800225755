/**
 * Reading history back: metric series at the coarsest resolution that still draws the range well
 * (bucketed further in SQL, so a chart gets at most ~maxPoints points whatever the range), and
 * events and alerts newest first with keyset paging (a page costs the same on page 1 and page 500).
 * Queries see what has been flushed (the writer flushes every second).
 */
import type { Database, Statement } from 'better-sqlite3';
import type {
  AlertRecord,
  AlertState,
  EventRecord,
  Page,
  Resolution,
  SeriesKey,
  SeriesResult,
} from '../../shared/history';
import type { AlertKind, ServiceState } from '../../shared/services';
import { META, MetaTable } from './meta';
import { DEFAULT_RETENTION, type Retention } from './rollups';

export interface SeriesQuery {
  service: string;
  metric: string;
  /** Epoch ms, [from, to). */
  from: number;
  to: number;
  maxPoints?: number;
  /** How often samples are taken: raw points are at least this far apart (default 1 s). */
  sampleIntervalMs?: number;
}

export interface EventQuery {
  service?: string;
  from?: number;
  to?: number;
  states?: ServiceState[];
  limit?: number;
  before?: number;
}

export interface AlertQuery {
  service?: string;
  kind?: AlertKind;
  state?: AlertState;
  /** Epoch ms, [from, to), of when the alert was raised. */
  from?: number;
  to?: number;
  limit?: number;
  before?: number;
}

const alertStateWhere: Record<AlertState, string> = {
  open: 'cleared_at IS NULL AND acknowledged_at IS NULL',
  acknowledged: 'acknowledged_at IS NOT NULL',
  cleared: 'cleared_at IS NOT NULL',
};

const STEP_S: Record<Resolution, number> = { raw: 1, '1m': 60, '1h': 3600 };
/**
 * Raw samples are read by one primary-key lookup per second (they are stored time first, see
 * migrations.ts): ~1.5–4 µs each, so raw serves ranges up to 30 minutes and 1-minute rows beyond.
 */
const RAW_MAX_RANGE_S = 1800;
/** Samples not yet rolled up are read from raw, at most this far back. */
const RAW_TAIL_MAX_S = 600;
const MAX_LIMIT = 1000;

type Row = [bucket: number, min: number, avg: number, max: number];

interface EventRow {
  id: number;
  at: number;
  service: string;
  from_state: ServiceState;
  to_state: ServiceState;
  health: EventRecord['health'];
  reason: string;
  exit_code: number | null;
  exit_signal: string | null;
  restarts: number;
  next_restart_at: number | null;
}

/** A row of the alerts table. */
export interface AlertRow {
  id: number;
  at: number;
  service: string;
  kind: AlertKind;
  severity: AlertRecord['severity'];
  message: string;
  acknowledged_at: number | null;
  cleared_at: number | null;
}

export interface HistoryQueriesOptions {
  retention?: Retention;
  now?: () => number;
}

export class HistoryQueries {
  private retention: Required<Retention>;
  private readonly now: () => number;
  private readonly meta: MetaTable;
  private readonly cache = new Map<string, Statement<Record<string, unknown>>>();
  private readonly stmts: {
    seriesId: Statement<[string, string], number>;
    series: Statement<[], SeriesKey>;
    seriesOf: Statement<[string], SeriesKey>;
    raw: Statement<Record<string, number>, Row>;
    minute: Statement<Record<string, number>, Row>;
    hour: Statement<Record<string, number>, Row>;
    eventAt: Statement<[number], number>;
    alertAt: Statement<[number], number>;
    alert: Statement<[number], AlertRow>;
  };

  constructor(
    private readonly db: Database,
    opts: HistoryQueriesOptions = {},
  ) {
    this.retention = { ...DEFAULT_RETENTION, ...opts.retention };
    this.now = opts.now ?? Date.now;
    this.meta = new MetaTable(db);
    // Probes: one PK lookup per second of the range.
    const rawTail = `t(at) AS (SELECT :tail WHERE :tail < :to UNION ALL SELECT at + 1 FROM t WHERE at + 1 < :to)`;
    const rawRows = `SELECT r.at, r.value, r.value, r.value, 1 FROM t JOIN samples_raw AS r ON r.at = t.at AND r.series_id = :id`;
    const bucketed = (source: string) =>
      // % works on integers (JS numbers are bound as REAL, so at / :bucket would not round).
      `SELECT at - at % :bucket AS b, min(mn), sum(av * n) / sum(n), max(mx)
       FROM (${source}) GROUP BY b ORDER BY b`;
    const rollupRows = (table: string, to: string) =>
      `SELECT at, min, avg, max, count FROM ${table} WHERE series_id = :id AND at >= :from AND at < ${to}`;
    this.stmts = {
      seriesId: db
        .prepare<[string, string], number>('SELECT id FROM series WHERE service = ? AND metric = ?')
        .pluck(),
      series: db.prepare('SELECT service, metric FROM series ORDER BY service, metric'),
      seriesOf: db.prepare('SELECT service, metric FROM series WHERE service = ? ORDER BY metric'),
      raw: db
        .prepare<Record<string, number>, Row>(
          `WITH RECURSIVE ${rawTail}, rows(at, mn, av, mx, n) AS (${rawRows}) ${bucketed('SELECT * FROM rows')}`,
        )
        .raw(),
      // Minute rows up to where minutes are rolled, raw samples after that (the last minute or two).
      minute: db
        .prepare<Record<string, number>, Row>(
          `WITH RECURSIVE ${rawTail}, rows(at, mn, av, mx, n) AS (
             ${rollupRows('samples_1m', ':split')} UNION ALL ${rawRows})
           ${bucketed('SELECT * FROM rows')}`,
        )
        .raw(),
      // Hour rows up to where hours are rolled, minute rows after that (the current hour).
      hour: db
        .prepare<Record<string, number>, Row>(
          `WITH rows(at, mn, av, mx, n) AS (
             ${rollupRows('samples_1h', ':split')}
             UNION ALL
             SELECT at, min, avg, max, count FROM samples_1m
             WHERE series_id = :id AND at >= max(:from, :split) AND at < :to)
           ${bucketed('SELECT * FROM rows')}`,
        )
        .raw(),
      eventAt: db.prepare<[number], number>('SELECT at FROM events WHERE id = ?').pluck(),
      alertAt: db.prepare<[number], number>('SELECT at FROM alerts WHERE id = ?').pluck(),
      alert: db.prepare<[number], AlertRow>('SELECT * FROM alerts WHERE id = ?'),
    };
  }

  /** Retention decides which level still holds the start of a range. */
  setRetention(retention: Retention): void {
    this.retention = { ...DEFAULT_RETENTION, ...retention };
  }

  querySeries(q: SeriesQuery): SeriesResult {
    const maxPoints = Math.max(1, Math.floor(q.maxPoints ?? 300));
    const from = Math.floor(q.from / 1000);
    const to = Math.max(from + 1, Math.ceil(q.to / 1000));
    const resolution = this.chooseResolution(from, to, maxPoints);
    const step = STEP_S[resolution];
    // Buckets are aligned to multiples of their width (stable as a chart scrolls), so the range may
    // touch one more bucket than it spans.
    let bucket = Math.max(step, Math.ceil((to - from) / maxPoints / step) * step);
    while (Math.floor((to - 1) / bucket) - Math.floor(from / bucket) + 1 > maxPoints) bucket += step;
    const result: SeriesResult = {
      service: q.service,
      metric: q.metric,
      resolution,
      // Raw rows are per second, but only every sample interval has one.
      bucketMs: resolution === 'raw' ? Math.max(bucket * 1000, q.sampleIntervalMs ?? 0) : bucket * 1000,
      points: [],
    };
    const id = this.stmts.seriesId.get(q.service, q.metric);
    if (id === undefined) return result;
    let rows: Row[];
    if (resolution === 'raw') {
      rows = this.stmts.raw.all({ id, bucket, tail: from, to });
    } else if (resolution === '1m') {
      const split = clamp(this.meta.number(META.minuteRolledTo) ?? from, from, to);
      const tail = Math.max(split, to - RAW_TAIL_MAX_S);
      rows = this.stmts.minute.all({ id, bucket, from, to, split, tail });
    } else {
      const split = clamp(this.meta.number(META.hourRolledTo) ?? from, from, to);
      rows = this.stmts.hour.all({ id, bucket, from, to, split });
    }
    result.points = rows.map(([b, min, avg, max]) => ({ at: b * 1000, min, avg, max }));
    return result;
  }

  /**
   * The coarsest level that still gives at least half of maxPoints over the range (a 7-day chart
   * from 168 hourly rows, not 10,080 minute rows), falling back to a coarser level where the finer
   * one has already been pruned for the start of the range.
   */
  chooseResolution(fromS: number, toS: number, maxPoints: number): Resolution {
    const range = toS - fromS;
    const nowS = this.now() / 1000;
    const enough = (step: number) => range / step >= maxPoints / 2;
    if (enough(STEP_S['1h']) || fromS < nowS - this.retention.minuteDays * 86_400) return '1h';
    if (enough(STEP_S['1m']) || range > RAW_MAX_RANGE_S || fromS < nowS - this.retention.rawHours * 3600) {
      return '1m';
    }
    return 'raw';
  }

  listSeries(service?: string): SeriesKey[] {
    return service === undefined ? this.stmts.series.all() : this.stmts.seriesOf.all(service);
  }

  /** Transitions, newest first. */
  queryEvents(q: EventQuery = {}): Page<EventRecord> {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (q.service !== undefined) {
      where.push('service = :service');
      params.service = q.service;
    }
    if (q.from !== undefined) {
      where.push('at >= :from');
      params.from = q.from;
    }
    if (q.to !== undefined) {
      where.push('at < :to');
      params.to = q.to;
    }
    if (q.states && q.states.length > 0) {
      where.push(`to_state IN (${q.states.map((_, i) => `:s${i}`).join(', ')})`);
      q.states.forEach((s, i) => (params[`s${i}`] = s));
    }
    const rows = this.page<EventRow>('events', where, params, q);
    return {
      items: rows.items.map((r) => ({
        id: r.id,
        service: r.service,
        from: r.from_state,
        to: r.to_state,
        health: r.health,
        reason: r.reason,
        at: r.at,
        exitCode: r.exit_code,
        exitSignal: r.exit_signal,
        restarts: r.restarts,
        nextRestartAt: r.next_restart_at,
      })),
      next: rows.next,
    };
  }

  getAlert(id: number): AlertRecord | null {
    const row = this.stmts.alert.get(id);
    return row ? alertRecordOf(row) : null;
  }

  /** Alerts, newest first. */
  queryAlerts(q: AlertQuery = {}): Page<AlertRecord> {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (q.service !== undefined) {
      where.push('service = :service');
      params.service = q.service;
    }
    if (q.kind !== undefined) {
      where.push('kind = :kind');
      params.kind = q.kind;
    }
    if (q.state !== undefined) where.push(alertStateWhere[q.state]);
    if (q.from !== undefined) {
      where.push('at >= :from');
      params.from = q.from;
    }
    if (q.to !== undefined) {
      where.push('at < :to');
      params.to = q.to;
    }
    const rows = this.page<AlertRow>('alerts', where, params, q);
    return { items: rows.items.map(alertRecordOf), next: rows.next };
  }

  /**
   * Newest first by (at, id); `before` is the id of the last item of the previous page. The redundant
   * `at <= :beforeAt` lets SQLite walk the (service, at) or (at) index from the right place.
   */
  private page<R extends { id: number }>(
    table: 'events' | 'alerts',
    where: string[],
    params: Record<string, unknown>,
    q: { limit?: number; before?: number },
  ): Page<R> {
    const limit = clamp(Math.floor(q.limit ?? 100), 1, MAX_LIMIT);
    const conditions = [...where];
    if (q.before !== undefined) {
      const beforeAt = (table === 'events' ? this.stmts.eventAt : this.stmts.alertAt).get(q.before);
      if (beforeAt === undefined) return { items: [], next: null };
      conditions.push('at <= :beforeAt', '(at < :beforeAt OR id < :before)');
      params.beforeAt = beforeAt;
      params.before = q.before;
    }
    params.limit = limit + 1;
    const sql =
      `SELECT * FROM ${table}${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''}` +
      ' ORDER BY at DESC, id DESC LIMIT :limit';
    let stmt = this.cache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare<Record<string, unknown>>(sql);
      this.cache.set(sql, stmt);
    }
    const rows = stmt.all(params) as R[];
    const items = rows.slice(0, limit);
    return { items, next: rows.length > limit ? items.at(-1)!.id : null };
  }
}

export function alertRecordOf(r: AlertRow): AlertRecord {
  return {
    id: r.id,
    service: r.service,
    kind: r.kind,
    severity: r.severity,
    message: r.message,
    at: r.at,
    acknowledgedAt: r.acknowledged_at,
    clearedAt: r.cleared_at,
  };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
