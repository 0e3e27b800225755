/**
 * The disk's own sync latency, as a baseline for figures that include one (the trader writes each
 * order to its database, synced, before sending it): a row committed ten times a second to a file of
 * its own, WAL with synchronous=FULL like trader.db, each commit timed. Nothing else touches the file.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';

export class DiskProbe {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<[number, string]>;
  private samples: number[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(dir: string, everyMs = 100) {
    this.db = new Database(join(dir, 'disk-probe.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec('CREATE TABLE IF NOT EXISTS probe (at INTEGER NOT NULL, payload TEXT NOT NULL)');
    this.insert = this.db.prepare('INSERT INTO probe (at, payload) VALUES (?, ?)');
    // About an order row's size.
    const payload = 'x'.repeat(300);
    this.timer = setInterval(() => {
      const t = performance.now();
      this.insert.run(Date.now(), payload);
      this.samples.push(performance.now() - t);
    }, everyMs);
  }

  /** The commits timed since the last call, in ms. */
  take(): number[] {
    const out = this.samples;
    this.samples = [];
    return out;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.db.close();
  }
}

/** The p-th percentile (0–100) of `xs` (nearest rank); NaN for none. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
