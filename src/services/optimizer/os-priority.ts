/**
 * The optimizer's place in the OS scheduler: below everything else, the trader above all. Set once at
 * start, before any worker thread exists (threads inherit both from the thread that creates them).
 *
 * - Nice (every platform): the priority asked, 19 by default. On Linux nice is per thread, and the
 *   runtime's own threads started before us (V8's platform threads, which also collect the workers'
 *   garbage and compile their code) do not inherit it: each is set by its thread id too.
 * - At the lowest priority on Linux, also the SCHED_IDLE policy (through util-linux's `chrt`; Node
 *   has no call for it): an idle-policy thread gives the CPU up as soon as any other thread wants it,
 *   where a nice 19 one may still finish its time slice first. Measured with bench/trader.bench.ts;
 *   without `chrt`, nice alone stays.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { constants, getPriority, setPriority } from 'node:os';

export interface PriorityInForce {
  /** The nice value in force; null when it could not be set. */
  priority: number | null;
  /** Linux's scheduling policy for every thread: `idle` (SCHED_IDLE) or the `normal` one. */
  policy: 'idle' | 'normal';
}

export function lowerPriority(wanted: number): PriorityInForce {
  try {
    setPriority(wanted);
  } catch (error) {
    console.error(`optimizer: could not set priority ${wanted}: ${(error as Error).message}`);
    return { priority: null, policy: 'normal' };
  }
  if (process.platform !== 'linux') return { priority: getPriority(), policy: 'normal' };
  let tids: string[] = [];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    // No /proc: the main thread's priority is what we have.
  }
  for (const tid of tids) {
    try {
      setPriority(Number(tid), wanted);
    } catch {
      // A thread that ended meanwhile.
    }
  }
  return {
    priority: getPriority(),
    policy: wanted === constants.priority.PRIORITY_LOW ? idlePolicy() : 'normal',
  };
}

/** SCHED_IDLE for every thread of this process (lowering a policy needs no privilege). */
function idlePolicy(): 'idle' | 'normal' {
  const r = spawnSync('chrt', ['--idle', '--all-tasks', '--pid', '0', String(process.pid)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 5_000,
  });
  if (r.status === 0) return 'idle';
  const why = r.error ? r.error.message : r.stderr.toString().trim() || `exit ${r.status}`;
  console.error(`optimizer: no SCHED_IDLE (chrt: ${why}); nice alone keeps it below the trader`);
  return 'normal';
}
