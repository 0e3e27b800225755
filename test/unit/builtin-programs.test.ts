/** programs.list: the built-in programs, as the Add Service dialog offers them. */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { builtinPrograms, builtinScript } from '../../src/main/supervisor/definitions';
import { resolveDefinition } from '../../src/shared/service-definition';
import { tempDir } from '../helpers/temp-dir';

const src = resolve(import.meta.dirname, '../../src/services');
let dir: ReturnType<typeof tempDir> | null = null;

afterEach(() => {
  dir?.remove();
  dir = null;
});

/** A services folder with every program the build makes (electron.vite.config.ts: index.ts, not sdk). */
function bundled(): string {
  dir = tempDir('vigil-programs-');
  for (const name of readdirSync(src)) {
    if (name === 'sdk' || !existsSync(join(src, name, 'index.ts'))) continue;
    mkdirSync(join(dir.path, name));
    writeFileSync(builtinScript(dir.path, name), '');
  }
  return dir.path;
}

describe('built-in programs', () => {
  it('lists every program the build bundles, and only those that are there', () => {
    const all = builtinPrograms(bundled());
    expect(all.map((p) => p.name).sort()).toEqual(
      readdirSync(src)
        .filter((n) => !['sdk', 'strategies'].includes(n) && existsSync(join(src, n, 'index.ts')))
        .sort(),
    );
    dir!.remove();
    dir = tempDir('vigil-programs-');
    expect(builtinPrograms(dir.path)).toEqual([]);
  });

  it('gives each a description, a kind and a configuration example the API accepts', () => {
    for (const p of builtinPrograms(bundled())) {
      expect(p.description.length).toBeGreaterThan(20);
      const r = resolveDefinition({
        name: `my-${p.name}`,
        kind: p.kind,
        program: { type: 'builtin', name: p.name },
        config: p.config?.example ?? null,
      });
      expect(r.ok, `${p.name}: ${r.ok ? '' : r.error.message}`).toBe(true);
    }
  });
});
