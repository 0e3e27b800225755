/** The service manager against real child processes. */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServiceDefinition } from '../../src/main/supervisor/definitions';
import { ServiceManager } from '../../src/main/supervisor/service-manager';
import type { ServiceInfo } from '../../src/shared/services';
import { tempDir } from '../helpers/temp-dir';

const servicesDir = resolve(import.meta.dirname, '../../out/services');

function nodeScript(name: string, code: string, stopTimeoutMs = 3000): ServiceDefinition {
  return {
    name,
    kind: 'custom',
    description: name,
    program: { type: 'command', command: process.execPath, args: ['-e', code] },
    autostart: false,
    stopTimeoutMs,
  };
}

let dir: ReturnType<typeof tempDir>;
let changes: ServiceInfo[];
let manager: ServiceManager;

function make(definitions: ServiceDefinition[]): ServiceManager {
  manager = new ServiceManager({
    dataDir: dir.path,
    servicesDir,
    definitions,
    onChange: (i) => changes.push(i),
  });
  return manager;
}

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeEach(() => {
  dir = tempDir();
  changes = [];
});

afterEach(async () => {
  await manager?.close();
  dir.remove();
});

describe('service manager', () => {
  it('starts a command, logs its output, and stops it with SIGTERM', async () => {
    const m = make([nodeScript('ticker', 'console.log("tick"); setInterval(() => {}, 1000)')]);
    const started = await m.start('ticker');
    expect(started.pid).toBeGreaterThan(0);
    await until(() => m.get('ticker').state === 'running', 'running');
    const logFile = join(dir.path, 'logs', 'ticker.log');
    await until(() => readFileSync(logFile, 'utf8').includes('[out] tick'), 'its output in the log');
    const stopped = await m.stop('ticker');
    expect(stopped.state).toBe('stopped');
    expect(stopped.lastExit?.signal).toBe('SIGTERM');
    expect(() => process.kill(started.pid!, 0)).toThrow();
    expect(readFileSync(logFile, 'utf8')).toMatch(/\[vigil\] killed by SIGTERM/);
  });

  it('kills a child that ignores SIGTERM after its stop timeout', async () => {
    const m = make([
      nodeScript('stubborn', 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)', 800),
    ]);
    const { pid } = await m.start('stubborn');
    await until(() => m.get('stubborn').state === 'running', 'running');
    await new Promise((r) => setTimeout(r, 300)); // let the child install its handler
    const t0 = Date.now();
    const stopped = await m.stop('stubborn');
    expect(stopped.lastExit?.signal).toBe('SIGKILL');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
    expect(() => process.kill(pid!, 0)).toThrow();
  });

  it('records an unexpected exit with its code', async () => {
    const m = make([nodeScript('crasher', 'setTimeout(() => process.exit(3), 100)')]);
    await m.start('crasher');
    await until(() => m.get('crasher').lastExit !== null, 'exit');
    expect(m.get('crasher')).toMatchObject({ state: 'stopped', reason: 'exited with code 3', pid: null });
  });

  it('reports a command that cannot be launched', async () => {
    const m = make([
      {
        ...nodeScript('ghost', ''),
        program: { type: 'command', command: '/nonexistent/vigil-bin', args: [] },
      },
    ]);
    await m.start('ghost');
    await until(() => m.get('ghost').lastExit !== null, 'exit');
    expect(m.get('ghost').reason).toMatch(/could not start/);
  });

  it('runs a built-in program to ready and restarts it', async () => {
    const m = make([
      {
        name: 'selfcheck',
        kind: 'custom',
        description: 'x',
        program: { type: 'builtin', name: 'selfcheck' },
        autostart: false,
        stopTimeoutMs: 5000,
      },
    ]);
    await m.start('selfcheck');
    await until(() => m.get('selfcheck').state === 'running', 'ready');
    const first = m.get('selfcheck');
    await until(() => m.get('selfcheck').lastHeartbeatAt !== null, 'a heartbeat', 10_000);
    const again = await m.restart('selfcheck');
    expect(again.restarts).toBe(1);
    expect(again.pid).not.toBe(first.pid);
    await until(() => m.get('selfcheck').state === 'running', 'ready again');
    const stopped = await m.stop('selfcheck');
    // The child handles the stop request itself and exits cleanly.
    expect(stopped.lastExit).toMatchObject({ code: 0, signal: null });
  });

  it('serializes concurrent requests and is idempotent', async () => {
    const m = make([nodeScript('idle', 'setInterval(() => {}, 1000)')]);
    const [a, b] = await Promise.all([m.start('idle'), m.start('idle')]);
    expect(a.pid).toBe(b.pid);
    const [s1, s2] = await Promise.all([m.stop('idle'), m.stop('idle')]);
    expect(s1.state).toBe('stopped');
    expect(s2.state).toBe('stopped');
    expect(() => m.get('missing')).toThrow(/no service named "missing"/);
  });
});
