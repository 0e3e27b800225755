/** control.db's schema versions: created fresh, upgraded from every earlier version, newer ones refused. */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openControlDb, StoreError } from '../../src/main/store/database';
import { applyMigrations, migrations, SCHEMA_VERSION, schemaVersion } from '../../src/main/store/migrations';
import { ControlStore } from '../../src/main/store/store';
import { tempDir } from '../helpers/temp-dir';

let dir: ReturnType<typeof tempDir>;
let file: string;
beforeEach(() => {
  dir = tempDir('vigil-store-migrations-');
  file = join(dir.path, 'control.db');
});
afterEach(() => dir.remove());

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const tables = (db: Database.Database) =>
  db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
const indexes = (db: Database.Database) =>
  db
    .prepare<[], string>(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
    )
    .pluck()
    .all();

describe('migrations', () => {
  it('are numbered 1, 2, 3, ... and named', () => {
    migrations.forEach((m, i) => {
      expect(m.version).toBe(i + 1);
      expect(m.name).not.toBe('');
    });
    expect(SCHEMA_VERSION).toBe(migrations.length);
  });

  it('create the whole schema in a new file, with WAL, synchronous=FULL and foreign keys', () => {
    const db = openControlDb(join(dir.path, 'nested', 'folder', 'control.db'));
    try {
      expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
      expect(tables(db)).toEqual([
        'alerts',
        'events',
        'meta',
        'optimizer_runs',
        'optimizer_trials',
        'samples_1h',
        'samples_1m',
        'samples_raw',
        'series',
        'services',
        'settings',
      ]);
      expect(indexes(db)).toEqual([
        'alerts_by_service',
        'alerts_by_time',
        'alerts_open',
        'events_by_service',
        'events_by_time',
        'optimizer_runs_unfinished',
        'optimizer_trials_by_score',
      ]);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(200);
    } finally {
      db.close();
    }
  });

  it('treat an empty file as a new database (created, never written)', () => {
    writeFileSync(file, '');
    const db = openControlDb(file);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    db.close();
  });

  // From each earlier version: a file made by the first v migrations, with data, then opened normally.
  for (let v = 1; v < SCHEMA_VERSION; v++) {
    it(`upgrade a version ${v} file, keeping its data`, () => {
      const old = new Database(file);
      old.pragma('journal_mode = WAL');
      expect(applyMigrations(old, file, migrations.slice(0, v))).toEqual({ from: 0, to: v });
      old.exec(`
        INSERT INTO settings VALUES ('theme', '"dark"');
        INSERT INTO alerts (id, at, service, kind, severity, message) VALUES (7, 1000, 'okx', 'degraded', 'warning', 'slow');
        INSERT INTO events (at, service, from_state, to_state, reason, restarts) VALUES (1000, 'okx', 'starting', 'running', 'ready', 0);
        INSERT INTO series VALUES (1, 'okx', 'cpu');
        INSERT INTO samples_raw VALUES (1, 1000, 2.5);
      `);
      old.close();

      const db = openControlDb(file);
      try {
        expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
        expect(db.prepare('SELECT value FROM settings').pluck().get()).toBe('"dark"');
        expect(db.prepare('SELECT message FROM alerts WHERE id = 7').pluck().get()).toBe('slow');
        expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(1);
        expect(db.prepare('SELECT value FROM samples_raw').pluck().get()).toBe(2.5);
        expect(indexes(db)).toContain('alerts_open');
        // The new index is used for what it was made for.
        const plan = db
          .prepare(
            "EXPLAIN QUERY PLAN SELECT id FROM alerts WHERE service = 'a' AND kind = 'b' AND cleared_at IS NULL",
          )
          .all() as { detail: string }[];
        expect(plan.map((p) => p.detail).join(' ')).toContain('alerts_open');
      } finally {
        db.close();
      }
    });
  }

  it('run each migration in its own transaction: a failing one leaves the file at the previous version', () => {
    const db = new Database(file);
    const failing = [
      ...migrations,
      {
        version: SCHEMA_VERSION + 1,
        name: 'half done',
        up(d: Database.Database) {
          d.exec('CREATE TABLE half_done (x)');
          throw new Error('boom');
        },
      },
    ];
    let error: unknown;
    try {
      applyMigrations(db, file, failing);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).message).toContain(
      `migration ${SCHEMA_VERSION + 1} (half done) failed: boom`,
    );
    expect((error as StoreError).message).toContain(`stays at version ${SCHEMA_VERSION}`);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(tables(db)).not.toContain('half_done');
    db.close();
  });

  it('refuse a file from a newer Vigil, with a clear error, before touching it', () => {
    openControlDb(file).close();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    const before = { sha: sha(file), mtime: statSync(file).mtimeMs, files: readdirSync(dir.path) };

    let error: unknown;
    try {
      openControlDb(file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreError);
    const e = error as StoreError;
    expect(e.code).toBe('newer-version');
    expect(e.file).toBe(file);
    expect(e.message).toContain(file);
    expect(e.message).toContain(
      `schema version ${SCHEMA_VERSION + 5}; this Vigil knows up to ${SCHEMA_VERSION}`,
    );
    expect(e.wayForward).toMatch(/newer Vigil/);
    expect(e.wayForward).toMatch(/--recover-store/);

    expect(sha(file)).toBe(before.sha);
    expect(statSync(file).mtimeMs).toBe(before.mtime);
    expect(readdirSync(dir.path)).toEqual(before.files);
    // The store refuses it the same way.
    expect(() => ControlStore.open(dir.path, { maintenanceIntervalMs: 0 })).toThrow(/newer Vigil/);
    expect(sha(file)).toBe(before.sha);
  });

  it('open read-only without writing, and refuse an outdated file read-only', () => {
    openControlDb(file).close();
    const before = sha(file);
    const ro = openControlDb(file, { readonly: true });
    expect(schemaVersion(ro)).toBe(SCHEMA_VERSION);
    expect(() => ro.exec("INSERT INTO settings VALUES ('a', '1')")).toThrow(/readonly/);
    ro.close();
    expect(sha(file)).toBe(before);

    const v1 = join(dir.path, 'v1.db');
    const old = new Database(v1);
    applyMigrations(old, v1, migrations.slice(0, 1));
    old.close();
    expect(() => openControlDb(v1, { readonly: true })).toThrow(/Start Vigil once/);
  });
});
