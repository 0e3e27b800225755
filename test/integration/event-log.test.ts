/** SupervisorEventLog on real files: JSON lines with a timestamp, size rotation, never throws. */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SupervisorEventLog } from '../../src/main/supervisor/event-log';
import { tempDir } from '../helpers/temp-dir';

let dir: ReturnType<typeof tempDir>;

beforeEach(() => {
  dir = tempDir('vigil-events-');
});

afterEach(() => {
  dir.remove();
});

describe('supervisor event log', () => {
  it('appends one JSON object per line with an ISO time, and is on disk when close() resolves', async () => {
    const log = new SupervisorEventLog(join(dir.path, 'logs', 'events.log'));
    log.append({ service: 'collector-okx', from: 'starting', to: 'running', reason: 'reported ready' });
    log.append({ service: 'trader', from: 'running', to: 'stopping', reason: 'stopped by request' });
    await log.close();
    const lines = readFileSync(join(dir.path, 'logs', 'events.log'), 'utf8')
      .trimEnd()
      .split('\n');
    const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.to)).toEqual(['running', 'stopping']);
    for (const e of events) expect(new Date(e.time as string).toISOString()).toBe(e.time);
    expect(log.dropped).toBe(0);
  });

  it('rotates by size, keeping maxFiles backups', async () => {
    const path = join(dir.path, 'events.log');
    const log = new SupervisorEventLog(path, { maxFileBytes: 4096, maxFiles: 2 });
    for (let i = 0; i < 500; i++) log.append({ i, reason: 'x'.repeat(40) });
    await log.close();
    expect(readdirSync(dir.path).sort()).toEqual(['events.log', 'events.log.1', 'events.log.2']);
    for (const f of readdirSync(dir.path)) expect(statSync(join(dir.path, f)).size).toBeLessThanOrEqual(4096);
    const last = readFileSync(path, 'utf8').trimEnd().split('\n').at(-1)!;
    expect(JSON.parse(last)).toMatchObject({ i: 499 });
  });

  it('with maxFiles 0 keeps no backups: the file starts afresh', async () => {
    const path = join(dir.path, 'events.log');
    const log = new SupervisorEventLog(path, { maxFileBytes: 1024, maxFiles: 0 });
    for (let i = 0; i < 100; i++) log.append({ i, reason: 'x'.repeat(40) });
    await log.close();
    expect(readdirSync(dir.path)).toEqual(['events.log']);
    expect(statSync(path).size).toBeLessThanOrEqual(1024);
  });

  it('counts events it cannot write instead of throwing, and survives unserializable events', async () => {
    const blocked = join(dir.path, 'file');
    writeFileSync(blocked, '');
    const log = new SupervisorEventLog(join(blocked, 'events.log'));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => {
      log.append({ a: 1 });
      log.append(cyclic);
    }).not.toThrow();
    await log.close();
    expect(log.dropped).toBe(2);
  });
});
