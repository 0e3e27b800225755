/**
 * Supervision figures, each against a baseline measured in the same run:
 *  1. crash → restarted and ready, under Vigil and under PM2, against a bare spawn → ready of the
 *     same child (target: Vigil/bare ≤ 1.3);
 *  2. hang detection: from the last heartbeat to "unresponsive", against the configured timeout
 *     (target: ≤ timeout + 1 s);
 *  3. the supervisor's CPU and RSS while it supervises 50 children (heartbeats at 1 Hz, tree
 *     sampling every 2 s), against the same 50 children spawned bare (target: < 2 % of one core).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventHub } from '../src/main/api/event-hub';
import { Supervisor } from '../src/main/supervisor/supervisor';
import { resolveDefinition, type ServiceDefinitionInput } from '../src/shared/service-definition';
import type { ServiceTransition } from '../src/shared/services';
import { tempDir } from '../test/helpers/temp-dir';

const CRASHES = 12;
const CHILDREN = 50;
const HOLD_MS = 20_000;
const childScript = resolve(import.meta.dirname, 'children/bench-child.mjs');

// ---- the bench's own TCP server: every child reports "ready <pid>" here ----
const sockets = new Map<number, Socket>();
const readyWaiters: ((pid: number) => void)[] = [];
const server = createServer((socket) => {
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    const m = /ready (\d+)/.exec(d);
    if (!m) return;
    const pid = Number(m[1]);
    sockets.set(pid, socket);
    socket.on('close', () => sockets.get(pid) === socket && sockets.delete(pid));
    readyWaiters.shift()?.(pid);
  });
  socket.on('error', () => undefined);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as { port: number }).port;
const nextReady = () => new Promise<number>((r) => readyWaiters.push(r));

const dir = tempDir('vigil-bench-');
// A real built-in program: the bench child placed where the supervisor looks for bundles.
const servicesDir = join(dir.path, 'services');
mkdirSync(join(servicesDir, 'benchchild'), { recursive: true });
copyFileSync(childScript, join(servicesDir, 'benchchild', 'index.js'));
process.env.BENCH_PORT = String(port);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

function definition(name: string, extra: Partial<ServiceDefinitionInput> = {}) {
  const r = resolveDefinition({
    name,
    kind: 'collector', // the seed's plan: the first restart is immediate
    program: { type: 'builtin', name: 'benchchild' },
    autostart: false,
    restart: { resetAfterMs: 300, crashLoop: { maxFailures: 1000, windowMs: 60_000, action: 'alert' } },
    ...extra,
  });
  if (!r.ok) throw r.error;
  return r.definition;
}

// ---- 1. crash → restarted and ready ----
async function bareSpawnToReady(): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < CRASHES; i++) {
    const ready = nextReady();
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(servicesDir, 'benchchild', 'index.js')], {
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      serialization: 'json',
    });
    const pid = await ready;
    times.push(performance.now() - t0);
    sockets.get(pid)?.write('crash\n');
    await new Promise((r) => child.once('exit', r));
  }
  return times;
}

async function vigilCrashToReady(): Promise<number[]> {
  const events = new EventHub();
  const sup = await Supervisor.open({
    dataDir: join(dir.path, 'crash'),
    servicesDir,
    events,
    definitions: [definition('crashy')],
    autostart: false,
  });
  let pid = await Promise.all([nextReady(), sup.start('crashy')]).then(([p]) => p);
  const times: number[] = [];
  for (let i = 0; i < CRASHES; i++) {
    await sleep(500); // past resetAfterMs: every crash is a first crash
    const ready = nextReady();
    const t0 = performance.now();
    sockets.get(pid)!.write('crash\n');
    pid = await ready;
    times.push(performance.now() - t0);
  }
  await sup.close();
  return times;
}

async function pm2CrashToReady(): Promise<number[] | string> {
  process.env.PM2_HOME = join(dir.path, 'pm2');
  const { default: pm2 } = await import('pm2');
  // PM2's API is callback-based, with callbacks of one or two arguments.
  const call = (fn: (cb: (err?: Error | null) => void) => void) =>
    new Promise<void>((res, rej) => fn((err) => (err ? rej(err) : res())));
  try {
    await call((cb) => pm2.connect(cb));
    const first = nextReady();
    await call((cb) =>
      pm2.start(
        {
          script: join(servicesDir, 'benchchild', 'index.js'),
          name: 'crashy',
          autorestart: true,
          restart_delay: 0,
          max_restarts: 1000,
          min_uptime: 100,
          env: { BENCH_PORT: String(port) },
        },
        cb,
      ),
    );
    let pid = await first;
    const times: number[] = [];
    for (let i = 0; i < CRASHES; i++) {
      await sleep(500);
      const ready = nextReady();
      const t0 = performance.now();
      sockets.get(pid)!.write('crash\n');
      pid = await ready;
      times.push(performance.now() - t0);
    }
    await call((cb) => pm2.delete('crashy', cb));
    await call((cb) => pm2.killDaemon(cb));
    pm2.disconnect();
    return times;
  } catch (error) {
    return `PM2 could not run here: ${(error as Error).message}`;
  }
}

// ---- 2. hang detection ----
async function hangDetection(): Promise<{ afterLastBeat: number; timeout: number }[]> {
  const events = new EventHub();
  const transitions: ServiceTransition[] = [];
  events.listen((e, p) => e === 'service.transition' && transitions.push(p as ServiceTransition));
  const results: { afterLastBeat: number; timeout: number }[] = [];
  for (const timeoutMs of [2000, 5000]) {
    const sup = await Supervisor.open({
      dataDir: join(dir.path, `hang-${timeoutMs}`),
      servicesDir,
      events,
      definitions: [definition('hangs', { heartbeat: { intervalMs: 1000, timeoutMs } })],
      autostart: false,
    });
    const [pid] = await Promise.all([nextReady(), sup.start('hangs')]);
    await sleep(2500);
    sockets.get(pid)!.write('hang\n');
    const deadline = Date.now() + timeoutMs + 10_000;
    let t: ServiceTransition | undefined;
    while (
      !(t = transitions.find((x) => x.service === 'hangs' && x.health === 'unresponsive')) &&
      Date.now() < deadline
    ) {
      await sleep(10);
    }
    const lastBeat = sup.get('hangs').lastHeartbeatAt ?? NaN;
    results.push({ afterLastBeat: (t?.at ?? NaN) - lastBeat, timeout: timeoutMs });
    transitions.length = 0;
    await sup.close();
  }
  return results;
}

// ---- 3. cost of supervising 50 children ----
async function holdCost(run: () => Promise<() => Promise<void>>): Promise<{ cpu: number; rss: number }> {
  const stop = await run();
  await sleep(3000); // let start-up settle
  const rss0 = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(HOLD_MS);
  const cpu = process.cpuUsage(cpu0);
  const wallUs = (performance.now() - t0) * 1000;
  const rss = process.memoryUsage().rss;
  await stop();
  return { cpu: ((cpu.user + cpu.system) / wallUs) * 100, rss: Math.max(rss, rss0) };
}

async function bareChildren(): Promise<() => Promise<void>> {
  const children: ChildProcess[] = [];
  const ready = Array.from({ length: CHILDREN }, () => nextReady());
  for (let i = 0; i < CHILDREN; i++) {
    const c = spawn(process.execPath, [join(servicesDir, 'benchchild', 'index.js')], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    c.on('message', () => undefined);
    c.stdout!.resume();
    c.stderr!.resume();
    children.push(c);
  }
  await Promise.all(ready);
  return async () => {
    await Promise.all(children.map((c) => new Promise((r) => (c.once('exit', r), c.kill('SIGTERM')))));
  };
}

async function supervisedChildren(): Promise<() => Promise<void>> {
  const sup = await Supervisor.open({
    dataDir: join(dir.path, 'fifty'),
    servicesDir,
    events: new EventHub(),
    definitions: Array.from({ length: CHILDREN }, (_, i) => definition(`child-${i}`)),
    autostart: false,
  });
  const ready = Array.from({ length: CHILDREN }, () => nextReady());
  for (let i = 0; i < CHILDREN; i++) await sup.start(`child-${i}`);
  await Promise.all(ready);
  return () => sup.close();
}

// ---- run and print ----
const bare = await bareSpawnToReady();
const vigil = await vigilCrashToReady();
const pm2 = await pm2CrashToReady();
console.log(
  `crash → restarted and ready (median of ${CRASHES}; first restart immediate in both supervisors)`,
);
console.log(`  baseline: bare spawn → ready            ${fmt(median(bare))}`);
console.log(
  `  vigil:    crash → restarted → ready     ${fmt(median(vigil))}   ratio ${(median(vigil) / median(bare)).toFixed(2)} (target ≤ 1.3)`,
);
if (typeof pm2 === 'string') console.log(`  pm2:      ${pm2}`);
else {
  console.log(
    `  pm2:      crash → restarted → ready     ${fmt(median(pm2))}   ratio ${(median(pm2) / median(bare)).toFixed(2)}`,
  );
}

const hangs = await hangDetection();
console.log('hang detection (last heartbeat → unresponsive)');
for (const h of hangs) {
  console.log(
    `  timeout ${h.timeout} ms: detected after ${fmt(h.afterLastBeat)}, late by ${fmt(h.afterLastBeat - h.timeout)} (target ≤ +1000 ms)`,
  );
}

const baseCost = await holdCost(bareChildren);
const supCost = await holdCost(supervisedChildren);
console.log(`cost of ${CHILDREN} children over ${HOLD_MS / 1000} s (this process)`);
console.log(
  `  baseline: spawned bare        CPU ${baseCost.cpu.toFixed(2)} % of one core, RSS ${(baseCost.rss / 2 ** 20).toFixed(0)} MB`,
);
console.log(
  `  vigil:    supervised          CPU ${supCost.cpu.toFixed(2)} % of one core, RSS ${(supCost.rss / 2 ** 20).toFixed(0)} MB`,
);
console.log(
  `  supervision overhead:         CPU ${(supCost.cpu - baseCost.cpu).toFixed(2)} % of one core (target < 2 %)`,
);

server.close();
for (const s of sockets.values()) s.destroy();
dir.remove();
process.exit(0);
