/**
 * The child protocol is language-neutral: a stdlib-only Python program
 * (test/fixtures/children/protocol_child.py, written from docs/child-protocol.md) speaks it with a
 * real Node parent over the IPC channel.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { childMessageSchema, type ChildMessage } from '../../src/shared/child-protocol';
import { until } from '../helpers/process-fixtures';
import { isRunning as alive } from '../helpers/processes';
import { tempDir } from '../helpers/temp-dir';

const file = resolve(import.meta.dirname, '../fixtures/children/protocol_child.py');
const doc = resolve(import.meta.dirname, '../../docs/child-protocol.md');
const hasPython = (() => {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let dir: ReturnType<typeof tempDir>;
const children: ChildProcess[] = [];
const pids: number[] = [];

beforeEach(() => {
  dir = tempDir('vigil-py-');
});

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const pid of pids.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  dir.remove();
});

function startPython(args: string[] = [], program = file) {
  const child = spawn('python3', [program, ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'json',
    env: { ...process.env, VIGIL_SERVICE: 'py', VIGIL_HEARTBEAT_MS: '200' },
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const messages: { at: number; message: ChildMessage }[] = [];
  const invalid: unknown[] = [];
  child.on('message', (raw: unknown) => {
    // Everything it sends must pass the supervisor's own schema.
    const parsed = childMessageSchema.safeParse(raw);
    if (parsed.success) messages.push({ at: Date.now(), message: parsed.data });
    else invalid.push(raw);
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  const of = (type: ChildMessage['type']) => messages.filter((m) => m.message.type === type);
  return { child, messages, invalid, of, exited, output: () => output };
}

describe.skipIf(!hasPython)('child protocol from Python', () => {
  it('sends ready with a detail, then heartbeats every VIGIL_HEARTBEAT_MS', async () => {
    const py = startPython();
    await until(() => py.of('heartbeat').length >= 6, 'six heartbeats');
    expect(py.messages[0]!.message).toEqual({
      type: 'ready',
      detail: { pid: py.child.pid, python: expect.any(String), service: 'py' },
    });
    const beats = py.of('heartbeat');
    expect(beats[0]!.message).toEqual({
      type: 'heartbeat',
      at: expect.any(Number),
      payload: { paused: false },
    });
    const gaps = beats.slice(2).map((b, i) => b.at - beats[i + 1]!.at);
    const median = gaps.sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
    expect(median).toBeGreaterThan(120);
    expect(median).toBeLessThan(600);
    expect(py.invalid).toEqual([]);
  });

  it('answers pause and resume with a status, re-sends ready after reload, and exits 0 on stop', async () => {
    const py = startPython();
    await until(() => py.of('ready').length === 1, 'ready');
    py.child.send({ type: 'pause' });
    await until(() => py.of('status').length === 1, 'the pause status');
    expect(py.of('status')[0]!.message).toEqual({ type: 'status', health: 'healthy', message: 'paused' });
    // Paused is not hung: heartbeats go on, and say so.
    await until(
      () =>
        py.of('heartbeat').some((h) => h.message.type === 'heartbeat' && h.message.payload?.paused === true),
      'a paused heartbeat',
    );
    py.child.send({ type: 'resume' });
    await until(() => py.of('status').length === 2, 'the resume status');
    expect(py.of('status')[1]!.message).toEqual({ type: 'status', health: 'healthy', message: 'resumed' });

    py.child.send({ type: 'reload', config: { symbols: ['BTCUSDT'] } });
    await until(() => py.of('ready').length === 2, 'ready after reload');
    expect(py.of('ready')[1]!.message).toMatchObject({
      type: 'ready',
      detail: { config: { symbols: ['BTCUSDT'] }, reloads: 1 },
    });

    py.child.send({ type: 'stop', reason: 'test over' });
    expect(await py.exited).toEqual({ code: 0, signal: null });
    expect(py.output()).toContain('stopping: test over');
    expect(py.invalid).toEqual([]);
  });

  it('treats SIGTERM like the stop message: exit code 0', async () => {
    const py = startPython();
    await until(() => py.of('ready').length === 1, 'ready');
    py.child.kill('SIGTERM');
    expect(await py.exited).toEqual({ code: 0, signal: null });
  });

  it('exits when the supervisor closes the channel', async () => {
    const py = startPython();
    await until(() => py.of('ready').length === 1, 'ready');
    const t0 = Date.now();
    py.child.disconnect();
    expect(await py.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(py.output()).toContain('channel closed');
  });

  it('exits with the requested code after ready (78: configuration error), or never says ready', async () => {
    const failing = startPython(['--exit-code', '78']);
    expect(await failing.exited).toEqual({ code: 78, signal: null });
    await until(() => failing.of('ready').length === 1, 'its ready message');

    const silent = startPython(['--no-ready']);
    await until(() => silent.of('heartbeat').length >= 3, 'heartbeats');
    expect(silent.of('ready')).toEqual([]);
  });

  it('exits within 3 s when its supervisor is SIGKILLed', async () => {
    const script = join(dir.path, 'supervisor.mjs');
    writeFileSync(
      script,
      `import { spawn } from 'node:child_process';
const child = spawn('python3', [${JSON.stringify(file)}], {
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  serialization: 'json',
  env: { ...process.env, VIGIL_PARENT_PID: String(process.pid) },
});
child.on('message', (m) => { if (m.type === 'ready') console.log('child ' + child.pid); });
setInterval(() => {}, 1000);
`,
    );
    const supervisor = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(supervisor);
    let out = '';
    supervisor.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    await until(() => /child (\d+)/.test(out), 'the python pid');
    const pid = Number(/child (\d+)/.exec(out)![1]);
    pids.push(pid);
    const t0 = Date.now();
    supervisor.kill('SIGKILL');
    await until(() => !alive(pid), 'the orphan to exit', 10_000);
    expect(Date.now() - t0).toBeLessThan(3_000);
  });

  it('runs the example in docs/child-protocol.md as written', async () => {
    const text = readFileSync(doc, 'utf8');
    const section = text.slice(text.indexOf('## A complete example in Python'));
    const example = /```python\n([\s\S]*?)```/.exec(section)![1]!;
    const program = join(dir.path, 'example.py');
    writeFileSync(program, example);
    const py = startPython([], program);
    await until(() => py.of('heartbeat').length >= 2, 'ready and heartbeats');
    expect(py.messages[0]!.message).toEqual({ type: 'ready', detail: { pid: py.child.pid } });
    py.child.send({ type: 'pause' });
    py.child.send({ type: 'reload', config: {} });
    await until(() => py.of('ready').length === 2, 'ready after reload');
    expect(py.of('status').map((s) => s.message)).toEqual([
      { type: 'status', health: 'healthy', message: 'paused' },
    ]);
    py.child.send({ type: 'stop', reason: 'done' });
    expect(await py.exited).toEqual({ code: 0, signal: null });
    expect(py.invalid).toEqual([]);
  });
});
