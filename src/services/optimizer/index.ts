/**
 * optimizer: parameter searches over recorded candles (src/services/optimizer/optimizer-child.ts).
 * This one file is both the program and its worker threads' script: the main thread runs the
 * program, each worker thread the trial loop (trial-worker.ts), so the build needs no extra entry.
 */
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { runOptimizerChild } from './optimizer-child';
import { sourceWorkerEntry } from './pool';
import { runTrialWorker, type WorkerData } from './trial-worker';

if (isMainThread) {
  const self = fileURLToPath(import.meta.url);
  runOptimizerChild(self.endsWith('.ts') ? sourceWorkerEntry() : { file: self, options: {} });
} else {
  runTrialWorker(parentPort!, workerData as WorkerData);
}
