/**
 * The core's side of the market read thread. Reading `market/<venue>.db` takes tens of milliseconds
 * for a week of series (better-sqlite3 is synchronous), which on the core's thread (Electron's main
 * process) would hold up IPC and every other command meanwhile. So one worker thread, started at the
 * first read and kept for the next, opens the files read-only and answers by message; requests carry
 * ids, and a failure comes back as the same ApiError the read threw. Closing answers every read still
 * in flight with an error and ends the thread.
 */
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { ApiError } from '../../shared/errors';
import {
  fromFailure,
  type MarketReadKind,
  type MarketReadReply,
  type MarketReadRequest,
  type MarketReads,
  type MarketReadWorkerData,
} from './market-read-protocol';

/** How to start the thread: a script file, or (from source) a bootstrap evaluated in the thread. */
export interface WorkerEntry {
  file: string;
  options: WorkerOptions;
}

interface Pending {
  kind: MarketReadKind;
  resolve: (result: never) => void;
  reject: (error: Error) => void;
}

export class MarketReadThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly files: MarketReadWorkerData,
    private readonly entry: WorkerEntry = workerEntry(),
  ) {}

  read<K extends MarketReadKind>(kind: K, query: MarketReads[K]['query']): Promise<MarketReads[K]['result']> {
    if (this.closing) return Promise.reject(closingError(kind));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<MarketReads[K]['result']>((resolve, reject) => {
      this.pending.set(id, { kind, resolve: resolve as Pending['resolve'], reject });
      // A read in flight keeps the process alive; an idle thread does not.
      worker.ref();
      worker.postMessage({ id, kind, query } as MarketReadRequest);
    });
  }

  /** The running thread's id, or null when none runs (none started yet, or closed). */
  get threadId(): number | null {
    return this.worker?.threadId ?? null;
  }

  /** Answers the reads in flight with an error, then ends the thread (resolves once it has exited). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.failAll(closingError);
      const worker = this.worker;
      this.worker = null;
      if (worker) await worker.terminate();
    })();
    return this.closing;
  }

  private start(): Worker {
    const worker = new Worker(this.entry.file, { ...this.entry.options, workerData: this.files });
    worker.unref();
    worker.on('message', (reply: MarketReadReply) => this.onReply(worker, reply));
    worker.on('error', (error) => this.onFailure(worker, error.message));
    worker.on('exit', (code) => this.onFailure(worker, `it exited with code ${code}`));
    this.worker = worker;
    return worker;
  }

  private onReply(worker: Worker, reply: MarketReadReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) worker.unref();
    if (reply.ok) pending.resolve(reply.result as never);
    else pending.reject(fromFailure(reply.error));
  }

  /** The thread died (a crash, a missing script): its reads fail as internal errors; the next read starts anew. */
  private onFailure(worker: Worker, why: string): void {
    if (this.worker !== worker) return; // closed, or already reported ('exit' follows 'error')
    this.worker = null;
    // The router names the command ("market.gaps failed: …") and logs it.
    this.failAll(() => new Error(`the market read thread failed: ${why}`));
  }

  private failAll(error: (kind: MarketReadKind) => Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(error(p.kind));
  }
}

function closingError(kind: MarketReadKind): ApiError {
  return new ApiError('unavailable', `market.${kind} was not answered: Vigil is shutting down`);
}

/**
 * Where the thread's script is. Built, the bundle's entries sit in out/main/ (inside app.asar when
 * packaged) and their shared code in out/main/chunks/, so the worker entry is next to one or the
 * other. From source (tests, benches) the TypeScript worker runs through tsx's loader, registered in
 * the thread itself.
 */
export function workerEntry(moduleUrl: string = import.meta.url): WorkerEntry {
  const here = fileURLToPath(moduleUrl);
  if (here.endsWith('.ts')) {
    const worker = pathToFileURL(join(dirname(here), 'market-read-worker.ts')).href;
    const tsx = import.meta.resolve('tsx/esm/api');
    return {
      file: `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(worker)}); });`,
      options: { eval: true },
    };
  }
  const dir = dirname(here);
  return {
    file: join(basename(dir) === 'chunks' ? dirname(dir) : dir, 'market-read-worker.js'),
    options: {},
  };
}
