/**
 * Service history (transitions, alerts, metric samples) written in batches: the callers only queue,
 * and one transaction per flush interval writes what is queued, at most `maxBatchRows` rows per
 * transaction so no main-thread call grows past a few milliseconds. A batch that fails stays queued,
 * is retried at the next tick and is reported through `onError`; nothing is ever thrown into the
 * supervisor's event path.
 *
 * Ids are handed out here (this is the only writer of the file), so `recordTransition` and
 * `raiseAlert` return the row's final id at once, before it is written: the live event carries the
 * same id a later query returns, and acknowledging or clearing an alert works either way.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { AlertRecord } from '../../shared/history';
import type { ServiceAlert, ServiceTransition } from '../../shared/services';
import { alertRecordOf, type AlertRow } from './history-queries';
import { toStoreError, type StoreError } from './store-error';

export interface HistoryWriterOptions {
  /** 0: no timer, the owner calls flush() (tests, bench). */
  flushIntervalMs?: number;
  now?: () => number;
  /** Rows per transaction: 1,000 samples take ~1 ms plus the commit (bench/store.bench.ts). */
  maxBatchRows?: number;
  /** Queued samples beyond this (the disk has been failing for a while) are dropped, oldest first. */
  maxPendingSamples?: number;
  onError?: (error: StoreError) => void;
}

export interface MetricValue {
  service: string;
  metric: string;
  value: number;
}

export interface HistoryWriterStats {
  maxBatchMs: number;
  lastBatchMs: number;
  batches: number;
  pendingRows: number;
  failedBatches: number;
  /** Samples dropped: not finite, or beyond maxPendingSamples while writes were failing. */
  droppedSamples: number;
  lastError: string | null;
  lastErrorAt: number | null;
}

type EventRow = [
  id: number,
  at: number,
  service: string,
  from: string,
  to: string,
  health: string | null,
  reason: string,
  exitCode: number | null,
  exitSignal: string | null,
  restarts: number,
  nextRestartAt: number | null,
];

interface PendingAlert {
  id: number;
  alert: ServiceAlert;
  acknowledgedAt: number | null;
  clearedAt: number | null;
}

/** Queued samples as parallel arrays consumed from a moving head: no per-sample objects, no shifting. */
class SampleQueue {
  at: number[] = [];
  series: number[] = [];
  value: number[] = [];
  head = 0;

  get size(): number {
    return this.at.length - this.head;
  }

  push(at: number, series: number, value: number): void {
    this.at.push(at);
    this.series.push(series);
    this.value.push(value);
  }

  drop(n: number): void {
    this.head += n;
    if (this.head === this.at.length) {
      this.at = [];
      this.series = [];
      this.value = [];
      this.head = 0;
    } else if (this.head > 65_536 && this.head * 2 > this.at.length) {
      this.at = this.at.slice(this.head);
      this.series = this.series.slice(this.head);
      this.value = this.value.slice(this.head);
      this.head = 0;
    }
  }
}

/** Samples per multi-row INSERT: fewer calls into SQLite, ~2× the single-row rate (bench). */
const CHUNK = 128;
const DEFAULT_MAX_PENDING_SAMPLES = 1_000_000;

export class HistoryWriter {
  private readonly file: string;
  private readonly now: () => number;
  private readonly maxBatchRows: number;
  private readonly maxPendingSamples: number;
  private readonly onError: (error: StoreError) => void;
  private readonly timer: ReturnType<typeof setInterval> | null;
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private closed = false;

  private readonly seriesIds = new Map<string, number>();
  private nextSeriesId: number;
  private newSeries: [id: number, service: string, metric: string][] = [];
  private events: EventRow[] = [];
  private nextEventId: number;
  private readonly alerts = new Map<number, PendingAlert>();
  private nextAlertId: number;
  private clears: [at: number, id: number][] = [];
  private readonly clearQueued = new Set<number>();
  private readonly samples = new SampleQueue();

  private readonly counters: HistoryWriterStats = {
    maxBatchMs: 0,
    lastBatchMs: 0,
    batches: 0,
    pendingRows: 0,
    failedBatches: 0,
    droppedSamples: 0,
    lastError: null,
    lastErrorAt: null,
  };

  private readonly stmts: {
    series: Statement<[number, string, string]>;
    event: Statement<EventRow>;
    alert: Statement<[number, number, string, string, string, string, number | null, number | null]>;
    clear: Statement<[number, number]>;
    ack: Statement<[number, number]>;
    openAlerts: Statement<[string, string], AlertRow>;
    sample: Statement<[number, number, number]>;
    sampleChunk: Statement<number[]>;
  };

  constructor(
    private readonly db: Database,
    opts: HistoryWriterOptions = {},
  ) {
    this.file = db.name;
    this.now = opts.now ?? Date.now;
    this.maxBatchRows = Math.max(CHUNK, opts.maxBatchRows ?? 1000);
    this.maxPendingSamples = opts.maxPendingSamples ?? DEFAULT_MAX_PENDING_SAMPLES;
    this.onError = opts.onError ?? ((e) => console.error(e.message));
    this.stmts = {
      series: db.prepare('INSERT INTO series (id, service, metric) VALUES (?, ?, ?)'),
      event: db.prepare(
        `INSERT INTO events (id, at, service, from_state, to_state, health, reason, exit_code, exit_signal,
           restarts, next_restart_at) VALUES (${params(11)})`,
      ),
      alert: db.prepare(
        `INSERT INTO alerts (id, at, service, kind, severity, message, acknowledged_at, cleared_at)
         VALUES (${params(8)})`,
      ),
      clear: db.prepare('UPDATE alerts SET cleared_at = ? WHERE id = ? AND cleared_at IS NULL'),
      ack: db.prepare('UPDATE alerts SET acknowledged_at = ? WHERE id = ? AND acknowledged_at IS NULL'),
      openAlerts: db.prepare<[string, string], AlertRow>(
        'SELECT * FROM alerts WHERE service = ? AND kind = ? AND cleared_at IS NULL',
      ),
      // Two samples in the same second of one series: the later one wins.
      sample: db.prepare('INSERT OR REPLACE INTO samples_raw (at, series_id, value) VALUES (?, ?, ?)'),
      sampleChunk: db.prepare(
        `INSERT OR REPLACE INTO samples_raw (at, series_id, value) VALUES ${Array(CHUNK).fill('(?, ?, ?)').join(', ')}`,
      ),
    };
    for (const r of db
      .prepare<[], { id: number; service: string; metric: string }>('SELECT id, service, metric FROM series')
      .iterate()) {
      this.seriesIds.set(seriesKey(r.service, r.metric), r.id);
    }
    this.nextSeriesId = maxId(db, 'series') + 1;
    this.nextEventId = maxId(db, 'events') + 1;
    this.nextAlertId = maxId(db, 'alerts') + 1;
    const interval = opts.flushIntervalMs ?? 1000;
    this.timer = interval > 0 ? setInterval(() => this.tick(), interval) : null;
    this.timer?.unref();
  }

  /** Queues the transition and returns its id, final at once. */
  recordTransition(t: ServiceTransition): number {
    const id = this.nextEventId++;
    if (this.closed) return id;
    this.events.push([
      id,
      Math.round(t.at),
      t.service,
      t.from,
      t.to,
      t.health,
      t.reason,
      t.exit ? intOrNull(t.exit.code) : null,
      t.exit?.signal ?? null,
      Math.round(t.restarts),
      intOrNull(t.nextRestartAt),
    ]);
    return id;
  }

  /** Queues the alert and returns its id, final at once. */
  raiseAlert(a: ServiceAlert): number {
    const id = this.nextAlertId++;
    if (!this.closed) {
      this.alerts.set(id, {
        id,
        alert: { ...a, at: Math.round(a.at) },
        acknowledgedAt: null,
        clearedAt: null,
      });
    }
    return id;
  }

  /**
   * A person has seen the alert: written at once (a queued alert is written ahead of its batch), so
   * it is durable, and readable, when this returns. False when there is no such alert or it was
   * acknowledged before. Throws StoreError when the file cannot be written: the person asking must
   * learn that it did not happen.
   */
  acknowledgeAlert(id: number, at: number): boolean {
    const when = Math.round(at);
    try {
      const pending = this.alerts.get(id);
      if (!pending) return this.stmts.ack.run(when, id).changes === 1;
      if (pending.acknowledgedAt !== null) return false;
      this.writeAlert({ ...pending, acknowledgedAt: when });
      this.alerts.delete(id);
      return true;
    } catch (error) {
      throw toStoreError(error, this.file, 'acknowledging an alert');
    }
  }

  /**
   * The condition behind (service, kind) has ended: clears its open alerts, and returns each of them
   * as it reads now (cleared), once: an alert already cleared, or whose clear is queued, is not.
   */
  clearAlerts(service: string, kind: ServiceAlert['kind'], at: number): AlertRecord[] {
    const when = Math.round(at);
    const cleared: AlertRecord[] = [];
    for (const p of this.alerts.values()) {
      if (p.alert.service === service && p.alert.kind === kind && p.clearedAt === null) {
        p.clearedAt = when;
        const { service: svc, severity, message, at: raisedAt } = p.alert;
        cleared.push({
          id: p.id,
          at: raisedAt,
          service: svc,
          kind,
          severity,
          message,
          acknowledgedAt: p.acknowledgedAt,
          clearedAt: when,
        });
      }
    }
    let open: AlertRow[];
    try {
      open = this.stmts.openAlerts.all(service, kind);
    } catch (error) {
      this.report(error, 'reading open alerts');
      return cleared;
    }
    for (const row of open) {
      if (this.clearQueued.has(row.id)) continue;
      this.clearQueued.add(row.id);
      this.clears.push([when, row.id]);
      cleared.push({ ...alertRecordOf(row), clearedAt: when });
    }
    return cleared;
  }

  /** Samples taken at `at` (epoch ms), stored per second. Values that are not finite numbers are skipped. */
  recordSamples(at: number, values: readonly MetricValue[]): void {
    if (this.closed) return;
    const second = Math.floor(at / 1000);
    for (const v of values) {
      if (!Number.isFinite(v.value)) {
        this.counters.droppedSamples += 1;
        continue;
      }
      this.samples.push(second, this.seriesId(v.service, v.metric), v.value);
    }
    const excess = this.samples.size - this.maxPendingSamples;
    if (excess > 0) {
      // Only while writes keep failing: keep memory bounded, lose the oldest samples, say so.
      const drop = Math.min(this.samples.size, excess + Math.floor(this.maxPendingSamples / 10));
      this.samples.drop(drop);
      this.counters.droppedSamples += drop;
    }
  }

  /** Writes everything queued, in batches of at most maxBatchRows; stops at the first failing batch. */
  flush(): { rows: number; ms: number } {
    const t0 = performance.now();
    let rows = 0;
    while (this.pendingRows() > 0) {
      const written = this.writeBatch();
      if (written === null) break;
      rows += written;
    }
    return { rows, ms: performance.now() - t0 };
  }

  stats(): HistoryWriterStats {
    return { ...this.counters, pendingRows: this.pendingRows() };
  }

  /** Stops the timer and writes what is queued. The database stays open (the store owns it). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = null;
    this.flush();
    this.closed = true;
  }

  private tick(): void {
    this.immediate = null;
    if (this.pendingRows() === 0) return;
    const written = this.writeBatch();
    // More queued than one batch: the next batch after other work had its turn, not in this call.
    if (written !== null && this.pendingRows() > 0) {
      this.immediate = setImmediate(() => this.tick());
      this.immediate.unref();
    }
  }

  private pendingRows(): number {
    return (
      this.newSeries.length + this.events.length + this.alerts.size + this.clears.length + this.samples.size
    );
  }

  /** One transaction; returns the rows written, or null when it failed (everything stays queued). */
  private writeBatch(): number | null {
    const nSeries = this.newSeries.length; // always all: samples below may refer to them
    let budget = Math.max(0, this.maxBatchRows - nSeries);
    const nEvents = Math.min(this.events.length, budget);
    budget = Math.max(0, budget - nEvents);
    const alerts = [...this.alerts.values()].slice(0, budget);
    budget -= alerts.length;
    const nClears = Math.min(this.clears.length, budget);
    budget -= nClears;
    const nSamples = Math.min(this.samples.size, budget);
    const t0 = performance.now();
    try {
      this.db
        .transaction(() => {
          for (let i = 0; i < nSeries; i++) this.stmts.series.run(...this.newSeries[i]!);
          for (let i = 0; i < nEvents; i++) this.stmts.event.run(...this.events[i]!);
          for (const p of alerts) this.writeAlert(p);
          for (let i = 0; i < nClears; i++) this.stmts.clear.run(...this.clears[i]!);
          this.writeSamples(nSamples);
        })
        .immediate();
    } catch (error) {
      this.counters.failedBatches += 1;
      this.report(error, 'writing history');
      return null;
    }
    const ms = performance.now() - t0;
    this.newSeries = this.newSeries.slice(nSeries);
    this.events = this.events.slice(nEvents);
    for (const p of alerts) this.alerts.delete(p.id);
    for (const [, id] of this.clears.slice(0, nClears)) this.clearQueued.delete(id);
    this.clears = this.clears.slice(nClears);
    this.samples.drop(nSamples);
    this.counters.batches += 1;
    this.counters.lastBatchMs = ms;
    this.counters.maxBatchMs = Math.max(this.counters.maxBatchMs, ms);
    if (this.counters.lastError !== null) this.counters.lastError = null; // recovered
    return nSeries + nEvents + alerts.length + nClears + nSamples;
  }

  private writeAlert(p: PendingAlert): void {
    const a = p.alert;
    this.stmts.alert.run(p.id, a.at, a.service, a.kind, a.severity, a.message, p.acknowledgedAt, p.clearedAt);
  }

  private writeSamples(n: number): void {
    const q = this.samples;
    const end = q.head + n;
    let i = q.head;
    const chunk = new Array<number>(CHUNK * 3);
    for (; i + CHUNK <= end; i += CHUNK) {
      for (let k = 0; k < CHUNK; k++) {
        chunk[k * 3] = q.at[i + k]!;
        chunk[k * 3 + 1] = q.series[i + k]!;
        chunk[k * 3 + 2] = q.value[i + k]!;
      }
      this.stmts.sampleChunk.run(...chunk);
    }
    for (; i < end; i++) this.stmts.sample.run(q.at[i]!, q.series[i]!, q.value[i]!);
  }

  private seriesId(service: string, metric: string): number {
    const key = seriesKey(service, metric);
    let id = this.seriesIds.get(key);
    if (id === undefined) {
      id = this.nextSeriesId++;
      this.seriesIds.set(key, id);
      this.newSeries.push([id, service, metric]);
    }
    return id;
  }

  /** Reports a failure once, not at every retry, until a batch succeeds again. */
  private report(error: unknown, doing: string): void {
    const e = toStoreError(error, this.file, doing);
    const first = this.counters.lastError === null;
    this.counters.lastError = e.message;
    this.counters.lastErrorAt = this.now();
    if (first) this.onError(e);
  }
}

function seriesKey(service: string, metric: string): string {
  return `${service}\u0000${metric}`;
}

function params(n: number): string {
  return Array(n).fill('?').join(', ');
}

function intOrNull(v: number | null | undefined): number | null {
  return v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v);
}

function maxId(db: Database, table: 'series' | 'events' | 'alerts'): number {
  return db.prepare<[], number>(`SELECT coalesce(max(id), 0) FROM ${table}`).pluck().get() ?? 0;
}
