/**
 * The built preload (out/preload/index.cjs, made by `npm run build` before the tests) runs sandboxed:
 * it may require nothing but 'electron'. Checked by reading the bundle and by running it in a bare VM
 * context whose require() knows only a fake electron.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import { commandNames } from '../../src/shared/api';
import { exposedKeys } from '../../src/shared/client';

const bundlePath = resolve(import.meta.dirname, '../../out/preload/index.cjs');
const built = existsSync(bundlePath);

describe.skipIf(!built)('built preload bundle', () => {
  const code = built ? readFileSync(bundlePath, 'utf8') : '';

  it('requires nothing but electron', () => {
    const requires = [...code.matchAll(/\brequire\s*\(\s*([^)]*?)\s*\)/g)].map((m) => m[1]);
    expect(requires.filter((arg) => arg !== '"electron"' && arg !== "'electron'")).toEqual([]);
    expect(code).not.toMatch(/\bimport\s*\(/); // no dynamic imports either
  });

  it('runs with only electron available and exposes exactly window.vigil', () => {
    const exposeInMainWorld = vi.fn();
    const ipcRenderer = { invoke: vi.fn(() => Promise.resolve({ ok: true, result: null })), on: vi.fn() };
    const required: string[] = [];
    const fakeRequire = (id: string): unknown => {
      required.push(id);
      if (id === 'electron') return { contextBridge: { exposeInMainWorld }, ipcRenderer };
      throw new Error(`sandboxed preload cannot require ${id}`);
    };
    const module = { exports: {} };
    runInNewContext(
      `(function (exports, require, module) {\n${code}\n})`,
      { console },
      { filename: bundlePath },
    )(module.exports, fakeRequire, module);
    expect(required).toEqual(['electron']);
    expect(exposeInMainWorld).toHaveBeenCalledOnce();
    const [key, api] = exposeInMainWorld.mock.calls[0]!;
    expect(key).toBe('vigil');
    expect(exposedKeys(api as object)).toEqual([...commandNames, 'on'].sort());
    expect(ipcRenderer.on.mock.calls.map(([channel]) => channel)).toEqual(['vigil:event']);
  });
});
