/**
 * control.db as one object: configuration, the history writer, the history queries, and the
 * background upkeep that keeps the file and its WAL bounded. Everything runs on the main thread in
 * calls of a few milliseconds: a history flush every second, a rollup step every few seconds (more
 * often while there is a backlog), each followed by a PASSIVE checkpoint so the WAL never holds more
 * than a few seconds of writes.
 */
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { ConfigRepository } from './config-repository';
import { openControlDb } from './database';
import { HistoryQueries } from './history-queries';
import { HistoryWriter } from './history-writer';
import { OptimizerRepository } from './optimizer-repository';
import { electronNativeBinding } from '../../services/sqlite/native-binding';
import { DEFAULT_RETENTION, Rollups, type Retention, type RollupStep } from './rollups';
import { toStoreError, type StoreError } from './store-error';

export const CONTROL_DB_FILE = 'control.db';

export interface ControlStoreOptions {
  /** Default: the Electron build when running in Electron (native-binding.ts), else the package's. */
  nativeBinding?: string;
  retention?: Partial<Retention>;
  flushIntervalMs?: number;
  /** Rollup step + checkpoint period; 0: no timers, the owner calls maintain() (tests, bench). */
  maintenanceIntervalMs?: number;
  /** Period while rollups report a backlog: 5 ms of work every 100 ms is 5 % of the main thread. */
  backlogIntervalMs?: number;
  maintenanceBudgetMs?: number;
  now?: () => number;
  /** Background failures (flush, rollup, checkpoint): reported here, never thrown. */
  onError?: (error: StoreError) => void;
  /** Invalid configuration rows. */
  warn?: (message: string) => void;
}

export interface CheckpointResult {
  ms: number;
  /** Frames in the WAL and frames copied into the database; equal when the checkpoint completed. */
  walFrames: number;
  checkpointed: number;
}

export class ControlStore {
  readonly config: ConfigRepository;
  readonly history: HistoryWriter;
  readonly queries: HistoryQueries;
  readonly rollups: Rollups;
  readonly optimizer: OptimizerRepository;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pendingCheckpoint: ReturnType<typeof setImmediate> | null = null;
  private closed = false;
  private readonly onError: (error: StoreError) => void;
  /** Background failures already reported, by source: each is reported once until it recovers. */
  private readonly failing = new Set<'rollups' | 'checkpoint'>();

  private constructor(
    readonly file: string,
    readonly db: Database,
    private readonly opts: ControlStoreOptions,
  ) {
    const now = opts.now ?? Date.now;
    const retention = { ...DEFAULT_RETENTION, ...opts.retention };
    this.onError = opts.onError ?? ((e) => console.error(e.message));
    this.config = new ConfigRepository(db, { now, ...(opts.warn ? { warn: opts.warn } : {}) });
    this.history = new HistoryWriter(db, {
      now,
      onError: this.onError,
      ...(opts.flushIntervalMs !== undefined ? { flushIntervalMs: opts.flushIntervalMs } : {}),
    });
    this.queries = new HistoryQueries(db, { retention, now });
    this.rollups = new Rollups(db, retention, now);
    this.optimizer = new OptimizerRepository(db);
  }

  /** Opens `<dataDir>/control.db`; throws StoreError (corrupt, locked, newer-version, unreadable). */
  static open(dataDir: string, opts: ControlStoreOptions = {}): ControlStore {
    const file = join(dataDir, CONTROL_DB_FILE);
    const nativeBinding = opts.nativeBinding ?? electronNativeBinding();
    const db = openControlDb(file, nativeBinding ? { nativeBinding } : {});
    let store: ControlStore;
    try {
      // The store checkpoints itself, in small steps; SQLite's automatic one would land, whole, inside
      // whichever commit crosses 1,000 pages.
      db.pragma('wal_autocheckpoint = 0');
      store = new ControlStore(file, db, opts);
    } catch (error) {
      db.close();
      throw toStoreError(error, file);
    }
    store.schedule(opts.maintenanceIntervalMs ?? 2000);
    return store;
  }

  /** A settings change: what the rollups keep and what the queries expect to find. */
  setRetention(retention: Partial<Retention>): void {
    const full = { ...DEFAULT_RETENTION, ...retention };
    this.rollups.setRetention(full);
    this.queries.setRetention(full);
  }

  /** One round of upkeep: a rollup step, then a checkpoint. The timers call this in two halves. */
  maintain(budgetMs = this.opts.maintenanceBudgetMs ?? 5): {
    rollup: RollupStep | null;
    checkpoint: CheckpointResult | null;
  } {
    return { rollup: this.stepRollups(budgetMs), checkpoint: this.checkpoint() };
  }

  /** PASSIVE: copies what it can without waiting for anyone; never blocks a writer. */
  checkpoint(): CheckpointResult | null {
    const t0 = performance.now();
    try {
      const [r] = this.db.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
      this.failing.delete('checkpoint');
      return { ms: performance.now() - t0, walFrames: r?.log ?? 0, checkpointed: r?.checkpointed ?? 0 };
    } catch (error) {
      this.report('checkpoint', toStoreError(error, this.file, 'checkpointing the WAL'));
      return null;
    }
  }

  /** Writes what is queued, and closes the file. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.pendingCheckpoint) clearImmediate(this.pendingCheckpoint);
    this.history.close();
    this.db.close(); // the last connection checkpoints the WAL and removes it
  }

  private stepRollups(budgetMs: number): RollupStep | null {
    try {
      const step = this.rollups.step(budgetMs);
      this.failing.delete('rollups');
      return step;
    } catch (error) {
      this.report('rollups', toStoreError(error, this.file, 'rolling up metric history'));
      return null;
    }
  }

  private report(source: 'rollups' | 'checkpoint', error: StoreError): void {
    if (this.failing.has(source)) return;
    this.failing.add(source);
    this.onError(error);
  }

  private schedule(intervalMs: number): void {
    if (intervalMs <= 0) return;
    const backlogMs = this.opts.backlogIntervalMs ?? 100;
    const budgetMs = this.opts.maintenanceBudgetMs ?? 5;
    const tick = () => {
      this.timer = null;
      if (this.closed) return;
      const step = this.stepRollups(budgetMs);
      // The checkpoint after other work has had its turn: two short calls, not one long one.
      this.pendingCheckpoint = setImmediate(() => {
        this.pendingCheckpoint = null;
        if (!this.closed) this.checkpoint();
      });
      this.pendingCheckpoint.unref();
      this.timer = setTimeout(tick, step?.more ? backlogMs : intervalMs);
      this.timer.unref();
    };
    this.timer = setTimeout(tick, intervalMs);
    this.timer.unref();
  }
}
