/**
 * One collector process (the real program, its SDK, bus and recorder) fed by a local exchange that
 * speaks the venue's protocol (Binance spot, OKX, Deribit) and sends as fast as the socket takes: how
 * many book updates per second it parses, checks, applies to its book, publishes on the bus (to a real
 * subscriber) and, for the interleaved trades, records — against a bare `JSON.parse` loop over the
 * same messages in the same run. Then the memory of a collector with 20 symbols (books of 1000 levels,
 * trades, top of book) against an idle Node process.
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

/** Answers what a collector sends on a socket (subscriptions, heartbeats), in the venue's protocol. */
type Protocol = (ws: WebSocket, text: string) => void;

async function exchange(books: Map<string, string>, protocol?: Protocol): Promise<Exchange> {
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
    if (protocol) ws.on('message', (data) => protocol(ws, String(data)));
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

/** Book updates (and interleaved trades) of one venue, and what the bench needs to run them. */
interface VenueRun {
  title: string;
  config: object;
  subject: string;
  /** The book's first message: sent over WebSocket (OKX, Deribit), or null for a REST snapshot (Binance). */
  first: string;
  messages: string[];
  /** Book updates among `messages`. */
  updates: number;
  books: Map<string, string>;
  protocol?: Protocol;
}

function binanceRun(): VenueRun {
  const symbol = 'BTCUSDT';
  const messages = stream(symbol, DEPTH_MESSAGES, Date.now());
  return {
    title: 'Binance spot depth updates',
    config: {
      venue: 'binance-spot',
      symbols: [symbol],
      types: ['book', 'trade'],
    },
    subject: `md.binance-spot.${symbol}.>`,
    // The first event makes the collector ask for the REST snapshot.
    first: messages[0]!,
    messages: messages.slice(1),
    updates: DEPTH_MESSAGES - 1,
    books: new Map([[symbol, snapshot(BOOK_LEVELS)]]),
  };
}

/** Random level changes on the fixed grid, half bids, half asks, most near the top. */
function changes(): { b: [string, string][]; a: [string, string][] } {
  const side = (s: 'b' | 'a') =>
    Array.from({ length: LEVELS_PER_MESSAGE / 2 }, (): [string, string] => [
      price(s, Math.floor(random() * random() * 200)),
      random() < 0.1 ? '0' : (1 + random() * 500).toFixed(0),
    ]);
  return { b: side('b'), a: side('a') };
}

function okxRun(): VenueRun {
  const instId = 'BTC-USDT';
  const t0 = Date.now();
  const books = (action: string, prev: number, seq: number, b: string[][], a: string[][], ts: number) =>
    JSON.stringify({
      arg: { channel: 'books', instId },
      action,
      data: [{ asks: a, bids: b, ts: String(ts), checksum: 0, prevSeqId: prev, seqId: seq }],
    });
  const level = ([px, sz]: [string, string]) => [px, sz, '0', sz === '0' ? '0' : '1'];
  const full = (s: 'b' | 'a') =>
    Array.from({ length: 400 }, (_, i) => level([price(s, i), (1 + random() * 500).toFixed(0)]));
  const first = books('snapshot', -1, 1000, full('b'), full('a'), t0);
  const messages: string[] = [];
  let seq = 1000;
  let tradeId = 1;
  for (let n = 0; n < DEPTH_MESSAGES; n++) {
    const { b, a } = changes();
    const next = seq + 1 + Math.floor(random() * 20);
    messages.push(books('update', seq, next, b.map(level), a.map(level), t0 + n));
    seq = next;
    if (n % TRADE_EVERY === 0) {
      messages.push(
        JSON.stringify({
          arg: { channel: 'trades', instId },
          data: [
            {
              instId,
              tradeId: String(tradeId++),
              px: price('a', 0),
              sz: '0.01',
              side: random() < 0.5 ? 'buy' : 'sell',
              ts: String(t0 + n),
              count: '1',
              source: '0',
              seqId: seq,
            },
          ],
        }),
      );
    }
  }
  return {
    title: 'OKX books updates (400-level book)',
    config: { venue: 'okx-spot', symbols: [instId], types: ['book', 'trade'], bookDepth: 400 },
    subject: `md.okx-spot.${instId}.>`,
    first,
    messages,
    updates: DEPTH_MESSAGES,
    books: new Map(),
    protocol: (ws, text) => {
      if (text === 'ping') return ws.send('pong');
      const req = JSON.parse(text) as { id?: string; op: string; args: object[] };
      for (const arg of req.args)
        ws.send(JSON.stringify({ id: req.id, event: req.op, arg, connId: 'bench' }));
    },
  };
}

function deribitRun(): VenueRun {
  const instrument = 'BTC-PERPETUAL';
  const channel = `book.${instrument}.100ms`;
  const t0 = Date.now();
  const note = (ch: string, data: unknown) =>
    JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel: ch, data } });
  const entry = ([px, sz]: [string, string], fresh = false): [string, number, number] => [
    sz === '0' ? 'delete' : fresh ? 'new' : 'change',
    Number(px),
    Number(sz) * 10,
  ];
  const full = (s: 'b' | 'a') =>
    Array.from({ length: BOOK_LEVELS }, (_, i) =>
      entry([price(s, i), (1 + random() * 500).toFixed(0)], true),
    );
  const first = note(channel, {
    type: 'snapshot',
    timestamp: t0,
    instrument_name: instrument,
    change_id: 1000,
    bids: full('b'),
    asks: full('a'),
  });
  const messages: string[] = [];
  let id = 1000;
  let tradeSeq = 1;
  for (let n = 0; n < DEPTH_MESSAGES; n++) {
    const { b, a } = changes();
    const next = id + 1 + Math.floor(random() * 20);
    messages.push(
      note(channel, {
        type: 'change',
        timestamp: t0 + n,
        instrument_name: instrument,
        prev_change_id: id,
        change_id: next,
        bids: b.map((l) => entry(l)),
        asks: a.map((l) => entry(l)),
      }),
    );
    id = next;
    if (n % TRADE_EVERY === 0) {
      messages.push(
        note(`trades.${instrument}.100ms`, [
          {
            trade_seq: tradeSeq,
            trade_id: String(tradeSeq++),
            timestamp: t0 + n,
            tick_direction: 0,
            price: Number(price('a', 0)),
            mark_price: 100,
            index_price: 100,
            instrument_name: instrument,
            direction: random() < 0.5 ? 'buy' : 'sell',
            amount: 10,
          },
        ]),
      );
    }
  }
  return {
    title: 'Deribit book changes (1000-level book)',
    config: { venue: 'deribit', symbols: [instrument], types: ['book', 'trade'], dvolHistoryDays: 0 },
    subject: `md.deribit.${instrument}.>`,
    first,
    messages,
    updates: DEPTH_MESSAGES,
    books: new Map(),
    protocol: (ws, text) => {
      const req = JSON.parse(text) as { id: number; method: string; params?: { channels?: string[] } };
      const result =
        req.method === 'public/subscribe' || req.method === 'public/unsubscribe'
          ? (req.params?.channels ?? [])
          : req.method === 'public/test'
            ? { version: 'bench' }
            : 'ok';
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: req.id, result, usIn: 0, usOut: 0, usDiff: 0 }));
    },
  };
}

async function throughput(run: VenueRun): Promise<void> {
  const all = [run.first, ...run.messages];
  const bytes = all.reduce((n, m) => n + m.length, 0);

  // Baseline: JSON.parse alone over the same messages, best of 3.
  let parseMs = Infinity;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    let sink = 0;
    for (const m of all) sink += (JSON.parse(m) as object) ? 1 : 0;
    parseMs = Math.min(parseMs, performance.now() - t0);
    if (sink < 0) console.log(sink);
  }

  const ex = await exchange(run.books, run.protocol);
  const dir = tempDir('vbench-coll-');
  const socket = join(dir.path, 'collector.sock');
  const child = collector(dir.path, socket, {
    ...run.config,
    endpoints: { ws: `ws://${ex.url}`, rest: `http://${ex.url}` },
    record: true,
    simulated: true,
  });
  // A real subscriber on the bus, in its own process: publishing to nobody would cost nothing.
  const counter = spawn(process.execPath, ['--import', 'tsx', COUNTER, socket, run.subject], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  type Counts = { deltas: number; snapshots: number; other: number; dropped: number };
  let counts: Counts = { deltas: 0, snapshots: 0, other: 0, dropped: 0 };
  let ready = false;
  counter.on('message', (m: Counts | { ready: true }) => {
    if ('ready' in m) ready = true;
    else counts = m;
  });
  const poll = setInterval(() => ready && counter.connected && counter.send('count'), 5);
  try {
    await until(() => ex.connections() > 0 && ready, 'the connections');
    await new Promise((r) => setTimeout(r, 1_000)); // subscriptions acknowledged, the bus subscription in
    await ex.send([run.first]);
    await until(() => counts.snapshots > 0, 'the book in sync');
    const t0 = performance.now();
    await ex.send(run.messages);
    await until(() => counts.deltas + counts.dropped >= run.updates, 'every book update on the bus');
    if (counts.dropped > 0)
      throw new Error(`the bench subscriber lost ${counts.dropped} updates: the figure would be wrong`);
    const ms = performance.now() - t0;
    const rate = run.updates / (ms / 1000);
    const parseRate = all.length / (parseMs / 1000);
    console.log(
      `${run.title}, ${LEVELS_PER_MESSAGE} levels each, a trade every ${TRADE_EVERY}, one collector process`,
    );
    console.log(
      `  bare JSON.parse loop:                       ${Math.round(parseRate).toLocaleString('en')} msg/s (${(bytes / all.length).toFixed(0)} B each)`,
    );
    console.log(
      `  collector: parse, apply, publish, record:   ${Math.round(rate).toLocaleString('en')} book msg/s = ${(rate / parseRate).toFixed(2)}x JSON.parse  (trades on the bus: ${counts.other})`,
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

const only = process.env.BENCH_VENUE; // binance | okx | deribit: one venue's figure
for (const [name, run] of [
  ['binance', binanceRun],
  ['okx', okxRun],
  ['deribit', deribitRun],
] as const) {
  if (!only || only === name) await throughput(run());
}
if (!only) await memory();
