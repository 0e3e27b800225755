/**
 * Cost of the supervisor's view of the OS: a process-table snapshot with ~500 processes, tree sampling
 * of 50 services at one sample every 2 s, and the time to kill and verify a 3-level tree with a
 * descendant that escaped its group. Prints figures; asserts nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { snapshotProcesses } from '../src/main/supervisor/process-table';
import { killTree } from '../src/main/supervisor/tree-kill';
import { TreeSampler, type TreeRoot } from '../src/main/supervisor/tree-sampler';
import { ProcessFixtures } from '../test/helpers/process-fixtures';
import { tempDir } from '../test/helpers/temp-dir';

const TARGET_PROCESSES = 500;
const TREES = 50;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function measure(label: string, rounds: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const wall: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await fn();
    wall.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / rounds;
  console.log(
    `${label}: wall median ${pct(wall, 50).toFixed(2)} ms, p95 ${pct(wall, 95).toFixed(2)} ms; CPU ${cpuMs.toFixed(2)} ms per call`,
  );
  return cpuMs;
}

async function main(): Promise<void> {
  const fixtures = new ProcessFixtures();
  const dir = tempDir('vigil-bench-');
  const sleepers: ChildProcess[] = [];
  try {
    // 50 service trees: a shell leader with a sleep below it.
    const roots: TreeRoot[] = [];
    for (let i = 0; i < TREES; i++) {
      const leader = fixtures.spawnLeader('/bin/sh', ['-c', 'sleep 600; true']);
      roots.push({ key: `svc${i}`, pid: leader.pid, pgid: leader.pid });
    }
    // Fill the table up to ~500 processes with plain sleepers.
    await sleep(500);
    const existing = (await snapshotProcesses()).size;
    for (let i = existing; i < TARGET_PROCESSES; i++) {
      sleepers.push(spawn('sleep', ['600'], { stdio: 'ignore' }));
    }
    await sleep(1000);
    const size = (await snapshotProcesses()).size;
    console.log(`process table: ${size} processes`);

    await measure(`snapshotProcesses (${size} processes)`, 50, () => snapshotProcesses());

    const sampler = new TreeSampler();
    const cpuMs = await measure(`TreeSampler.sample (${TREES} trees)`, 50, () => sampler.sample(roots));
    console.log(
      `sampler at one sample every 2 s: ${((cpuMs / 2000) * 100).toFixed(3)} % of one core (goal: well under 2 %)`,
    );

    const kills: number[] = [];
    for (let i = 0; i < 10; i++) {
      const file = join(dir.path, `tree-${i}.txt`);
      const root = fixtures.spawnFixture(['--tree', file, '--escape', '--ignore-sigterm']);
      const known = await fixtures.treePids(file, 3);
      const t0 = performance.now();
      const { survivors } = await killTree({ pgid: root.pid, known });
      kills.push(performance.now() - t0);
      if (survivors.length > 0) console.log(`survivors: ${JSON.stringify(survivors)}`);
    }
    console.log(
      `killTree, 3-level tree with an escaped SIGTERM-ignoring member, verified: median ${pct(kills, 50).toFixed(1)} ms, max ${Math.max(...kills).toFixed(1)} ms (${size} processes in the table)`,
    );
  } finally {
    for (const s of sleepers) s.kill('SIGKILL');
    await fixtures.cleanup();
    dir.remove();
  }
}

await main();
