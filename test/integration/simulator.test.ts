/**
 * The market simulator over real sockets: message shapes per stream, the spot `U`/`u` and USD-M `pu`
 * chains, REST snapshots that fit the diff stream (a small collector following Binance's official
 * algorithm reproduces the true book), every fault, bad requests, and the connection rules (pings,
 * pong timeout, inbound limit, lifetime). Then the child program, run from source with tsx.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Level } from '../../src/shared/market';
import { startSimulator, type SimVenue, type Simulator } from '../../src/services/simulator/simulator';
import { until } from '../helpers/process-fixtures';
import { runSimulatorChild } from '../helpers/simulator-child';

/** The fields of any Binance message these tests read. */
interface Wire {
  stream?: string;
  data?: Wire;
  e?: string;
  E?: number;
  U?: number;
  u?: number;
  pu?: number;
  b?: [string, string][];
  a?: [string, string][];
  s?: string;
  t?: number;
  f?: number;
  l?: number;
  result?: unknown;
  id?: unknown;
  error?: { code: number; msg: string };
}

interface Received {
  at: number;
  text: string;
  json: Wire | undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class TestSocket {
  readonly received: Received[] = [];
  readonly pings: number[] = [];
  closed: { code: number; at: number } | null = null;
  readonly openedAt = Date.now();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      let json: Wire | undefined;
      try {
        json = JSON.parse(text) as Wire;
      } catch {
        json = undefined;
      }
      this.received.push({ at: Date.now(), text, json });
    });
    ws.on('ping', () => this.pings.push(Date.now()));
    ws.on('close', (code) => (this.closed = { code, at: Date.now() }));
    ws.on('error', () => undefined);
  }

  static open(url: string, options: WebSocket.ClientOptions = {}): Promise<TestSocket> {
    const socket = new TestSocket(new WebSocket(url, options));
    return new Promise((resolve, reject) => {
      socket.ws.once('open', () => resolve(socket));
      socket.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      socket.ws.once('error', reject);
    });
  }

  /** Payloads of one stream on a combined connection. */
  stream(name: string): Wire[] {
    return this.received.filter((r) => r.json?.stream === name).map((r) => r.json!.data!);
  }

  async waitFor(check: (r: Received) => boolean, what: string, timeoutMs = 10_000): Promise<Received> {
    let found: Received | undefined;
    await until(() => (found = this.received.find(check)) !== undefined, what, timeoutMs);
    return found!;
  }

  async request(body: { method?: unknown; params?: unknown; id?: unknown } | string): Promise<Wire> {
    const before = this.received.length;
    this.ws.send(typeof body === 'string' ? body : JSON.stringify(body));
    await until(
      () => this.received.slice(before).some((r) => r.json && ('result' in r.json || 'error' in r.json)),
      'a reply',
      5_000,
    );
    return this.received.slice(before).find((r) => r.json && ('result' in r.json || 'error' in r.json))!
      .json!;
  }

  close(): void {
    this.ws.terminate();
  }
}

/** The HTTP status that refuses a WebSocket upgrade. */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error(`${url} was accepted`));
    });
    ws.once('error', () => undefined);
  });
}

async function getJson(url: string): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

/**
 * A minimal collector following Binance's official local-book algorithm for the venue: buffer the
 * diffs, fetch a snapshot, drop what it already covers, then apply with the venue's sequence check,
 * resyncing on a gap or a crossed book.
 */
class LocalBook {
  readonly events: Wire[] = [];
  readonly snapshots: number[] = [];
  bids = new Map<number, number>();
  asks = new Map<number, number>();
  id = 0;
  live = false;
  gaps = 0;
  crossed = 0;
  applied = 0;
  private first = true;
  private buffer: Wire[] = [];

  constructor(
    private readonly venue: SimVenue,
    private readonly rest: string,
    private readonly symbol: string,
    socket: TestSocket,
    stream: string,
  ) {
    socket.ws.on('message', (data) => {
      const json = JSON.parse(data.toString()) as Wire;
      const event = json.stream === stream ? json.data : json.stream === undefined ? json : undefined;
      if (event?.e === 'depthUpdate' && event.U !== undefined) this.onEvent(event);
    });
    void this.resync();
  }

  private onEvent(event: Wire): void {
    this.events.push(event);
    if (this.live) this.process(event);
    else this.buffer.push(event);
  }

  private async resync(): Promise<void> {
    this.live = false;
    this.buffer = [];
    for (;;) {
      // Step 2: an event first (bounded, so a paused market cannot hang a resync).
      const deadline = Date.now() + 500;
      while (this.buffer.length === 0 && Date.now() < deadline) await sleep(10);
      const spot = this.venue === 'binance-spot';
      const path = spot ? '/api/v3/depth' : '/fapi/v1/depth';
      const snap = (await (await fetch(`${this.rest}${path}?symbol=${this.symbol}&limit=1000`)).json()) as {
        lastUpdateId: number;
        bids: [string, string][];
        asks: [string, string][];
      };
      const first = this.buffer[0];
      // Step 4: a snapshot older than the first buffered event cannot be bridged: fetch again.
      if (first && (spot ? snap.lastUpdateId + 1 < first.U! : snap.lastUpdateId < first.U!)) continue;
      this.snapshots.push(snap.lastUpdateId);
      this.bids = new Map(snap.bids.map(([p, q]) => [Number(p), Number(q)]));
      this.asks = new Map(snap.asks.map(([p, q]) => [Number(p), Number(q)]));
      this.id = snap.lastUpdateId;
      this.first = true;
      this.live = true;
      const pending = this.buffer;
      this.buffer = [];
      for (const event of pending) if (!this.process(event)) return;
      return;
    }
  }

  /** Applies one event; false when it forced a resync. */
  private process(event: Wire): boolean {
    const spot = this.venue === 'binance-spot';
    const U = event.U!;
    const u = event.u!;
    if (spot ? u <= this.id : u < this.id) return true; // already in the snapshot
    const fits = this.first
      ? spot
        ? U <= this.id + 1
        : U <= this.id && u >= this.id
      : spot
        ? U === this.id + 1
        : event.pu === this.id;
    if (!fits) {
      this.gaps += 1;
      void this.resync();
      return false;
    }
    this.first = false;
    for (const [p, q] of event.b!) setLevel(this.bids, Number(p), Number(q));
    for (const [p, q] of event.a!) setLevel(this.asks, Number(p), Number(q));
    this.id = u;
    this.applied += 1;
    if (Math.max(...this.bids.keys()) >= Math.min(...this.asks.keys())) {
      this.crossed += 1;
      void this.resync();
      return false;
    }
    return true;
  }

  book(): { bids: Level[]; asks: Level[] } {
    return {
      bids: [...this.bids].sort((x, y) => y[0] - x[0]),
      asks: [...this.asks].sort((x, y) => x[0] - y[0]),
    };
  }
}

function setLevel(side: Map<number, number>, price: number, size: number): void {
  if (size === 0) side.delete(price);
  else side.set(price, size);
}

/** Pauses the market until the collector has every change, and checks its book against the truth. */
async function expectConverged(
  sim: Simulator,
  venue: SimVenue,
  symbol: string,
  local: LocalBook,
): Promise<void> {
  sim.pause();
  try {
    await until(
      () => local.live && local.id === sim.trueBook(venue, symbol).lastUpdateId,
      `${venue} ${symbol} local book to catch up`,
      10_000,
    );
    const truth = sim.trueBook(venue, symbol);
    expect(truth.bids.length).toBeGreaterThanOrEqual(100);
    expect(truth.asks.length).toBeGreaterThanOrEqual(100);
    expect(truth.bids[0]![0]).toBeLessThan(truth.asks[0]![0]);
    expect(local.book()).toEqual({ bids: truth.bids, asks: truth.asks });
  } finally {
    sim.resume();
  }
}

let sim: Simulator;
const sockets: TestSocket[] = [];
const opened = async (url: string, options?: WebSocket.ClientOptions): Promise<TestSocket> => {
  const socket = await TestSocket.open(url, options);
  sockets.push(socket);
  return socket;
};

beforeAll(async () => {
  sim = await startSimulator({ seed: 42, symbols: ['BTCUSDT', 'ETHUSDT'] });
});

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await sim?.close();
});

describe('market simulator: streams', () => {
  it('spot: depth, trade, aggTrade and bookTicker shapes; U/u, t and a/f/l are contiguous', async () => {
    const spot = sim.urls['binance-spot'];
    const streams = ['depth@100ms', 'depth', 'trade', 'aggTrade', 'bookTicker'].map((k) => `btcusdt@${k}`);
    const socket = await opened(`${spot.ws}/stream?streams=${streams.join('/')}`);
    await until(() => socket.stream('btcusdt@depth').length >= 2, 'two @depth (1000 ms) events', 10_000);
    await until(() => socket.stream('btcusdt@depth@100ms').length >= 15, 'fifteen @depth@100ms events');
    socket.close();

    const price = /^\d+\.\d{2}$/;
    const size = /^\d+\.\d{5}$/;
    for (const name of ['btcusdt@depth@100ms', 'btcusdt@depth']) {
      const events = socket.stream(name);
      for (const event of events) {
        expect(event).toEqual({
          e: 'depthUpdate',
          E: expect.any(Number),
          s: 'BTCUSDT',
          U: expect.any(Number),
          u: expect.any(Number),
          b: expect.any(Array),
          a: expect.any(Array),
        });
        expect(event.U!).toBeLessThanOrEqual(event.u!);
        for (const [p, q] of [...event.b!, ...event.a!]) {
          expect(p).toMatch(price);
          expect(q).toMatch(size);
        }
      }
      for (let i = 1; i < events.length; i++) expect(events[i]!.U).toBe(events[i - 1]!.u! + 1);
    }
    // The 100 ms stream really is faster than the 1000 ms one.
    expect(socket.stream('btcusdt@depth@100ms').length).toBeGreaterThan(
      socket.stream('btcusdt@depth').length * 4,
    );

    const trades = socket.stream('btcusdt@trade');
    expect(trades.length).toBeGreaterThan(5);
    for (const trade of trades) {
      expect(trade).toEqual({
        e: 'trade',
        E: expect.any(Number),
        s: 'BTCUSDT',
        t: expect.any(Number),
        p: expect.stringMatching(price),
        q: expect.stringMatching(size),
        T: expect.any(Number),
        m: expect.any(Boolean),
        M: true,
      });
    }
    for (let i = 1; i < trades.length; i++) expect(trades[i]!.t).toBe(trades[i - 1]!.t! + 1);

    const aggs = socket.stream('btcusdt@aggTrade') as (Wire & { a: number })[];
    expect(aggs.length).toBeGreaterThan(3);
    for (const agg of aggs) {
      expect(agg).toEqual({
        e: 'aggTrade',
        E: expect.any(Number),
        s: 'BTCUSDT',
        a: expect.any(Number),
        p: expect.stringMatching(price),
        q: expect.stringMatching(size),
        f: expect.any(Number),
        l: expect.any(Number),
        T: expect.any(Number),
        m: expect.any(Boolean),
        M: true,
      });
      expect(agg.f!).toBeLessThanOrEqual(agg.l!);
    }
    for (let i = 1; i < aggs.length; i++) {
      expect(aggs[i]!.a).toBe(aggs[i - 1]!.a + 1);
      expect(aggs[i]!.f).toBe(aggs[i - 1]!.l! + 1);
    }
    // Every trade on the tape is one the simulator recorded, with the same side (m = taker sold).
    const recorded = new Map(sim.trades('binance-spot', 'BTCUSDT').map((t) => [t.id, t]));
    for (const trade of trades as (Wire & { p: string; q: string; m: boolean })[]) {
      expect(recorded.get(trade.t!)).toMatchObject({
        price: Number(trade.p),
        size: Number(trade.q),
        side: trade.m ? 'sell' : 'buy',
      });
    }

    const tickers = socket.stream('btcusdt@bookTicker');
    expect(tickers.length).toBeGreaterThan(3);
    for (const ticker of tickers) {
      expect(ticker).toEqual({
        u: expect.any(Number),
        s: 'BTCUSDT',
        b: expect.stringMatching(price),
        B: expect.stringMatching(size),
        a: expect.stringMatching(price),
        A: expect.stringMatching(size),
      });
    }
  });

  it('USD-M: /public depth chains through pu with jumping ids; /market aggTrade, markPrice, forceOrder', async () => {
    const usdm = sim.urls['binance-usdm'];
    const book = await opened(
      `${usdm.ws}/public/stream?streams=btcusdt@depth@100ms/btcusdt@depth@500ms/btcusdt@bookTicker`,
    );
    const market = await opened(
      `${usdm.wsMarket}/market/stream?streams=btcusdt@aggTrade/btcusdt@markPrice@1s/btcusdt@markPrice/btcusdt@forceOrder/ethusdt@forceOrder`,
    );
    await until(
      () => market.stream('btcusdt@markPrice@1s').length >= 3,
      'three 1 s markPrice events',
      10_000,
    );
    await until(() => market.stream('btcusdt@markPrice').length >= 1, 'a 3 s markPrice event', 10_000);
    await until(() => book.stream('btcusdt@depth@100ms').length >= 16, 'sixteen depth events', 10_000);
    await until(
      () => market.stream('btcusdt@forceOrder').length + market.stream('ethusdt@forceOrder').length >= 1,
      'a liquidation',
      10_000,
    );
    book.close();
    market.close();

    const events = book.stream('btcusdt@depth@100ms');
    expect(events.length).toBeGreaterThan(15);
    let jumps = 0;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      expect(event).toEqual({
        e: 'depthUpdate',
        E: expect.any(Number),
        T: expect.any(Number),
        s: 'BTCUSDT',
        U: expect.any(Number),
        u: expect.any(Number),
        pu: expect.any(Number),
        b: expect.any(Array),
        a: expect.any(Array),
      });
      for (const [p, q] of [...event.b!, ...event.a!]) {
        expect(p).toMatch(/^\d+\.\d$/);
        expect(q).toMatch(/^\d+\.\d{3}$/);
      }
      if (i === 0) continue;
      const previous = events[i - 1]!;
      expect(event.pu).toBe(previous.u);
      expect(event.U!).toBeGreaterThan(previous.u!);
      if (event.U !== previous.u! + 1) jumps += 1;
    }
    // Ids jump between events: a collector checking U == prev u + 1 on USD-M fails here.
    expect(jumps).toBeGreaterThan(events.length / 2);
    const slow = book.stream('btcusdt@depth@500ms');
    for (let i = 1; i < slow.length; i++) expect(slow[i]!.pu).toBe(slow[i - 1]!.u);

    expect(book.stream('btcusdt@bookTicker')[0]).toEqual({
      e: 'bookTicker',
      u: expect.any(Number),
      E: expect.any(Number),
      T: expect.any(Number),
      s: 'BTCUSDT',
      b: expect.stringMatching(/^\d+\.\d$/),
      B: expect.stringMatching(/^\d+\.\d{3}$/),
      a: expect.stringMatching(/^\d+\.\d$/),
      A: expect.stringMatching(/^\d+\.\d{3}$/),
    });
    expect(market.stream('btcusdt@aggTrade')[0]).toEqual({
      e: 'aggTrade',
      E: expect.any(Number),
      s: 'BTCUSDT',
      a: expect.any(Number),
      p: expect.any(String),
      q: expect.any(String),
      f: expect.any(Number),
      l: expect.any(Number),
      T: expect.any(Number),
      m: expect.any(Boolean),
    });
    const marks = market.stream('btcusdt@markPrice@1s');
    expect(marks.length).toBeGreaterThanOrEqual(2);
    expect(marks.length).toBeGreaterThan(market.stream('btcusdt@markPrice').length);
    const mark = marks[0] as Wire & { T: number };
    expect(mark).toEqual({
      e: 'markPriceUpdate',
      E: expect.any(Number),
      s: 'BTCUSDT',
      p: expect.stringMatching(/^\d+\.\d{8}$/),
      i: expect.stringMatching(/^\d+\.\d{8}$/),
      P: expect.stringMatching(/^\d+\.\d{8}$/),
      r: expect.stringMatching(/^-?\d\.\d{8}$/),
      T: expect.any(Number),
    });
    // Funding every 8 hours, on the hour in UTC, within the next 8 hours.
    expect(mark.T % (8 * 3_600_000)).toBe(0);
    expect(mark.T - mark.E!).toBeLessThanOrEqual(8 * 3_600_000);

    const liquidations = [...market.stream('btcusdt@forceOrder'), ...market.stream('ethusdt@forceOrder')];
    expect(liquidations[0]).toEqual({
      e: 'forceOrder',
      E: expect.any(Number),
      o: {
        s: expect.stringMatching(/^(BTC|ETH)USDT$/),
        S: expect.stringMatching(/^(BUY|SELL)$/),
        o: 'LIMIT',
        f: 'IOC',
        q: expect.any(String),
        p: expect.any(String),
        ap: expect.any(String),
        X: 'FILLED',
        l: expect.any(String),
        z: expect.any(String),
        T: expect.any(Number),
      },
    });
    // At most one liquidation per symbol per second (a sample).
    for (const name of ['btcusdt@forceOrder', 'ethusdt@forceOrder']) {
      const times = market.stream(name).map((l) => l.E!);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(900);
    }
  });

  it('REST: depth snapshots, open interest, long/short ratio, exchangeInfo, weight header', async () => {
    const spot = sim.urls['binance-spot'].rest;
    const usdm = sim.urls['binance-usdm'].rest;
    const depth = await getJson(`${spot}/api/v3/depth?symbol=BTCUSDT&limit=10`);
    expect(depth.status).toBe(200);
    expect(depth.body).toEqual({
      lastUpdateId: expect.any(Number),
      bids: expect.any(Array),
      asks: expect.any(Array),
    });
    expect((depth.body as { bids: unknown[] }).bids).toHaveLength(10);
    expect(Number(depth.headers.get('x-mbx-used-weight-1m'))).toBeGreaterThanOrEqual(5);
    const fullSpot = (await getJson(`${spot}/api/v3/depth?symbol=BTCUSDT`)).body as { bids: unknown[] };
    expect(fullSpot.bids).toHaveLength(100); // the default limit

    const futures = await getJson(`${usdm}/fapi/v1/depth?symbol=ETHUSDT&limit=5`);
    expect(futures.body).toEqual({
      lastUpdateId: expect.any(Number),
      E: expect.any(Number),
      T: expect.any(Number),
      bids: expect.any(Array),
      asks: expect.any(Array),
    });
    expect((futures.body as { asks: unknown[] }).asks).toHaveLength(5);
    expect(futures.headers.get('x-mbx-used-weight-1m')).not.toBeNull();

    expect((await getJson(`${usdm}/fapi/v1/openInterest?symbol=BTCUSDT`)).body).toEqual({
      openInterest: expect.stringMatching(/^\d+\.\d{3}$/),
      symbol: 'BTCUSDT',
      time: expect.any(Number),
    });
    const ratio = await getJson(
      `${usdm}/futures/data/globalLongShortAccountRatio?symbol=BTCUSDT&period=5m&limit=3`,
    );
    const rows = ratio.body as { timestamp: string; longAccount: string; shortAccount: string }[];
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row).toEqual({
        symbol: 'BTCUSDT',
        longShortRatio: expect.stringMatching(/^\d+\.\d{4}$/),
        longAccount: expect.stringMatching(/^0\.\d{4}$/),
        shortAccount: expect.stringMatching(/^0\.\d{4}$/),
        timestamp: expect.stringMatching(/^\d+$/),
      });
      expect(Number(row.timestamp) % 300_000).toBe(0);
      expect(Number(row.longAccount) + Number(row.shortAccount)).toBeCloseTo(1, 6);
    }
    expect(Number(rows[2]!.timestamp) - Number(rows[1]!.timestamp)).toBe(300_000);
    // The same history on a second request.
    expect(
      (await getJson(`${usdm}/futures/data/globalLongShortAccountRatio?symbol=BTCUSDT&period=5m&limit=3`))
        .body,
    ).toEqual(rows);

    const spotInfo = (await getJson(`${spot}/api/v3/exchangeInfo`)).body as {
      rateLimits: unknown[];
      symbols: { symbol: string }[];
    };
    expect(spotInfo.rateLimits.length).toBeGreaterThan(0);
    expect(spotInfo.symbols.map((s) => s.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
    const usdmInfo = (await getJson(`${usdm}/fapi/v1/exchangeInfo`)).body as {
      rateLimits: unknown[];
      symbols: { symbol: string }[];
    };
    expect(usdmInfo.rateLimits.length).toBeGreaterThan(0);
    expect(usdmInfo.symbols.map((s) => s.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect((await getJson(`${spot}/api/v3/ping`)).body).toEqual({});
    expect((await getJson(`${usdm}/fapi/v1/ping`)).body).toEqual({});
  });
});

describe('market simulator: book sync', () => {
  for (const venue of ['binance-spot', 'binance-usdm'] as const) {
    it(`${venue}: a snapshot falls inside an event's [U, u]; events on the snapshot give the true book, across a gap and a crossed book`, async () => {
      const urls = sim.urls[venue];
      const stream = 'ethusdt@depth@100ms';
      const socket =
        venue === 'binance-spot'
          ? await opened(`${urls.ws}/ws/${stream}`)
          : await opened(`${urls.ws}/public/stream?streams=${stream}`);
      const local = new LocalBook(venue, urls.rest, 'ETHUSDT', socket, stream);
      await until(() => local.live && local.applied >= 10, 'ten events applied on the snapshot');
      const snapshot = local.snapshots[0]!;
      expect(local.events.some((e) => e.U! <= snapshot && snapshot <= e.u!)).toBe(true);
      expect(local.gaps + local.crossed).toBe(0);
      await expectConverged(sim, venue, 'ETHUSDT', local);

      // A lost event: the chain breaks as the venue documents it, and a resync from REST is right again.
      const before = local.events.length;
      sim.inject({ type: 'gap', venue, symbol: 'ETHUSDT' });
      await until(
        () => local.gaps >= 1 && local.live && local.applied >= 15,
        'the gap detected and resynced',
      );
      const after = local.events.slice(before - 1); // from the last event before the fault
      const broken = after.findIndex((e, i) =>
        i === 0 ? false : venue === 'binance-spot' ? e.U! > after[i - 1]!.u! + 1 : e.pu !== after[i - 1]!.u,
      );
      expect(broken).toBeGreaterThan(0);
      if (venue === 'binance-usdm') expect(after[broken]!.U!).toBeGreaterThan(after[broken - 1]!.u!);

      // A crossed book: ids still chain, the collector sees bid >= ask and resyncs.
      // The fault rides on the next event; one the client holds as older than a fresh snapshot is
      // rightly skipped, so the fault is injected again if no crossing was seen within a few seconds.
      let injectedAt = 0;
      await until(() => {
        if (local.crossed === 0 && Date.now() - injectedAt > 3_000) {
          sim.inject({ type: 'crossed', venue, symbol: 'ETHUSDT' });
          injectedAt = Date.now();
        }
        return local.crossed >= 1 && local.live;
      }, 'the crossed book detected and resynced');
      expect(local.gaps).toBe(1);
      const truth = sim.trueBook(venue, 'ETHUSDT');
      expect(truth.bids[0]![0]).toBeLessThan(truth.asks[0]![0]);
      await expectConverged(sim, venue, 'ETHUSDT', local);
      socket.close();
    });
  }
});

describe('market simulator: faults', () => {
  it('stall: the sockets stay open but carry nothing (no data, no pings) for the given time', async () => {
    const stallSim = await startSimulator({
      seed: 3,
      symbols: ['BTCUSDT'],
      pingIntervalMs: { 'binance-spot': 250 },
    });
    try {
      const socket = await TestSocket.open(`${stallSim.urls['binance-spot'].ws}/ws/btcusdt@depth@100ms`);
      await until(() => socket.pings.length >= 1 && socket.received.length >= 3, 'data and a ping');
      const at = Date.now();
      stallSim.inject({ type: 'stall', venue: 'binance-spot', ms: 1200 });
      await sleep(1300);
      const during = (t: number) => t > at + 200 && t < at + 1150;
      expect(socket.received.filter((r) => during(r.at))).toEqual([]);
      expect(socket.pings.filter(during)).toEqual([]);
      expect(socket.ws.readyState).toBe(WebSocket.OPEN);
      await until(() => socket.received.some((r) => r.at > at + 1200), 'data after the stall');
      await until(() => socket.pings.some((t) => t > at + 1200), 'pings after the stall');
      socket.close();
    } finally {
      await stallSim.close();
    }
  });

  it('stall outlasts reconnects: a socket opened during it is just as silent until it is lifted', async () => {
    const stallSim = await startSimulator({
      seed: 4,
      symbols: ['BTCUSDT'],
      pingIntervalMs: { 'binance-spot': 250 },
    });
    try {
      const url = `${stallSim.urls['binance-spot'].ws}/ws/btcusdt@depth@100ms`;
      const before = await TestSocket.open(url);
      await until(() => before.received.length >= 3, 'data');
      stallSim.inject({ type: 'stall', venue: 'binance-spot', ms: 600_000 });
      before.close();
      // The client reconnects, as a collector's watchdog does: the feed is still dead.
      const again = await TestSocket.open(url);
      await sleep(800);
      expect(again.received).toEqual([]);
      expect(again.pings).toEqual([]);
      expect(again.ws.readyState).toBe(WebSocket.OPEN);
      // Lifted (ms 0): the socket opened during the stall carries data and pings.
      stallSim.inject({ type: 'stall', venue: 'binance-spot', ms: 0 });
      await until(() => again.received.length >= 3 && again.pings.length >= 1, 'data and pings once lifted');
      again.close();
    } finally {
      await stallSim.close();
    }
  });

  it('disconnect: every connection of the venue drops; new ones are served', async () => {
    const usdm = sim.urls['binance-usdm'];
    const a = await opened(`${usdm.ws}/public/ws/btcusdt@depth@100ms`);
    const b = await opened(`${usdm.wsMarket}/market/stream?streams=btcusdt@aggTrade`);
    const spot = await opened(`${sim.urls['binance-spot'].ws}/ws/btcusdt@bookTicker`);
    sim.inject({ type: 'disconnect', venue: 'binance-usdm' });
    await until(() => a.closed !== null && b.closed !== null, 'both USD-M sockets closed', 5_000);
    expect(a.closed!.code).toBe(1006); // no close handshake
    expect(spot.closed).toBeNull(); // the other venue is untouched
    const again = await opened(`${usdm.ws}/public/ws/btcusdt@depth@100ms`);
    await again.waitFor((r) => r.json?.e === 'depthUpdate', 'depth after reconnecting');
    again.close();
    spot.close();
  });

  it('server-shutdown: the event on raw and combined connections, then the close after graceMs', async () => {
    const spot = sim.urls['binance-spot'];
    const raw = await opened(`${spot.ws}/ws/btcusdt@bookTicker`);
    const combined = await opened(`${spot.ws}/stream?streams=btcusdt@bookTicker`);
    sim.inject({ type: 'server-shutdown', venue: 'binance-spot', graceMs: 400 });
    const rawEvent = await raw.waitFor((r) => r.json?.e === 'serverShutdown', 'serverShutdown (raw)');
    const wrapped = await combined.waitFor(
      (r) => r.json?.stream === '!serverShutdown',
      'serverShutdown (combined)',
    );
    expect(rawEvent.json).toEqual({ e: 'serverShutdown', E: expect.any(Number) });
    expect(wrapped.json).toEqual({
      stream: '!serverShutdown',
      data: { e: 'serverShutdown', E: expect.any(Number) },
    });
    await until(() => raw.closed !== null && combined.closed !== null, 'closed after the grace', 5_000);
    expect(raw.closed!.at - rawEvent.at).toBeGreaterThanOrEqual(300);
  });

  it('rate-limit: the next count REST requests get 429/418 with Retry-After, then service resumes', async () => {
    const rest = sim.urls['binance-spot'].rest;
    sim.inject({ type: 'rate-limit', venue: 'binance-spot', status: 429, retryAfterSec: 7, count: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${rest}/api/v3/depth?symbol=BTCUSDT&limit=5`);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
      expect(await res.json()).toEqual({
        code: -1003,
        msg: expect.stringContaining('Too much request weight'),
      });
    }
    expect((await fetch(`${rest}/api/v3/depth?symbol=BTCUSDT&limit=5`)).status).toBe(200);

    // The same over the control endpoint, as a separate process would use it.
    const usdm = sim.urls['binance-usdm'].rest;
    const control = await fetch(`${usdm}/__sim/fault`, {
      method: 'POST',
      body: JSON.stringify({ type: 'rate-limit', status: 418, retryAfterSec: 120, count: 1 }),
    });
    expect(control.status).toBe(200);
    const banned = await fetch(`${usdm}/fapi/v1/openInterest?symbol=BTCUSDT`);
    expect(banned.status).toBe(418);
    expect(banned.headers.get('retry-after')).toBe('120');
    expect(((await banned.json()) as { code: number }).code).toBe(-1003);
    expect((await fetch(`${usdm}/fapi/v1/openInterest?symbol=BTCUSDT`)).status).toBe(200);
    expect(sim.stats().restRefused).toBeGreaterThanOrEqual(3);
  });

  it('malformed: invalid JSON, an unknown event and a depthUpdate without fields, amid normal traffic', async () => {
    const usdm = sim.urls['binance-usdm'];
    const socket = await opened(`${usdm.ws}/public/stream?streams=btcusdt@depth@100ms`);
    await socket.waitFor((r) => r.json?.stream === 'btcusdt@depth@100ms', 'normal traffic');
    const at = Date.now();
    sim.inject({ type: 'malformed', venue: 'binance-usdm' });
    await until(
      () => socket.received.filter((r) => r.at >= at && r.json === undefined).length >= 1,
      'invalid JSON',
    );
    await socket.waitFor((r) => r.json?.data?.e === 'mysteryEvent', 'an unknown event type');
    const truncated = await socket.waitFor(
      (r) => r.json?.data?.e === 'depthUpdate' && r.json.data.U === undefined,
      'a depthUpdate without ids',
    );
    expect(truncated.json!.stream).toBe('btcusdt@depth@100ms');
    // Good messages keep flowing after the bad ones.
    await socket.waitFor((r) => r.at > truncated.at && r.json?.data?.U !== undefined, 'normal traffic after');
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);
    socket.close();
  });

  it('control endpoints: a bad fault is refused with a reason; book, stats, pause and resume', async () => {
    const rest = sim.urls['binance-spot'].rest;
    const bad = await fetch(`${rest}/__sim/fault`, {
      method: 'POST',
      body: JSON.stringify({ type: 'stall', ms: -5 }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/ms/);
    const unknown = await fetch(`${rest}/__sim/fault`, {
      method: 'POST',
      body: JSON.stringify({ type: 'meteor' }),
    });
    expect(unknown.status).toBe(400);
    const notJson = await fetch(`${rest}/__sim/fault`, { method: 'POST', body: '{nope' });
    expect(notJson.status).toBe(400);
    expect(() => sim.inject({ type: 'gap', venue: 'binance-spot', symbol: 'DOGEUSDT' })).toThrow(/DOGEUSDT/);

    expect((await fetch(`${rest}/__sim/pause`, { method: 'POST' })).status).toBe(200);
    try {
      expect(sim.stats().paused).toBe(true);
      await sleep(150);
      const book = await getJson(`${rest}/__sim/book?symbol=BTCUSDT`);
      expect(book.body).toEqual(sim.trueBook('binance-spot', 'BTCUSDT'));
      expect((await getJson(`${rest}/__sim/book?symbol=NOPE`)).status).toBe(400);
    } finally {
      expect((await fetch(`${rest}/__sim/resume`, { method: 'POST' })).status).toBe(200);
    }
    const stats = (await getJson(`${rest}/__sim/stats`)).body as { restRequests: number; paused: boolean };
    expect(stats.paused).toBe(false);
    expect(stats.restRequests).toBeGreaterThan(0);
  });
});

describe('market simulator: bad requests and connection rules', () => {
  it('bad REST parameters get Binance errors, and the server keeps serving', async () => {
    const spot = sim.urls['binance-spot'].rest;
    const usdm = sim.urls['binance-usdm'].rest;
    const cases: [string, number][] = [
      [`${spot}/api/v3/depth?symbol=BTCUSDT&limit=abc`, -1100],
      [`${spot}/api/v3/depth?symbol=BTCUSDT&limit=0`, -1100],
      [`${spot}/api/v3/depth`, -1102],
      [`${spot}/api/v3/depth?symbol=NOPEUSDT`, -1121],
      [`${spot}/api/v3/depth?symbol=btc usdt`, -1100],
      [`${usdm}/fapi/v1/depth?symbol=BTCUSDT&limit=7`, -1100],
      [`${usdm}/fapi/v1/depth?symbol=XYZUSDT`, -1121],
      [`${usdm}/fapi/v1/openInterest`, -1102],
      [`${usdm}/futures/data/globalLongShortAccountRatio?symbol=BTCUSDT&period=7m`, -1100],
      [`${usdm}/futures/data/globalLongShortAccountRatio?symbol=BTCUSDT`, -1102],
      [`${usdm}/futures/data/globalLongShortAccountRatio?symbol=BTCUSDT&period=5m&limit=501`, -1100],
    ];
    for (const [url, code] of cases) {
      const res = await getJson(url);
      expect({ url, status: res.status }).toEqual({ url, status: 400 });
      expect(res.body).toEqual({ code, msg: expect.any(String) });
    }
    // Above 5000, spot truncates as documented.
    expect((await getJson(`${spot}/api/v3/depth?symbol=BTCUSDT&limit=6000`)).status).toBe(200);
    expect((await fetch(`${spot}/api/v3/nothing`)).status).toBe(404);
    expect((await getJson(`${spot}/api/v3/ping`)).status).toBe(200);
    expect((await getJson(`${usdm}/fapi/v1/ping`)).status).toBe(200);
  });

  it('bad SUBSCRIBE, wrong paths and wrong areas get Binance errors; the connection keeps working', async () => {
    const spot = sim.urls['binance-spot'];
    const usdm = sim.urls['binance-usdm'];
    const socket = await opened(`${spot.ws}/ws`);
    expect(await socket.request({ method: 'SUBSCRIBE', params: ['btcusdt@trade'], id: 1 })).toEqual({
      result: null,
      id: 1,
    });
    expect(await socket.request('{not json')).toEqual({
      error: { code: 3, msg: expect.stringMatching(/^Invalid JSON/) },
      id: null,
    });
    expect(await socket.request({ method: 'FROBNICATE', id: 2 })).toEqual({
      error: { code: 2, msg: expect.stringMatching(/^Invalid request/) },
      id: 2,
    });
    expect(await socket.request({ method: 'SUBSCRIBE', params: ['btcusdt@nonsense'], id: 'x3' })).toEqual({
      error: { code: 2, msg: expect.any(String) },
      id: 'x3',
    });
    expect(await socket.request({ method: 'SUBSCRIBE', params: ['BTCUSDT@trade'], id: 4 })).toMatchObject({
      error: { code: 2 },
    });
    await sleep(1100); // stay under the inbound limit (5/s on spot)
    expect(
      await socket.request({ method: 'SUBSCRIBE', params: ['btcusdt@trade'], id: { no: 1 } }),
    ).toMatchObject({ error: { code: 2 } });
    expect(await socket.request({ method: 'LIST_SUBSCRIPTIONS', id: 5 })).toEqual({
      result: ['btcusdt@trade'],
      id: 5,
    });
    await socket.waitFor((r) => r.json?.e === 'trade', 'trades after the bad requests');
    expect(await socket.request({ method: 'UNSUBSCRIBE', params: ['btcusdt@trade'], id: 6 })).toEqual({
      result: null,
      id: 6,
    });
    expect(await socket.request({ method: 'LIST_SUBSCRIPTIONS', id: 7 })).toEqual({ result: [], id: 7 });
    socket.close();

    // USD-M: book streams only on /public, the rest only on /market; the legacy root is gone.
    const pub = await opened(`${usdm.ws}/public/ws`);
    const wrong = await pub.request({ method: 'SUBSCRIBE', params: ['btcusdt@aggTrade'], id: 9 });
    expect(wrong).toEqual({ error: { code: 2, msg: expect.stringContaining('/market') }, id: 9 });
    expect(await pub.request({ method: 'SUBSCRIBE', params: ['btcusdt@depth@500ms'], id: 10 })).toEqual({
      result: null,
      id: 10,
    });
    await pub.waitFor((r) => r.json?.e === 'depthUpdate', 'depth on /public');
    pub.close();
    const mkt = await opened(`${usdm.wsMarket}/market/ws`);
    expect(await mkt.request({ method: 'SUBSCRIBE', params: ['btcusdt@depth'], id: 11 })).toMatchObject({
      error: { code: 2 },
    });
    mkt.close();

    expect(await upgradeStatus(`${usdm.ws}/ws/btcusdt@depth`)).toBe(404);
    expect(await upgradeStatus(`${usdm.ws}/stream?streams=btcusdt@depth`)).toBe(404);
    expect(await upgradeStatus(`${usdm.ws}/public/ws/btcusdt@markPrice`)).toBe(400);
    expect(await upgradeStatus(`${spot.ws}/stream?streams=btcusdt@trade/dogeusdt@trade`)).toBe(400);
    expect(await upgradeStatus(`${spot.ws}/elsewhere`)).toBe(404);
    expect(await upgradeStatus(`${spot.ws}/ws/%E0%A4%A`)).toBe(400);
    const ok = await opened(`${usdm.ws}/market/ws/btcusdt@markPrice@1s`);
    await ok.waitFor((r) => r.json?.e === 'markPriceUpdate', 'mark price on /market');
    ok.close();
  });

  it('inbound limit: more than 5 messages/s (text or ping frames) on spot closes the connection', async () => {
    const spot = sim.urls['binance-spot'];
    const before = sim.stats().closedForRate;
    const chatty = await opened(`${spot.ws}/ws`);
    for (let i = 0; i < 8; i++) chatty.ws.send(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: i }));
    await until(() => chatty.closed !== null, 'the chatty connection closed', 5_000);
    expect(chatty.closed!.code).toBe(1008);

    const pinger = await opened(`${spot.ws}/ws`);
    for (let i = 0; i < 8; i++) pinger.ws.ping();
    await until(() => pinger.closed !== null, 'the pinging connection closed', 5_000);
    expect(sim.stats().closedForRate).toBe(before + 2);

    // USD-M allows 10/s: 8 are fine.
    const calm = await opened(`${sim.urls['binance-usdm'].ws}/public/ws`);
    for (let i = 0; i < 8; i++) calm.ws.send(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: i }));
    await until(() => calm.received.length >= 8, 'eight replies');
    expect(calm.closed).toBeNull();
    calm.close();
  });

  it('streams per connection are limited (maxStreams), on the URL and by SUBSCRIBE', async () => {
    const small = await startSimulator({ seed: 6, symbols: ['BTCUSDT'], maxStreams: 3 });
    try {
      const ws = small.urls['binance-spot'].ws;
      const four = ['depth', 'depth@100ms', 'trade', 'aggTrade'].map((k) => `btcusdt@${k}`);
      expect(await upgradeStatus(`${ws}/stream?streams=${four.join('/')}`)).toBe(400);
      const socket = await TestSocket.open(`${ws}/stream?streams=${four.slice(0, 3).join('/')}`);
      expect(await socket.request({ method: 'SUBSCRIBE', params: [four[3]], id: 1 })).toMatchObject({
        error: { code: 2, msg: expect.stringContaining('3 streams') },
      });
      // Subscribing again to a stream it has is not a new stream.
      expect(await socket.request({ method: 'SUBSCRIBE', params: [four[0]], id: 2 })).toEqual({
        result: null,
        id: 2,
      });
      socket.close();
    } finally {
      await small.close();
    }
  });

  it('pings: answered pongs keep a socket, silence closes it after pongTimeoutMs; lifetime closes all', async () => {
    const rules = await startSimulator({
      seed: 5,
      symbols: ['BTCUSDT'],
      pingIntervalMs: { 'binance-spot': 250 },
      pongTimeoutMs: { 'binance-spot': 700 },
      maxConnectionMs: 2_500,
    });
    try {
      const url = `${rules.urls['binance-spot'].ws}/ws/btcusdt@bookTicker`;
      const polite = await TestSocket.open(url);
      const mute = await TestSocket.open(url, { autoPong: false });
      await until(() => mute.closed !== null, 'the mute socket closed', 5_000);
      const muteLife = mute.closed!.at - mute.openedAt;
      expect(muteLife).toBeGreaterThanOrEqual(800);
      expect(muteLife).toBeLessThan(2_400);
      expect(mute.pings.length).toBeGreaterThanOrEqual(1);
      expect(polite.closed).toBeNull();
      await until(() => polite.closed !== null, 'the lifetime limit', 6_000);
      expect(polite.closed!.at - polite.openedAt).toBeGreaterThanOrEqual(2_400);
      expect(polite.pings.length).toBeGreaterThanOrEqual(6);
      const stats = rules.stats().servers['binance-spot'];
      expect(stats.closedForPong).toBe(1);
      expect(stats.closedForLifetime).toBe(1);
    } finally {
      await rules.close();
    }
  });
});

describe('market simulator: the child program', () => {
  const run = runSimulatorChild;

  it('serves the protocol, reports ready with its urls, and stops on request; a bad config exits 78', async () => {
    const child = run({
      spotPort: 0,
      usdmPort: 0,
      okxPort: 0,
      deribitPort: 0,
      symbols: ['SOLUSDT'],
      seed: 9,
    });
    await until(() => child.messages.some((m) => m.type === 'ready'), 'ready', 20_000);
    const ready = child.messages.find((m) => m.type === 'ready') as {
      detail: { simulated: boolean; urls: Simulator['urls'] };
    };
    expect(ready.detail.simulated).toBe(true);
    const depth = await getJson(
      `${ready.detail.urls['binance-spot'].rest}/api/v3/depth?symbol=SOLUSDT&limit=5`,
    );
    expect(depth.status).toBe(200);
    const socket = await TestSocket.open(
      `${ready.detail.urls['binance-usdm'].ws}/public/ws/solusdt@depth@100ms`,
    );
    await socket.waitFor(
      (r) => r.json?.e === 'depthUpdate' && r.json.pu !== undefined,
      'USD-M depth from the child',
    );
    socket.close();
    child.send({ type: 'stop', reason: 'test' });
    expect(await child.exited).toBe(0);

    const bad = run({ spotPort: 'seven' });
    expect(await bad.exited).toBe(78);
    expect(bad.stderr()).toMatch(/invalid VIGIL_CONFIG: spotPort/);
  });
});
