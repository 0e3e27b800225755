/** Whole-tree kills against real process trees, including a descendant that escaped the group. */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processIdentitySync, snapshotProcesses } from '../../src/main/supervisor/process-table';
import { killTree, signalGroup, signalTree, waitUntilGone } from '../../src/main/supervisor/tree-kill';
import { isAlive, ProcessFixtures, until } from '../helpers/process-fixtures';
import { tempDir } from '../helpers/temp-dir';

let dir: ReturnType<typeof tempDir>;
const fixtures = new ProcessFixtures();

beforeEach(() => {
  dir = tempDir();
});

afterEach(async () => {
  await fixtures.cleanup();
  dir.remove();
});

/** A 3-level fixture tree whose root ignores SIGTERM and whose deepest level left the group. */
async function escapedTree() {
  const file = join(dir.path, 'tree.txt');
  const root = fixtures.spawnFixture(['--tree', file, '--escape', '--ignore-sigterm']);
  const pids = await fixtures.treePids(file, 3);
  const table = await snapshotProcesses();
  const deepest = table.get(pids[2]!.pid)!;
  // The premise of the test: the grandchild really is outside the group.
  expect(table.get(pids[1]!.pid)!.pgid).toBe(root.pid);
  expect(deepest.pgid).not.toBe(root.pid);
  return { root, pids };
}

describe.skipIf(process.platform === 'win32')('killTree', () => {
  it('kills a 3-level tree with an escaped, SIGTERM-ignoring root in well under a second', async () => {
    const { root, pids } = await escapedTree();
    const t0 = performance.now();
    const { survivors } = await killTree({ pgid: root.pid, known: pids });
    const elapsed = performance.now() - t0;
    console.log(`killTree of a 3-level tree with an escaped grandchild: ${elapsed.toFixed(1)} ms`);
    expect(survivors).toEqual([]);
    for (const p of pids) expect(isAlive(p)).toBe(false);
    expect(elapsed).toBeLessThan(1000);
  });

  it('finds the escaped grandchild through parent links even when nobody told it about it', async () => {
    const { root, pids } = await escapedTree();
    const { survivors } = await killTree({ pgid: root.pid, known: [] });
    expect(survivors).toEqual([]);
    for (const p of pids) expect(isAlive(p)).toBe(false);
  });

  it('kills an escaped process that was already orphaned, when it is known', async () => {
    const { root, pids } = await escapedTree();
    // Kill the middle level: the escaped grandchild is re-parented and no longer below the root.
    process.kill(pids[1]!.pid, 'SIGKILL');
    await until(() => !isAlive(pids[1]!), 'the middle level to die');
    const { survivors } = await killTree({ pgid: root.pid, known: pids });
    expect(survivors).toEqual([]);
    expect(isAlive(pids[2]!)).toBe(false);
  });

  it('never kills a known pid whose start time does not match (pid reuse)', async () => {
    const { root, pids } = await escapedTree();
    const bystander = fixtures.spawnFixture([]);
    const real = processIdentitySync(bystander.pid)!;
    const forged = { pid: bystander.pid, startTime: String(Number(real.startTime) - 1) };
    const { survivors } = await killTree({ pgid: root.pid, known: [...pids, forged] });
    expect(survivors).toEqual([]);
    expect(isAlive(real)).toBe(true);
    // And waiting for a forged identity is waiting for nothing.
    expect(await waitUntilGone({ pgid: root.pid, known: [forged] }, 1000)).toBe(true);
  });

  it('waitUntilGone waits for the group and the known pids', async () => {
    const file = join(dir.path, 'tree.txt');
    const root = fixtures.spawnFixture(['--tree', file]);
    const pids = await fixtures.treePids(file, 3);
    const target = { pgid: root.pid, known: pids };
    expect(await waitUntilGone(target, 200, 50)).toBe(false);
    expect(signalGroup(root.pid, 'SIGTERM')).toBe(true);
    expect(await waitUntilGone(target, 5000)).toBe(true);
  });

  it('signalTree reaches escaped processes too', async () => {
    const file = join(dir.path, 'tree.txt');
    const root = fixtures.spawnFixture(['--tree', file, '--escape']);
    const pids = await fixtures.treePids(file, 3);
    await signalTree({ pgid: root.pid, known: [] }, 'SIGTERM');
    await until(() => pids.every((p) => !isAlive(p)), 'the whole tree to exit on SIGTERM', 5000);
  });
});

describe.skipIf(process.platform === 'win32')('signalGroup', () => {
  it('returns false for a group that no longer exists', async () => {
    const leader = fixtures.spawnFixture([]);
    const identity = processIdentitySync(leader.pid)!;
    expect(signalGroup(leader.pid, 'SIGKILL')).toBe(true);
    await until(() => !isAlive(identity), 'the leader to die');
    await until(() => !signalGroup(leader.pid, 0 as unknown as NodeJS.Signals), 'the group to vanish');
  });

  it('refuses the groups that would hit everything or ourselves', () => {
    expect(() => signalGroup(0, 'SIGTERM')).toThrow(RangeError);
    expect(() => signalGroup(1, 'SIGTERM')).toThrow(RangeError);
    expect(() => signalGroup(-3, 'SIGTERM')).toThrow(RangeError);
    expect(() => signalGroup(process.pid, 'SIGTERM')).toThrow(RangeError);
  });
});
