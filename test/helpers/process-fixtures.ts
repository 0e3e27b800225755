/**
 * Real processes for supervision tests: spawns the misbehaving fixture (or any command) as a group
 * leader, learns the pids of the trees it builds, and kills everything it started when the test ends,
 * whether it passed or not. Kills are by identity (pid + start time) so a reused pid is never hit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processIdentitySync, type ProcessIdentity } from '../../src/main/supervisor/process-table';

export const fixturePath = resolve(import.meta.dirname, '../fixtures/children/fixture.mjs');

export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** True while the process with this identity is alive (zombies are not). */
export function isAlive(identity: ProcessIdentity): boolean {
  return processIdentitySync(identity.pid)?.startTime === identity.startTime;
}

export class ProcessFixtures {
  private readonly started: ProcessIdentity[] = [];
  private readonly groups = new Set<number>();

  /** Spawns a command as the leader of a new process group (pgid = pid). */
  spawnLeader(file: string, args: string[]): ChildProcess & { pid: number } {
    const child = spawn(file, args, { detached: true, stdio: 'ignore' });
    if (child.pid === undefined) throw new Error(`could not spawn ${file}`);
    this.groups.add(child.pid);
    this.remember(child.pid);
    return child as ChildProcess & { pid: number };
  }

  /** Spawns the fixture as a group leader. */
  spawnFixture(args: string[]): ChildProcess & { pid: number } {
    return this.spawnLeader(process.execPath, [fixturePath, ...args]);
  }

  /** Waits until the fixture has written `count` pids to its tree file; returns their identities. */
  async treePids(file: string, count: number): Promise<ProcessIdentity[]> {
    let pids: number[] = [];
    await until(() => {
      pids = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number) : [];
      return pids.length >= count;
    }, `${count} pids in ${file}`);
    return pids.map((pid) => this.remember(pid));
  }

  /** Records a pid for cleanup and returns its identity. */
  remember(pid: number): ProcessIdentity {
    const identity = processIdentitySync(pid);
    if (!identity) throw new Error(`process ${pid} is not running`);
    this.started.push(identity);
    return identity;
  }

  /** SIGKILLs everything started or remembered that is still the same process. */
  async cleanup(): Promise<void> {
    for (const pgid of this.groups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // Group already gone.
      }
    }
    for (const identity of this.started) {
      if (isAlive(identity)) {
        try {
          process.kill(identity.pid, 'SIGKILL');
        } catch {
          // Gone meanwhile.
        }
      }
    }
    await until(() => this.started.every((i) => !isAlive(i)), 'fixture processes to die', 5000).catch(
      () => undefined,
    );
    this.started.length = 0;
    this.groups.clear();
  }
}
