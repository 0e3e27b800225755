/**
 * One collector process (the real program, its SDK, bus and recorder) fed by a local exchange that
 * speaks Binance spot's protocol and sends as fast as the socket takes: how many depth updates per
 * second it parses, applies to its book, publishes on the bus (to a real subscriber) and, for the
 * interleaved trades, records — against a bare `JSON.parse` loop over the same messages in the same
 * run. Then the memory of a collector with 20 symbols (books of 1000 levels, trades, top of book)
 * against an idle Node process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { tempDir } from '../test/helpers/temp-dir';

const COLLECTOR = fileURLToPath(new URL('../src/services/collector/index.ts', import.meta.url));
const COUNTER = fileURLToPath(new URL('./children/bus-counter.ts', import.meta.url));
const DEPTH_MESSAGES = 100_000;
const LEVELS_PER_MESSAGE = 10;
const TRADE_EVERY = 10;
const BOOK_LEVELS = 1000;

/** A book on a fixed grid (bids at or under 100.00, asks from 100.01): updates never cross it. */
function price(side: 'b' | 'a', rank: number): string {
  return ((side === 'b' ? 10_000 - rank : 10_001 + rank) / 100).toFixed(2);
}

let seed = 42;
const random = (): number => {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
  return seed / 0x7fffffff;
};

function snapshot(levels: number): string {
  const side = (s: 'b' | 'a') =>
    Array.from({ length: levels }, (_, i) => [price(s, i), (1 + random() * 5).toFixed(3)]);
  // Inside the first event's [U, u] = [1, 10], as a live snapshot lands inside the stream.
  return JSON.stringify({ lastUpdateId: 5, bids: side('b'), asks: side('a') });
}

/** Combined-stream messages: depth updates with contiguous U/u, an aggTrade every TRADE_EVERY. */
function stream(symbol: string, count: number, startAt: number): string[] {
  const s = symbol.toLowerCase();
  const out: string[] = [];
  let id = 1;
  let trade = 1;
  for (let n = 0; n < count; n++) {
    const levels = (side: 'b' | 'a') =>
      Array.from({ length: LEVELS_PER_MESSAGE / 2 }, () => [
        price(side, Math.floor(random() * random() * 200)), // most changes near the top
        random() < 0.1 ? '0.000' : (random() * 5).toFixed(3),
      ]);
    const U = id;
    id += LEVELS_PER_MESSAGE;
    const E = startAt + n;
    out.push(
      JSON.stringify({
        stream: `${s}@depth@100ms`,
        data: { e: 'depthUpdate', E, s: symbol, U, u: id - 1, b: levels('b'), a: levels('a') },
      }),
    );
    if (n % TRADE_EVERY === 0) {
      out.push(
        JSON.stringify({
          stream: `${s}@aggTrade`,
          data: {
            e: 'aggTrade',
            E,
            s: symbol,
            a: trade,
            p: price('a', 0),
            q: '0.010',
            f: trade,
            l: trade,
            T: E,
            m: random() < 0.5,
            M: true,
          },
        }),
      );
      trade += 1;
    }
  }
  return out;
}

interface Exchange {
  url: string;
  snapshotsServed(): number;
  connections(): number;
  /** Sends `messages` to every open connection; resolves when they are handed to the sockets. */
  send(messages: string[]): Promise<void>;
  close(): Promise<void>;
}

async function exchange(books: Map<string, string>): Promise<Exchange> {
  let served = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const book = books.get(url.searchParams.get('symbol') ?? '');
    if (url.pathname !== '/api/v3/depth' || !book) {
      res.writeHead(400).end('{"code":-1121,"msg":"Invalid symbol."}');
      return;
    }
    served += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(book);
  });
  const wss = new WebSocketServer({ server });
  const sockets = new Set<WebSocket>();
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `127.0.0.1:${port}`,
    snapshotsServed: () => served,
    connections: () => sockets.size,
    async send(messages) {
      for (const ws of sockets) {
        for (let i = 0; i < messages.length; i++) {
          ws.send(messages[i]!);
          // Hand over in slices, so the server side never buffers the whole run at once.
          if (i % 2_000 === 1_999)
            while (ws.bufferedAmount > 4 << 20) await new Promise((r) => setImmediate(r));
        }
      }
    },
    close: async () => {
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * Starts the collector program as Vigil would, with its own bus socket and data folder.
 * `BENCH_PROF=1` writes its CPU profile to /tmp/prof (open it in Chrome's DevTools).
 */
function collector(dataDir: string, socket: string, config: object): ChildProcess {
  return spawn(
    process.execPath,
    [
      ...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []),
      '--import',
      'tsx',
      COLLECTOR,
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: {
        ...process.env,
        VIGIL_SERVICE: 'bench-collector',
        VIGIL_DATA_DIR: dataDir,
        VIGIL_PARENT_PID: String(process.pid),
        VIGIL_BUS: JSON.stringify({ backend: 'embedded', listen: socket, peers: [] }),
        VIGIL_CONFIG: JSON.stringify(config),
      },
    },
  );
}

async function until(check: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function throughput(): Promise<void> {
  const symbol = 'BTCUSDT';
  const messages = stream(symbol, DEPTH_MESSAGES, Date.now());
  const bytes = messages.reduce((n, m) => n + m.length, 0);

  // Baseline: JSON.parse alone over the same messages, best of 3.
  let parseMs = Infinity;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    let sink = 0;
    for (const m of messages) sink += (JSON.parse(m) as { data: { E: number } }).data.E & 1;
    parseMs = Math.min(parseMs, performance.now() - t0);
    if (sink < 0) console.log(sink);
  }

  const ex = await exchange(new Map([[symbol, snapshot(BOOK_LEVELS)]]));
  const dir = tempDir('vbench-coll-');
  const socket = join(dir.path, 'collector.sock');
  const child = collector(dir.path, socket, {
    venue: 'binance-spot',
    symbols: [symbol],
    types: ['book', 'trade'],
    endpoints: { ws: `ws://${ex.url}`, rest: `http://${ex.url}` },
    record: true,
    simulated: true,
  });
  // A real subscriber on the bus, in its own process: publishing to nobody would cost nothing.
  const counter = spawn(
    process.execPath,
    ['--import', 'tsx', COUNTER, socket, `md.binance-spot.${symbol}.>`],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  type Counts = { deltas: number; snapshots: number; other: number; dropped: number };
  let counts: Counts = { deltas: 0, snapshots: 0, other: 0, dropped: 0 };
  let ready = false;
  counter.on('message', (m: Counts | { ready: true }) => {
    if ('ready' in m) ready = true;
    else counts = m;
  });
  const poll = setInterval(() => ready && counter.connected && counter.send('count'), 5);
  try {
    // The first event makes the collector ask for the snapshot; once in sync, the whole run goes out.
    await until(() => ex.connections() > 0 && ready, 'the connections');
    await new Promise((r) => setTimeout(r, 500)); // the subscription reaches the collector
    await ex.send(messages.slice(0, 1));
    await until(() => counts.snapshots > 0, 'the book in sync');
    const rest = messages.slice(1);
    const t0 = performance.now();
    await ex.send(rest);
    await until(() => counts.deltas + counts.dropped >= DEPTH_MESSAGES - 1, 'every depth update on the bus');
    if (counts.dropped > 0)
      throw new Error(`the bench subscriber lost ${counts.dropped} updates: the figure would be wrong`);
    const ms = performance.now() - t0;
    const rate = (DEPTH_MESSAGES - 1) / (ms / 1000);
    const parseRate = messages.length / (parseMs / 1000);
    console.log(
      `depth updates (${LEVELS_PER_MESSAGE} levels each, a trade every ${TRADE_EVERY}), one collector process, book of ${BOOK_LEVELS} levels`,
    );
    console.log(
      `  bare JSON.parse loop:                       ${Math.round(parseRate).toLocaleString('en')} msg/s (${(bytes / messages.length).toFixed(0)} B each)`,
    );
    console.log(
      `  collector: parse, apply, publish, record:   ${Math.round(rate).toLocaleString('en')} depth msg/s = ${(rate / parseRate).toFixed(2)}x JSON.parse  (trades on the bus: ${counts.other})`,
    );
  } finally {
    clearInterval(poll);
    counter.kill();
    await stop(child);
    await ex.close();
    dir.remove();
  }
}

async function memory(): Promise<void> {
  const symbols = Array.from({ length: 20 }, (_, i) => `SYM${i}USDT`);
  const ex = await exchange(new Map(symbols.map((s) => [s, snapshot(BOOK_LEVELS)])));
  const dir = tempDir('vbench-mem-');
  const child = collector(dir.path, join(dir.path, 'c.sock'), {
    venue: 'binance-spot',
    symbols,
    types: ['book', 'trade', 'top'],
    endpoints: { ws: `ws://${ex.url}`, rest: `http://${ex.url}` },
    record: true,
    simulated: true,
  });
  const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    // Ten seconds of a live-like pace: 10 depth updates and 1 trade per symbol per second.
    const streams = symbols.map((s) => stream(s, 100, Date.now()));
    await until(() => ex.connections() > 0, 'the connection', 60_000);
    for (let tick = 0; tick < 10; tick++) {
      await ex.send(streams.flatMap((m) => m.slice(tick * 11, (tick + 1) * 11)));
      await new Promise((r) => setTimeout(r, 1_000));
    }
    if (ex.snapshotsServed() < symbols.length) throw new Error('not every book was snapshotted');
    const collectorRss = rssBytes(child.pid!);
    const idleRss = rssBytes(idle.pid!);
    console.log(
      `memory, collector with ${symbols.length} symbols (books of ${BOOK_LEVELS} levels, trades, top, recording)`,
    );
    console.log(
      `  collector RSS ${(collectorRss / 2 ** 20).toFixed(1)} MB vs idle node ${(idleRss / 2 ** 20).toFixed(1)} MB: +${((collectorRss - idleRss) / 2 ** 20).toFixed(1)} MB (${(collectorRss / idleRss).toFixed(2)}x)`,
    );
  } finally {
    idle.kill();
    await stop(child);
    await ex.close();
    dir.remove();
  }
}

await throughput();
await memory();
