/** The store's own bookkeeping (the `meta` table): first-run marker and the rollup cursors. */
import type { Database, Statement } from 'better-sqlite3';

export const META = {
  /** Set with the first services row ever written: the store is no longer fresh. */
  servicesWritten: 'services.written',
  /** Epoch s: every raw sample before this is in samples_1m. */
  minuteRolledTo: 'rollup.minute.to',
  /** Epoch s: every minute row before this is in samples_1h. */
  hourRolledTo: 'rollup.hour.to',
  /** Within the hour being rolled: the last series id done (hours are rolled a slice of series at a time). */
  hourSeriesDone: 'rollup.hour.series',
} as const;

export class MetaTable {
  private readonly getStmt: Statement<[string], number | string | null>;
  private readonly setStmt: Statement<[string, number | string]>;

  constructor(db: Database) {
    this.getStmt = db
      .prepare<[string], number | string | null>('SELECT value FROM meta WHERE key = ?')
      .pluck();
    this.setStmt = db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
  }

  number(key: string): number | null {
    const v = this.getStmt.get(key);
    return typeof v === 'number' ? v : null;
  }

  has(key: string): boolean {
    return this.getStmt.get(key) !== undefined;
  }

  set(key: string, value: number | string): void {
    this.setStmt.run(key, value);
  }
}
