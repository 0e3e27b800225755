/**
 * The desktop quit against real child processes (everything but Electron itself): a trader on top of
 * two services it depends on. Cancel keeps them all running; agreeing stops the trader first, then
 * the others in the reverse of their start order; the one that ignores SIGTERM is killed after its
 * stop timeout; the app quits only once no process of any tree is left.
 */
import { EventEmitter } from 'node:events';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { createCore, type Core } from '../../src/main/core';
import { installQuitSequence, type TradingSummary } from '../../src/main/electron/quit-sequence';
import { resolveDefinition, type ServiceDefinitionInput } from '../../src/shared/service-definition';
import type { ServiceTransition } from '../../src/shared/services';
import { fixturePath, ProcessFixtures, until } from '../helpers/process-fixtures';
import { isRunning } from '../helpers/processes';
import { tempDir } from '../helpers/temp-dir';

const servicesDir = resolve(import.meta.dirname, '../../out/services');
const IGNORER_STOP_MS = 1500;

let dir: ReturnType<typeof tempDir>;
let core: Core | null;
const fixtures = new ProcessFixtures();

beforeEach(() => {
  dir = tempDir();
  core = null;
});

afterEach(async () => {
  await core?.close();
  await fixtures.cleanup();
  dir.remove();
});

/** Quits on every before-quit that is not prevented, as Electron does. */
class FakeApp extends EventEmitter {
  quitted = 0;
  quit(): void {
    let prevented = false;
    this.emit('before-quit', { preventDefault: () => (prevented = true) });
    if (!prevented) this.quitted++;
  }
}

function fixtureService(
  name: string,
  kind: ServiceDefinitionInput['kind'],
  args: string[],
  extra: Partial<ServiceDefinitionInput> = {},
) {
  const r = resolveDefinition({
    name,
    kind,
    program: { type: 'command', command: process.execPath, args: [fixturePath, ...args] },
    protocol: 'vigil',
    heartbeat: { intervalMs: 200, timeoutMs: 5000 },
    readiness: { type: 'message', timeoutMs: 10_000 },
    stop: { timeoutMs: 3000 },
    ...extra,
  });
  if (!r.ok) throw new Error(`${name}: ${r.error.issues[0]?.message}`);
  return r.definition;
}

it('asks, stops the trader first and the rest in reverse start order, kills what ignores SIGTERM, then quits', async () => {
  const treeFile = join(dir.path, 'feed-tree.pids');
  core = await createCore({
    mode: 'desktop',
    dataDir: dir.path,
    servicesDir,
    definitions: [
      fixtureService('feed', 'collector', ['--tree', treeFile]),
      fixtureService('signals', 'optimizer', ['--ignore-sigterm'], {
        dependsOn: ['feed'],
        stop: { timeoutMs: IGNORER_STOP_MS },
      }),
      fixtureService('trader', 'trader', [], {
        dependsOn: ['signals'],
        config: { mode: 'paper', symbols: ['BTCUSDT'] },
      }),
    ],
    supervisor: { autostart: false, sampleIntervalMs: 200 },
  });
  const c = core;
  const transitions: ServiceTransition[] = [];
  c.events.listen((event, payload) => {
    if (event === 'service.transition') transitions.push(payload as ServiceTransition);
  });
  expect(c.supervisor.startOrder()).toEqual(['feed', 'signals', 'trader']);
  await c.supervisor.start('trader', { mode: 'paper' });
  await until(() => c.supervisor.list().every((s) => s.state === 'running'), 'all three running');
  const pids = c.supervisor.list().map((s) => s.pid!);
  const tree = await fixtures.treePids(treeFile, 3);
  for (const pid of pids) fixtures.remember(pid);

  const app = new FakeApp();
  const answers = [false, true];
  const confirm = vi.fn((_t: TradingSummary) => Promise.resolve(answers.shift()!));
  const quit = installQuitSequence({
    app,
    services: () => c.supervisor.list(),
    confirm,
    shutdown: () => c.close(),
    capMs: () => c.supervisor.shutdownBudgetMs() + 10_000,
  });

  // Cancel: nothing stops.
  app.quit();
  await until(() => quit.phase === 'running' && confirm.mock.calls.length === 1, 'the cancelled question');
  expect(confirm).toHaveBeenCalledWith({ traders: ['trader'], mode: 'paper', symbols: ['BTCUSDT'] });
  expect(c.supervisor.list().map((s) => s.state)).toEqual(['running', 'running', 'running']);
  expect(pids.every(isRunning)).toBe(true);

  // Agreed: stopped in order, then quit.
  app.quit();
  await until(() => app.quitted === 1, 'the app to quit', 30_000);
  expect(quit.phase).toBe('done');
  expect([...pids, ...tree.map((t) => t.pid)].filter(isRunning)).toEqual([]);

  const steps = transitions
    .filter((t) => t.to === 'stopping' || (t.to === 'stopped' && t.from === 'stopping'))
    .map((t) => `${t.to} ${t.service}`);
  // Each one is gone before the next is asked to stop.
  expect(steps).toEqual([
    'stopping trader',
    'stopped trader',
    'stopping signals',
    'stopped signals',
    'stopping feed',
    'stopped feed',
  ]);
  const signalsStopping = transitions.find((t) => t.service === 'signals' && t.to === 'stopping')!;
  const signalsStopped = transitions.find((t) => t.service === 'signals' && t.to === 'stopped')!;
  expect(signalsStopped.exit).toMatchObject({ signal: 'SIGKILL' });
  // Killed only once its stop timeout had passed (a lower bound, not a speed claim).
  expect(signalsStopped.at - signalsStopping.at).toBeGreaterThanOrEqual(IGNORER_STOP_MS - 50);
  for (const name of ['trader', 'feed']) {
    expect(transitions.find((t) => t.service === name && t.to === 'stopped')?.exit?.signal).not.toBe(
      'SIGKILL',
    );
  }
  core = null; // closed by the quit
}, 60_000);
