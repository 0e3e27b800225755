/** One Vigil per data directory: refusal while the holder lives, take-over once it is gone. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, uptime } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  acquireDataDirLock,
  DataDirLockedError,
  LOCK_FILE_NAME,
} from '../../src/main/supervisor/data-dir-lock';
import { processIdentitySync } from '../../src/main/supervisor/process-table';
import { ProcessFixtures, until } from '../helpers/process-fixtures';
import { tempDir } from '../helpers/temp-dir';

let dir: ReturnType<typeof tempDir>;
let warnings: string[];
const logger = { warn: (m: string) => warnings.push(m) };
const fixtures = new ProcessFixtures();
const releases: (() => void)[] = [];

beforeEach(() => {
  dir = tempDir();
  warnings = [];
});

afterEach(async () => {
  for (const release of releases.splice(0)) release();
  await fixtures.cleanup();
  dir.remove();
});

const lockPath = () => join(dir.path, LOCK_FILE_NAME);

function acquire(dataDir = dir.path) {
  const lock = acquireDataDirLock(dataDir, logger);
  releases.push(() => lock.release());
  return lock;
}

function writeLock(content: object): void {
  writeFileSync(lockPath(), JSON.stringify(content));
}

describe.skipIf(process.platform === 'win32')('acquireDataDirLock', () => {
  it('writes who holds the lock', () => {
    acquire();
    const content = JSON.parse(readFileSync(lockPath(), 'utf8'));
    expect(content).toEqual({
      pid: process.pid,
      startTime: processIdentitySync(process.pid)!.startTime,
      host: hostname(),
      createdAt: expect.any(Number),
      nonce: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
  });

  it('refuses a second holder while the first is alive, and says who it is', () => {
    acquire();
    let error: unknown;
    try {
      acquire();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataDirLockedError);
    expect((error as Error).message).toContain(`another Vigil (pid ${process.pid}, started `);
    expect((error as Error).message).toContain(
      `is already using ${dir.path}; stop it or choose another --data-dir`,
    );
  });

  it('refuses while another Vigil process holds it, and takes over once that process is SIGKILLed', async () => {
    const modulePath = resolve(import.meta.dirname, '../../src/main/supervisor/data-dir-lock.ts');
    const holder = fixtures.spawnLeader(process.execPath, [
      '--import',
      'tsx',
      '-e',
      `import(${JSON.stringify(pathToFileURL(modulePath).href)}).then((m) => { m.acquireDataDirLock(${JSON.stringify(dir.path)}); setInterval(() => {}, 1000); });`,
    ]);
    await until(() => existsSync(lockPath()), 'the other process to take the lock');
    expect(() => acquire()).toThrow(`another Vigil (pid ${holder.pid}, started`);
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    acquire();
    expect(JSON.parse(readFileSync(lockPath(), 'utf8')).pid).toBe(process.pid);
    expect(warnings.join('\n')).toContain(`from pid ${holder.pid}: pid ${holder.pid} is not running`);
  });

  it('refuses when another live process holds it', () => {
    const holder = fixtures.spawnFixture([]);
    const identity = processIdentitySync(holder.pid)!;
    writeLock({ ...identity, host: hostname(), createdAt: Date.now() });
    expect(() => acquire()).toThrow(DataDirLockedError);
    expect(() => acquire()).toThrow(`pid ${holder.pid}`);
    expect(JSON.parse(readFileSync(lockPath(), 'utf8')).pid).toBe(holder.pid); // untouched
  });

  it('takes over a lock whose holder is dead', () => {
    // A real process that has exited: its pid is (for now) free.
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout.trim());
    writeLock({ pid: deadPid, startTime: '12345', host: hostname(), createdAt: Date.now() - 1000 });
    acquire();
    expect(JSON.parse(readFileSync(lockPath(), 'utf8')).pid).toBe(process.pid);
    expect(warnings.join('\n')).toContain(`stale lock on ${dir.path} from pid ${deadPid}`);
  });

  it('takes over a lock whose pid now belongs to another process', () => {
    const other = fixtures.spawnFixture([]);
    const identity = processIdentitySync(other.pid)!;
    writeLock({
      pid: other.pid,
      startTime: String(Number(identity.startTime) - 7),
      host: hostname(),
      createdAt: Date.now(),
    });
    acquire();
    expect(warnings.join('\n')).toMatch(new RegExp(`pid ${other.pid} now belongs to another process`));
  });

  it('takes over a lock written before the last boot', () => {
    writeLock({
      ...processIdentitySync(process.pid)!,
      host: hostname(),
      createdAt: Date.now() - uptime() * 1000 - 60_000,
    });
    acquire();
    expect(warnings.join('\n')).toMatch(/predates the last boot/);
  });

  it('takes over an unreadable lock file, but not one that may be being written', () => {
    writeFileSync(lockPath(), 'garbage{');
    expect(() => acquire()).toThrow(/keeps changing/); // fresh: maybe a writer without hard links
    const old = new Date(Date.now() - 10_000);
    utimesSync(lockPath(), old, old);
    acquire();
    expect(warnings.join('\n')).toMatch(/unreadable lock file/);
  });

  it('refuses a lock held from another host, and says how to clear it', () => {
    writeLock({ pid: 1, startTime: '1', host: 'some-other-host', createdAt: Date.now() });
    expect(() => acquire()).toThrow(/on some-other-host.*if Vigil is not running on some-other-host, delete/);
  });

  it('release removes only our own lock, and the directory can be taken again', () => {
    const first = acquireDataDirLock(dir.path, logger);
    first.release();
    expect(existsSync(lockPath())).toBe(false);
    const second = acquire();
    first.release(); // a late release of the old holder must not remove the new lock
    expect(existsSync(lockPath())).toBe(true);
    second.release();
    expect(existsSync(lockPath())).toBe(false);
  });

  it('creates the data directory when it does not exist', () => {
    acquire(join(dir.path, 'new', 'data'));
    expect(existsSync(join(dir.path, 'new', 'data', LOCK_FILE_NAME))).toBe(true);
  });
});
