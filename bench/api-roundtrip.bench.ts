/**
 * Cost of the control API over the headless WebSocket (frame parsing, schema validation, routing,
 * handler, reply), against a bare `ws` echo server answering the same frames on the same machine.
 * Prints latency percentiles and pipelined throughput for both, and their ratio.
 */
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket, { WebSocketServer } from 'ws';
import { createCore } from '../src/main/core';
import { startHeadlessServer } from '../src/main/server/headless-server';
import { tempDir } from '../test/helpers/temp-dir';

const SEQUENTIAL = 5000;
const PIPELINED = 20000;
const token = 'bench-token-0123456789abcdef';

async function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await new Promise<void>((r, j) => {
    ws.once('open', () => r());
    ws.once('error', j);
  });
  return ws;
}

/** Sends `count` requests one at a time; returns per-request latencies in ms. */
async function sequential(ws: WebSocket, make: (id: number) => string, count: number): Promise<number[]> {
  const lat: number[] = [];
  let pending: (() => void) | null = null;
  ws.on('message', (d) => {
    if (JSON.parse(d.toString()).type === 'reply') pending?.();
  });
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await new Promise<void>((r) => {
      pending = r;
      ws.send(make(i));
    });
    lat.push(performance.now() - t0);
  }
  ws.removeAllListeners('message');
  return lat;
}

/** Sends `count` requests without waiting; returns replies per second. */
async function pipelined(ws: WebSocket, make: (id: number) => string, count: number): Promise<number> {
  let got = 0;
  const t0 = performance.now();
  await new Promise<void>((r) => {
    ws.on('message', (d) => {
      if (JSON.parse(d.toString()).type === 'reply' && ++got === count) r();
    });
    for (let i = 0; i < count; i++) ws.send(make(i));
  });
  ws.removeAllListeners('message');
  return count / ((performance.now() - t0) / 1000);
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function measure(url: string, make: (id: number) => string) {
  const ws = await open(url);
  await sequential(ws, make, 500); // warm-up: JIT, sockets
  const lat = await sequential(ws, make, SEQUENTIAL);
  const rate = await pipelined(ws, make, PIPELINED);
  ws.close();
  return { p50: pct(lat, 50), p99: pct(lat, 99), rate };
}

const dir = tempDir('vigil-bench-');
const core = await createCore({ mode: 'headless', dataDir: dir.path, servicesDir: resolve('out/services') });
const server = await startHeadlessServer({
  host: '127.0.0.1',
  port: 0,
  token,
  rendererDir: resolve('out/renderer'),
  router: core.router,
  events: core.events,
  serverName: 'bench',
});
const info = core.info();
const echo = new WebSocketServer({ host: '127.0.0.1', port: 0 });
await new Promise((r) => echo.once('listening', r));
echo.on('connection', (ws) =>
  ws.on('message', (d) => {
    const req = JSON.parse(d.toString());
    ws.send(JSON.stringify({ type: 'reply', id: req.id, ok: true, result: info }));
  }),
);

const make = (id: number) => JSON.stringify({ type: 'call', id, command: 'app.info', input: {} });
const base = await measure(`ws://127.0.0.1:${(echo.address() as { port: number }).port}`, make);
const vigil = await measure(`ws://127.0.0.1:${server.port}/api/ws?token=${token}`, make);

const row = (name: string, r: typeof base) =>
  `${name.padEnd(34)} ${r.p50.toFixed(3).padStart(8)} ${r.p99.toFixed(3).padStart(8)} ${Math.round(r.rate).toString().padStart(10)}`;
console.log(
  `${'app.info round trip'.padEnd(34)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'replies/s'.padStart(10)}`,
);
console.log(row('baseline: bare ws echo', base));
console.log(row('vigil: headless API (auth, zod)', vigil));
console.log(
  `ratio vigil/baseline: p50 ${(vigil.p50 / base.p50).toFixed(2)}x, p99 ${(vigil.p99 / base.p99).toFixed(2)}x, throughput ${(vigil.rate / base.rate).toFixed(2)}x`,
);

echo.close();
await server.close();
await core.close();
dir.remove();
