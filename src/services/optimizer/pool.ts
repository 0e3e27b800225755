/**
 * The optimizer's pool of worker threads. One run at a time: its setup (and candles, shared) goes to
 * every thread, then trials are handed out one per idle thread, in id order, until none are left.
 *
 * - A thread that dies (crash, exit, uncaught error) is replaced; the trial it held is retried once on
 *   a fresh thread, then reported failed with the reason. Threads that keep dying without a trial in
 *   hand (they cannot even start) fail the run instead of respawning forever.
 * - cancel() stops handing out trials, drops the results still in flight (their threads are
 *   terminated and replaced, so a long trial does not hold up the next run).
 * - pause() stops handing out trials; the ones in flight finish. resume() goes on.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { Params } from '../strategies/strategy';
import type { TrialOutcome, TrialSetup } from './trial';
import type { FromWorker, ToWorker, WorkerData } from './trial-worker';

/** How to start a thread: a script (the bundled program itself), or a bootstrap evaluated in it. */
export interface WorkerEntry {
  file: string | URL;
  options: WorkerOptions;
}

export interface PoolJob {
  runId: number;
  setup: TrialSetup;
  candles: SharedArrayBuffer;
  /** The trials to compute, in the order to hand them out. */
  trials: { id: number; params: Params }[];
}

export interface PoolListener {
  result(runId: number, id: number, outcome: TrialOutcome, durationMs: number): void;
  failed(runId: number, id: number, params: Params, error: string, durationMs: number): void;
  /** Every trial of the run was reported. */
  finished(runId: number): void;
  /** The threads cannot run (the pool is done for): the run, if any, cannot go on. */
  broken(runId: number | null, error: string): void;
}

interface Task {
  id: number;
  params: Params;
  attempt: number;
  startedAt: number;
}

interface Slot {
  worker: Worker;
  /** The run whose setup this thread has. */
  setupFor: number | null;
  task: Task | null;
}

/** A trial whose thread died this many times is failed, not retried again. */
export const MAX_ATTEMPTS = 2;
/** Threads dying with no trial in hand, in a row, before the run is given up. */
const MAX_IDLE_DEATHS = 3;

export class TrialPool {
  private readonly slots: Slot[] = [];
  private job: PoolJob | null = null;
  private queue: Task[] = [];
  private paused = false;
  private closed = false;
  private idleDeaths = 0;
  /** Why the pool cannot run, once its threads keep dying at start. */
  broken: string | null = null;
  /** Trials computed and reported since the pool started (retries count once each). */
  computed = 0;

  constructor(
    readonly size: number,
    private readonly entry: WorkerEntry,
    private readonly listener: PoolListener,
    private readonly priority: number | null = null,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  get runId(): number | null {
    return this.job?.runId ?? null;
  }

  get busy(): number {
    return this.slots.filter((s) => s.task !== null).length;
  }

  get queued(): number {
    return this.queue.length;
  }

  run(job: PoolJob): void {
    if (this.broken) throw new Error(this.broken);
    if (this.job) throw new Error(`the pool is busy with run ${this.job.runId}`);
    this.job = job;
    this.queue = job.trials.map((t) => ({ id: t.id, params: t.params, attempt: 1, startedAt: 0 }));
    this.fill();
  }

  /** Drops the run: nothing more is handed out, and what is in flight is abandoned. */
  cancel(): void {
    this.job = null;
    this.queue = [];
    for (const slot of this.slots) {
      if (!slot.task) continue;
      const old = slot.worker;
      this.spawn(slot);
      void old.terminate();
    }
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.fill();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.job = null;
    this.queue = [];
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  /** A fresh thread in `slot` (a new slot when none is given). */
  private spawn(slot: Slot = { worker: null as unknown as Worker, setupFor: null, task: null }): Slot {
    const data: WorkerData = { role: 'optimizer-trials', priority: this.priority };
    const worker = new Worker(this.entry.file, { ...this.entry.options, workerData: data });
    slot.worker = worker;
    slot.setupFor = null;
    slot.task = null;
    worker.on('message', (m: FromWorker) => this.onMessage(slot, worker, m));
    worker.on('error', (error) => this.onDeath(slot, worker, error.message));
    worker.on('exit', (code) => this.onDeath(slot, worker, `the worker thread exited with code ${code}`));
    return slot;
  }

  private fill(): void {
    for (const slot of this.slots) if (!slot.task) this.dispatch(slot);
  }

  private dispatch(slot: Slot): void {
    const job = this.job;
    if (!job || this.closed) return;
    if (this.queue.length === 0) {
      if (this.slots.every((s) => s.task === null)) {
        this.job = null;
        this.listener.finished(job.runId);
      }
      return;
    }
    if (this.paused) return;
    const task = this.queue.shift()!;
    task.startedAt = performance.now();
    if (slot.setupFor !== job.runId) {
      this.post(slot, { type: 'setup', runId: job.runId, setup: job.setup, candles: job.candles });
      slot.setupFor = job.runId;
    }
    slot.task = task;
    this.post(slot, {
      type: 'trial',
      runId: job.runId,
      id: task.id,
      params: task.params,
      attempt: task.attempt,
    });
  }

  private post(slot: Slot, message: ToWorker): void {
    slot.worker.postMessage(message);
  }

  private onMessage(slot: Slot, worker: Worker, m: FromWorker): void {
    if (slot.worker !== worker) return; // a terminated thread's late answer
    const task = slot.task;
    slot.task = null;
    this.idleDeaths = 0;
    const job = this.job;
    if (job && task && m.runId === job.runId && m.id === task.id) {
      this.computed += 1;
      if (m.type === 'result') this.listener.result(job.runId, m.id, m.outcome, m.durationMs);
      else this.listener.failed(job.runId, m.id, task.params, m.message, m.durationMs);
    }
    this.dispatch(slot);
  }

  private onDeath(slot: Slot, worker: Worker, why: string): void {
    if (slot.worker !== worker || this.closed || this.broken) return; // replaced already ('exit' follows 'error')
    const task = slot.task;
    const job = this.job;
    if (!task && ++this.idleDeaths >= MAX_IDLE_DEATHS) {
      // Threads that cannot even start: respawning would only spin.
      this.broken = `the worker threads keep dying before any trial: ${why}`;
      if (job) this.cancel();
      this.listener.broken(job?.runId ?? null, this.broken);
      return;
    }
    this.spawn(slot);
    if (task && job) {
      if (task.attempt < MAX_ATTEMPTS) {
        this.queue.unshift({ ...task, attempt: task.attempt + 1 });
      } else {
        this.computed += 1;
        this.listener.failed(
          job.runId,
          task.id,
          task.params,
          `the worker thread died on this trial ${MAX_ATTEMPTS} times (last: ${why})`,
          performance.now() - task.startedAt,
        );
      }
    }
    this.dispatch(slot);
  }
}

/**
 * The thread entry from source (tests, benches): the program's index.ts through tsx's loader,
 * registered in the thread itself. Built, the program's own bundled file is the entry (index.ts).
 */
export function sourceWorkerEntry(): WorkerEntry {
  const index = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'index.ts')).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  return {
    file: `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(index)}); });`,
    options: { eval: true },
  };
}
