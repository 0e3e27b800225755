/** programs.list: the built-in programs, as the Add Service dialog offers them. */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  builtinPrograms,
  builtinScript,
  defaultDefinitions,
  demoDefinitions,
} from '../../src/main/supervisor/definitions';
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

  it('refuses the trader program under another kind, and a bad trader configuration naming the field', () => {
    const trader = (over: Record<string, unknown>) =>
      resolveDefinition({
        name: 'paper',
        kind: 'trader',
        program: { type: 'builtin', name: 'trader' },
        ...over,
      });
    const issue = (r: ReturnType<typeof resolveDefinition>) =>
      r.ok ? null : { path: r.error.issues[0]!.path.join('.'), message: r.error.issues[0]!.message };
    expect(trader({}).ok).toBe(true);
    expect(issue(trader({ kind: 'custom' }))).toEqual({
      path: 'kind',
      message: 'the trader program runs as kind trader',
    });
    expect(issue(trader({ autostart: true }))?.path).toBe('autostart');
    expect(issue(trader({ config: { symbols: [] } }))).toEqual({
      path: 'config.symbols',
      message: 'name at least one symbol',
    });
    expect(issue(trader({ config: { mode: 'live' } }))).toMatchObject({ path: 'config.mode' });
    expect(issue(trader({ config: { limits: { maxOrderNotional: 5 } } }))?.path).toMatch(/^config\.limits\./);
    expect(issue(trader({ config: { colour: 'red' } }))).toEqual({
      path: 'config.colour',
      message: 'unknown field',
    });
    expect(issue(trader({ config: { strategy: { id: 'astrology' } } }))).toEqual({
      path: 'config.strategy.id',
      message: 'no strategy "astrology": the strategies are ma-crossover, bollinger-reversion, breakout',
    });
    expect(
      issue(trader({ config: { strategy: { id: 'ma-crossover', params: { fast: 20, slow: 10 } } } })),
    ).toEqual({
      path: 'config.strategy.params.slow',
      message: 'must be more than the fast period (20)',
    });
    expect(issue(trader({ config: { strategy: { id: 'ma-crossover', params: { speed: 3 } } } }))).toEqual({
      path: 'config.strategy.params.speed',
      message: 'is not a parameter of this strategy',
    });
  });

  it('has the paper trader in the defaults and in the demo, never autostarting', () => {
    const dir = bundled();
    for (const defs of [defaultDefinitions(dir), demoDefinitions(dir)]) {
      const t = defs.find((d) => d.name === 'trader')!;
      expect(t).toMatchObject({ kind: 'trader', autostart: false, dependsOn: ['binance-spot'] });
      expect(t.config).toMatchObject({
        mode: 'paper',
        venue: 'binance-spot',
        symbols: ['BTCUSDT', 'ETHUSDT'],
      });
    }
    expect(demoDefinitions(dir).find((d) => d.name === 'trader')!.config).toMatchObject({ resolution: '1s' });
    expect(defaultDefinitions(dir).find((d) => d.name === 'trader')!.config).toMatchObject({
      resolution: '1m',
    });
  });
});
