/** Which better-sqlite3 addon the store loads: the package's under Node, the Electron build in Electron. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { electronNativeBinding } from '../../src/services/sqlite/native-binding';

const node = { ...process.versions, electron: undefined } as unknown as NodeJS.ProcessVersions;
const electron = { ...process.versions, electron: '40.9.3' } as NodeJS.ProcessVersions;
const files =
  (...present: string[]) =>
  (p: string) =>
    present.includes(p);

describe('electronNativeBinding', () => {
  it('is undefined under plain Node (tests, headless): the package loads its own build', () => {
    expect(electronNativeBinding({ versions: node, appRoot: '/app', exists: () => true })).toBeUndefined();
  });

  it('finds <app root>/native/electron/better_sqlite3.node inside Electron', () => {
    const path = join('/app', 'native', 'electron', 'better_sqlite3.node');
    expect(electronNativeBinding({ versions: electron, appRoot: '/app', exists: files(path) })).toBe(path);
  });

  it('prefers the unpacked copy next to app.asar when packaged', () => {
    const root = join('/opt', 'Vigil', 'resources', 'app.asar');
    const unpacked = join(
      '/opt',
      'Vigil',
      'resources',
      'app.asar.unpacked',
      'native',
      'electron',
      'better_sqlite3.node',
    );
    expect(electronNativeBinding({ versions: electron, appRoot: root, exists: files(unpacked) })).toBe(
      unpacked,
    );
  });

  it('is undefined when the Electron build was not made', () => {
    expect(
      electronNativeBinding({ versions: electron, appRoot: '/app', exists: () => false }),
    ).toBeUndefined();
  });

  it('finds the app root from its own location (the folder with package.json)', () => {
    const repo = join(import.meta.dirname, '..', '..');
    const expected = join(repo, 'native', 'electron', 'better_sqlite3.node');
    const exists = (p: string) => p === join(repo, 'package.json') || p === expected;
    expect(electronNativeBinding({ versions: electron, exists })).toBe(expected);
  });
});
