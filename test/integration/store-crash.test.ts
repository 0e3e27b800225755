/**
 * Nothing acknowledged is lost on a crash: a real process writes history through the store, says
 * "acked N" after each flush, and is SIGKILLed at a random moment, three times over on the same file.
 * After each kill the file opens, passes a full integrity check, and holds every acknowledged batch.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openControlDb } from '../../src/main/store/database';
import { tempDir } from '../helpers/temp-dir';

const child = resolve(import.meta.dirname, '../fixtures/store/history-writer-child.ts');
const SERIES = 40;
const SECONDS = 25;

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir('vigil-store-crash-');
});
afterEach(() => dir.remove());

/** Runs the writer until it has acknowledged `minAcks` more batches plus a random pause, then SIGKILLs it. */
async function runAndKill(epoch: number, minAcks: number): Promise<{ first: number; acked: number[] }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, dir.path, String(epoch)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let buffer = '';
  let first = 0;
  const acked: number[] = [];
  let acks = 0;
  const exited = new Promise<void>((r) => proc.on('exit', () => r()));
  await new Promise<void>((resolveKill, reject) => {
    proc.on('exit', (code) => reject(new Error(`writer exited early (code ${code}): ${stderr}`)));
    proc.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        const m = /^(started|acked) (\d+)$/.exec(line);
        if (!m) continue;
        if (m[1] === 'started') first = Number(m[2]);
        else {
          acked.push(Number(m[2]));
          acks += 1;
        }
      }
      if (acks === minAcks) {
        acks += 1; // once
        // A random moment, most likely inside a flush, a commit or a checkpoint.
        setTimeout(() => {
          proc.kill('SIGKILL');
          resolveKill();
        }, Math.random() * 40);
      }
    });
  });
  await exited;
  return { first, acked };
}

it('keeps every acknowledged batch through three SIGKILLs, and the file stays intact', async () => {
  const epoch = Date.now() - 3_600_000;
  let expectedFirst = 1;
  const acknowledged: number[] = [];
  for (const minAcks of [20, 35, 50]) {
    const { first, acked } = await runAndKill(epoch, minAcks);
    // Each run continues after the last stored batch: what the previous run wrote is still there.
    expect(first).toBeGreaterThanOrEqual(expectedFirst);
    expect(acked.length).toBeGreaterThanOrEqual(minAcks);
    acknowledged.push(...acked);

    const db = openControlDb(`${dir.path}/control.db`);
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const batches = db
        .prepare<[], { n: number; events: number }>(
          'SELECT restarts AS n, count(*) AS events FROM events GROUP BY restarts ORDER BY restarts',
        )
        .all();
      const stored = new Map(batches.map((b) => [b.n, b.events]));
      const alerts = new Set(
        db.prepare<[], string>("SELECT message FROM alerts WHERE kind = 'crash-loop'").pluck().all(),
      );
      const samples = db
        .prepare<[number, number, number], number>(
          'SELECT count(*) FROM samples_raw WHERE at >= ? AND at < ? AND value = ?',
        )
        .pluck();
      // Only acknowledged batches: one killed during its flush may be partly written (a flush of more
      // than maxBatchRows rows is several transactions), and was never acknowledged.
      for (const n of acknowledged) {
        expect(stored.get(n), `events of acknowledged batch ${n}`).toBe(5);
        expect(alerts.has(`batch ${n}`), `alert of acknowledged batch ${n}`).toBe(true);
        const from = Math.floor(epoch / 1000) + n * SECONDS;
        expect(samples.get(from, from + SECONDS, n), `samples of acknowledged batch ${n}`).toBe(
          SERIES * SECONDS,
        );
      }
      // Each transaction is whole: a batch's events (written together, first) are all there or none.
      for (const [n, events] of stored) expect(events, `batch ${n}`).toBe(5);
      expectedFirst = Math.max(...stored.keys()) + 1;
    } finally {
      db.close();
    }
  }
}, 90_000);
