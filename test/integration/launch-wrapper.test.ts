/** The kernel's parent-death signal through setpriv: a child must not outlive a SIGKILLed supervisor. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  parentDeathSignalSupported,
  SETPRIV_PATH,
  withParentDeathSignal,
} from '../../src/main/supervisor/launch-wrapper';
import { snapshotProcesses } from '../../src/main/supervisor/process-table';
import { fixturePath, isAlive, ProcessFixtures, until } from '../helpers/process-fixtures';
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

/**
 * Stands in for the supervisor: spawns the given command (as execa would, a plain child in our
 * group), writes its pid to a file and stays alive until killed.
 */
const SUPERVISOR = `
const { spawn } = require('node:child_process');
const { writeFileSync } = require('node:fs');
const [pidFile, file, ...args] = process.argv.slice(1);
const child = spawn(file, args, { stdio: 'ignore' });
writeFileSync(pidFile, String(child.pid));
setInterval(() => {}, 1000);
`;

const setprivUsable =
  process.platform === 'linux' &&
  existsSync(SETPRIV_PATH) &&
  spawnSync(SETPRIV_PATH, ['--help'], { encoding: 'utf8' }).stdout.includes('--pdeathsig');

/** Starts a stand-in supervisor that launches `command`, and returns the child's identity. */
async function superviseAndGetChild(command: { file: string; args: string[] }) {
  const pidFile = join(dir.path, 'child.pid');
  const supervisor = fixtures.spawnLeader(process.execPath, [
    '-e',
    SUPERVISOR,
    pidFile,
    command.file,
    ...command.args,
  ]);
  await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').length > 0, 'the child pid');
  const childPid = Number(readFileSync(pidFile, 'utf8'));
  // Wait until setpriv has exec'd the real program, so the identity is the program's own.
  await until(
    async () => (await snapshotProcesses()).get(childPid)?.command === 'node',
    'the child to run node',
  );
  return { supervisor, child: fixtures.remember(childPid) };
}

describe('withParentDeathSignal', () => {
  it('wraps the command where setpriv supports --pdeathsig, and leaves it unchanged elsewhere', () => {
    expect(parentDeathSignalSupported()).toBe(setprivUsable);
    const wrapped = withParentDeathSignal('/usr/bin/python3', ['-u', 'collector.py', '--venue', 'okx']);
    if (setprivUsable) {
      expect(wrapped).toEqual({
        file: SETPRIV_PATH,
        args: ['--pdeathsig', 'SIGTERM', '--', '/usr/bin/python3', '-u', 'collector.py', '--venue', 'okx'],
      });
    } else {
      expect(wrapped).toEqual({ file: '/usr/bin/python3', args: ['-u', 'collector.py', '--venue', 'okx'] });
    }
  });

  it.skipIf(!setprivUsable)('keeps the pid: the spawned pid is the program itself', async () => {
    const wrapped = withParentDeathSignal(process.execPath, [fixturePath]);
    const { supervisor, child } = await superviseAndGetChild(wrapped);
    const record = (await snapshotProcesses()).get(child.pid)!;
    expect(record.ppid).toBe(supervisor.pid);
    expect(record.command).toBe('node');
  });

  it.skipIf(!setprivUsable)('keeps the IPC channel that built-in children talk over', async () => {
    const wrapped = withParentDeathSignal(process.execPath, [fixturePath]);
    const child = spawn(wrapped.file, wrapped.args, {
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    fixtures.remember(child.pid!);
    const message = await new Promise((resolve) => child.once('message', resolve));
    expect(message).toMatchObject({ type: 'ready' });
    child.kill('SIGKILL');
  });

  it.skipIf(!setprivUsable)('the child gets SIGTERM and exits when its supervisor is SIGKILLed', async () => {
    const { supervisor, child } = await superviseAndGetChild(
      withParentDeathSignal(process.execPath, [fixturePath]),
    );
    process.kill(supervisor.pid, 'SIGKILL');
    const t0 = performance.now();
    await until(() => !isAlive(child), 'the wrapped child to exit', 3000);
    console.log(
      `wrapped child gone ${(performance.now() - t0).toFixed(0)} ms after its supervisor was SIGKILLed`,
    );
  });

  it.skipIf(!setprivUsable)(
    'without the wrapper the same child survives (the test means something)',
    async () => {
      const { supervisor, child } = await superviseAndGetChild({
        file: process.execPath,
        args: [fixturePath],
      });
      process.kill(supervisor.pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 1000));
      expect(isAlive(child)).toBe(true);
    },
  );
});
