/**
 * The simulated OKX server over real sockets, talked to with a raw `ws` client: acks and errors, a
 * books snapshot then updates whose `prevSeqId` chains and that, replayed onto the snapshot, give the
 * true book; keep-alives, the maintenance sequence reset, gaps, crossed books, checksums; the other
 * channels; the connection rules (ping/pong, idle close, 3 connects/s, 480 requests/h); the faults;
 * the REST endpoints and the control routes.
 */
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { crc32 } from 'node:zlib';
import type { Level } from '../../src/shared/market';
import { SymbolMarket, type SimVenue } from '../../src/services/simulator/market';
import { startOkxServer, type OkxServer, type OkxServerOptions } from '../../src/services/simulator/okx';
import type { SimControl } from '../../src/services/simulator/venue-server';
import { until } from '../helpers/process-fixtures';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type OkxVenue = 'okx-spot' | 'okx-swap';

interface Rig {
  server: OkxServer;
  ws: string;
  rest: string;
  markets: Record<OkxVenue, Map<string, SymbolMarket>>;
  pause(): void;
  resume(): void;
}

/** The OKX server alone, on markets stepped here, so its options can be set (simulator.ts sets none). */
async function rig(options: Partial<OkxServerOptions> = {}): Promise<Rig> {
  const stepMs = 10;
  const now = Date.now();
  const markets: Record<OkxVenue, Map<string, SymbolMarket>> = {
    'okx-spot': new Map(),
    'okx-swap': new Map(),
  };
  for (const venue of ['okx-spot', 'okx-swap'] as const) {
    for (const symbol of ['BTCUSDT', 'ETHUSDT']) {
      const m = new SymbolMarket({ venue, symbol, seed: 7, stepMs, now });
      markets[venue].set(m.symbol, m);
    }
  }
  let paused = false;
  const ref: { server?: OkxServer } = {};
  const market = (venue: SimVenue, symbol: string): SymbolMarket => {
    const m = markets[venue as OkxVenue]?.get(symbol);
    if (!m) throw new Error(`no ${venue} ${symbol}`);
    return m;
  };
  const control: SimControl = {
    inject: (fault) => ref.server!.inject(fault),
    trueBook: (venue, symbol) => market(venue, symbol).trueBook(),
    trades: (venue, symbol) => market(venue, symbol).trades(),
    stats: () => ref.server!.stats(),
    pause: () => (paused = true),
    resume: () => (paused = false),
  };
  const timer = setInterval(() => {
    if (paused) return;
    const at = Date.now();
    for (const byVenue of Object.values(markets)) for (const m of byVenue.values()) m.step(at);
  }, stepMs);
  const started = await startOkxServer({
    host: '127.0.0.1',
    port: 0,
    markets,
    control,
    depthIntervalMs: 20,
    // Tests open sockets in quick succession; the limit has a test of its own.
    connectsPerSec: 1_000,
    ...options,
  });
  ref.server = started.server;
  cleanups.push(async () => {
    clearInterval(timer);
    await started.server.close();
  });
  return {
    server: started.server,
    ws: `ws://127.0.0.1:${started.port}/ws/v5/public`,
    rest: `http://127.0.0.1:${started.port}`,
    markets,
    pause: () => (paused = true),
    resume: () => (paused = false),
  };
}

type WireLevel = [string, string, string, string];

/** The fields of any OKX message these tests read. */
interface Wire {
  id?: string;
  event?: string;
  code?: string;
  msg?: string;
  connId?: string;
  arg?: { channel: string; instId?: string; instType?: string };
  action?: 'snapshot' | 'update';
  data?: Record<string, unknown>[];
}

interface BookData {
  asks: WireLevel[];
  bids: WireLevel[];
  ts: string;
  checksum: number;
  prevSeqId: number;
  seqId: number;
}

class TestSocket {
  readonly received: { text: string; json: Wire | undefined }[] = [];
  closed: { code: number; reason: string } | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      let json: Wire | undefined;
      try {
        json = JSON.parse(text) as Wire;
      } catch {
        json = undefined;
      }
      this.received.push({ text, json });
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    ws.on('error', () => undefined);
  }

  static open(url: string): Promise<TestSocket> {
    const socket = new TestSocket(new WebSocket(url));
    cleanups.push(() => socket.ws.terminate());
    return new Promise((resolve, reject) => {
      socket.ws.once('open', () => resolve(socket));
      socket.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      socket.ws.once('error', reject);
    });
  }

  send(body: unknown): void {
    this.ws.send(typeof body === 'string' ? body : JSON.stringify(body));
  }

  subscribe(args: Wire['arg'][], id = '1'): void {
    this.send({ id, op: 'subscribe', args });
  }

  /** Data messages of a channel (and instrument). */
  channel(channel: string, instId?: string): Wire[] {
    return this.received
      .map((r) => r.json)
      .filter(
        (j): j is Wire =>
          j?.arg?.channel === channel &&
          j.event === undefined &&
          (instId === undefined || j.arg.instId === instId),
      );
  }

  events(event: string): Wire[] {
    return this.received.map((r) => r.json).filter((j): j is Wire => j?.event === event);
  }

  async waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    await until(check, what, timeoutMs);
  }
}

/** A local book rebuilt the way a client must: the snapshot, then each chained update. */
class Replay {
  bids = new Map<string, string>();
  asks = new Map<string, string>();
  seq = -1;
  breaks: { prevSeqId: number; last: number }[] = [];
  checksumMismatches = 0;
  checksumsChecked = 0;

  apply(m: Wire): void {
    const d = m.data![0] as unknown as BookData;
    if (m.action === 'snapshot') {
      this.bids.clear();
      this.asks.clear();
    } else if (d.prevSeqId !== this.seq) {
      this.breaks.push({ prevSeqId: d.prevSeqId, last: this.seq });
    }
    for (const [p, s] of d.bids)
      if (Number(s) === 0) this.bids.delete(p);
      else this.bids.set(p, s);
    for (const [p, s] of d.asks)
      if (Number(s) === 0) this.asks.delete(p);
      else this.asks.set(p, s);
    this.seq = d.seqId;
    if (d.checksum !== 0) {
      this.checksumsChecked++;
      if (d.checksum !== this.checksum()) this.checksumMismatches++;
    }
  }

  side(which: 'bids' | 'asks'): [string, string][] {
    const sign = which === 'bids' ? -1 : 1;
    return [...this[which]].sort((a, b) => sign * (Number(a[0]) - Number(b[0])));
  }

  levels(which: 'bids' | 'asks'): Level[] {
    return this.side(which).map(([p, s]) => [Number(p), Number(s)]);
  }

  crossed(): boolean {
    return Number(this.side('bids')[0]![0]) >= Number(this.side('asks')[0]![0]);
  }

  checksum(): number {
    const bids = this.side('bids');
    const asks = this.side('asks');
    const parts: string[] = [];
    for (let i = 0; i < 25; i++) {
      if (bids[i]) parts.push(...bids[i]!);
      if (asks[i]) parts.push(...asks[i]!);
    }
    return crc32(parts.join(':')) | 0;
  }
}

function replay(socket: TestSocket, instId: string): Replay {
  const r = new Replay();
  for (const m of socket.channel('books', instId)) r.apply(m);
  return r;
}

/** Freezes the market, lets the last updates arrive, and compares the replayed book with the truth. */
async function expectReplayEqualsTruth(
  r: Rig,
  socket: TestSocket,
  venue: OkxVenue,
  instId: string,
): Promise<Replay> {
  r.pause();
  await sleep(300);
  const book = replay(socket, instId);
  const truth = r.markets[venue].get(instId)!.trueBook();
  expect(book.breaks).toEqual([]);
  expect(book.levels('bids')).toEqual(truth.bids);
  expect(book.levels('asks')).toEqual(truth.asks);
  r.resume();
  return book;
}

async function getJson(
  url: string,
): Promise<{ status: number; body: { code: string; msg: string; data: unknown[] } }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as { code: string; msg: string; data: unknown[] } };
}

function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.once('error', () => undefined);
  });
}

describe('OKX simulator: subscriptions', () => {
  it('acknowledges each argument with the id and connId, and refuses what does not exist', async () => {
    const r = await rig();
    const s = await TestSocket.open(r.ws);
    s.subscribe(
      [
        { channel: 'books', instId: 'BTC-USDT' },
        { channel: 'trades', instId: 'BTC-USDT-SWAP' },
        { channel: 'liquidation-orders', instType: 'SWAP' },
        { channel: 'books5000', instId: 'BTC-USDT' },
        { channel: 'books', instId: 'DOGE-USDT' },
        { channel: 'funding-rate', instId: 'BTC-USDT' },
      ],
      '42',
    );
    await s.waitFor(
      () => s.events('subscribe').length === 3 && s.events('error').length === 3,
      'acks and errors',
    );
    const connId = s.events('subscribe')[0]!.connId;
    expect(connId).toMatch(/^[0-9a-f]{8}$/);
    expect(s.events('subscribe').map((a) => a.arg)).toEqual([
      { channel: 'books', instId: 'BTC-USDT' },
      { channel: 'trades', instId: 'BTC-USDT-SWAP' },
      { channel: 'liquidation-orders', instType: 'SWAP' },
    ]);
    for (const e of s.events('error')) expect(e).toMatchObject({ id: '42', code: '60018', connId });
    expect(s.events('error')[1]!.msg).toContain('DOGE-USDT');

    s.send('{"op":"subscribe",');
    s.send({ id: '7', op: 'login', args: [] });
    s.send({ id: '8', op: 'subscribe', args: [] });
    s.send({ id: 'not-alphanumeric!', op: 'subscribe', args: [{ channel: 'books', instId: 'BTC-USDT' }] });
    const huge = Array.from({ length: 3000 }, (_, i) => ({ channel: 'books', instId: `COIN${i}-USDT-SWAP` }));
    s.send({ id: '9', op: 'subscribe', args: huge });
    await s.waitFor(() => s.events('error').length === 8, 'five more errors');
    const errors = s.events('error').slice(3);
    expect(errors.map((e) => e.code)).toEqual(['60012', '60012', '60012', '60012', '60012']);
    expect(errors.map((e) => e.id)).toEqual([undefined, '7', '8', undefined, '9']);
    expect(errors[4]!.msg).toContain('64 KB');

    s.send({ id: '10', op: 'unsubscribe', args: [{ channel: 'trades', instId: 'BTC-USDT-SWAP' }] });
    await s.waitFor(() => s.events('unsubscribe').length === 1, 'unsubscribe ack');
    expect(s.events('unsubscribe')[0]).toMatchObject({
      id: '10',
      arg: { channel: 'trades', instId: 'BTC-USDT-SWAP' },
    });
  });

  it('answers a text ping with pong, and refuses the 481st request of the hour with 60014', async () => {
    const r = await rig({ opsPerHour: 5 });
    const s = await TestSocket.open(r.ws);
    s.send('ping');
    await s.waitFor(() => s.received.some((m) => m.text === 'pong'), 'pong');
    for (let i = 0; i < 6; i++) s.subscribe([{ channel: 'trades', instId: 'ETH-USDT' }], String(i));
    await s.waitFor(() => s.events('error').length === 1, 'the refusal');
    expect(s.events('subscribe')).toHaveLength(5);
    expect(s.events('error')[0]).toMatchObject({ id: '5', code: '60014', msg: 'Requests too frequent.' });
  });

  it('refuses WebSocket upgrades past 3 per second with HTTP 429, and other paths with 404', async () => {
    const r = await rig({ connectsPerSec: 3 });
    const statuses = await Promise.all(Array.from({ length: 5 }, () => upgradeStatus(r.ws)));
    expect(statuses.filter((s) => s === 101)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2);
    expect(r.server.stats().closedForRate).toBe(2);
    await sleep(1_100);
    expect(await upgradeStatus(r.ws)).toBe(101);
    expect(await upgradeStatus(r.ws.replace('/public', '/private'))).toBe(404);
  });

  it('closes a connection without subscription, or without data, after the idle time; a ping keeps it', async () => {
    const r = await rig({ idleTimeoutMs: 1_500 });
    const bare = await TestSocket.open(r.ws);
    const quiet = await TestSocket.open(r.ws);
    const pinging = await TestSocket.open(r.ws);
    // FUTURES liquidations never come here: a subscription without data.
    for (const s of [quiet, pinging]) s.subscribe([{ channel: 'liquidation-orders', instType: 'FUTURES' }]);
    const timer = setInterval(() => pinging.send('ping'), 200);
    cleanups.push(() => clearInterval(timer));
    await until(() => bare.closed !== null && quiet.closed !== null, 'both idle sockets closed', 5_000);
    expect(bare.closed!.code).toBe(4004);
    expect(quiet.closed!.code).toBe(4004);
    await sleep(1_500);
    expect(pinging.closed).toBeNull();
    expect(r.server.stats().closedForPong).toBe(2);
  });
});

describe('OKX simulator: books', () => {
  it.each(['okx-spot', 'okx-swap'] as const)(
    '%s: a 400-level snapshot, then updates chained by prevSeqId that replay onto it to the true book',
    async (venue) => {
      const r = await rig();
      const instId = venue === 'okx-spot' ? 'BTC-USDT' : 'BTC-USDT-SWAP';
      const s = await TestSocket.open(r.ws);
      s.subscribe([{ channel: 'books', instId }]);
      await s.waitFor(() => s.channel('books', instId).length > 100, '100 books messages');
      const [snapshot, ...updates] = s.channel('books', instId);
      expect(snapshot!.action).toBe('snapshot');
      const snap = snapshot!.data![0] as unknown as BookData;
      expect(snap.prevSeqId).toBe(-1);
      expect(snap.checksum).toBe(0);
      expect(snap.bids.length).toBeGreaterThan(100);
      expect(snap.bids.length).toBeLessThanOrEqual(400);
      expect(snap.bids[0]).toEqual([
        expect.any(String),
        expect.any(String),
        '0',
        expect.stringMatching(/^\d+$/),
      ]);
      expect(Number(snap.bids[0]![0])).toBeLessThan(Number(snap.asks[0]![0]));
      for (const u of updates) {
        expect(u.action).toBe('update');
        expect(typeof (u.data![0] as unknown as BookData).ts).toBe('string');
      }
      // Ids jump between updates: only prevSeqId chains them.
      const d = updates.map((u) => u.data![0] as unknown as BookData);
      expect(d.some((x, i) => i > 0 && x.seqId - d[i - 1]!.seqId > 1)).toBe(true);
      await expectReplayEqualsTruth(r, s, venue, instId);
    },
  );

  it('sends an empty keep-alive (seqId == prevSeqId) after a quiet spell, and on the keepalive fault', async () => {
    const r = await rig({ keepaliveAfterMs: 500 });
    const s = await TestSocket.open(r.ws);
    s.subscribe([{ channel: 'books', instId: 'ETH-USDT' }]);
    await s.waitFor(() => s.channel('books', 'ETH-USDT').length > 5, 'updates');
    const isKeepalive = (m: Wire) => {
      const d = m.data![0] as unknown as BookData;
      return m.action === 'update' && d.asks.length === 0 && d.bids.length === 0 && d.seqId === d.prevSeqId;
    };
    r.server.inject({ type: 'keepalive', venue: 'okx-spot', symbol: 'ETH-USDT' });
    await s.waitFor(() => s.channel('books', 'ETH-USDT').some(isKeepalive), 'the injected keep-alive');
    r.pause();
    await sleep(300);
    const before = s.channel('books', 'ETH-USDT').filter(isKeepalive).length;
    await s.waitFor(
      () => s.channel('books', 'ETH-USDT').filter(isKeepalive).length > before,
      'a keep-alive after 500 ms without change',
      5_000,
    );
    r.resume();
    await expectReplayEqualsTruth(r, s, 'okx-spot', 'ETH-USDT');
  });

  it('sequence reset: an update with seqId < prevSeqId that still chains', async () => {
    const r = await rig();
    const s = await TestSocket.open(r.ws);
    s.subscribe([{ channel: 'books', instId: 'BTC-USDT-SWAP' }]);
    await s.waitFor(() => s.channel('books').length > 5, 'updates');
    r.server.inject({ type: 'sequence-reset', venue: 'okx-swap', symbol: 'BTC-USDT-SWAP' });
    const reset = () =>
      s.channel('books').some((m) => {
        const d = m.data![0] as unknown as BookData;
        return m.action === 'update' && d.seqId < d.prevSeqId;
      });
    await s.waitFor(reset, 'an update with seqId < prevSeqId');
    await sleep(200);
    await expectReplayEqualsTruth(r, s, 'okx-swap', 'BTC-USDT-SWAP');
  });

  it('gap: an update is lost, so the chain breaks; a new subscription starts a consistent chain again', async () => {
    const r = await rig();
    const s = await TestSocket.open(r.ws);
    s.subscribe([{ channel: 'books', instId: 'BTC-USDT' }]);
    await s.waitFor(() => s.channel('books').length > 5, 'updates');
    r.server.inject({ type: 'gap', venue: 'okx-spot', symbol: 'BTC-USDT' });
    await s.waitFor(() => replay(s, 'BTC-USDT').breaks.length === 1, 'a broken chain');
    const s2 = await TestSocket.open(r.ws);
    s2.subscribe([{ channel: 'books', instId: 'BTC-USDT' }]);
    await s2.waitFor(() => s2.channel('books').length > 5, 'updates on a new connection');
    await expectReplayEqualsTruth(r, s2, 'okx-spot', 'BTC-USDT');
  });

  it('crossed: an update carries a bid above the best ask', async () => {
    const r = await rig();
    const s = await TestSocket.open(r.ws);
    s.subscribe([{ channel: 'books', instId: 'BTC-USDT' }]);
    await s.waitFor(() => s.channel('books').length > 5, 'updates');
    r.server.inject({ type: 'crossed', venue: 'okx-spot', symbol: 'BTC-USDT' });
    await s.waitFor(() => {
      const book = new Replay();
      for (const m of s.channel('books')) {
        book.apply(m);
        if (book.crossed()) return true;
      }
      return false;
    }, 'a crossed book');
  });

  it('with checksums on, every message carries the CRC32 of the book after it', async () => {
    const r = await rig({ checksums: true });
    const s = await TestSocket.open(r.ws);
    s.subscribe([
      { channel: 'books', instId: 'BTC-USDT' },
      { channel: 'books', instId: 'ETH-USDT-SWAP' },
    ]);
    await s.waitFor(() => s.channel('books').length > 400, '400 books messages');
    for (const instId of ['BTC-USDT', 'ETH-USDT-SWAP']) {
      const book = replay(s, instId);
      expect(book.breaks).toEqual([]);
      expect(book.checksumsChecked).toBeGreaterThan(100);
      expect(book.checksumMismatches).toBe(0);
    }
    r.server.corruptNextChecksum('BTC-USDT');
    await s.waitFor(() => replay(s, 'BTC-USDT').checksumMismatches === 1, 'one corrupted checksum');
  });
});

describe('OKX simulator: other channels', () => {
  it('trades: one message per taker order, ids contiguous through count; bbo-tbt; funding; open interest', async () => {
    const r = await rig({ fundingIntervalMs: 300, openInterestIntervalMs: 300 });
    const s = await TestSocket.open(r.ws);
    s.subscribe([
      { channel: 'trades', instId: 'BTC-USDT-SWAP' },
      { channel: 'bbo-tbt', instId: 'BTC-USDT-SWAP' },
      { channel: 'funding-rate', instId: 'BTC-USDT-SWAP' },
      { channel: 'open-interest', instId: 'BTC-USDT-SWAP' },
    ]);
    await s.waitFor(
      () =>
        s.channel('trades').length > 30 &&
        s.channel('funding-rate').length >= 3 &&
        s.channel('open-interest').length >= 2,
      'trades, funding and open interest',
    );
    const trades = s.channel('trades').map((m) => m.data![0]!);
    for (const t of trades) {
      expect(t).toMatchObject({
        instId: 'BTC-USDT-SWAP',
        tradeId: expect.stringMatching(/^\d+$/),
        px: expect.stringMatching(/^\d+\.\d$/),
        sz: expect.stringMatching(/^\d+\.\d{2}$/),
        side: expect.stringMatching(/^(buy|sell)$/),
        ts: expect.stringMatching(/^\d{13}$/),
        count: expect.stringMatching(/^[1-9]\d*$/),
        source: '0',
        seqId: expect.any(Number),
      });
    }
    // tradeId is the last of `count` fills, and every trade id is in exactly one message.
    for (let i = 1; i < trades.length; i++) {
      expect(Number(trades[i]!.tradeId) - Number(trades[i]!.count) + 1).toBe(
        Number(trades[i - 1]!.tradeId) + 1,
      );
    }
    const simTrades = r.markets['okx-swap'].get('BTC-USDT-SWAP')!.trades();
    const last = simTrades.find((t) => t.id === Number(trades[0]!.tradeId))!;
    expect(last.price).toBe(Number(trades[0]!.px));

    const bbo = s.channel('bbo-tbt')[0]!.data![0] as { asks: WireLevel[]; bids: WireLevel[]; seqId: number };
    expect(bbo.asks).toHaveLength(1);
    expect(bbo.bids).toHaveLength(1);
    expect(typeof bbo.seqId).toBe('number');

    const funding = s.channel('funding-rate')[0]!.data![0]!;
    expect(funding).toMatchObject({ instType: 'SWAP', instId: 'BTC-USDT-SWAP', method: 'current_period' });
    const fundingTime = Number(funding.fundingTime);
    expect(fundingTime).toBeGreaterThan(Date.now());
    expect(fundingTime % (8 * 3_600_000)).toBe(0);
    expect(Number(funding.nextFundingTime) - fundingTime).toBe(8 * 3_600_000);
    expect(Number.isFinite(Number(funding.fundingRate))).toBe(true);

    const oi = s.channel('open-interest').at(-1)!.data![0]!;
    const market = r.markets['okx-swap'].get('BTC-USDT-SWAP')!;
    // oiCcy is the contracts times ctVal (0.01), exactly.
    const contracts = oi.oi as string;
    const [int, frac] = contracts.split('.');
    expect(oi.oiCcy).toBe(String(Number(`${int}${frac}`) / 10_000).replace(/\.?0+$/, ''));
    expect(market.spec.contractValue).toBe(0.01);
    expect(Number(oi.oiUsd)).toBeGreaterThan(0);
  });

  it('liquidation-orders: one subscription per instType carries every swap, grouped per instrument', async () => {
    const r = await rig({ liquidationIntervalMs: 200 });
    const s = await TestSocket.open(r.ws);
    s.subscribe([{ channel: 'liquidation-orders', instType: 'SWAP' }]);
    const instIds = () =>
      new Set(s.channel('liquidation-orders').flatMap((m) => m.data!.map((d) => d.instId)));
    await s.waitFor(
      () => instIds().has('BTC-USDT-SWAP') && instIds().has('ETH-USDT-SWAP'),
      'both swaps',
      20_000,
    );
    for (const m of s.channel('liquidation-orders')) {
      expect(m.arg).toEqual({ channel: 'liquidation-orders', instType: 'SWAP' });
      for (const d of m.data!) {
        expect(d).toMatchObject({ instType: 'SWAP', uly: expect.stringMatching(/-USDT$/) });
        for (const x of d.details as Record<string, string>[]) {
          expect(x).toMatchObject({
            side: expect.stringMatching(/^(buy|sell)$/),
            posSide: x.side === 'sell' ? 'long' : 'short',
            bkPx: expect.stringMatching(/^\d+\.\d+$/),
            sz: expect.stringMatching(/^\d+\.\d{2}$/),
            ts: expect.stringMatching(/^\d{13}$/),
          });
        }
      }
    }
  });
});

describe('OKX simulator: faults', () => {
  it('server-shutdown: the 64008 notice on every connection, closed after the grace period', async () => {
    const r = await rig();
    const s = await TestSocket.open(r.ws);
    s.subscribe([{ channel: 'books', instId: 'BTC-USDT' }]);
    await s.waitFor(() => s.channel('books').length > 2, 'updates');
    const t0 = Date.now();
    r.server.inject({ type: 'server-shutdown', venue: 'okx-spot', graceMs: 600 });
    await s.waitFor(() => s.events('notice').length === 1, 'the notice');
    expect(s.events('notice')[0]).toMatchObject({
      event: 'notice',
      code: '64008',
      msg: 'The connection will soon be closed for a service upgrade. Please reconnect.',
      connId: s.events('subscribe')[0]!.connId,
    });
    // Data keeps coming during the grace period.
    const at = s.channel('books').length;
    await until(() => s.closed !== null, 'the close', 5_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
    expect(s.channel('books').length).toBeGreaterThan(at);
  });

  it('stall: silence (no data, no pong) for the given time; disconnect drops every socket', async () => {
    const r = await rig();
    const s = await TestSocket.open(r.ws);
    s.subscribe([{ channel: 'books', instId: 'BTC-USDT' }]);
    await s.waitFor(() => s.channel('books').length > 2, 'updates');
    r.server.inject({ type: 'stall', venue: 'okx-spot', ms: 1_500 });
    await sleep(50);
    const n = s.received.length;
    s.send('ping');
    await sleep(500);
    expect(s.received.length).toBe(n);
    await s.waitFor(() => s.received.length > n + 5, 'data again after the stall');
    r.server.inject({ type: 'disconnect', venue: 'okx-spot' });
    await until(() => s.closed !== null, 'the socket dropped');
    expect(s.closed!.code).toBe(1006);
  });

  it('stall outlasts reconnects: a socket opened during it is silent, and answered once it is lifted', async () => {
    const r = await rig();
    const s = await TestSocket.open(r.ws);
    s.subscribe([{ channel: 'books', instId: 'BTC-USDT' }]);
    await s.waitFor(() => s.channel('books').length > 2, 'updates');
    r.server.inject({ type: 'stall', venue: 'okx-spot', ms: 600_000 });
    s.ws.terminate();
    // The client reconnects: the feed is still dead (no subscribe reply, no data, no pong).
    const again = await TestSocket.open(r.ws);
    again.subscribe([{ channel: 'books', instId: 'BTC-USDT' }]);
    again.send('ping');
    await sleep(800);
    expect(again.received).toEqual([]);
    expect(again.closed).toBeNull();
    // Lifted (ms 0): what was sent meanwhile is answered (the subscription's snapshot first), data flows.
    r.server.inject({ type: 'stall', venue: 'okx-spot', ms: 0 });
    await again.waitFor(() => again.received.some((m) => m.text === 'pong'), 'the pong once lifted');
    await again.waitFor(() => again.channel('books').length > 2, 'updates once lifted');
    expect(again.events('subscribe')).toHaveLength(1);
    expect(again.channel('books')[0]).toMatchObject({ action: 'snapshot' });
  });

  it('malformed: invalid JSON, an unknown channel and a books update without fields', async () => {
    const r = await rig();
    const s = await TestSocket.open(r.ws);
    s.subscribe([{ channel: 'books', instId: 'ETH-USDT-SWAP' }]);
    await s.waitFor(() => s.channel('books').length > 2, 'updates');
    r.server.inject({ type: 'malformed', venue: 'okx-swap' });
    await s.waitFor(() => s.channel('mystery-channel').length === 1, 'the unknown channel');
    await s.waitFor(
      () => s.channel('books').some((m) => (m.data![0] as Partial<BookData>).seqId === undefined),
      'the books update without fields',
    );
    expect(s.received.filter((m) => m.json === undefined && m.text !== 'pong')).toHaveLength(1);
  });

  it('rate-limit: REST answers 429 with code 50011, and the next subscribe gets 60014', async () => {
    const r = await rig();
    r.server.inject({ type: 'rate-limit', venue: 'okx-swap', retryAfterSec: 1, count: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${r.rest}/api/v5/public/time`);
      expect(res.status).toBe(429);
      expect(await res.json()).toEqual({ code: '50011', msg: 'Too Many Requests', data: [] });
    }
    expect((await getJson(`${r.rest}/api/v5/public/time`)).status).toBe(200);
    const s = await TestSocket.open(r.ws);
    s.subscribe([{ channel: 'trades', instId: 'BTC-USDT' }], '1');
    s.subscribe([{ channel: 'trades', instId: 'BTC-USDT' }], '2');
    s.subscribe([{ channel: 'trades', instId: 'BTC-USDT' }], '3');
    await s.waitFor(() => s.events('subscribe').length === 1, 'the third subscribe acked');
    expect(s.events('error').map((e) => [e.id, e.code])).toEqual([
      ['1', '60014'],
      ['2', '60014'],
    ]);
    expect(r.server.stats()).toMatchObject({ restRequests: 3, restRefused: 2 });
  });
});

describe('OKX simulator: REST and control routes', () => {
  it('instruments, open interest, long/short ratio, time, and OKX-style errors', async () => {
    const r = await rig();
    const swap = await getJson(`${r.rest}/api/v5/public/instruments?instType=SWAP`);
    expect(swap.body.code).toBe('0');
    expect(swap.body.data).toEqual([
      expect.objectContaining({
        instType: 'SWAP',
        instId: 'BTC-USDT-SWAP',
        uly: 'BTC-USDT',
        settleCcy: 'USDT',
        ctVal: '0.01',
        ctValCcy: 'BTC',
        tickSz: '0.1',
        lotSz: '0.01',
        minSz: '0.01',
        state: 'live',
      }),
      expect.objectContaining({ instId: 'ETH-USDT-SWAP', ctVal: '0.1', ctValCcy: 'ETH' }),
    ]);
    const spot = await getJson(`${r.rest}/api/v5/public/instruments?instType=SPOT&instId=ETH-USDT`);
    expect(spot.body.data).toEqual([
      expect.objectContaining({
        instType: 'SPOT',
        instId: 'ETH-USDT',
        baseCcy: 'ETH',
        quoteCcy: 'USDT',
        ctVal: '',
      }),
    ]);
    expect(await getJson(`${r.rest}/api/v5/public/instruments`)).toMatchObject({
      status: 400,
      body: { code: '50014' },
    });
    expect(await getJson(`${r.rest}/api/v5/public/instruments?instType=SPOT&instId=NOPE`)).toMatchObject({
      status: 400,
      body: { code: '51001' },
    });

    const oi = await getJson(`${r.rest}/api/v5/public/open-interest?instType=SWAP&instId=ETH-USDT-SWAP`);
    expect(oi.body.data).toEqual([
      expect.objectContaining({
        instType: 'SWAP',
        instId: 'ETH-USDT-SWAP',
        oi: expect.any(String),
        oiCcy: expect.any(String),
      }),
    ]);

    const lsr = await getJson(
      `${r.rest}/api/v5/rubik/stat/contracts/long-short-account-ratio-contract?instId=BTC-USDT-SWAP&period=5m&limit=3`,
    );
    const rows = lsr.body.data as [string, string][];
    expect(rows).toHaveLength(3);
    expect(Number(rows[0]![0]) - Number(rows[1]![0])).toBe(300_000);
    const market = r.markets['okx-swap'].get('BTC-USDT-SWAP')!;
    expect(rows[0]![1]).toBe(market.longShortAt(Number(rows[0]![0])).longShortRatio);
    expect(
      (
        await getJson(
          `${r.rest}/api/v5/rubik/stat/contracts/long-short-account-ratio-contract?instId=BTC-USDT-SWAP&period=7m`,
        )
      ).body.code,
    ).toBe('51000');

    const time = await getJson(`${r.rest}/api/v5/public/time`);
    expect(Math.abs(Number((time.body.data[0] as { ts: string }).ts) - Date.now())).toBeLessThan(5_000);
    expect(await getJson(`${r.rest}/api/v5/nope`)).toMatchObject({ status: 404, body: { code: '50000' } });
    expect(r.server.stats().restRequests).toBe(9);
  });

  it('the /__sim routes pick the venue from the instrument', async () => {
    const r = await rig();
    const book = (await (await fetch(`${r.rest}/__sim/book?symbol=BTC-USDT-SWAP`)).json()) as {
      bids: Level[];
    };
    // Contracts of 0.01 BTC: two decimals.
    expect(book.bids[0]![1] * 100).toBeCloseTo(Math.round(book.bids[0]![1] * 100), 6);
    expect(book.bids.length).toBeGreaterThan(100);
    const res = await fetch(`${r.rest}/__sim/fault`, {
      method: 'POST',
      body: JSON.stringify({ type: 'gap', symbol: 'ETH-USDT-SWAP' }),
    });
    expect(await res.json()).toMatchObject({
      ok: true,
      fault: { type: 'gap', venue: 'okx-swap', symbol: 'ETH-USDT-SWAP' },
    });
    const bad = await fetch(`${r.rest}/__sim/fault`, { method: 'POST', body: '{"type":"nope"}' });
    expect(bad.status).toBe(400);
    expect(r.server.stats().faults).toBe(1);
  });
});
