/**
 * The body of one optimizer worker thread: it takes a run's setup (its candles in shared memory) and
 * then trials, one at a time, and answers each with its outcome or its error. A trial that throws is
 * an error answer (the same parameters would throw again); only a crash of the thread itself is
 * retried, by the pool.
 *
 * Test-only faults, from VIGIL_OPTIMIZER_TEST_FAULTS (comma-separated; never set in use):
 *   crash:<id>          the thread dies on trial <id>, first attempt only (the retry succeeds)
 *   crash-always:<id>   the thread dies on trial <id> every time (the trial ends failed)
 *   slow:<ms>           every trial takes at least <ms> (so a test can act mid-run)
 */
import { setPriority } from 'node:os';
import type { MessagePort } from 'node:worker_threads';
import { getStrategy, type Params, type StrategyCandle, type StrategyDefinition } from '../strategies';
import { runTrial, unpackCandles, type TrialOutcome, type TrialSetup } from './trial';

export const TEST_FAULTS_ENV = 'VIGIL_OPTIMIZER_TEST_FAULTS';

export type ToWorker =
  | { type: 'setup'; runId: number; setup: TrialSetup; candles: SharedArrayBuffer }
  | { type: 'trial'; runId: number; id: number; params: Params; attempt: number };

export type FromWorker =
  | { type: 'result'; runId: number; id: number; outcome: TrialOutcome; durationMs: number }
  | { type: 'error'; runId: number; id: number; message: string; durationMs: number };

export interface WorkerData {
  role: 'optimizer-trials';
  /** The OS priority to run at (Linux: nice is per thread; this thread sets its own). */
  priority: number | null;
}

interface Faults {
  crash: Set<number>;
  crashAlways: Set<number>;
  slowMs: number;
}

export function runTrialWorker(port: MessagePort, data: WorkerData): void {
  if (data.priority !== null) {
    try {
      setPriority(data.priority);
    } catch {
      // Not allowed (raising priority needs privileges): run at the inherited one.
    }
  }
  const faults = parseFaults(process.env[TEST_FAULTS_ENV]);
  let run: {
    runId: number;
    setup: TrialSetup;
    strategy: StrategyDefinition;
    candles: StrategyCandle[];
  } | null = null;
  port.on('message', (m: ToWorker) => {
    if (m.type === 'setup') {
      run = {
        runId: m.runId,
        setup: m.setup,
        strategy: getStrategy(m.setup.strategyId),
        candles: unpackCandles(m.candles),
      };
      return;
    }
    const t0 = performance.now();
    if (faults.crashAlways.has(m.id) || (m.attempt === 1 && faults.crash.has(m.id))) {
      process.exit(70); // ends this thread only, as a crash would
    }
    let reply: FromWorker;
    try {
      if (!run || run.runId !== m.runId) throw new Error(`no setup for run ${m.runId}`);
      const outcome = runTrial(run.strategy, run.setup, run.candles, m.params);
      if (faults.slowMs > 0) sleep(faults.slowMs - (performance.now() - t0));
      reply = { type: 'result', runId: m.runId, id: m.id, outcome, durationMs: performance.now() - t0 };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      reply = { type: 'error', runId: m.runId, id: m.id, message, durationMs: performance.now() - t0 };
    }
    port.postMessage(reply);
  });
}

function parseFaults(spec: string | undefined): Faults {
  const faults: Faults = { crash: new Set(), crashAlways: new Set(), slowMs: 0 };
  for (const part of (spec ?? '').split(',')) {
    const [kind, value] = part.trim().split(':');
    const n = Number(value);
    if (!Number.isFinite(n)) continue;
    if (kind === 'crash') faults.crash.add(n);
    else if (kind === 'crash-always') faults.crashAlways.add(n);
    else if (kind === 'slow') faults.slowMs = n;
  }
  return faults;
}

function sleep(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
