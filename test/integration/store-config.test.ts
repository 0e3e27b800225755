/** Service definitions and settings in control.db: order, durability, whole-or-nothing imports, bad rows. */
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigRepository, InvalidRowError } from '../../src/main/store/config-repository';
import { openControlDb } from '../../src/main/store/database';
import { resolveDefinition, type ServiceDefinition } from '../../src/shared/service-definition';
import { tempDir } from '../helpers/temp-dir';

let dir: ReturnType<typeof tempDir>;
let db: Database;
let warnings: string[];
let repo: ConfigRepository;

const file = () => join(dir.path, 'control.db');
const open = () => {
  db = openControlDb(file());
  repo = new ConfigRepository(db, { warn: (m) => warnings.push(m), now: () => 1_000 });
};
const reopen = () => {
  db.close();
  open();
};

beforeEach(() => {
  dir = tempDir('vigil-store-config-');
  warnings = [];
  open();
});
afterEach(() => {
  db.close();
  dir.remove();
});

function def(name: string, extra: Record<string, unknown> = {}): ServiceDefinition {
  const r = resolveDefinition({
    name,
    kind: 'collector',
    program: { type: 'builtin', name: 'collector' },
    ...extra,
  });
  if (!r.ok) throw r.error;
  return r.definition;
}

describe('services', () => {
  it('is fresh until the first service is written, and stays not fresh after all are removed', () => {
    expect(repo.isFresh()).toBe(true);
    expect(repo.listServices()).toEqual([]);
    repo.setSetting('theme', 'dark');
    expect(repo.isFresh()).toBe(true); // settings alone are not the first run's end
    repo.putService(def('okx'));
    expect(repo.isFresh()).toBe(false);
    repo.removeService('okx');
    reopen();
    expect(repo.listServices()).toEqual([]);
    expect(repo.isFresh()).toBe(false);
  });

  it('keeps the order services were added in; an update keeps its place; durable across reopen', () => {
    repo.putService(def('okx'));
    repo.putService(def('binance'));
    repo.putService(def('deribit'));
    repo.putService(def('okx', { description: 'updated' }));
    repo.removeService('binance');
    repo.putService(def('bybit'));
    reopen();
    expect(repo.listServices().map((d) => d.name)).toEqual(['okx', 'deribit', 'bybit']);
    expect(repo.listServices()[0]).toEqual(def('okx', { description: 'updated' }));
  });

  it('refuses an invalid definition on the way in', () => {
    const bad = {
      ...def('okx'),
      restart: { ...def('okx').restart, policy: 'sometimes' },
    } as unknown as ServiceDefinition;
    expect(() => repo.putService(bad)).toThrow(/service "okx" is not a valid definition \(restart\.policy/);
    expect(repo.isFresh()).toBe(true);
  });

  it('reports a stored row that no longer validates, naming it, and keeps it', () => {
    repo.putService(def('okx'));
    repo.putService(def('binance'));
    db.prepare('UPDATE services SET definition = ? WHERE name = ?').run(
      JSON.stringify({ ...def('binance'), kind: 'exchange' }),
      'binance',
    );
    db.prepare('INSERT INTO services VALUES (?, ?, ?, ?)').run('broken', 9, '{not json', 1);
    expect(repo.listServices().map((d) => d.name)).toEqual(['okx']);
    const invalid = repo.invalidServices();
    expect(invalid.map((e) => [e.key, e.table])).toEqual([
      ['binance', 'services'],
      ['broken', 'services'],
    ]);
    expect(invalid[0]).toBeInstanceOf(InvalidRowError);
    expect(invalid[0]!.message).toContain(`${file()}: services row "binance" is not valid (kind: `);
    expect(invalid[1]!.message).toMatch(/services row "broken" is not valid \(not JSON/);
    // Reported once per row version, not at every read.
    expect(warnings).toHaveLength(2);
    repo.listServices();
    expect(warnings).toHaveLength(2);
    // Kept: saving the service again replaces it.
    expect(db.prepare('SELECT count(*) FROM services').pluck().get()).toBe(3);
    repo.putService(def('binance'));
    expect(repo.listServices().map((d) => d.name)).toEqual(['okx', 'binance']);
  });
});

describe('settings', () => {
  it('stores JSON values; undefined removes one', () => {
    expect(repo.getSetting('theme')).toBeUndefined();
    repo.setSetting('theme', 'dark');
    repo.setSetting('retention', { rawHours: 24, minuteDays: 30 });
    repo.setSetting('port', 7070);
    reopen();
    expect(repo.getSetting<string>('theme')).toBe('dark');
    expect(repo.getSetting('retention')).toEqual({ rawHours: 24, minuteDays: 30 });
    expect(repo.allSettings()).toEqual({
      port: 7070,
      retention: { rawHours: 24, minuteDays: 30 },
      theme: 'dark',
    });
    repo.setSetting('port', undefined);
    expect(repo.allSettings()).not.toHaveProperty('port');
  });

  it('reports a stored value that is not JSON and leaves it out', () => {
    db.prepare('INSERT INTO settings VALUES (?, ?)').run('theme', 'dark'); // not JSON: "dark" would be
    expect(repo.getSetting('theme')).toBeUndefined();
    expect(repo.allSettings()).toEqual({});
    expect(warnings).toEqual([expect.stringContaining('settings row "theme" is not valid (not JSON')]);
  });
});

describe('replaceAll (an import)', () => {
  beforeEach(() => {
    repo.putService(def('okx'));
    repo.putService(def('binance'));
    repo.setSetting('theme', 'dark');
  });

  it('replaces every definition and setting, in the order given', () => {
    repo.replaceAll([def('deribit'), def('okx', { description: 'imported' })], {
      theme: 'light',
      port: 7171,
    });
    reopen();
    expect(repo.listServices().map((d) => [d.name, d.description])).toEqual([
      ['deribit', ''],
      ['okx', 'imported'],
    ]);
    expect(repo.allSettings()).toEqual({ theme: 'light', port: 7171 });
  });

  it('applies nothing when a definition is invalid or named twice', () => {
    const bad = { ...def('deribit'), autostart: 'yes' } as unknown as ServiceDefinition;
    expect(() => repo.replaceAll([def('deribit'), bad], { theme: 'light' })).toThrow(/deribit/);
    expect(() => repo.replaceAll([def('a'), def('a')], {})).toThrow(/twice/);
    expect(repo.listServices().map((d) => d.name)).toEqual(['okx', 'binance']);
    expect(repo.allSettings()).toEqual({ theme: 'dark' });
  });

  it('applies nothing when the database fails half-way through', () => {
    db.exec(`CREATE TRIGGER fail BEFORE INSERT ON services WHEN NEW.name = 'boom'
             BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
    expect(() => repo.replaceAll([def('deribit'), def('boom'), def('bybit')], { theme: 'light' })).toThrow(
      /disk on fire/,
    );
    reopen();
    expect(repo.listServices().map((d) => d.name)).toEqual(['okx', 'binance']);
    expect(repo.allSettings()).toEqual({ theme: 'dark' });
  });
});
