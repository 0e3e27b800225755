/**
 * control.db's schema, as numbered migrations in code. Each runs in its own transaction together with
 * the `PRAGMA user_version` bump, so a crash leaves the file at the previous version or the next one,
 * never in between. A file newer than this code is refused before anything is touched.
 */
import type { Database } from 'better-sqlite3';
import {
  applyMigrations as apply,
  refuseNewer as refuse,
  schemaVersion,
  type Migration,
} from '../../services/sqlite/migrations';
import { storeErrors } from './store-error';

export { schemaVersion, type Migration };

/*
 * Notes on the layout (sizes and timings in the bench, bench/store.bench.ts):
 * - Timestamps: events and alerts in epoch ms; metric history in epoch seconds (smaller integers).
 * - samples_raw is keyed (at, series_id), time first: every 1 s flush appends to the end of one
 *   b-tree (~36 KB of WAL per flush of 250 series) instead of touching one leaf page per series
 *   (~1.4 MB of WAL, 4 ms p50 and 34 ms checkpoints, measured). Raw is read only in short windows
 *   (by point lookups per second), rolled up minute by minute and pruned from the front, which all
 *   follow time.
 * - The rollups are keyed (series_id, at): written once a minute or an hour, read as one series
 *   over long ranges, which that order makes contiguous.
 * - STRICT tables: a wrong type is an error at the write, not a surprise at a read years later.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    up(db) {
      db.exec(`
        CREATE TABLE meta (key TEXT PRIMARY KEY, value ANY) STRICT, WITHOUT ROWID;

        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT, WITHOUT ROWID;

        CREATE TABLE services (
          name TEXT PRIMARY KEY,
          position INTEGER NOT NULL,
          definition TEXT NOT NULL,
          updated_at INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE events (
          id INTEGER PRIMARY KEY,
          at INTEGER NOT NULL,
          service TEXT NOT NULL,
          from_state TEXT NOT NULL,
          to_state TEXT NOT NULL,
          health TEXT,
          reason TEXT NOT NULL,
          exit_code INTEGER,
          exit_signal TEXT,
          restarts INTEGER NOT NULL,
          next_restart_at INTEGER
        ) STRICT;
        CREATE INDEX events_by_service ON events (service, at);
        CREATE INDEX events_by_time ON events (at);

        CREATE TABLE alerts (
          id INTEGER PRIMARY KEY,
          at INTEGER NOT NULL,
          service TEXT NOT NULL,
          kind TEXT NOT NULL,
          severity TEXT NOT NULL,
          message TEXT NOT NULL,
          acknowledged_at INTEGER,
          cleared_at INTEGER
        ) STRICT;
        CREATE INDEX alerts_by_service ON alerts (service, at);
        CREATE INDEX alerts_by_time ON alerts (at);

        CREATE TABLE series (
          id INTEGER PRIMARY KEY,
          service TEXT NOT NULL,
          metric TEXT NOT NULL,
          UNIQUE (service, metric)
        ) STRICT;

        CREATE TABLE samples_raw (
          series_id INTEGER NOT NULL,
          at INTEGER NOT NULL,
          value REAL NOT NULL,
          PRIMARY KEY (at, series_id)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE samples_1m (
          series_id INTEGER NOT NULL,
          at INTEGER NOT NULL,
          min REAL NOT NULL,
          avg REAL NOT NULL,
          max REAL NOT NULL,
          count INTEGER NOT NULL,
          PRIMARY KEY (series_id, at)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE samples_1h (
          series_id INTEGER NOT NULL,
          at INTEGER NOT NULL,
          min REAL NOT NULL,
          avg REAL NOT NULL,
          max REAL NOT NULL,
          count INTEGER NOT NULL,
          PRIMARY KEY (series_id, at)
        ) STRICT, WITHOUT ROWID;
      `);
    },
  },
  {
    version: 2,
    name: 'index of open alerts',
    up(db) {
      // clearAlerts(service, kind) looks only at uncleared rows: a small partial index.
      db.exec('CREATE INDEX alerts_open ON alerts (service, kind) WHERE cleared_at IS NULL');
    },
  },
  {
    version: 3,
    name: 'optimizer runs and trials',
    up(db) {
      // A run's request, strategy version and data snapshot (split, data end, candles, gaps crossed)
      // never change once written: triggers refuse it, so an old result never shows with new inputs.
      // Equity curves are Float64 [at, equity] pairs (≤ 100 points each): ~3 kB per trial.
      db.exec(`
        CREATE TABLE optimizer_runs (
          id INTEGER PRIMARY KEY,
          created_at INTEGER NOT NULL,
          status TEXT NOT NULL,
          request TEXT NOT NULL,
          strategy TEXT NOT NULL,
          strategy_version INTEGER NOT NULL,
          total INTEGER NOT NULL,
          skipped INTEGER NOT NULL,
          done INTEGER NOT NULL DEFAULT 0,
          failed INTEGER NOT NULL DEFAULT 0,
          best_trial INTEGER,
          best_score REAL,
          split INTEGER,
          data_to INTEGER,
          candles INTEGER,
          gaps TEXT,
          started_at INTEGER,
          finished_at INTEGER,
          error TEXT
        ) STRICT;
        CREATE INDEX optimizer_runs_unfinished ON optimizer_runs (status) WHERE status IN ('queued', 'running');

        CREATE TRIGGER optimizer_runs_request_immutable
          BEFORE UPDATE OF request, strategy, strategy_version, total, skipped ON optimizer_runs
          BEGIN SELECT RAISE(ABORT, 'an optimizer run''s request and strategy version never change'); END;
        CREATE TRIGGER optimizer_runs_snapshot_immutable
          BEFORE UPDATE OF split, data_to, candles, gaps ON optimizer_runs
          WHEN OLD.split IS NOT NULL
          BEGIN SELECT RAISE(ABORT, 'an optimizer run''s data snapshot never changes'); END;

        CREATE TABLE optimizer_trials (
          run_id INTEGER NOT NULL REFERENCES optimizer_runs (id) ON DELETE CASCADE,
          trial_id INTEGER NOT NULL,
          status TEXT NOT NULL,
          params TEXT NOT NULL,
          in_sample TEXT,
          out_of_sample TEXT,
          score REAL,
          oos_score REAL,
          meets INTEGER NOT NULL,
          error TEXT,
          duration_ms REAL NOT NULL,
          finished_at INTEGER NOT NULL,
          equity_in BLOB NOT NULL,
          equity_out BLOB NOT NULL,
          PRIMARY KEY (run_id, trial_id)
        ) STRICT;
        CREATE INDEX optimizer_trials_by_score ON optimizer_trials (run_id, score);
      `);
    },
  },
];

export const SCHEMA_VERSION = migrations.at(-1)!.version;

/** Throws StoreError('newer-version') when the file was written by a newer Vigil; reads only. */
export function refuseNewer(db: Database, file: string, list: readonly Migration[] = migrations): number {
  return refuse(db, file, list, storeErrors);
}

/** Brings the file up to the last migration in `list`, one transaction per migration. */
export function applyMigrations(
  db: Database,
  file: string,
  list: readonly Migration[] = migrations,
): { from: number; to: number } {
  return apply(db, file, list, storeErrors);
}
