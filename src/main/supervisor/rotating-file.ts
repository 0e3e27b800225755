/**
 * An append-only file that rotates by size (`f` → `f.1` … `f.N`, oldest dropped) and never makes its
 * caller wait or throw: `write` queues the entry and returns at once; one background loop writes the
 * queue in batches. When the queue is over its byte budget, or the disk refused the last write, new
 * entries are refused (the caller counts them); a failed batch is reported as lost entries.
 *
 * The file is closed before it is renamed, so rotation also works where open files cannot be renamed
 * (Windows); entries queued meanwhile wait in memory, inside the byte budget.
 */
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface RotatingFileOptions {
  /** Rotate before a write would take the file past this size (a single larger entry still goes in whole). */
  maxFileBytes?: number;
  /** Rotated copies kept: `f.1` (newest) … `f.maxFiles`. 0 keeps none. */
  maxFiles?: number;
  /** Queued bytes beyond which `write` refuses entries. */
  maxPendingBytes?: number;
  /** After a failed write, refuse entries for this long, then try the file again. */
  retryAfterMs?: number;
  /** Called once per failure with the number of queued entries it lost. */
  onFailure?: (error: Error, lostEntries: number) => void;
  now?: () => number;
}

export const MiB = 1024 * 1024;
/** One write call carries at most this much, so a huge backlog does not become one huge buffer. */
const BATCH_BYTES = 1 * MiB;

export class RotatingFile {
  readonly path: string;
  private readonly maxFileBytes: number;
  private readonly maxFiles: number;
  private readonly maxPendingBytes: number;
  private readonly retryAfterMs: number;
  private readonly onFailure: (error: Error, lostEntries: number) => void;
  private readonly now: () => number;

  private queue: string[] = [];
  private sizes: number[] = [];
  private head = 0;
  private queuedBytes = 0;
  private handle: FileHandle | null = null;
  private fileBytes = 0;
  private written = 0;
  private failedAt: number | null = null;
  private lastError: Error | null = null;
  private loop: Promise<void> | null = null;
  /** Entries accepted, and entries since written or lost: flush() waits for the second to catch up. */
  private accepted = 0;
  private settled = 0;
  private flushWaiters: { upTo: number; resolve: () => void }[] = [];
  private closing: Promise<void> | null = null;

  constructor(path: string, opts: RotatingFileOptions = {}) {
    this.path = path;
    this.maxFileBytes = opts.maxFileBytes ?? 20 * MiB;
    this.maxFiles = opts.maxFiles ?? 5;
    this.maxPendingBytes = opts.maxPendingBytes ?? 8 * MiB;
    this.retryAfterMs = opts.retryAfterMs ?? 5_000;
    this.onFailure = opts.onFailure ?? (() => undefined);
    this.now = opts.now ?? Date.now;
  }

  /** Bytes queued and not yet on disk. */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  /** Bytes this instance has written to disk, across rotations. */
  get bytesWritten(): number {
    return this.written;
  }

  /** The error that currently makes `write` refuse entries, or null. */
  get failure(): Error | null {
    if (this.failedAt !== null && this.now() - this.failedAt >= this.retryAfterMs) this.failedAt = null;
    return this.failedAt === null ? null : this.lastError;
  }

  /** Whether `write` would take an entry of this many bytes now. */
  wouldAccept(bytes: number): boolean {
    return !this.closing && !this.failure && this.queuedBytes + bytes <= this.maxPendingBytes;
  }

  /** Queues one entry; false when it was refused (closed, failing, or over the byte budget). */
  write(entry: string): boolean {
    const bytes = Buffer.byteLength(entry, 'utf8');
    if (!this.wouldAccept(bytes)) return false;
    // Kept as strings: one encode per batch instead of one buffer per line keeps a flood cheap.
    this.queue.push(entry);
    this.sizes.push(bytes);
    this.queuedBytes += bytes;
    this.accepted += 1;
    this.kick();
    return true;
  }

  /** Resolves once every entry accepted so far is written (or lost to a failure); never rejects. */
  flush(): Promise<void> {
    if (this.settled >= this.accepted) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push({ upTo: this.accepted, resolve }));
  }

  /** Writes what is queued, syncs and closes the file; never rejects. Later writes are refused. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.loop) await this.loop;
      const handle = this.handle;
      this.handle = null;
      if (!handle) return;
      try {
        await handle.datasync();
      } catch {
        // Some filesystems (network, FUSE) cannot sync; the data was still handed to the OS.
      }
      await handle.close().catch(() => undefined);
    })();
    return this.closing;
  }

  private kick(): void {
    if (this.loop) return;
    this.loop = this.drain().finally(() => {
      this.loop = null;
      // An entry queued between the loop's last check and now must not wait for the next write.
      if (this.head < this.queue.length && !this.failedAt) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.head < this.queue.length) {
      let batch: string[] = [];
      try {
        if (!this.handle) await this.openFile();
        batch = this.takeBatch();
        if (batch.length === 0) {
          await this.rotate();
          continue;
        }
        const data = Buffer.from(batch.join(''), 'utf8');
        await this.writeAll(data);
        this.fileBytes += data.length;
        this.written += data.length;
        this.queuedBytes -= data.length;
        this.settle(batch.length);
      } catch (error) {
        this.fail(error as Error, batch);
        return;
      }
    }
    this.queue = [];
    this.sizes = [];
    this.head = 0;
  }

  /** Takes queued entries up to the batch size, stopping where the file would pass its size limit. */
  private takeBatch(): string[] {
    const first = this.head;
    let bytes = 0;
    while (this.head < this.queue.length) {
      const size = this.sizes[this.head]!;
      const fileFull = this.fileBytes + bytes + size > this.maxFileBytes;
      // An empty file takes the entry even if it alone is over the limit: it cannot be made smaller.
      if (fileFull && this.fileBytes + bytes > 0) break;
      if (bytes > 0 && bytes + size > BATCH_BYTES) break;
      bytes += size;
      this.head += 1;
      if (fileFull) break;
    }
    const batch = this.queue.slice(first, this.head);
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  private async openFile(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const handle = await open(this.path, 'a');
    try {
      this.fileBytes = (await handle.stat()).size;
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    this.handle = handle;
  }

  private async writeAll(data: Buffer): Promise<void> {
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await this.handle!.write(data, offset, data.length - offset);
      offset += bytesWritten;
    }
  }

  private async rotate(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
    if (this.maxFiles === 0) {
      await unlink(this.path).catch(ignoreMissing);
    } else {
      for (let i = this.maxFiles - 1; i >= 1; i--) {
        await rename(`${this.path}.${i}`, `${this.path}.${i + 1}`).catch(ignoreMissing);
      }
      // Missing means someone deleted the log under us: there is nothing to keep, just start afresh.
      await rename(this.path, `${this.path}.1`).catch(ignoreMissing);
    }
    await this.openFile();
  }

  private fail(error: Error, inFlight: string[]): void {
    const lost = inFlight.length + (this.queue.length - this.head);
    this.queue = [];
    this.sizes = [];
    this.head = 0;
    this.queuedBytes = 0;
    this.failedAt = this.now();
    this.lastError = error;
    const handle = this.handle;
    this.handle = null;
    // Reopened on the next accepted write: the failure may have been the file itself (deleted, full).
    void handle?.close().catch(() => undefined);
    this.onFailure(error, lost);
    this.settle(lost);
  }

  private settle(entries: number): void {
    this.settled += entries;
    if (this.flushWaiters.length === 0) return;
    const waiting = this.flushWaiters;
    this.flushWaiters = [];
    for (const waiter of waiting) {
      if (waiter.upTo <= this.settled) waiter.resolve();
      else this.flushWaiters.push(waiter);
    }
  }
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
