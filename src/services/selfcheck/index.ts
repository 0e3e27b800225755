/**
 * selfcheck: proves that this machine can run Vigil's children. It checks the runtime, that the data
 * directory takes durable writes, that loopback sockets work (the bus and the API need them) and that
 * the event loop is not starved, then reports ready with the results and keeps reporting event-loop
 * delay with its heartbeats until it is stopped. A failed check exits with code 1 and says which.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startChild } from '../sdk';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();

const child = startChild({
  metrics: () => {
    const m = { eventLoopDelayP99Ms: delay.percentile(99) / 1e6, rssBytes: process.memoryUsage().rss };
    delay.reset();
    return m;
  },
});

async function check(name: string, run: () => Promise<string>): Promise<Check> {
  try {
    return { name, ok: true, detail: await run() };
  } catch (error) {
    return { name, ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

async function durableWrite(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.selfcheck-${randomBytes(4).toString('hex')}`);
  const file = await open(tmp, 'w');
  try {
    await file.writeFile('vigil selfcheck\n');
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, `${tmp}.done`);
  await rm(`${tmp}.done`);
  return `write, fsync and rename work in ${dir}`;
}

async function loopback(): Promise<string> {
  const server = createServer((socket) => socket.end('pong'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  try {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
      socket.setTimeout(2000, () => reject(new Error('loopback connection timed out')));
    });
    if (reply !== 'pong') throw new Error(`loopback echo returned ${JSON.stringify(reply)}`);
    return `TCP on 127.0.0.1:${port} works`;
  } finally {
    server.close();
  }
}

async function eventLoop(): Promise<string> {
  const probe = monitorEventLoopDelay({ resolution: 5 });
  probe.enable();
  await new Promise((r) => setTimeout(r, 250));
  probe.disable();
  const p99 = probe.percentile(99) / 1e6;
  // Only a starved machine fails: a busy CI box or a laptop on battery still runs Vigil fine.
  if (p99 > 1000) throw new Error(`event loop delay p99 ${p99.toFixed(1)} ms (over 1 s: machine overloaded)`);
  return `event loop delay p99 ${p99.toFixed(1)} ms`;
}

const checks = await Promise.all([
  check(
    'runtime',
    async () => `node ${process.version} on ${process.platform}/${process.arch}, pid ${process.pid}`,
  ),
  check('data directory', () =>
    child.dataDir ? durableWrite(child.dataDir) : Promise.reject(new Error('no data directory given')),
  ),
  check('loopback network', loopback),
  check('event loop', eventLoop),
]);

const failed = checks.filter((c) => !c.ok);
if (failed.length > 0) {
  for (const c of failed) console.error(`selfcheck: ${c.name} failed: ${c.detail}`);
  await child.stop('checks failed', 1);
} else {
  for (const c of checks) console.log(`selfcheck: ${c.name}: ${c.detail}`);
  child.ready({ checks });
}
