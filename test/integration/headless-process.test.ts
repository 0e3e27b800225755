/** `node out/main/headless.js` as a real process: arguments, port conflicts, shutdown, orphans. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceInfo } from '../../src/shared/services';
import { connect } from '../helpers/ws-client';
import { tempDir } from '../helpers/temp-dir';

const entry = resolve(import.meta.dirname, '../../out/main/headless.js');
const running: ChildProcess[] = [];
const dirs: ReturnType<typeof tempDir>[] = [];

function launch(args: string[]): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [entry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => output, exited };
}

async function serving(output: () => string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const m = /serving on (http:\/\/\S+)/.exec(output());
    if (m) return m[1]!;
    if (Date.now() > deadline) throw new Error(`server did not start:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

afterEach(() => {
  for (const c of running.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) d.remove();
});

function dataDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d.path;
}

describe('headless process', () => {
  it('refuses bad arguments with a clear message and exit code 2', async () => {
    const p = launch(['--port', 'abc']);
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain('--port must be a number');
    expect(p.output()).toContain('Usage: npm run headless');
  });

  it('says when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const { port } = blocker.address() as { port: number };
    try {
      const p = launch(['--port', String(port), '--data-dir', dataDir()]);
      expect(await p.exited).toBe(1);
      expect(p.output()).toContain(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
  });

  it('stops its services on SIGTERM, and its children do not outlive a SIGKILL', async () => {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const p = launch(['--port', '0', '--data-dir', dataDir(), '--token', 'process-test-token-123']);
      const url = new URL(await serving(p.output));
      const client = await connect(`ws://${url.host}/api/ws?token=process-test-token-123`);
      await client.call('services.start', { name: 'selfcheck' });
      let info: ServiceInfo | null = null;
      const deadline = Date.now() + 20_000;
      while (info?.state !== 'running' && Date.now() < deadline) {
        const r = await client.call('services.get', { name: 'selfcheck' });
        if (r.ok) info = r.result as ServiceInfo;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(info?.state).toBe('running');
      await client.close();
      p.child.kill(signal);
      const code = await p.exited;
      if (signal === 'SIGTERM') expect(code).toBe(0);
      expect(await gone(info!.pid!), `selfcheck child outlived ${signal} of the server`).toBe(true);
    }
  });
});
