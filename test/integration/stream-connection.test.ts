/**
 * StreamConnection against a real `ws` server on 127.0.0.1: pings, the stale watchdog, reconnects with
 * gaps, HTTP errors on the upgrade, lossless rotation, and the control-message rate as the server sees it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import {
  StreamConnection,
  type ConnectionGap,
  type ConnectionGapCause,
  type RotationInfo,
  type StreamConnectionOptions,
} from '../../src/services/collector/net/stream-connection';
import { until } from '../helpers/process-fixtures';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface ServerConn {
  id: number;
  ws: WebSocket;
  openedAt: number;
  closedAt: number | null;
  closeCode: number | null;
  /** Text frames received, with their arrival time. */
  received: { text: string; at: number }[];
  pings: string[];
  pongs: string[];
}

/** A test exchange: accepts (or rejects) upgrades, and can broadcast a global sequence to every socket. */
class TestServer {
  readonly conns: ServerConn[] = [];
  readonly upgrades: { at: number; status: number }[] = [];
  /** Answers for the next upgrades, in order: an HTTP status (and headers) instead of 101. */
  readonly rejections: { status: number; headers?: Record<string, string> }[] = [];
  /** Holds every upgrade this long before accepting it. */
  upgradeDelayMs = 0;
  onConnection: (c: ServerConn) => void = () => {};
  seq = 0;
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private streamTimer: NodeJS.Timeout | null = null;
  private readonly sockets = new Set<Duplex>();

  private constructor() {
    this.http = createServer((_req, res) => res.writeHead(404).end());
    this.http.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.http.on('upgrade', (req, socket, head) => {
      const rejection = this.rejections.shift();
      if (rejection) {
        this.upgrades.push({ at: Date.now(), status: rejection.status });
        const headers = Object.entries(rejection.headers ?? {})
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('');
        socket.end(
          `HTTP/1.1 ${rejection.status} Rejected\r\n${headers}Content-Length: 0\r\nConnection: close\r\n\r\n`,
        );
        return;
      }
      this.upgrades.push({ at: Date.now(), status: 101 });
      const accept = () => this.wss.handleUpgrade(req, socket, head, (ws) => this.accepted(ws));
      if (this.upgradeDelayMs > 0) setTimeout(accept, this.upgradeDelayMs);
      else accept();
    });
  }

  static async start(): Promise<TestServer> {
    const s = new TestServer();
    await new Promise<void>((resolve) => s.http.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => s.stop());
    return s;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.http.address() as AddressInfo).port}/stream`;
  }

  open(): ServerConn[] {
    return this.conns.filter((c) => c.closedAt === null);
  }

  /** Every `everyMs`, the next sequence number goes to every open socket whose filter allows it. */
  stream(everyMs: number, filter: (c: ServerConn) => boolean = () => true): void {
    this.streamTimer = setInterval(() => {
      this.seq++;
      const text = JSON.stringify({ s: this.seq });
      for (const c of this.open()) if (filter(c) && c.ws.readyState === WebSocket.OPEN) c.ws.send(text);
    }, everyMs);
  }

  async stop(): Promise<void> {
    if (this.streamTimer) clearInterval(this.streamTimer);
    for (const c of this.conns) c.ws.terminate();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private accepted(ws: WebSocket): void {
    const c: ServerConn = {
      id: this.conns.length + 1,
      ws,
      openedAt: Date.now(),
      closedAt: null,
      closeCode: null,
      received: [],
      pings: [],
      pongs: [],
    };
    this.conns.push(c);
    ws.on('message', (data) => c.received.push({ text: data.toString(), at: Date.now() }));
    ws.on('pong', (data) => c.pongs.push(data.toString()));
    ws.on('close', (code) => {
      c.closedAt = Date.now();
      c.closeCode = code;
    });
    this.onConnection(c);
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Recorder {
  conn: StreamConnection;
  messages: { text: string; at: number; gen: number }[];
  downs: { cause: ConnectionGapCause; detail: string; at: number }[];
  gaps: ConnectionGap[];
  ups: { gen: number; at: number }[];
  rotations: RotationInfo[];
  errors: unknown[];
}

function connect(
  server: TestServer,
  options: Partial<StreamConnectionOptions> = {},
  onText?: (text: string, r: Recorder) => void,
): Recorder {
  const r = { messages: [], downs: [], gaps: [], ups: [], rotations: [], errors: [] } as unknown as Recorder;
  r.conn = new StreamConnection({
    name: 'test',
    url: () => server.url,
    onMessage: (text, at, gen) => {
      r.messages.push({ text, at, gen });
      onText?.(text, r);
    },
    onDown: (cause, detail) => r.downs.push({ cause, detail, at: Date.now() }),
    onGap: (gap) => r.gaps.push(gap),
    onUp: (gen) => r.ups.push({ gen, at: Date.now() }),
    onRotated: (info) => r.rotations.push(info),
    onError: (err) => r.errors.push(err),
    staleAfterMs: 5_000,
    backoff: { baseMs: 50, capMs: 500 },
    ...options,
  });
  r.conn.start();
  cleanups.push(() => r.conn.close());
  return r;
}

/** Sequence numbers delivered, de-duplicated as a consumer would. */
function seqs(r: Recorder): number[] {
  const set = new Set<number>();
  for (const m of r.messages) {
    const v = JSON.parse(m.text) as { s?: number };
    if (typeof v.s === 'number') set.add(v.s);
  }
  return [...set].sort((a, b) => a - b);
}

function missing(sorted: number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < sorted.length; i++) for (let n = sorted[i - 1]! + 1; n < sorted[i]!; n++) out.push(n);
  return out;
}

describe('StreamConnection', () => {
  it('answers server pings with the same payload, and pings alone keep the socket fresh', async () => {
    const server = await TestServer.start();
    server.onConnection = (c) => {
      c.ws.send('{"hello":1}');
      let i = 0;
      const timer = setInterval(() => {
        const payload = `ping-${c.id}-${i++}-${Math.random().toString(36).slice(2)}`;
        c.pings.push(payload);
        c.ws.ping(payload);
      }, 100);
      c.ws.on('close', () => clearInterval(timer));
    };
    const r = connect(server, { staleAfterMs: 500 });
    await sleep(1800);
    const c = server.conns[0]!;
    expect(c.pings.length).toBeGreaterThanOrEqual(8);
    // Every pong carries its ping's payload, in order (the last ping may still be in flight).
    expect(c.pongs.length).toBeGreaterThanOrEqual(c.pings.length - 1);
    expect(c.pongs).toEqual(c.pings.slice(0, c.pongs.length));
    // 1.8 s with no data after the hello, but pings every 100 ms: never stale.
    expect(r.conn.stats().staleDetections).toBe(0);
    expect(r.downs).toEqual([]);
    expect(server.conns).toHaveLength(1);
    expect(r.ups).toHaveLength(1);
  });

  it('detects a silent server as stale, reconnects, and reports the gap', async () => {
    const server = await TestServer.start();
    server.onConnection = (c) => {
      // The first socket sends three messages and then goes silent without closing (no pings either).
      if (c.id === 1) for (let i = 1; i <= 3; i++) c.ws.send(JSON.stringify({ s: i }));
      else c.ws.send(JSON.stringify({ s: 100 }));
    };
    const staleAfterMs = 600;
    const r = connect(server, { staleAfterMs });
    await until(() => r.gaps.length === 1 && r.messages.some((m) => m.gen > 1), 'the reconnect', 10_000);
    const lastOld = r.messages.filter((m) => m.gen === 1).at(-1)!;
    const down = r.downs[0]!;
    expect(down.cause).toBe('stale');
    expect(down.detail).toMatch(/no message for \d+ ms/);
    // Detected within the window plus a generous margin for a busy machine.
    expect(down.at - lastOld.at).toBeGreaterThanOrEqual(staleAfterMs - 5);
    expect(down.at - lastOld.at).toBeLessThan(staleAfterMs + 1500);
    const gap = r.gaps[0]!;
    expect(gap.cause).toBe('stale');
    expect(gap.start).toBe(lastOld.at);
    expect(gap.end).toBeGreaterThanOrEqual(down.at);
    expect(gap.end).toBeLessThanOrEqual(r.messages.find((m) => m.gen > 1)!.at);
    await until(() => server.conns[0]!.closedAt !== null, 'the server to see the stale socket closed', 5000);
    expect(r.conn.stats()).toMatchObject({ staleDetections: 1, reconnects: 1 });
    expect(r.ups.map((u) => u.gen)).toEqual([1, 2]);
  });

  it('reconnects with backoff after a server-side disconnect and reports start and end', async () => {
    const server = await TestServer.start();
    server.onConnection = (c) => {
      for (let i = 1; i <= 5; i++) c.ws.send(JSON.stringify({ s: c.id * 100 + i }));
      if (c.id === 1) setTimeout(() => c.ws.close(1001, 'going away'), 100);
    };
    // random() = 0.999: the first delay is just under the 400 ms ceiling.
    const r = connect(server, { backoff: { baseMs: 400, capMs: 5000 }, random: () => 0.999 });
    await until(() => r.gaps.length === 1, 'the gap', 10_000);
    const lastOld = r.messages.filter((m) => m.gen === 1).at(-1)!;
    const down = r.downs[0]!;
    expect(down.cause).toBe('disconnect');
    expect(down.detail).toContain('connection closed: code 1001 going away');
    const gap = r.gaps[0]!;
    expect(gap).toMatchObject({ cause: 'disconnect', start: lastOld.at });
    expect(gap.end - down.at).toBeGreaterThanOrEqual(390);
    expect(server.upgrades[1]!.at - down.at).toBeGreaterThanOrEqual(390);
    expect(r.ups.map((u) => u.gen)).toEqual([1, 2]);
    await until(() => r.messages.some((m) => m.gen === 2), 'data on the new socket', 5000);
    expect(r.conn.stats()).toMatchObject({ reconnects: 1, staleDetections: 0, rotations: 0 });
  });

  it('backs off on HTTP errors at the upgrade, holding until Retry-After on 429 and 418', async () => {
    const server = await TestServer.start();
    server.rejections.push(
      { status: 404 },
      { status: 418 }, // no Retry-After: banDefaultMs
      { status: 429, headers: { 'Retry-After': '1' } },
    );
    server.onConnection = (c) => c.ws.send('{"s":1}');
    const r = connect(server, { banDefaultMs: 800, backoff: { baseMs: 50, capMs: 100 } });
    await until(() => r.ups.length === 1, 'the connection', 10_000);
    const at = server.upgrades.map((u) => u.at);
    expect(server.upgrades.map((u) => u.status)).toEqual([404, 418, 429, 101]);
    // 404: plain backoff (under 100 ms, plus slack for a busy machine).
    expect(at[1]! - at[0]!).toBeLessThan(700);
    // 418: at least the default ban; 429: at least Retry-After.
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(790);
    expect(at[3]! - at[2]!).toBeGreaterThanOrEqual(990);
    // Down once (the first connect failed), up once; no gap: nothing had been received yet.
    expect(r.downs).toHaveLength(1);
    expect(r.downs[0]!.detail).toContain('HTTP 404');
    expect(r.gaps).toEqual([]);
    expect(r.conn.stats()).toMatchObject({ failedConnects: 3, reconnects: 0, rateLimitedUntil: null });
  });

  it('rotates without losing a message, closing the old socket after the overlap', async () => {
    const server = await TestServer.start();
    server.stream(5);
    const overlapMs = 200;
    const r = connect(server, { rotateAfterMs: 600, rotateJitterMs: 0, overlapMs });
    await until(() => r.conn.stats().rotations >= 3, 'three rotations', 15_000);
    await sleep(100);
    await r.conn.close();

    const delivered = seqs(r);
    expect(delivered.length).toBeGreaterThan(100);
    expect(missing(delivered)).toEqual([]);
    // The overlap really delivered from both sockets (consumers de-duplicate).
    expect(r.messages.length).toBeGreaterThan(delivered.length);
    expect(r.gaps).toEqual([]);
    expect(r.downs).toEqual([]);
    expect(r.rotations.slice(0, 3)).toEqual([
      { reason: 'rotation', from: 1, to: 2 },
      { reason: 'rotation', from: 2, to: 3 },
      { reason: 'rotation', from: 3, to: 4 },
    ]);
    // Each old socket was closed by us (1000), after the new one had delivered for overlapMs.
    for (let i = 0; i < 3; i++) {
      const old = server.conns[i]!;
      const nextGen = i + 2;
      const firstNew = r.messages.find((m) => m.gen === nextGen)!;
      expect(old.closeCode).toBe(1000);
      expect(old.closedAt! - firstNew.at).toBeGreaterThanOrEqual(overlapMs - 10);
    }
    // Never more than two sockets at once.
    for (const c of server.conns) {
      const concurrent = server.conns.filter(
        (o) => o.openedAt <= c.openedAt && (o.closedAt === null || o.closedAt > c.openedAt),
      );
      expect(concurrent.length).toBeLessThanOrEqual(2);
    }
  });

  it("rotate('server-shutdown') hands over before the server goes away", async () => {
    const server = await TestServer.start();
    server.stream(5);
    server.onConnection = (c) => {
      if (c.id !== 1) return;
      setTimeout(() => c.ws.send('{"e":"serverShutdown","E":1}'), 400);
      // The server would cut the socket 1.5 s after its notice.
      setTimeout(() => c.ws.terminate(), 1900);
    };
    const r = connect(server, { overlapMs: 200 }, (text, rec) => {
      if (text.includes('serverShutdown')) rec.conn.rotate('server-shutdown');
    });
    await until(() => r.conn.stats().rotations === 1, 'the rotation', 10_000);
    await sleep(300);
    expect(server.conns[0]!.closeCode).toBe(1000); // closed by us, before the server's cut
    await r.conn.close();
    expect(missing(seqs(r))).toEqual([]);
    expect(r.rotations).toEqual([{ reason: 'server-shutdown', from: 1, to: 2 }]);
    expect(r.gaps).toEqual([]);
    expect(r.downs).toEqual([]);
  });

  it('reports a server-shutdown gap when the old socket dies before the new one is up', async () => {
    const server = await TestServer.start();
    server.stream(5);
    server.onConnection = (c) => {
      if (c.id !== 1) return;
      setTimeout(() => {
        c.ws.send('{"e":"serverShutdown","E":1}');
        server.upgradeDelayMs = 400; // the replacement takes a while to come up...
        setTimeout(() => c.ws.terminate(), 50); // ...and the old one dies first
      }, 300);
    };
    const r = connect(server, { overlapMs: 100 }, (text, rec) => {
      if (text.includes('serverShutdown')) rec.conn.rotate('server-shutdown');
    });
    await until(() => r.gaps.length === 1, 'the gap', 10_000);
    const lastOld = r.messages.filter((m) => m.gen === 1).at(-1)!;
    expect(r.downs.map((d) => d.cause)).toEqual(['server-shutdown']);
    expect(r.gaps[0]).toMatchObject({ cause: 'server-shutdown', start: lastOld.at });
    expect(r.gaps[0]!.end - r.gaps[0]!.start).toBeGreaterThanOrEqual(250);
    // The rotation's socket became the reconnect: no third connection.
    await sleep(200);
    expect(server.conns).toHaveLength(2);
    expect(r.conn.stats()).toMatchObject({ reconnects: 1, rotations: 0 });
  });

  it('keeps the old socket when the rotation fails, and retries', async () => {
    const server = await TestServer.start();
    server.stream(5);
    const r = connect(server, {
      rotateAfterMs: 400,
      rotateJitterMs: 0,
      overlapMs: 100,
      rotationBackoff: { baseMs: 200, capMs: 200 },
      random: () => 0.999,
    });
    await until(() => server.conns.length === 1, 'the first socket', 5000);
    server.rejections.push({ status: 503 }, { status: 503 });
    await until(() => r.conn.stats().rotations === 1, 'the rotation', 10_000);
    await sleep(100);
    await r.conn.close();
    expect(r.conn.stats().failedRotations).toBe(2);
    expect(server.upgrades.map((u) => u.status).slice(0, 4)).toEqual([101, 503, 503, 101]);
    expect(missing(seqs(r))).toEqual([]);
    expect(r.gaps).toEqual([]);
    expect(r.downs).toEqual([]);
  });

  it('keeps control messages under the rate as measured at the server, heartbeats included', async () => {
    const server = await TestServer.start();
    const r = connect(server, {
      controlRatePerSec: 4,
      onOpen: (send) => {
        for (let i = 1; i <= 10; i++)
          send(JSON.stringify({ method: 'SUBSCRIBE', params: [`s${i}@trade`], id: i }));
      },
      heartbeat: { intervalMs: 400, send: (send) => send('ping') },
    });
    await until(() => (server.conns[0]?.received.length ?? 0) >= 14, 'the control messages', 10_000);
    const received = server.conns[0]!.received;
    const subs = received
      .filter((m) => m.text !== 'ping')
      .map((m) => (JSON.parse(m.text) as { id: number }).id);
    expect(subs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const at = received.map((m) => m.at);
    // Binance spot's limit is 5/s: never reached in any 1 s window.
    for (const t of at) expect(at.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(5);
    expect(at.at(-1)! - at[0]!).toBeGreaterThanOrEqual(13 * 250 * 0.9);
    await r.conn.close();
  });

  it('sends on a chosen socket and stops everything on close()', async () => {
    const server = await TestServer.start();
    server.onConnection = (c) => c.ws.send('{"s":1}');
    const r = connect(server);
    await until(() => r.ups.length === 1, 'the connection', 5000);
    expect(r.conn.send('{"method":"LIST_SUBSCRIPTIONS","id":7}')).toBe(true);
    expect(r.conn.send('x', 99)).toBe(false);
    await until(() => server.conns[0]!.received.length === 1, 'the request', 5000);
    await r.conn.close();
    expect(server.conns[0]!.closedAt).not.toBeNull();
    expect(r.conn.send('late')).toBe(false);
    await sleep(400);
    expect(server.conns).toHaveLength(1);
    expect(r.downs).toEqual([]);
    expect(r.conn.stats()).toMatchObject({ messages: 1, bytes: 7, generation: 1 });
  });
});
