/**
 * A bad control.db gets a clear error that names the file and the way forward, never a silent wipe:
 * garbage, a truncated file, damaged pages, a file locked by another program, a folder in its place.
 * Moving aside keeps every byte and lets a fresh store open.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { moveAside, openControlDb, StoreError, type StoreErrorCode } from '../../src/main/store/database';
import { ControlStore } from '../../src/main/store/store';
import { tempDir } from '../helpers/temp-dir';

const lockHolder = resolve(import.meta.dirname, '../fixtures/store/lock-holder.mjs');

let dir: ReturnType<typeof tempDir>;
let file: string;
const children: ChildProcess[] = [];
beforeEach(() => {
  dir = tempDir('vigil-store-bad-');
  file = join(dir.path, 'control.db');
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  dir.remove();
});

function openError(path = file): StoreError {
  try {
    openControlDb(path).close();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    return error as StoreError;
  }
  throw new Error(`${path} opened`);
}

function expectStoreError(e: StoreError, code: StoreErrorCode, detail: RegExp): void {
  expect(e.code).toBe(code);
  expect(e.file).toBe(file);
  expect(e.message.startsWith(`${file} `)).toBe(true);
  expect(e.message).toMatch(detail);
  expect(e.message).toContain(e.wayForward);
}

/** A real store file with some of everything, closed (so the WAL is folded into it). */
function makeStore(samples = 30_000): void {
  const store = ControlStore.open(dir.path, { flushIntervalMs: 0, maintenanceIntervalMs: 0 });
  const at = Date.now() - 600_000;
  for (let s = 0; s < samples / 50; s++) {
    store.history.recordSamples(
      at + s * 1000,
      Array.from({ length: 50 }, (_, k) => ({ service: `svc-${k % 10}`, metric: `m${k}`, value: s * k })),
    );
    store.history.recordTransition({
      service: `svc-${s % 10}`,
      from: 'starting',
      to: 'running',
      health: 'healthy',
      reason: 'ready',
      at: at + s * 1000,
      exit: null,
      restarts: s,
      nextRestartAt: null,
    });
  }
  store.history.flush();
  store.close();
}

function overwrite(path: string, offset: number, bytes: Buffer): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, bytes, 0, bytes.length, offset);
  closeSync(fd);
}

describe('corrupt files', () => {
  it('garbage bytes: "not a valid database", the file untouched, the way forward named', () => {
    const garbage = randomBytes(8192);
    writeFileSync(file, garbage);
    const e = openError();
    expectStoreError(e, 'corrupt', /is not a valid database \(file is not a database\)/);
    expect(e.wayForward).toMatch(
      /^Vigil can move it aside to control\.db\.bad-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ and start fresh: run with --recover-store, or choose 'Move aside' in the dialog\.$/,
    );
    expect(readFileSync(file).equals(garbage)).toBe(true);
    expect(readdirSync(dir.path)).toEqual(['control.db']);
  });

  it('a file shorter than a database header', () => {
    writeFileSync(file, 'SQLite format 3\0 and then nothing');
    expectStoreError(openError(), 'corrupt', /file is not a database/);
  });

  it('a truncated database', () => {
    makeStore();
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(500_000);
    truncateSync(file, Math.floor(size * 0.4));
    expectStoreError(openError(), 'corrupt', /is not a valid database \(database disk image is malformed\)/);
  });

  it('a damaged schema page', () => {
    makeStore(1000);
    overwrite(file, 100, Buffer.alloc(12, 0xff)); // page 1's b-tree header
    expectStoreError(openError(), 'corrupt', /malformed/);
  });

  it('a damaged table root page', () => {
    makeStore();
    const db = new Database(file, { readonly: true });
    const root = db
      .prepare("SELECT rootpage FROM sqlite_master WHERE name = 'events'")
      .pluck()
      .get() as number;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.close();
    overwrite(file, (root - 1) * pageSize, randomBytes(pageSize));
    expectStoreError(openError(), 'corrupt', /malformed/);
  });

  it('the store refuses it the same way', () => {
    writeFileSync(file, randomBytes(4096));
    expect(() => ControlStore.open(dir.path, { maintenanceIntervalMs: 0 })).toThrow(StoreError);
  });
});

describe('a file locked by another program', () => {
  async function holdLock(path: string, mode: 'wal' | 'delete'): Promise<void> {
    const child = spawn(process.execPath, [lockHolder, path, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await new Promise<void>((resolveLocked, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolveLocked());
      child.on('exit', (code) => reject(new Error(`lock holder exited (${code})`)));
    });
  }

  it('a WAL database with a writer holding BEGIN EXCLUSIVE → locked, after a short wait', async () => {
    openControlDb(file).close();
    await holdLock(file, 'wal');
    const t0 = Date.now();
    const e = openError();
    expect(Date.now() - t0).toBeLessThan(2000);
    expectStoreError(e, 'locked', /is locked by another program \(database is locked\)/);
    expect(e.wayForward).toMatch(/Close the other program/);
  });

  it('a rollback-journal database held exclusively → locked', async () => {
    await holdLock(file, 'delete');
    expectStoreError(openError(), 'locked', /database is locked/);
  });

  it('opens once the other program is gone', async () => {
    openControlDb(file).close();
    await holdLock(file, 'wal');
    expect(openError().code).toBe('locked');
    const child = children.pop()!;
    const gone = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await gone;
    openControlDb(file).close();
  });
});

describe('other problems', () => {
  it('a folder where the file should be → unreadable', () => {
    mkdirSync(file);
    const e = openError();
    expectStoreError(e, 'unreadable', /is not a regular file/);
  });
});

describe('moveAside', () => {
  const when = new Date('2026-11-22T14:30:00.123Z');

  it('keeps the bad file and its WAL under a timestamped name, and a fresh store opens', () => {
    const garbage = randomBytes(8192);
    writeFileSync(file, garbage);
    writeFileSync(`${file}-wal`, 'wal bytes');
    writeFileSync(`${file}-shm`, 'shm bytes');
    expect(openError().code).toBe('corrupt');

    const aside = moveAside(file, when);
    expect(aside).toBe(`${file}.bad-2026-11-22T14-30-00Z`);
    expect(readFileSync(aside).equals(garbage)).toBe(true);
    expect(readFileSync(`${aside}-wal`, 'utf8')).toBe('wal bytes');
    expect(readFileSync(`${aside}-shm`, 'utf8')).toBe('shm bytes');
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}-wal`)).toBe(false);

    const store = ControlStore.open(dir.path, { maintenanceIntervalMs: 0 });
    expect(store.config.isFresh()).toBe(true);
    store.config.setSetting('theme', 'dark');
    store.close();
    expect(readFileSync(aside).equals(garbage)).toBe(true);
  });

  it('never overwrites an earlier moved-aside file', () => {
    writeFileSync(file, 'first');
    const first = moveAside(file, when);
    writeFileSync(file, 'second');
    const second = moveAside(file, when);
    expect(second).toBe(`${first}-1`);
    expect(readFileSync(first, 'utf8')).toBe('first');
    expect(readFileSync(second, 'utf8')).toBe('second');
    expect(readdirSync(dir.path).sort()).toEqual(
      ['control.db.bad-2026-11-22T14-30-00Z', 'control.db.bad-2026-11-22T14-30-00Z-1'].sort(),
    );
  });

  it('moves a valid database with its uncheckpointed WAL, which then opens with all its data', () => {
    const db = openControlDb(file);
    db.pragma('wal_autocheckpoint = 0');
    db.exec(`INSERT INTO settings VALUES ('kept', '"in the wal"')`);
    // Simulate a crash: copy the files while the WAL still holds the row.
    const copy = join(dir.path, 'copy');
    mkdirSync(copy);
    for (const suffix of ['', '-wal'])
      writeFileSync(join(copy, `control.db${suffix}`), readFileSync(file + suffix));
    db.close();
    const aside = moveAside(join(copy, 'control.db'), when);
    const reopened = new Database(aside, { readonly: true });
    expect(reopened.prepare("SELECT value FROM settings WHERE key = 'kept'").pluck().get()).toBe(
      '"in the wal"',
    );
    reopened.close();
  });
});
