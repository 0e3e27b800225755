/** `node out/main/headless.js` as a real process: arguments, port conflicts, shutdown, orphans. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { ControlStore } from '../../src/main/store/store';
import { resolveDefinition } from '../../src/shared/service-definition';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceInfo } from '../../src/shared/services';
import { isRunning } from '../helpers/processes';
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
  // --demo: the default collectors read the local market simulator, never a real exchange.
  const child = spawn(process.execPath, [entry, '--demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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

const alive = isRunning;

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
      // SDK children leave within 2 s of losing their supervisor; allow 3 s.
      const limit = signal === 'SIGKILL' ? 3000 : 15_000;
      expect(await gone(info!.pid!, limit), `selfcheck child outlived ${signal} of the server`).toBe(true);
    }
  });

  it('refuses a second server on the same data directory', async () => {
    const dir = dataDir();
    const first = launch(['--port', '0', '--data-dir', dir]);
    await serving(first.output);
    const second = launch(['--port', '0', '--data-dir', dir]);
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(/already using/);
  });

  it('kills what a SIGKILLed run left behind before it starts anything', async () => {
    const dir = dataDir();
    const pidsFile = join(dir, 'tree.pids');
    const fixture = resolve(import.meta.dirname, '../fixtures/children/fixture.mjs');
    const tree = resolveDefinition({
      name: 'tree',
      kind: 'custom',
      program: { type: 'command', command: process.execPath, args: [fixture, '--tree', pidsFile] },
    });
    if (!tree.ok) throw tree.error;
    const seed = ControlStore.open(dir);
    seed.config.putService(tree.definition);
    seed.close();
    const token = 'leftover-test-token-1234';
    const first = launch(['--port', '0', '--data-dir', dir, '--token', token]);
    const url = new URL(await serving(first.output));
    const client = await connect(`ws://${url.host}/api/ws?token=${token}`);
    expect((await client.call('services.start', { name: 'tree' })).ok).toBe(true);
    const deadline = Date.now() + 20_000;
    let pids: number[] = [];
    while (pids.length < 3 && Date.now() < deadline) {
      pids = existsSync(pidsFile) ? readFileSync(pidsFile, 'utf8').trim().split('\n').map(Number) : [];
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(pids).toHaveLength(3);
    await client.close();
    first.child.kill('SIGKILL');
    await first.exited;
    // The root goes with its parent (parent-death signal); its descendants are leftovers for now.
    expect(await gone(pids[0]!, 5000)).toBe(true);
    const leftovers = pids.slice(1).filter(alive);
    expect(leftovers.length).toBeGreaterThan(0);

    const second = launch(['--port', '0', '--data-dir', dir, '--token', token]);
    await serving(second.output);
    for (const pid of pids) expect(await gone(pid, 5000), `pid ${pid} outlived the next start`).toBe(true);
    // The event log is written asynchronously: wait for the line rather than read once.
    const logFile = join(dir, 'logs', 'supervisor.log');
    const logged = async (): Promise<boolean> => {
      for (const until = Date.now() + 10_000; Date.now() < until;) {
        if (existsSync(logFile) && readFileSync(logFile, 'utf8').includes('leftover-killed')) return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    };
    expect(await logged(), 'supervisor.log names the leftover-killed event').toBe(true);
  });
});
