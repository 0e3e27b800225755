/** The supervisor against real child processes that misbehave on purpose (test/fixtures/children). */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventHub } from '../../src/main/api/event-hub';
import { createCore } from '../../src/main/core';
import { Supervisor } from '../../src/main/supervisor/supervisor';
import type { BusSample } from '../../src/shared/bus';
import {
  resolveDefinition,
  type ServiceDefinition,
  type ServiceDefinitionInput,
} from '../../src/shared/service-definition';
import type {
  LogLine,
  MetricsSample,
  ServiceAlertEvent,
  ServiceInfo,
  ServiceTransitionEvent,
} from '../../src/shared/services';
import { isRunning } from '../helpers/processes';
import { tempDir } from '../helpers/temp-dir';

const fixture = resolve(import.meta.dirname, '../fixtures/children/fixture.mjs');
const pythonChild = resolve(import.meta.dirname, '../fixtures/children/protocol_child.py');
const servicesDir = resolve(import.meta.dirname, '../../out/services');

let dir: ReturnType<typeof tempDir>;
let events: EventHub;
let transitions: ServiceTransitionEvent[];
let alerts: ServiceAlertEvent[];
let sup: Supervisor | null;

function fixtureService(
  name: string,
  args: string[],
  extra: Partial<ServiceDefinitionInput> = {},
): ServiceDefinitionInput {
  return {
    name,
    kind: 'custom',
    program: { type: 'command', command: process.execPath, args: [fixture, ...args] },
    protocol: 'vigil',
    heartbeat: { intervalMs: 200, timeoutMs: 1500 },
    readiness: { type: 'message', timeoutMs: 10_000 },
    restart: { backoff: { type: 'steps', stepsMs: [100, 200, 400] }, minUptimeMs: 500 },
    stop: { timeoutMs: 3000 },
    ...extra,
  };
}

let saved: Map<string, ServiceDefinition>;
/** The ids the test's recorder handed out (transitions and alerts share them). */
let recordedIds: number;

/** A supervised protocol child that uses the bus through the SDK (run with tsx, so from the repo). */
function busService(name: string, role: 'pub' | 'sub'): ServiceDefinitionInput {
  const child = resolve(import.meta.dirname, '../fixtures/bus/sdk-bus-child.ts');
  return {
    name,
    kind: 'custom',
    program: { type: 'command', command: process.execPath, args: ['--import', 'tsx', child, role] },
    protocol: 'vigil',
    cwd: resolve(import.meta.dirname, '../..'), // where tsx resolves from
    heartbeat: { intervalMs: 200, timeoutMs: 5000 },
  };
}

async function open(inputs: ServiceDefinitionInput[]): Promise<Supervisor> {
  const definitions = inputs.map((i) => {
    const r = resolveDefinition(i);
    if (!r.ok)
      throw new Error(`${i.name}: ${r.error.issues[0]?.path.join('.')} ${r.error.issues[0]?.message}`);
    return r.definition;
  });
  sup = await Supervisor.open({
    dataDir: dir.path,
    servicesDir,
    events,
    definitions,
    autostart: false,
    sampleIntervalMs: 200,
    recorder: {
      saveDefinition: (d) => saved.set(d.name, d),
      removeDefinition: (n) => saved.delete(n),
      transition: () => (recordedIds += 1),
      alert: () => (recordedIds += 1),
      alertCleared: () => undefined,
      samples: () => undefined,
    },
  });
  return sup;
}

async function until<T>(
  what: string,
  probe: () => T | undefined | null | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const alive = isRunning;

const statesOf = (name: string) => transitions.filter((t) => t.service === name).map((t) => t.to);

beforeEach(() => {
  dir = tempDir();
  events = new EventHub();
  transitions = [];
  alerts = [];
  saved = new Map();
  recordedIds = 0;
  events.listen((event, payload) => {
    if (event === 'service.transition') transitions.push(payload as ServiceTransitionEvent);
    if (event === 'service.alert') alerts.push(payload as ServiceAlertEvent);
  });
  sup = null;
});

afterEach(async () => {
  await sup?.close();
  dir.remove();
});

describe('supervisor with real processes', () => {
  it('tells every window of a service added or updated, with its full info', async () => {
    const seen: ServiceInfo[] = [];
    events.listen((event, payload) => event === 'service.state' && seen.push(payload as ServiceInfo));
    const s = await open([]);
    s.add(fixtureService('added', [], { description: 'first' }));
    s.update('added', fixtureService('added', [], { description: 'second' }));
    expect(seen.map((i) => [i.name, i.state, i.definition.description])).toEqual([
      ['added', 'stopped', 'first'],
      ['added', 'stopped', 'second'],
    ]);
  });

  it('restarts a child that crashes at once with backoff, and raises a crash-loop alert', async () => {
    const s = await open([
      fixtureService('crasher', ['--exit-after', '0', '--code', '1'], {
        restart: {
          backoff: { type: 'steps', stepsMs: [0, 100, 200] },
          crashLoop: { maxFailures: 4, windowMs: 60_000, action: 'alert' },
        },
      }),
    ]);
    await s.start('crasher');
    await until('a crash-loop alert', () => alerts.find((a) => a.kind === 'crash-loop'));
    const info = s.get('crasher');
    expect(info.crashLoop).toBe(true);
    expect(info.restarts).toBeGreaterThanOrEqual(3);
    const backoffs = transitions.filter((t) => t.service === 'crasher' && t.to === 'backoff');
    const delays = backoffs.slice(0, 3).map((t) => t.nextRestartAt! - t.at);
    [0, 100, 200].forEach((d, i) => expect(Math.abs(delays[i]! - d)).toBeLessThanOrEqual(5));
    expect(backoffs[0]!.exit).toMatchObject({ code: 1 });
    // Each live event carries the id its recorder gave it, in the order they were recorded.
    const ids = [...transitions, ...alerts].map((e) => e.id).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: recordedIds }, (_, i) => i + 1));
  });

  it('runs a child that crashes twice and then stays up', async () => {
    const counter = join(dir.path, 'count');
    const s = await open([fixtureService('flaky', ['--crash-times', '2', '--counter', counter])]);
    await s.start('flaky');
    await until('running', () => s.get('flaky').state === 'running');
    expect(s.get('flaky').restarts).toBe(2);
    expect(statesOf('flaky')).toEqual(['starting', 'backoff', 'starting', 'backoff', 'starting', 'running']);
  });

  it('treats exit 0, a no-restart code and exit 78 as their definitions say', async () => {
    const s = await open([
      fixtureService('clean', ['--exit-after', '800', '--code', '0']),
      fixtureService('answer', ['--exit-after', '100', '--code', '42'], {
        restart: { noRestartExitCodes: [42] },
      }),
      fixtureService('misconfigured', ['--exit-after', '100', '--code', '78']),
    ]);
    await Promise.all([s.start('clean'), s.start('answer'), s.start('misconfigured')]);
    await until('all settled', () =>
      ['clean', 'answer', 'misconfigured'].every((n) => s.get(n).lastExit !== null) ? true : null,
    );
    expect(s.get('clean')).toMatchObject({ state: 'stopped', lastExit: { code: 0 } });
    expect(s.get('answer')).toMatchObject({ state: 'stopped', reason: expect.stringMatching(/no-restart/) });
    expect(s.get('misconfigured')).toMatchObject({
      state: 'fatal',
      reason: expect.stringMatching(/configuration error/),
    });
  });

  it('kills a child that ignores SIGTERM after its stop timeout, and its 3-level tree with an escapee', async () => {
    const pids = join(dir.path, 'tree.pids');
    const s = await open([
      fixtureService('stubborn', ['--ignore-sigterm', '--tree', pids, '--escape'], {
        stop: { timeoutMs: 1000 },
      }),
    ]);
    await s.start('stubborn');
    await until('running', () => s.get('stubborn').state === 'running');
    const tree = await until('three levels', () => {
      const list = existsSync(pids) ? readFileSync(pids, 'utf8').trim().split('\n').map(Number) : [];
      return list.length === 3 ? list : null;
    });
    expect(tree.every(alive)).toBe(true);
    const t0 = Date.now();
    const stopped = await s.stop('stubborn');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(stopped).toMatchObject({ state: 'stopped', pid: null, lastExit: { signal: 'SIGKILL' } });
    expect(tree.filter(alive)).toEqual([]);
    expect(alerts.filter((a) => a.kind === 'survivors')).toEqual([]);
  });

  it('restarts a child that leaks past its hard memory limit', async () => {
    const MB = 1024 * 1024;
    const s = await open([
      fixtureService('leaky', ['--leak-mb', '10'], {
        memory: { softBytes: 100 * MB, hardBytes: 200 * MB, hardSamples: 2 },
      }),
    ]);
    await s.start('leaky');
    await until(
      'a memory restart',
      () => transitions.find((t) => t.service === 'leaky' && /memory/.test(t.reason)),
      30_000,
    );
    expect(alerts.some((a) => a.kind === 'memory-soft')).toBe(true);
    expect(alerts.some((a) => a.kind === 'memory-hard')).toBe(true);
  });

  it('restarts a child that stops heartbeating, within the timeout plus a second', async () => {
    const s = await open([fixtureService('hung', ['--hang-after', '500'])]);
    await s.start('hung');
    await until('running', () => s.get('hung').state === 'running');
    const lastBeat = await until('the last heartbeat', () => {
      const i = s.get('hung');
      return i.lastHeartbeatAt !== null && Date.now() - i.lastHeartbeatAt > 400 ? i.lastHeartbeatAt : null;
    });
    const t = await until('unresponsive', () =>
      transitions.find((x) => x.service === 'hung' && x.health === 'unresponsive'),
    );
    expect(t.at - lastBeat).toBeLessThanOrEqual(1500 + 1000);
    await until('restarted', () => s.get('hung').restarts >= 1);
  });

  it('counts a child that never says ready as a failed start', async () => {
    const s = await open([
      fixtureService('mute', ['--ready-after=-1'], { readiness: { type: 'message', timeoutMs: 800 } }),
    ]);
    await s.start('mute');
    const t = await until('the start timeout', () =>
      transitions.find((x) => x.service === 'mute' && x.to === 'backoff'),
    );
    expect(t.reason).toMatch(/start timeout/);
    expect(s.get('mute').failures).toBeGreaterThanOrEqual(1);
  });

  it('keeps a flooding child unblocked and its log tail current; joins partial lines', async () => {
    const s = await open([
      fixtureService('flood', ['--flood', '100000']),
      fixtureService('halves', ['--partial']),
    ]);
    await s.start('flood');
    await s.start('halves');
    await until('flood ready', () => s.get('flood').state === 'running', 30_000);
    await until('the last flood line', () =>
      s.logTail('flood', 5, { stream: 'out' }).some((l) => l.text.startsWith('flood line 99999')),
    );
    const joined = await until('the joined line', () =>
      s.logTail('halves', 50, { contains: 'half' }).find((l) => l.stream === 'out'),
    );
    expect(joined.text).toBe('first half, second half');
    // The ring buffer has a line before the disk does: the file catches up without blocking anyone.
    await until('the last flood line on disk', () =>
      readFileSync(join(dir.path, 'logs', 'flood.log'), 'utf8').includes('flood line 99999'),
    );
  });

  it('supervises a Python child that speaks the protocol', async () => {
    const s = await open([
      {
        name: 'py',
        kind: 'custom',
        program: { type: 'command', command: 'python3', args: [pythonChild] },
        protocol: 'vigil',
        heartbeat: { intervalMs: 200, timeoutMs: 2000 },
      },
    ]);
    await s.start('py');
    const ready = await until('ready', () => (s.get('py').state === 'running' ? s.get('py') : null));
    expect(ready.detail).toBeTruthy();
    await until('a heartbeat', () => s.get('py').lastHeartbeatAt);
    await s.pause('py');
    await s.resume('py');
    await s.reload('py', { threshold: 3 });
    await until('ready after reload', () => s.get('py').state === 'running');
    const stopped = await s.stop('py');
    expect(stopped.lastExit).toMatchObject({ code: 0 });
  });

  it('starts what a service depends on first, and marks dependents degraded when it goes', async () => {
    const s = await open([
      fixtureService('feed', []),
      fixtureService('strategy', [], { dependsOn: ['feed'] }),
    ]);
    await s.start('strategy');
    expect(s.get('feed').state).toBe('running');
    await until('strategy running', () => s.get('strategy').state === 'running');
    await s.stop('feed');
    expect(s.get('strategy')).toMatchObject({ state: 'running', health: 'degraded' });
    expect(s.get('strategy').healthReason).toMatch(/dependency feed is stopped/);
  });

  it('adds, updates and removes services with clear validation errors', async () => {
    const s = await open([]);
    const added = s.add(fixtureService('extra', []));
    expect(added).toMatchObject({ name: 'extra', state: 'stopped' });
    expect(() => s.add(fixtureService('extra', []))).toThrow(/already exists/);
    expect(() => s.add({ ...fixtureService('t', []), kind: 'trader', autostart: true })).toThrow(
      expect.objectContaining({ code: 'invalid_input', field: 'definition.autostart' }),
    );
    expect(() => s.add({ ...fixtureService('d', []), dependsOn: ['ghost'] })).toThrow(
      expect.objectContaining({ field: 'definition.dependsOn.0' }),
    );
    const updated = s.update('extra', { ...fixtureService('extra', []), description: 'now described' });
    expect(updated.description).toBe('now described');
    expect(saved.get('extra')?.description).toBe('now described');
    await s.start('extra');
    await expect(s.remove('extra')).rejects.toMatchObject({ code: 'conflict' });
    await s.stop('extra');
    expect(await s.remove('extra')).toEqual({ removed: 'extra' });
    expect(saved.has('extra')).toBe(false);
    expect(s.list()).toEqual([]);
  });

  it('starts a trader only with its mode confirmed by a person; a restart after a crash needs none', async () => {
    const s = await open([
      fixtureService('t', ['--exit-after', '1500', '--code', '1'], {
        kind: 'trader',
        config: { mode: 'paper' },
      }),
      fixtureService('dependent', [], { dependsOn: ['t'] }),
    ]);
    const refused = { code: 'confirmation-required', field: 'confirm' };
    await expect(s.start('t')).rejects.toMatchObject({
      ...refused,
      message: 't trades on paper: to start it, a person confirms that with confirm: { mode: "paper" }',
    });
    await expect(s.start('t', { mode: 'live' })).rejects.toMatchObject({
      ...refused,
      message: expect.stringContaining('trades on paper, not "live"') as string,
    });
    await expect(s.restart('t')).rejects.toMatchObject(refused);
    // Nor does starting what depends on it start it.
    await expect(s.start('dependent')).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('a person starts a trader') as string,
    });
    expect(s.get('t').state).toBe('stopped');
    expect(transitions.filter((t) => t.service === 't')).toEqual([]);

    await s.start('t', { mode: 'paper' });
    await until('running', () => s.get('t').state === 'running');
    // It crashes: the restart policy brings it back by itself, no confirmation asked.
    await until('backoff after the crash', () =>
      transitions.some((t) => t.service === 't' && t.to === 'backoff'),
    );
    await until('running again', () => s.get('t').state === 'running' && s.get('t').restarts === 1);
    await expect(s.restart('t')).rejects.toMatchObject(refused);
    expect((await s.restart('t', { mode: 'paper' })).restarts).toBe(2);
    await s.stop('t');
  });

  it('never autostarts a trader, not even one stored with autostart or one a service depends on', async () => {
    const defs = [
      fixtureService('t', [], { kind: 'trader' }),
      fixtureService('dependent', [], { dependsOn: ['t'], autostart: true }),
      fixtureService('other', [], { autostart: true }),
    ].map((i) => {
      const r = resolveDefinition(i);
      if (!r.ok) throw r.error;
      return r.definition;
    });
    // Stored by an older Vigil, before validation refused it.
    defs[0]!.autostart = true;
    sup = await Supervisor.open({ dataDir: dir.path, servicesDir, events, definitions: defs });
    const s = sup;
    await until('other running', () => s.get('other').state === 'running');
    await new Promise((r) => setTimeout(r, 500));
    expect(s.get('t').state).toBe('stopped');
    expect(s.get('dependent').state).toBe('stopped');
    const log = readFileSync(join(dir.path, 'logs', 'supervisor.log'), 'utf8');
    expect(log).toMatch(/autostart-failed.*dependent.*needs the trader t/);
  });

  it('leaves zero processes behind on close, traders first', async () => {
    const pids = join(dir.path, 'tree.pids');
    const s = await open([
      fixtureService('collector', ['--tree', pids], { kind: 'collector' }),
      fixtureService('trader', [], { kind: 'trader', dependsOn: ['collector'] }),
    ]);
    // A command of unknown mode: confirmed as one that may trade live.
    await s.start('trader', { mode: 'live' });
    await until('trader running', () => s.get('trader').state === 'running');
    const tree = await until('tree', () => {
      const l = existsSync(pids) ? readFileSync(pids, 'utf8').trim().split('\n').map(Number) : [];
      return l.length === 3 ? l : null;
    });
    const traderPid = s.get('trader').pid!;
    await s.close();
    sup = null;
    expect([...tree, traderPid].filter(alive)).toEqual([]);
    const stops = transitions.filter((t) => t.to === 'stopped').map((t) => t.service);
    expect(stops).toEqual(['trader', 'collector']);
  });
  it('reports whole-tree CPU and memory, the heartbeat age, and output, as events', async () => {
    const samples: MetricsSample[] = [];
    const logEvents: { service: string; lines: LogLine[] }[] = [];
    events.listen((event, payload) => {
      if (event === 'metrics') samples.push(payload as MetricsSample);
      if (event === 'service.log') logEvents.push(payload as { service: string; lines: LogLine[] });
    });
    const s = await open([fixtureService('worker', ['--partial'])]);
    await s.start('worker');
    const sample = await until('a metrics sample with usage', () =>
      samples.find((m) => m.services.some((x) => x.name === 'worker' && x.rssBytes !== null)),
    );
    const worker = sample.services.find((x) => x.name === 'worker')!;
    expect(worker).toMatchObject({ state: 'running', health: 'healthy' });
    expect(worker.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(worker.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(worker.heartbeatAgeMs).toBeLessThan(1500);
    expect(sample.totals).toMatchObject({ services: 1, running: 1 });
    expect(sample.supervisor.rssBytes).toBeGreaterThan(0);
    await until('output as an event', () =>
      logEvents.some(
        (e) => e.service === 'worker' && e.lines.some((l) => l.text === 'first half, second half'),
      ),
    );
  });
  it('tells a running subscriber about a publisher added after it started', async () => {
    const s = await open([busService('strategy', 'sub')]);
    await s.start('strategy');
    await until('the subscriber running', () => s.get('strategy').state === 'running');
    s.add(busService('late-feed', 'pub'));
    await s.start('late-feed');
    await until('a message from the late publisher', () =>
      s
        .logTail('strategy', 20, { stream: 'out' })
        .some((l) => l.text.startsWith('got md.test-venue.BTCUSDT.trade')),
    );
    // Removed, it stops being a peer: its socket goes, and nobody keeps dialling it.
    await s.stop('late-feed');
    await s.remove('late-feed');
    expect(existsSync(join(dir.path, 'bus', 'late-feed.sock'))).toBe(false);
    expect(s.get('strategy').state).toBe('running');
  });

  it('tells protocol children where the bus is: one publishes, another subscribes with a wildcard', async () => {
    const samples: BusSample[] = [];
    events.listen((event, payload) => event === 'bus.sample' && samples.push(payload as BusSample));
    const s = await open([busService('feed', 'pub'), busService('strategy', 'sub')]);
    await s.start('feed');
    await s.start('strategy');
    const got = await until('a message across the bus', () =>
      s
        .logTail('strategy', 20, { stream: 'out' })
        .find((l) => l.text.startsWith('got md.test-venue.BTCUSDT.trade')),
    );
    expect(got.text).toMatch(/"n":\d+/);
    // The bus counters arrive with the child's metrics (and so into the history).
    await until('bus metrics', () => (s.get('feed').metrics?.['bus.published'] ?? 0) > 0);
    await until(
      'the subscriber’s bus metrics',
      () => s.get('strategy').metrics?.['bus.dropped'] !== undefined,
    );
    expect(s.get('strategy').metrics?.['bus.dropped']).toBe(0);
    // Per subscriber, at 1 Hz: the publisher names the strategy's connection, with its depth and rate.
    const feedView = await until('the publisher’s per-subscriber report', () =>
      s.get('feed').bus?.find((b) => b.remote && b.id === 'strategy' && b.deliveredPerSec > 0),
    );
    expect(feedView).toMatchObject({ dropped: 0, droppedPerSec: 0, capacity: expect.any(Number) });
    expect(feedView.patterns.length).toBeGreaterThan(0);
    const own = await until('the subscriber’s own subscription', () =>
      s.get('strategy').bus?.find((b) => !b.remote && b.delivered > 0),
    );
    expect(own.queueDepth).toBeLessThanOrEqual(own.capacity);
    // The supervisor sees throttled samples (counts and the last message per subject), not the stream.
    const sample = await until('a sample', () => samples.find((x) => x.service === 'feed'));
    expect(sample.counts['md.test-venue.BTCUSDT.trade']).toBeGreaterThan(0);
    expect(sample.last['md.test-venue.BTCUSDT.trade']).toMatchObject({ n: expect.any(Number) });
  });
});

describe('one supervisor per data directory', () => {
  it('refuses a second core on the same directory, with a clear message', async () => {
    const first = await createCore({ mode: 'headless', dataDir: dir.path, servicesDir, definitions: [] });
    try {
      await expect(
        createCore({ mode: 'headless', dataDir: dir.path, servicesDir, definitions: [] }),
      ).rejects.toThrow(/already using/);
    } finally {
      await first.close();
    }
  });
});

export type { ServiceInfo };
