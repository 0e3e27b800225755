/** The run-state file on disk, and reconciliation against real leftovers of a "previous run". */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processIdentitySync, snapshotProcesses } from '../../src/main/supervisor/process-table';
import { reconcileLeftovers, RunStateFile, type RunRecord } from '../../src/main/supervisor/run-state-file';
import { fixturePath, isAlive, ProcessFixtures, until } from '../helpers/process-fixtures';
import { tempDir } from '../helpers/temp-dir';

let dir: ReturnType<typeof tempDir>;
let warnings: string[];
const logger = { warn: (m: string) => warnings.push(m) };
const fixtures = new ProcessFixtures();

beforeEach(() => {
  dir = tempDir();
  warnings = [];
});

afterEach(async () => {
  await fixtures.cleanup();
  dir.remove();
});

/** Stands in for a Vigil that started a service (its own group, as the runner does) and then died. */
const PREVIOUS_SUPERVISOR = `
const { spawn } = require('node:child_process');
const [fixture, treeFile] = process.argv.slice(1);
spawn(process.execPath, [fixture, '--tree', treeFile, '--escape', '--ignore-sigterm'], { detached: true, stdio: 'ignore' });
setInterval(() => {}, 1000);
`;

const record = (service: string, pid: number, startTime: string, pgid = pid): RunRecord => ({
  service,
  pid,
  pgid,
  startTime,
  command: 'node fixture.mjs',
  startedAt: Date.now(),
});

describe('RunStateFile', () => {
  it('keeps records across instances, one per service', () => {
    const path = join(dir.path, 'state', 'run-state.json');
    const file = new RunStateFile(path, logger);
    expect(file.load()).toEqual([]);
    file.put(record('a', 100, '1'));
    file.put(record('b', 200, '2'));
    file.put(record('a', 101, '3'));
    expect(new RunStateFile(path).load().map((r) => [r.service, r.pid])).toEqual([
      ['a', 101],
      ['b', 200],
    ]);
    file.remove('a');
    expect(new RunStateFile(path).load().map((r) => r.service)).toEqual(['b']);
    // Atomic writes leave no temporary files behind.
    expect(readdirSync(join(dir.path, 'state'))).toEqual(['run-state.json']);
    file.clear();
    expect(new RunStateFile(path).load()).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('put without load keeps what is already on disk', () => {
    const path = join(dir.path, 'run-state.json');
    new RunStateFile(path).put(record('a', 100, '1'));
    new RunStateFile(path).put(record('b', 200, '2'));
    expect(new RunStateFile(path).load().map((r) => r.service)).toEqual(['a', 'b']);
  });

  it('treats a corrupt file as empty, warns, and keeps it aside instead of wiping it', () => {
    const path = join(dir.path, 'run-state.json');
    writeFileSync(path, '{"version":1,"records":[{"service":"a","pid":1');
    const file = new RunStateFile(path, logger);
    expect(file.load()).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/corrupt/);
    const aside = readdirSync(dir.path).filter((f) => f.startsWith('run-state.json.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir.path, aside[0]!), 'utf8')).toContain('"service":"a"');
    file.put(record('b', 2, '2'));
    expect(new RunStateFile(path).load().map((r) => r.service)).toEqual(['b']);
  });

  it('skips invalid records and keeps the valid ones', () => {
    const path = join(dir.path, 'run-state.json');
    writeFileSync(
      path,
      JSON.stringify({ version: 1, records: [record('ok', 5, '9'), { service: 'bad', pid: -1 }] }),
    );
    expect(new RunStateFile(path, logger).load().map((r) => r.service)).toEqual(['ok']);
    expect(warnings.join('\n')).toMatch(/invalid record/);
  });

  it('a missing file is simply empty', () => {
    expect(new RunStateFile(join(dir.path, 'nope.json'), logger).load()).toEqual([]);
    expect(warnings).toEqual([]);
    expect(existsSync(join(dir.path, 'nope.json'))).toBe(false);
  });
});

describe.skipIf(process.platform === 'win32')('reconcileLeftovers', () => {
  it('kills a whole tree left by a previous run, escaped and SIGTERM-ignoring members included', async () => {
    const treeFile = join(dir.path, 'tree.txt');
    const path = join(dir.path, 'run-state.json');
    // "Previous run": a supervisor process starts the tree, records it, and is SIGKILLed.
    const previous = fixtures.spawnLeader(process.execPath, [
      '-e',
      PREVIOUS_SUPERVISOR,
      fixturePath,
      treeFile,
    ]);
    const pids = await fixtures.treePids(treeFile, 3);
    new RunStateFile(path).put(record('collector:binance-spot', pids[0]!.pid, pids[0]!.startTime));
    process.kill(previous.pid, 'SIGKILL');
    await until(
      async () => (await snapshotProcesses()).get(pids[0]!.pid)?.ppid !== previous.pid,
      'the tree to be orphaned',
    );
    // "This run".
    const records = new RunStateFile(path, logger).load();
    const t0 = performance.now();
    const result = await reconcileLeftovers(records, { termTimeoutMs: 500, logger });
    console.log(`reconcile of a SIGTERM-ignoring leftover tree: ${(performance.now() - t0).toFixed(0)} ms`);
    expect(result.killed.map((r) => r.service)).toEqual(['collector:binance-spot']);
    expect(result.gone).toEqual([]);
    expect(result.survivors).toEqual([]);
    for (const p of pids) expect(isAlive(p)).toBe(false);
    expect(warnings.join('\n')).toMatch(/collector:binance-spot was left running/);
  });

  it('lets a tree that honours SIGTERM exit gracefully within the term timeout', async () => {
    const treeFile = join(dir.path, 'tree.txt');
    const root = fixtures.spawnFixture(['--tree', treeFile]);
    const pids = await fixtures.treePids(treeFile, 3);
    const t0 = performance.now();
    const result = await reconcileLeftovers([record('optimizer', root.pid, pids[0]!.startTime)], { logger });
    expect(performance.now() - t0).toBeLessThan(2000); // did not wait for the kill step
    expect(result.killed).toHaveLength(1);
    for (const p of pids) expect(isAlive(p)).toBe(false);
  });

  it('does not touch a pid that now belongs to another process (pid reuse)', async () => {
    const bystander = fixtures.spawnFixture([]);
    const real = processIdentitySync(bystander.pid)!;
    const forged = String(Number(real.startTime) - 50);
    const result = await reconcileLeftovers([record('trader', bystander.pid, forged)], { logger });
    expect(result.gone.map((r) => r.service)).toEqual(['trader']);
    expect(result.killed).toEqual([]);
    await sleep(200);
    expect(isAlive(real)).toBe(true);
  });

  it('drops records of processes that are gone', async () => {
    const child = fixtures.spawnFixture([]);
    const identity = processIdentitySync(child.pid)!;
    child.kill('SIGKILL');
    await until(() => !isAlive(identity), 'the child to die');
    const result = await reconcileLeftovers([record('gone', identity.pid, identity.startTime)], { logger });
    expect(result).toEqual({
      killed: [],
      gone: [expect.objectContaining({ service: 'gone' })],
      survivors: [],
    });
  });

  it('kills the orphans of a leader that died while no Vigil was watching', async () => {
    const treeFile = join(dir.path, 'tree.txt');
    const root = fixtures.spawnFixture(['--tree', treeFile]);
    const pids = await fixtures.treePids(treeFile, 3);
    process.kill(root.pid, 'SIGKILL');
    await until(() => !isAlive(pids[0]!), 'the leader to die');
    expect(isAlive(pids[1]!) && isAlive(pids[2]!)).toBe(true);
    const result = await reconcileLeftovers([record('collector:okx', root.pid, pids[0]!.startTime)], {
      logger,
    });
    expect(result.killed).toHaveLength(1);
    for (const p of pids) expect(isAlive(p)).toBe(false);
  });

  it('handles several records at once', async () => {
    const roots = [fixtures.spawnFixture([]), fixtures.spawnFixture(['--ignore-sigterm'])];
    const ids = roots.map((r) => processIdentitySync(r.pid)!);
    const result = await reconcileLeftovers(
      ids.map((id, i) => record(`svc${i}`, id.pid, id.startTime)),
      { termTimeoutMs: 300, logger },
    );
    expect(result.killed.map((r) => r.service).sort()).toEqual(['svc0', 'svc1']);
    for (const id of ids) expect(isAlive(id)).toBe(false);
  });
});
