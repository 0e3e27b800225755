/**
 * Optimizer runs and their trials in control.db (migration 3). A run's request, strategy version and
 * data snapshot are written once (triggers refuse changes); trials are written in batches, each batch
 * one transaction that also moves the run's counters and best trial, so the run row always agrees
 * with its trials. A trial already stored is never written again (a resumed run may report one twice
 * when the optimizer died between computing and our commit).
 */
import type { Database, Statement } from 'better-sqlite3';
import type {
  CrossedGap,
  OptimizerRequest,
  OptimizerRunStatus,
  OptimizerTrial,
  OptimizerTrialDetail,
  TrialMetrics,
  TrialSortKey,
} from '../../shared/optimizer-api';
import type { TrialWire } from '../../shared/optimizer-protocol';
import { optimizerRunStatuses } from '../../shared/optimizer-api';
import { equityBytes, equityPoints } from '../../services/optimizer/equity-codec';

/** A run as stored (the service adds its live progress and note). */
export interface StoredRun {
  id: number;
  createdAt: number;
  status: OptimizerRunStatus;
  request: OptimizerRequest;
  strategyVersion: number;
  total: number;
  skipped: number;
  done: number;
  failed: number;
  best: { trialId: number; score: number } | null;
  split: number | null;
  dataTo: number | null;
  candles: number | null;
  gaps: CrossedGap[] | null;
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
}

interface RunRow {
  id: number;
  created_at: number;
  status: string;
  request: string;
  strategy_version: number;
  total: number;
  skipped: number;
  done: number;
  failed: number;
  best_trial: number | null;
  best_score: number | null;
  split: number | null;
  data_to: number | null;
  candles: number | null;
  gaps: string | null;
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
}

interface TrialRow {
  run_id: number;
  trial_id: number;
  status: string;
  params: string;
  in_sample: string | null;
  out_of_sample: string | null;
  score: number | null;
  oos_score: number | null;
  meets: number;
  error: string | null;
  duration_ms: number;
  finished_at: number;
  equity_in?: Buffer;
  equity_out?: Buffer;
}

export interface TrialQuery {
  runId: number;
  sort: TrialSortKey;
  sample: 'inSample' | 'outOfSample';
  order: 'asc' | 'desc';
  meetsConstraints?: boolean | undefined;
  limit: number;
  offset: number;
}

const TRIAL_COLUMNS =
  'run_id, trial_id, status, params, in_sample, out_of_sample, score, oos_score, meets, error, duration_ms, finished_at';

export class OptimizerRepository {
  private readonly stmts: {
    insertRun: Statement<[number, string, string, string, number, number, number]>;
    getRun: Statement<[number], RunRow>;
    deleteRun: Statement<[number]>;
    unfinished: Statement<[], RunRow>;
    page: Statement<[number, number], RunRow>;
    count: Statement<[], number>;
    byStatus: Statement<[], { status: OptimizerRunStatus; n: number }>;
    status: Statement<[string, number | null, number | null, string | null, number]>;
    snapshot: Statement<[number, number, number, string, number]>;
    insertTrial: Statement<unknown[]>;
    counters: Statement<[number, number, number | null, number | null, number]>;
    doneIds: Statement<[number], number>;
    trial: Statement<[number, number], TrialRow>;
  };

  constructor(private readonly db: Database) {
    this.stmts = {
      insertRun: db.prepare(
        `INSERT INTO optimizer_runs (created_at, status, request, strategy, strategy_version, total, skipped)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      getRun: db.prepare('SELECT * FROM optimizer_runs WHERE id = ?'),
      deleteRun: db.prepare('DELETE FROM optimizer_runs WHERE id = ?'),
      unfinished: db.prepare(
        "SELECT * FROM optimizer_runs WHERE status IN ('queued', 'running') ORDER BY id",
      ),
      page: db.prepare('SELECT * FROM optimizer_runs WHERE id < ? ORDER BY id DESC LIMIT ?'),
      count: db.prepare<[], number>('SELECT count(*) FROM optimizer_runs').pluck(),
      byStatus: db.prepare('SELECT status, count(*) AS n FROM optimizer_runs GROUP BY status'),
      status: db.prepare(
        `UPDATE optimizer_runs SET status = ?, started_at = coalesce(started_at, ?), finished_at = ?, error = ?
         WHERE id = ?`,
      ),
      snapshot: db.prepare(
        'UPDATE optimizer_runs SET split = ?, data_to = ?, candles = ?, gaps = ? WHERE id = ? AND split IS NULL',
      ),
      insertTrial: db.prepare(
        `INSERT OR IGNORE INTO optimizer_trials (${TRIAL_COLUMNS}, equity_in, equity_out)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      counters: db.prepare(
        'UPDATE optimizer_runs SET done = done + ?, failed = failed + ?, best_trial = ?, best_score = ? WHERE id = ?',
      ),
      doneIds: db
        .prepare<[number], number>('SELECT trial_id FROM optimizer_trials WHERE run_id = ? ORDER BY trial_id')
        .pluck(),
      trial: db.prepare('SELECT * FROM optimizer_trials WHERE run_id = ? AND trial_id = ?'),
    };
  }

  /** A new run, queued; returns its id. */
  createRun(run: {
    createdAt: number;
    request: OptimizerRequest;
    strategyVersion: number;
    total: number;
    skipped: number;
  }): number {
    const r = this.stmts.insertRun.run(
      run.createdAt,
      'queued',
      JSON.stringify(run.request),
      run.request.strategy,
      run.strategyVersion,
      run.total,
      run.skipped,
    );
    return Number(r.lastInsertRowid);
  }

  /** Only for a run refused before anything of it was computed. */
  deleteRun(id: number): void {
    this.stmts.deleteRun.run(id);
  }

  getRun(id: number): StoredRun | null {
    const row = this.stmts.getRun.get(id);
    return row ? runOf(row) : null;
  }

  /** Queued and running runs, oldest first. */
  unfinished(): StoredRun[] {
    return this.stmts.unfinished.all().map(runOf);
  }

  /** How many runs there are in each status. */
  countByStatus(): Record<OptimizerRunStatus, number> {
    const out = Object.fromEntries(optimizerRunStatuses.map((st) => [st, 0])) as Record<
      OptimizerRunStatus,
      number
    >;
    for (const { status, n } of this.stmts.byStatus.all()) out[status] = n;
    return out;
  }

  runs(limit: number, before?: number): { items: StoredRun[]; next: number | null; total: number } {
    const rows = this.stmts.page.all(before ?? Number.MAX_SAFE_INTEGER, limit + 1);
    const items = rows.slice(0, limit).map(runOf);
    return {
      items,
      next: rows.length > limit ? items.at(-1)!.id : null,
      total: this.stmts.count.get() ?? 0,
    };
  }

  setStatus(
    id: number,
    status: OptimizerRunStatus,
    at: { startedAt?: number; finishedAt?: number | null; error?: string | null } = {},
  ): void {
    this.stmts.status.run(status, at.startedAt ?? null, at.finishedAt ?? null, at.error ?? null, id);
  }

  /** The data the run uses, written at its first start only (later calls change nothing). */
  setSnapshot(id: number, s: { split: number; dataTo: number; candles: number; gaps: CrossedGap[] }): void {
    this.stmts.snapshot.run(s.split, s.dataTo, s.candles, JSON.stringify(s.gaps), id);
  }

  /**
   * Stores finished trials of one run and moves its counters and best trial, in one transaction.
   * Returns the trials actually written (those not stored already).
   */
  addTrials(runId: number, trials: readonly TrialWire[], finishedAt: number): number {
    // Without an fsync of its own: a busy search stores a batch four times a second, and each fsync
    // queues with the trader's (written before each order) on the same disk. A batch a power cut loses is
    // recomputed on resume (only stored trials are skipped); the next FULL commit or checkpoint makes
    // it durable, and the run row moves in the same transaction, so the two always agree.
    this.db.pragma('synchronous = NORMAL');
    try {
      return this.insertTrials(runId, trials, finishedAt);
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  private insertTrials(runId: number, trials: readonly TrialWire[], finishedAt: number): number {
    return this.db.transaction(() => {
      const run = this.stmts.getRun.get(runId);
      if (!run) return 0;
      let done = 0;
      let failed = 0;
      let bestTrial = run.best_trial;
      let bestScore = run.best_score;
      for (const t of trials) {
        const r = this.stmts.insertTrial.run(
          runId,
          t.id,
          t.status,
          JSON.stringify(t.params),
          t.inSample ? JSON.stringify(t.inSample) : null,
          t.outOfSample ? JSON.stringify(t.outOfSample) : null,
          t.score,
          t.outOfSampleScore,
          t.meetsConstraints ? 1 : 0,
          t.error,
          t.durationMs,
          finishedAt,
          equityBytes(t.equity.inSample),
          equityBytes(t.equity.outOfSample),
        );
        if (r.changes === 0) continue;
        done += 1;
        if (t.status === 'failed') failed += 1;
        if (
          t.meetsConstraints &&
          t.score !== null &&
          (bestScore === null || t.score > bestScore || (t.score === bestScore && t.id < bestTrial!))
        ) {
          bestTrial = t.id;
          bestScore = t.score;
        }
      }
      if (done > 0) this.stmts.counters.run(done, failed, bestTrial, bestScore, runId);
      return done;
    })();
  }

  /** Ids of the run's stored trials, ascending. */
  doneIds(runId: number): number[] {
    return this.stmts.doneIds.all(runId);
  }

  trials(q: TrialQuery): { items: OptimizerTrial[]; total: number } {
    const expr = sortExpression(q.sort, q.sample);
    const where = q.meetsConstraints === undefined ? 'run_id = ?' : 'run_id = ? AND meets = ?';
    const args: unknown[] =
      q.meetsConstraints === undefined ? [q.runId] : [q.runId, q.meetsConstraints ? 1 : 0];
    const dir = q.order === 'asc' ? 'ASC' : 'DESC';
    const rows = this.db
      .prepare(
        `SELECT ${TRIAL_COLUMNS} FROM optimizer_trials WHERE ${where}
         ORDER BY (${expr}) IS NULL, ${expr} ${dir}, trial_id ASC LIMIT ? OFFSET ?`,
      )
      .all(...args, q.limit, q.offset) as TrialRow[];
    const total = this.db
      .prepare(`SELECT count(*) FROM optimizer_trials WHERE ${where}`)
      .pluck()
      .get(...args) as number;
    return { items: rows.map(trialOf), total };
  }

  trial(runId: number, trialId: number): OptimizerTrialDetail | null {
    const row = this.stmts.trial.get(runId, trialId);
    if (!row) return null;
    return {
      ...trialOf(row),
      equity: { inSample: equityPoints(row.equity_in!), outOfSample: equityPoints(row.equity_out!) },
    };
  }
}

const METRIC_KEYS: ReadonlySet<string> = new Set([
  'totalReturn',
  'sharpe',
  'sortino',
  'calmar',
  'maxDrawdown',
  'trades',
  'winRate',
  'exposure',
]);

function sortExpression(sort: TrialSortKey, sample: 'inSample' | 'outOfSample'): string {
  switch (sort) {
    case 'id':
      return 'trial_id';
    case 'score':
      return 'score';
    case 'outOfSampleScore':
      return 'oos_score';
    case 'durationMs':
      return 'duration_ms';
    default:
      // A fixed list of keys: nothing from the request reaches the SQL text.
      if (!METRIC_KEYS.has(sort)) throw new Error(`cannot sort trials by ${String(sort)}`);
      return `json_extract(${sample === 'inSample' ? 'in_sample' : 'out_of_sample'}, '$.${sort}')`;
  }
}

function runOf(r: RunRow): StoredRun {
  return {
    id: r.id,
    createdAt: r.created_at,
    status: r.status as OptimizerRunStatus,
    request: JSON.parse(r.request) as OptimizerRequest,
    strategyVersion: r.strategy_version,
    total: r.total,
    skipped: r.skipped,
    done: r.done,
    failed: r.failed,
    best:
      r.best_trial !== null && r.best_score !== null ? { trialId: r.best_trial, score: r.best_score } : null,
    split: r.split,
    dataTo: r.data_to,
    candles: r.candles,
    gaps: r.gaps === null ? null : (JSON.parse(r.gaps) as CrossedGap[]),
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    error: r.error,
  };
}

function trialOf(r: TrialRow): OptimizerTrial {
  return {
    runId: r.run_id,
    id: r.trial_id,
    params: JSON.parse(r.params) as Record<string, number>,
    status: r.status as OptimizerTrial['status'],
    inSample: r.in_sample === null ? null : (JSON.parse(r.in_sample) as TrialMetrics),
    outOfSample: r.out_of_sample === null ? null : (JSON.parse(r.out_of_sample) as TrialMetrics),
    score: r.score,
    outOfSampleScore: r.oos_score,
    meetsConstraints: r.meets === 1,
    error: r.error,
    durationMs: r.duration_ms,
    finishedAt: r.finished_at,
  };
}
