/**
 * Answers "is there still room on this disk?" without ever waiting for the disk: the answer is the
 * last measurement, and a stale one starts a new `statfs` in the background (at most one per
 * interval). Until the first measurement, and when the disk cannot be measured, the answer is yes:
 * a write that then fails is caught and counted by the writer.
 */
import { statfs } from 'node:fs';

export interface FreeSpaceOptions {
  /** Below this many bytes available to us, `enough()` says no. */
  minFreeBytes: number;
  intervalMs?: number;
  now?: () => number;
}

export class FreeSpaceCheck {
  private readonly dir: string;
  private readonly minFreeBytes: number;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private checkedAt = -Infinity;
  private measuring = false;
  private freeBytes: number | null = null;

  constructor(dir: string, opts: FreeSpaceOptions) {
    this.dir = dir;
    this.minFreeBytes = opts.minFreeBytes;
    this.intervalMs = opts.intervalMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Bytes available at the last measurement, or null if none succeeded yet. */
  get lastFreeBytes(): number | null {
    return this.freeBytes;
  }

  enough(): boolean {
    this.refreshIfStale();
    return this.freeBytes === null || this.freeBytes >= this.minFreeBytes;
  }

  private refreshIfStale(): void {
    if (this.measuring || this.now() - this.checkedAt < this.intervalMs) return;
    this.measuring = true;
    this.checkedAt = this.now();
    statfs(this.dir, (error, stats) => {
      this.measuring = false;
      // bavail, not bfree: blocks reserved for root are not ours to fill.
      this.freeBytes = error ? null : stats.bavail * stats.bsize;
    });
  }
}
