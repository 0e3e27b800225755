/** The core with its real control.db: configuration that survives, history the API can query. */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../src/main/core';
import type { ConfigChange } from '../../src/shared/config';
import type { Envelope } from '../../src/shared/errors';
import type { AlertRecord, EventRecord, Page, SeriesResult } from '../../src/shared/history';
import { recordOfAlert, recordOfTransition } from '../../src/shared/history';
import type {
  BuiltinProgram,
  LogLine,
  ServiceAlertEvent,
  ServiceInfo,
  ServiceTransitionEvent,
} from '../../src/shared/services';
import type { Settings } from '../../src/shared/settings';
import { until } from '../helpers/process-fixtures';
import { tempDir } from '../helpers/temp-dir';

const servicesDir = resolve(import.meta.dirname, '../../out/services');
const fixture = resolve(import.meta.dirname, '../fixtures/children/fixture.mjs');

let dir: ReturnType<typeof tempDir>;
let core: Core | null;

async function open(): Promise<Core> {
  core = await createCore({
    mode: 'headless',
    dataDir: dir.path,
    servicesDir,
    supervisor: { autostart: false, sampleIntervalMs: 200 },
  });
  return core;
}

async function call<T>(command: string, input: unknown = {}): Promise<Envelope<T>> {
  return (await core!.router.dispatch(command, input, { transport: 'internal' })) as Envelope<T>;
}

async function ok<T>(command: string, input: unknown = {}): Promise<T> {
  const r = await call<T>(command, input);
  if (!r.ok) throw new Error(`${command}: ${r.error.code} ${r.error.message}`);
  return r.result;
}

beforeEach(() => {
  dir = tempDir();
  core = null;
});

afterEach(async () => {
  await core?.close();
  dir.remove();
});

const crasher = {
  name: 'crasher',
  kind: 'custom',
  program: {
    type: 'command',
    command: process.execPath,
    args: [fixture, '--exit-after', '300', '--code', '3'],
  },
  protocol: 'vigil',
  heartbeat: { intervalMs: 200, timeoutMs: 2000 },
  restart: {
    backoff: { type: 'steps', stepsMs: [100] },
    crashLoop: { maxFailures: 2, windowMs: 60_000, action: 'fatal' },
  },
};

describe('core with control.db', () => {
  it('creates the default configuration on first run, and keeps what a person changes', async () => {
    await open();
    const first = await ok<ServiceInfo[]>('services.list');
    // The self-check, the optimizer, the seed's five collectors on the live public endpoints, and a
    // paper trader fed by the Binance spot one.
    const defaults = [
      'selfcheck',
      'optimizer',
      'binance-spot',
      'binance-usdm',
      'okx-spot',
      'okx-swap',
      'deribit',
      'trader',
    ];
    expect(first.map((s) => s.name)).toEqual(defaults);
    expect(first.find((s) => s.name === 'trader')?.definition).toMatchObject({
      kind: 'trader',
      autostart: false,
      dependsOn: ['binance-spot'],
      config: { mode: 'paper', venue: 'binance-spot', symbols: ['BTCUSDT', 'ETHUSDT'] },
    });
    expect(first.find((s) => s.name === 'binance-usdm')?.definition.config).toEqual({
      venue: 'binance-usdm',
    });
    // Dependents first: the trader before the collector it depends on.
    for (const name of [...defaults].reverse()) await ok('services.remove', { name });
    await ok('services.add', { definition: crasher });
    await core!.close();
    await open();
    const names = (await ok<ServiceInfo[]>('services.list')).map((s) => s.name);
    expect(names).toEqual(['crasher']); // removed defaults stay removed
  });

  it('records transitions and alerts, and a person can acknowledge an alert', async () => {
    await open();
    await ok('services.add', { definition: crasher });
    await ok('services.start', { name: 'crasher' });
    await until(() => core!.supervisor.get('crasher').state === 'fatal', 'fatal');
    const events = await ok<Page<EventRecord>>('events.list', { service: 'crasher' });
    expect(events.items[0]).toMatchObject({ to: 'fatal', service: 'crasher' });
    expect(events.items.some((e) => e.to === 'backoff' && e.exitCode === 3)).toBe(true);
    const page = await ok<Page<EventRecord>>('events.list', { service: 'crasher', limit: 2 });
    expect(page.items).toHaveLength(2);
    const rest = await ok<Page<EventRecord>>('events.list', { service: 'crasher', before: page.next });
    expect(rest.items[0]!.id).toBeLessThan(page.items[1]!.id);

    const alerts = await ok<Page<AlertRecord>>('alerts.list', { state: 'open' });
    const fatal = alerts.items.find((a) => a.kind === 'fatal')!;
    expect(fatal).toMatchObject({ service: 'crasher', acknowledgedAt: null });
    const acked = await ok<AlertRecord>('alerts.acknowledge', { id: fatal.id });
    expect(acked.acknowledgedAt).not.toBeNull();
    expect(await call('alerts.acknowledge', { id: 999_999 })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    await ok('services.acknowledge', { name: 'crasher' });
    const cleared = await ok<Page<AlertRecord>>('alerts.list', { service: 'crasher', kind: 'fatal' });
    expect(cleared.items[0]!.clearedAt).not.toBeNull();
  });

  it('gives live transitions and alerts their history ids, and announces every alert it clears', async () => {
    await open();
    const live: { event: string; payload: unknown }[] = [];
    core!.events.listen((event, payload) => live.push({ event, payload }));
    const of = <T>(name: string): T[] => live.filter((e) => e.event === name).map((e) => e.payload as T);
    const from = Date.now();
    await ok('services.add', { definition: crasher });
    await ok('services.start', { name: 'crasher' });
    await until(() => core!.supervisor.get('crasher').state === 'fatal', 'fatal');

    // A live transition is the row events.list returns, id and all.
    const transitions = of<ServiceTransitionEvent>('service.transition');
    const stored = await ok<Page<EventRecord>>('events.list', { service: 'crasher' });
    expect(stored.items.map((e) => e.id)).toEqual(transitions.map((t) => t.id).reverse());
    expect(stored.items).toEqual(transitions.map(recordOfTransition).reverse());

    // A live alert can be acknowledged by its id, without looking it up.
    const fatal = of<ServiceAlertEvent>('service.alert').find((a) => a.kind === 'fatal')!;
    const acked = await ok<AlertRecord>('alerts.acknowledge', { id: fatal.id });
    expect(acked).toEqual({ ...recordOfAlert(fatal), acknowledgedAt: acked.acknowledgedAt });
    expect(of<AlertRecord>('alert.changed')).toEqual([acked]);

    // Acknowledging the service clears its fatal and crash-loop alerts: one alert.changed for each.
    const loop = of<ServiceAlertEvent>('service.alert').find((a) => a.kind === 'crash-loop');
    live.length = 0;
    await ok('services.acknowledge', { name: 'crasher' });
    const changed = of<AlertRecord>('alert.changed');
    expect(changed.map((a) => a.id).sort()).toEqual([fatal.id, ...(loop ? [loop.id] : [])].sort());
    expect(changed.every((a) => a.clearedAt !== null)).toBe(true);
    expect(changed.find((a) => a.id === fatal.id)!.acknowledgedAt).toBe(acked.acknowledgedAt);
    const cleared = await ok<Page<AlertRecord>>('alerts.list', { service: 'crasher', state: 'cleared' });
    expect(cleared.items).toEqual(expect.arrayContaining(changed));

    // alerts.list by state and time.
    const ids = async (q: Record<string, unknown>) =>
      (await ok<Page<AlertRecord>>('alerts.list', { service: 'crasher', ...q })).items.map((a) => a.id);
    expect(await ids({ state: 'acknowledged' })).toEqual([fatal.id]);
    expect(await ids({ state: 'open', kind: 'fatal' })).toEqual([]);
    expect(await ids({ from, to: Date.now() + 1 })).toContain(fatal.id);
    expect(await ids({ to: from })).toEqual([]);
    expect(await call('alerts.list', { state: 'closed' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', field: 'state' },
    });
    expect(await call('alerts.list', { open: true })).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', field: 'open' },
    });
  });

  it('pages back through a service’s output with a before cursor, numbered on across a restart', async () => {
    await open();
    const printer = {
      name: 'printer',
      kind: 'custom',
      program: {
        type: 'command',
        command: process.execPath,
        args: ['-e', 'for (let i = 0; i < 3000; i++) console.log("line " + i)'],
      },
      restart: { policy: 'never' },
    };
    await ok('services.add', { definition: printer });
    await ok('services.start', { name: 'printer' });
    await until(
      async () =>
        (await ok<LogLine[]>('services.logs', { name: 'printer', lines: 1, stream: 'out' }))[0]?.text ===
        'line 2999',
      'the last line',
    );
    const recent = await ok<LogLine[]>('services.logs', { name: 'printer', lines: 5, stream: 'out' });
    const older = await ok<LogLine[]>('services.logs', {
      name: 'printer',
      lines: 2000,
      stream: 'out',
      before: recent[0]!.seq,
    });
    expect(older.map((l) => l.text)).toEqual(Array.from({ length: 2000 }, (_, i) => `line ${i + 995}`));
    await core!.close();

    // A new run: the ring is empty, so older lines come from the file, numbered as before.
    await open();
    const again = await ok<LogLine[]>('services.logs', {
      name: 'printer',
      lines: 3,
      stream: 'out',
      before: older[0]!.seq,
    });
    expect(again.map((l) => l.text)).toEqual(['line 992', 'line 993', 'line 994']);
    expect(again.at(-1)!.seq).toBeLessThan(older[0]!.seq);
    // Its next output is numbered after everything before the restart.
    await ok('services.start', { name: 'printer' });
    await until(async () => {
      const [line] = await ok<LogLine[]>('services.logs', { name: 'printer', lines: 1, stream: 'out' });
      return line?.text === 'line 2999';
    }, 'the second run');
    const [last] = await ok<LogLine[]>('services.logs', { name: 'printer', lines: 1, stream: 'out' });
    const [first] = await ok<LogLine[]>('services.logs', {
      name: 'printer',
      lines: 1,
      contains: 'line 0',
      before: last!.seq,
    });
    expect(first).toMatchObject({ text: 'line 0' });
    expect(first!.seq).toBeGreaterThan(recent.at(-1)!.seq);
    expect(await call('services.logs', { name: 'printer', before: 0 })).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', field: 'before' },
    });
  });

  it('lists the built-in programs this installation has', async () => {
    await open();
    const programs = await ok<BuiltinProgram[]>('programs.list');
    expect(programs.map((p) => p.name)).toEqual([
      'collector',
      'optimizer',
      'selfcheck',
      'simulator',
      'trader',
    ]);
    expect(programs.find((p) => p.name === 'collector')).toMatchObject({
      kind: 'collector',
      config: { required: true, example: { venue: 'binance-spot' } },
    });
    expect(programs.find((p) => p.name === 'selfcheck')!.config).toBeNull();
  });

  it('records resource samples as metric series', async () => {
    await open();
    await ok('services.add', {
      definition: { ...crasher, name: 'steady', program: { ...crasher.program, args: [fixture] } },
    });
    const from = Date.now();
    await ok('services.start', { name: 'steady' });
    await until(async () => {
      const s = await ok<SeriesResult>('history.series', {
        service: 'steady',
        metric: 'rss',
        from,
        to: Date.now() + 1000,
      });
      return s.points.length >= 2;
    }, 'samples');
    const rss = await ok<SeriesResult>('history.series', {
      service: 'steady',
      metric: 'rss',
      from,
      to: Date.now() + 1000,
    });
    expect(rss.resolution).toBe('raw');
    expect(rss.bucketMs).toBe(1000); // samples every 200 ms, stored per second
    expect(rss.points[0]!.avg).toBeGreaterThan(10 * 1024 * 1024);
    const keys = await ok<{ service: string; metric: string }[]>('history.metrics', { service: 'steady' });
    expect(keys.map((k) => k.metric)).toEqual(expect.arrayContaining(['cpu', 'rss']));
    expect(await call('history.series', { service: 'steady', metric: 'rss', from: 10, to: 5 })).toMatchObject(
      {
        ok: false,
        error: { code: 'invalid_input', field: 'to' },
      },
    );
  });

  it('exports and imports the whole configuration, with a dry run, and a bad import changes nothing', async () => {
    await open();
    const { text } = await ok<{ text: string }>('config.export', { format: 'yaml' });
    expect(text).toContain('selfcheck');
    const edited = text.replace(/rawHours: 24/, 'rawHours: 48');
    const dry = await ok<{ applied: boolean; changes: ConfigChange[] }>('config.import', { text: edited });
    expect(dry.applied).toBe(false);
    expect(dry.changes).toEqual([
      { kind: 'change', path: 'settings.retention.rawHours', before: 24, after: 48 },
    ]);
    expect((await ok<Settings>('settings.get')).retention.rawHours).toBe(24);

    const bad = await call('config.import', {
      text: edited.replace('kind: custom', 'kind: bogus'),
      dryRun: false,
    });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect((await ok<Settings>('settings.get')).retention.rawHours).toBe(24);

    const applied = await ok<{ applied: boolean }>('config.import', { text: edited, dryRun: false });
    expect(applied.applied).toBe(true);
    await core!.close();
    await open();
    expect((await ok<Settings>('settings.get')).retention.rawHours).toBe(48);
  });

  it('validates settings changes, naming the field, and keeps them across a restart', async () => {
    await open();
    expect(await call('settings.update', { patch: { retention: { rawHours: 0 } } })).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', field: expect.stringMatching(/retention\.rawHours/) },
    });
    const s = await ok<Settings>('settings.update', { patch: { theme: 'light' } });
    expect(s.theme).toBe('light');
    await core!.close();
    await open();
    expect((await ok<Settings>('settings.get')).theme).toBe('light');
  });
});

describe('a bad control.db', () => {
  it('is refused with a clear error naming the file, and moved aside only when asked', async () => {
    writeFileSync(join(dir.path, 'control.db'), 'this is not a database, just some bytes '.repeat(200));
    await expect(createCore({ mode: 'headless', dataDir: dir.path, servicesDir })).rejects.toThrow(
      /control\.db is not a valid database.*--recover-store/s,
    );
    core = await createCore({ mode: 'headless', dataDir: dir.path, servicesDir, recoverStore: true });
    const aside = readdirSync(dir.path).filter((f) => f.startsWith('control.db.bad-'));
    expect(aside).toHaveLength(1);
    expect(existsSync(join(dir.path, aside[0]!))).toBe(true);
    expect((await ok<ServiceInfo[]>('services.list')).map((s) => s.name)).toContain('selfcheck');
  });
});
