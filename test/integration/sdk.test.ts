/**
 * The child SDK, through the real selfcheck program (out/services/selfcheck/index.js, built by
 * `npx electron-vite build`): ready, heartbeats and metrics on the configured interval, a graceful
 * stop, and no orphan when the process that supervises it is SIGKILLed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChildMessage } from '../../src/shared/child-protocol';
import { until } from '../helpers/process-fixtures';
import { isRunning as alive } from '../helpers/processes';
import { tempDir } from '../helpers/temp-dir';

const selfcheck = resolve(import.meta.dirname, '../../out/services/selfcheck/index.js');

let dir: ReturnType<typeof tempDir>;
const pids: number[] = [];
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = tempDir('vigil-sdk-');
});

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const pid of pids.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  dir.remove();
});

function startSelfcheck(): {
  child: ChildProcess;
  messages: { at: number; message: ChildMessage }[];
  exited: Promise<{ code: number | null; signal: string | null }>;
} {
  const child = spawn(process.execPath, [selfcheck], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'json',
    env: {
      ...process.env,
      VIGIL_PARENT_PID: String(process.pid),
      VIGIL_SERVICE: 'selfcheck',
      VIGIL_DATA_DIR: dir.path,
      VIGIL_HEARTBEAT_MS: '200',
    },
  });
  children.push(child);
  child.stdout!.resume();
  child.stderr!.resume();
  const messages: { at: number; message: ChildMessage }[] = [];
  child.on('message', (message: ChildMessage) => messages.push({ at: Date.now(), message }));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  return { child, messages, exited };
}

describe('child SDK (via selfcheck)', () => {
  it('reports ready with its checks, then heartbeats and metrics every VIGIL_HEARTBEAT_MS', async () => {
    const { messages } = startSelfcheck();
    await until(() => messages.some((m) => m.message.type === 'ready'), 'ready');
    const ready = messages.find((m) => m.message.type === 'ready')!.message;
    expect(ready).toMatchObject({ type: 'ready', detail: { checks: expect.any(Array) } });
    const checks = (ready as { detail: { checks: { name: string; ok: boolean }[] } }).detail.checks;
    expect(checks.map((c) => c.name)).toEqual([
      'runtime',
      'data directory',
      'loopback network',
      'event loop',
    ]);
    expect(checks.every((c) => c.ok)).toBe(true);

    const count = (type: string) => messages.filter((m) => m.message.type === type).length;
    await until(() => count('heartbeat') >= 6 && count('metrics') >= 6, 'six heartbeats and metrics');
    const beats = messages.filter((m) => m.message.type === 'heartbeat');
    for (const { message } of beats) {
      expect(message).toEqual({ type: 'heartbeat', at: expect.any(Number) });
    }
    const gaps = beats.slice(1).map((b, i) => b.at - beats[i]!.at);
    const median = gaps.sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
    // 200 ms configured (the default is 1000 ms); wide bounds for a loaded machine.
    expect(median).toBeGreaterThan(120);
    expect(median).toBeLessThan(600);
    const metrics = messages.find((m) => m.message.type === 'metrics')!.message;
    expect(metrics).toEqual({
      type: 'metrics',
      values: { eventLoopDelayP99Ms: expect.any(Number), rssBytes: expect.any(Number) },
    });
  });

  it('exits 0 on a stop message', async () => {
    const { child, messages, exited } = startSelfcheck();
    await until(() => messages.some((m) => m.message.type === 'ready'), 'ready');
    child.send({ type: 'stop', reason: 'test' });
    expect(await exited).toEqual({ code: 0, signal: null });
  });

  it('re-sends ready after a reload and acknowledges pause and resume with a status', async () => {
    const { child, messages } = startSelfcheck();
    await until(() => messages.some((m) => m.message.type === 'ready'), 'ready');
    child.send({ type: 'pause' });
    child.send({ type: 'resume' });
    child.send({ type: 'reload', config: { any: 'thing' } });
    await until(() => messages.filter((m) => m.message.type === 'ready').length === 2, 'a second ready');
    const control = messages.filter((m) => m.message.type === 'status' || m.message.type === 'ready');
    expect(control.map((m) => m.message)).toEqual([
      expect.objectContaining({ type: 'ready' }),
      { type: 'status', health: 'healthy', message: 'paused' },
      { type: 'status', health: 'healthy', message: 'resumed' },
      expect.objectContaining({ type: 'ready', detail: { checks: expect.any(Array) } }),
    ]);
  });

  // With a channel, its EOF says the supervisor is gone; without one, only the parent-pid watchdog can.
  it.each([
    ['with an IPC channel', true],
    ['without a channel (parent-pid watchdog)', false],
  ])('exits by itself within 3 s when its supervisor is SIGKILLed, %s', async (_, ipc) => {
    // An intermediate supervisor: spawns selfcheck, prints its pid, and waits to be killed.
    const script = join(dir.path, 'supervisor.mjs');
    writeFileSync(
      script,
      `import { spawn } from 'node:child_process';
const child = spawn(process.execPath, [${JSON.stringify(selfcheck)}], {
  stdio: ['ignore', 'inherit', 'inherit'${ipc ? ", 'ipc'" : ''}],
  serialization: 'json',
  env: { ...process.env, VIGIL_PARENT_PID: String(process.pid) },
});
console.log('child ' + child.pid);
setInterval(() => {}, 1000);
`,
    );
    const supervisor = spawn(process.execPath, [script], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        VIGIL_SERVICE: 'selfcheck',
        VIGIL_DATA_DIR: dir.path,
        VIGIL_HEARTBEAT_MS: '200',
      },
    });
    children.push(supervisor);
    let out = '';
    supervisor.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    // selfcheck prints its results just before it reports ready: the SDK is running by then.
    await until(() => /child (\d+)/.test(out) && out.includes('selfcheck: event loop'), 'selfcheck ready');
    const pid = Number(/child (\d+)/.exec(out)![1]);
    pids.push(pid);
    expect(alive(pid)).toBe(true);

    const t0 = Date.now();
    supervisor.kill('SIGKILL');
    await until(() => !alive(pid), 'the orphan to exit', 10_000);
    const ms = Date.now() - t0;
    console.info(`selfcheck ${ipc ? 'with' : 'without'} a channel exited ${ms} ms after its supervisor died`);
    expect(ms).toBeLessThan(3_000);
  });
});
