/**
 * The simulated Deribit server over real sockets with a raw `ws` client: JSON-RPC ids and errors, the
 * book snapshot and its `prev_change_id` chain (replayed onto the snapshot it equals the true book),
 * raw channels refused, trades with a contiguous `trade_seq` and flagged liquidations, the heartbeat
 * and its close when a test_request goes unanswered, credits and 10028, DVOL history paging, every
 * fault, and the REST side of the same methods.
 */
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import type { Level } from '../../src/shared/market';
import { SymbolMarket } from '../../src/services/simulator/market';
import { dvolBar, startDeribitServer, type DeribitServerOptions } from '../../src/services/simulator/deribit';
import { startSimulator } from '../../src/services/simulator/simulator';
import type { SimControl } from '../../src/services/simulator/venue-server';
import { until } from '../helpers/process-fixtures';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Rpc {
  jsonrpc?: string;
  id?: number | string | null;
  method?: string;
  result?: unknown;
  error?: { code: number; message: string; data?: { reason: string; param?: string } };
  params?: { channel?: string; data?: unknown; type?: string };
}

interface BookData {
  type: 'snapshot' | 'change';
  timestamp: number;
  instrument_name: string;
  change_id: number;
  prev_change_id?: number;
  bids: [string, number, number][];
  asks: [string, number, number][];
}

interface TradeData {
  trade_seq: number;
  trade_id: string;
  timestamp: number;
  tick_direction: number;
  price: number;
  amount: number;
  direction: string;
  mark_price: number;
  index_price: number;
  instrument_name: string;
  liquidation?: string;
}

/** A Deribit server on its own markets, stepped here, so its options (heartbeat unit, page size) can vary. */
async function deribitSim(options: Partial<DeribitServerOptions> = {}) {
  const markets = new Map<string, SymbolMarket>();
  for (const symbol of ['BTCUSDT', 'ETHUSDT']) {
    const market = new SymbolMarket({ venue: 'deribit', symbol, seed: 7, stepMs: 10 });
    markets.set(market.symbol, market);
  }
  let paused = false;
  const stepper = setInterval(() => {
    if (!paused) for (const m of markets.values()) m.step(Date.now());
  }, 10);
  const control: SimControl = {
    inject: (fault) => server.inject(fault),
    trueBook: (_venue, symbol) => markets.get(symbol)!.trueBook(),
    trades: (_venue, symbol) => markets.get(symbol)!.trades(),
    stats: () => server.stats(),
    pause: () => (paused = true),
    resume: () => (paused = false),
  };
  const { server, port } = await startDeribitServer({
    host: '127.0.0.1',
    port: 0,
    markets,
    control,
    depthIntervalMs: 20,
    ...options,
  });
  const sim = {
    server,
    markets,
    ws: `ws://127.0.0.1:${port}/ws/api/v2`,
    rest: `http://127.0.0.1:${port}`,
    pause: () => (paused = true),
    resume: () => (paused = false),
    close: async () => {
      clearInterval(stepper);
      await server.close();
    },
  };
  cleanups.push(sim.close);
  return sim;
}

class RpcSocket {
  readonly received: { at: number; text: string; json: Rpc | undefined }[] = [];
  closed: { code: number; reason: string; at: number } | null = null;
  private nextId = 1;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      let json: Rpc | undefined;
      try {
        json = JSON.parse(text) as Rpc;
      } catch {
        json = undefined;
      }
      this.received.push({ at: Date.now(), text, json });
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString(), at: Date.now() }));
    ws.on('error', () => undefined);
  }

  static async open(url: string): Promise<RpcSocket> {
    const socket = new RpcSocket(new WebSocket(url));
    cleanups.push(() => socket.ws.terminate());
    await new Promise<void>((resolve, reject) => {
      socket.ws.once('open', () => resolve());
      socket.ws.once('error', reject);
    });
    return socket;
  }

  send(body: unknown): void {
    this.ws.send(typeof body === 'string' ? body : JSON.stringify(body));
  }

  /** Sends a request and waits for the response with its id. */
  async call(method: string, params: unknown = {}, id: number | string = this.nextId++): Promise<Rpc> {
    this.send({ jsonrpc: '2.0', id, method, params });
    let reply: Rpc | undefined;
    await until(
      () => (reply = this.received.find((r) => r.json?.id === id)?.json) !== undefined,
      `${method} reply`,
    );
    return reply!;
  }

  /** The data of every notification on `channel` so far. */
  data<T>(channel: string): T[] {
    return this.received
      .filter((r) => r.json?.method === 'subscription' && r.json.params?.channel === channel)
      .map((r) => r.json!.params!.data as T);
  }

  heartbeats(type: string): number[] {
    return this.received
      .filter((r) => r.json?.method === 'heartbeat' && r.json.params?.type === type)
      .map((r) => r.at);
  }
}

async function getJson(url: string): Promise<{ status: number; body: Rpc }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Rpc };
}

/** Applies Deribit levels to a side map (new/change set the amount, delete removes). */
function apply(side: Map<number, number>, levels: [string, number, number][]): void {
  for (const [action, price, amount] of levels) {
    if (action === 'delete') side.delete(price);
    else side.set(price, amount);
  }
}

function sorted(side: Map<number, number>, descending: boolean): Level[] {
  return [...side].sort((a, b) => (descending ? b[0] - a[0] : a[0] - b[0]));
}

describe('simulated Deribit: JSON-RPC', () => {
  it('echoes ids, answers the public methods and names its errors, over WebSocket and REST', async () => {
    const sim = await deribitSim();
    const s = await RpcSocket.open(sim.ws);
    const test = await s.call('public/test', {}, 'abc');
    expect(test).toMatchObject({ jsonrpc: '2.0', id: 'abc', result: { version: expect.any(String) } });
    const time = await s.call('public/get_time', {}, 77);
    expect(time.id).toBe(77);
    expect(Math.abs((time.result as number) - Date.now())).toBeLessThan(5_000);
    expect((await s.call('public/nope')).error).toMatchObject({ code: -32601 });
    const bad = await s.call('public/get_volatility_index_data', { currency: 'BTC', resolution: '7' });
    expect(bad.error).toMatchObject({ code: -32602, data: { param: 'start_timestamp' } });
    s.send('{"jsonrpc":"2.0","id":');
    await until(() => s.received.some((r) => r.json?.error?.code === -32700), 'a parse error');
    expect(s.received.find((r) => r.json?.error?.code === -32700)!.json!.id).toBeNull();

    const instruments = await s.call('public/get_instruments', { currency: 'BTC', kind: 'future' });
    expect(instruments.result).toEqual([
      expect.objectContaining({
        instrument_name: 'BTC-PERPETUAL',
        kind: 'future',
        settlement_period: 'perpetual',
      }),
    ]);

    const rest = await getJson(`${sim.rest}/api/v2/public/get_instruments?currency=ETH&kind=future`);
    expect(rest.status).toBe(200);
    expect(rest.body.result).toEqual([expect.objectContaining({ instrument_name: 'ETH-PERPETUAL' })]);
    expect((await getJson(`${sim.rest}/api/v2/public/get_time`)).body.result).toEqual(expect.any(Number));
    const restSubscribe = await getJson(`${sim.rest}/api/v2/public/subscribe?channels=x`);
    expect(restSubscribe.status).toBe(400);
    expect(restSubscribe.body.error).toMatchObject({ code: 11050 });
    expect((await getJson(`${sim.rest}/api/v2/public/what`)).body.error).toMatchObject({ code: -32601 });
    expect((await getJson(`${sim.rest}/__sim/book?symbol=BTC-PERPETUAL`)).status).toBe(200);
  });

  it('is the deribit server of startSimulator', async () => {
    const sim = await startSimulator({ seed: 7, stepMs: 10, depthIntervalMs: 20 });
    cleanups.push(() => sim.close());
    expect(sim.instrument('deribit', 'BTCUSDT')).toBe('BTC-PERPETUAL');
    const s = await RpcSocket.open(`${sim.urls.deribit.ws}/ws/api/v2`);
    const sub = await s.call('public/subscribe', { channels: ['book.ETH-PERPETUAL.100ms'] });
    expect(sub.result).toEqual(['book.ETH-PERPETUAL.100ms']);
    await until(() => s.data<BookData>('book.ETH-PERPETUAL.100ms').length > 0, 'a snapshot');
    expect(sim.trueBook('deribit', 'ETH-PERPETUAL').bids.length).toBeGreaterThan(100);
    expect(sim.stats().connections.deribit).toBe(1);
  });
});

describe('simulated Deribit: channels', () => {
  it('sends a snapshot, then changes that chain and replay onto it into the true book; refuses raw', async () => {
    const sim = await deribitSim();
    const s = await RpcSocket.open(sim.ws);
    const raw = await s.call('public/subscribe', { channels: ['book.BTC-PERPETUAL.raw'] });
    expect(raw.error).toMatchObject({
      code: 13778,
      message: 'raw_subscriptions_not_available_for_unauthorized',
    });
    // All or nothing: a raw channel in the list subscribes none of them.
    const mixed = await s.call('public/subscribe', {
      channels: ['ticker.BTC-PERPETUAL.100ms', 'trades.BTC-PERPETUAL.raw'],
    });
    expect(mixed.error?.code).toBe(13778);
    expect((await s.call('public/subscribe', { channels: ['book.DOGE-PERPETUAL.100ms'] })).error?.code).toBe(
      10020,
    );

    const channel = 'book.BTC-PERPETUAL.100ms';
    const sub = await s.call('public/subscribe', { channels: [channel, channel] });
    expect(sub.result).toEqual([channel]);
    await until(() => s.data<BookData>(channel).length > 200, 'many book changes', 20_000);
    sim.pause();
    await sleep(200);
    const messages = s.data<BookData>(channel);
    expect(messages[0]!.type).toBe('snapshot');
    expect(messages.slice(1).every((m) => m.type === 'change')).toBe(true);
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    apply(bids, messages[0]!.bids);
    apply(asks, messages[0]!.asks);
    let last = messages[0]!.change_id;
    const actions = new Set<string>();
    for (const change of messages.slice(1)) {
      expect(change.prev_change_id).toBe(last);
      expect(change.change_id).toBeGreaterThan(last);
      last = change.change_id;
      for (const [action] of [...change.bids, ...change.asks]) actions.add(action);
      apply(bids, change.bids);
      apply(asks, change.asks);
    }
    expect(actions).toEqual(new Set(['new', 'change', 'delete']));
    const truth = sim.markets.get('BTC-PERPETUAL')!.trueBook();
    expect(last).toBe(truth.lastUpdateId);
    expect(sorted(bids, true)).toEqual(truth.bids);
    expect(sorted(asks, false)).toEqual(truth.asks);

    // Subscribing again is a no-op (no second snapshot); unsubscribe stops the channel.
    const before = s.data<BookData>(channel).filter((m) => m.type === 'snapshot').length;
    await s.call('public/subscribe', { channels: [channel] });
    expect((await s.call('public/unsubscribe', { channels: [channel] })).result).toEqual([channel]);
    sim.resume();
    await sleep(300);
    const count = s.data(channel).length;
    await sleep(300);
    expect(s.data(channel).length).toBe(count);
    expect(s.data<BookData>(channel).filter((m) => m.type === 'snapshot').length).toBe(before);
  });

  it('streams trades with a contiguous trade_seq and flagged liquidations, the ticker and DVOL', async () => {
    const sim = await deribitSim();
    const s = await RpcSocket.open(sim.ws);
    const channels = [
      'trades.BTC-PERPETUAL.100ms',
      'ticker.BTC-PERPETUAL.100ms',
      'deribit_volatility_index.btc_usd',
    ];
    expect((await s.call('public/subscribe', { channels })).result).toEqual(channels);
    const trades = () => s.data<TradeData[]>('trades.BTC-PERPETUAL.100ms').flat();
    await until(() => trades().filter((t) => t.liquidation).length >= 2, 'liquidation trades', 20_000);
    const all = trades();
    for (let i = 1; i < all.length; i++) expect(all[i]!.trade_seq).toBe(all[i - 1]!.trade_seq + 1);
    expect(all[0]).toEqual({
      trade_seq: expect.any(Number),
      trade_id: expect.stringMatching(/^\d+$/),
      timestamp: expect.any(Number),
      tick_direction: expect.any(Number),
      price: expect.any(Number),
      mark_price: expect.any(Number),
      index_price: expect.any(Number),
      instrument_name: 'BTC-PERPETUAL',
      direction: expect.stringMatching(/^(buy|sell)$/),
      amount: expect.any(Number),
      ...(all[0]!.liquidation ? { liquidation: 'T' } : {}),
    });
    // The tape is the market's trade log, amounts in USD as sent.
    const log = sim.markets.get('BTC-PERPETUAL')!.trades();
    const byId = new Map(log.map((t) => [String(t.id), t]));
    for (const t of all)
      expect(byId.get(t.trade_id)).toMatchObject({ price: t.price, size: t.amount, side: t.direction });

    const ticker = s.data<Record<string, unknown>>('ticker.BTC-PERPETUAL.100ms').at(-1)!;
    expect(ticker).toMatchObject({
      instrument_name: 'BTC-PERPETUAL',
      state: 'open',
      best_bid_price: expect.any(Number),
      best_ask_price: expect.any(Number),
      best_bid_amount: expect.any(Number),
      best_ask_amount: expect.any(Number),
      mark_price: expect.any(Number),
      index_price: expect.any(Number),
      funding_8h: expect.any(Number),
      current_funding: expect.any(Number),
      open_interest: expect.any(Number),
    });
    expect(ticker.best_bid_price as number).toBeLessThan(ticker.best_ask_price as number);
    const dvol = s.data<{ volatility: number; timestamp: number; index_name: string }>(
      'deribit_volatility_index.btc_usd',
    );
    expect(dvol.length).toBeGreaterThan(0);
    expect(dvol[0]).toEqual({
      volatility: expect.any(Number),
      timestamp: expect.any(Number),
      index_name: 'btc_usd',
    });
    // The live value is the history's 1-second bar.
    expect(dvol[0]!.volatility).toBe(dvolBar('BTC', dvol[0]!.timestamp, 1_000)[4]);
  });
});

describe('simulated Deribit: heartbeat and credits', () => {
  it('sends test_requests after set_heartbeat and closes the connection when one goes unanswered', async () => {
    // 10 s intervals in 60 ms units: a test_request every 600 ms.
    const sim = await deribitSim({ heartbeatUnitMs: 60 });
    const s = await RpcSocket.open(sim.ws);
    expect((await s.call('public/set_heartbeat', { interval: 5 })).error).toMatchObject({
      code: -32602,
      data: { param: 'interval' },
    });
    expect((await s.call('public/set_heartbeat', { interval: 10 })).result).toBe('ok');
    // Answer four test_requests: the connection stays.
    let answered = 0;
    while (answered < 4) {
      await until(() => s.heartbeats('test_request').length > answered, 'a test_request', 5_000);
      answered += 1;
      await s.call('public/test');
    }
    expect(s.closed).toBeNull();
    expect(s.heartbeats('heartbeat').length).toBeGreaterThan(0);
    // Then stop answering: closed at the next interval.
    const lastRequest = s.heartbeats('test_request').at(-1)!;
    await until(() => s.closed !== null, 'the close', 5_000);
    expect(s.closed!.at - lastRequest).toBeGreaterThanOrEqual(400);
    expect(sim.server.stats().closedForPong).toBe(1);
  });

  it('answers 10028 and closes the session when credits run out, and on the rate-limit fault', async () => {
    const sim = await deribitSim({ credits: { pool: 5_000, refillPerSec: 500, cost: 500 } });
    const s = await RpcSocket.open(sim.ws);
    for (let i = 0; i < 15; i++) s.send({ jsonrpc: '2.0', id: i + 1, method: 'public/test', params: {} });
    await until(() => s.closed !== null, 'the session closed');
    const refused = s.received.filter((r) => r.json?.error?.code === 10028);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.json).toMatchObject({ id: 11, error: { message: 'too_many_requests' } });
    expect(s.received.filter((r) => r.json?.result !== undefined)).toHaveLength(10);

    // Subscriptions have their own, smaller pool (3.3/s, burst 10 by default).
    const sim2 = await deribitSim();
    const s2 = await RpcSocket.open(sim2.ws);
    for (let i = 0; i < 12; i++) {
      s2.send({
        jsonrpc: '2.0',
        id: i + 1,
        method: 'public/subscribe',
        params: { channels: ['deribit_volatility_index.btc_usd'] },
      });
    }
    await until(() => s2.closed !== null, 'the session closed after too many subscribes');
    expect(s2.received.filter((r) => r.json?.error?.code === 10028)).toHaveLength(1);

    // The fault: the next request is refused, and so is every request until the credits are back.
    sim2.server.inject({ type: 'rate-limit', venue: 'deribit', retryAfterSec: 1, count: 1 });
    const s3 = await RpcSocket.open(sim2.ws);
    expect((await s3.call('public/test')).error).toMatchObject({ code: 10028 });
    await until(() => s3.closed !== null, 'the session closed on the fault');
    const s4 = await RpcSocket.open(sim2.ws);
    expect((await s4.call('public/get_time')).error?.code).toBe(10028);
    const rest = await getJson(`${sim2.rest}/api/v2/public/get_time`);
    expect(rest.status).toBe(429);
    await sleep(1_100);
    const s5 = await RpcSocket.open(sim2.ws);
    expect((await s5.call('public/test')).result).toBeDefined();
    expect(sim2.server.stats().closedForRate).toBe(3);
  });
});

describe('simulated Deribit: DVOL history', () => {
  it('pages newest first with continuation: contiguous, non-overlapping, deterministic, same over REST', async () => {
    const sim = await deribitSim({ dvolPageSize: 100 });
    const s = await RpcSocket.open(sim.ws);
    const minute = 60_000;
    const end = Math.floor(Date.now() / minute) * minute - 5 * minute + 30_000; // mid-minute
    const start = end - 6 * 3_600_000 + 7_000;
    const pages: [number, number, number, number, number][][] = [];
    let cursor: number | null = end;
    while (cursor !== null) {
      const reply = await s.call('public/get_volatility_index_data', {
        currency: 'BTC',
        start_timestamp: start,
        end_timestamp: cursor,
        resolution: '60',
      });
      const result = reply.result as {
        data: [number, number, number, number, number][];
        continuation: number | null;
      };
      expect(result.data.length).toBeLessThanOrEqual(100);
      pages.push(result.data);
      if (result.continuation !== null) expect(result.continuation).toBe(result.data[0]![0] - minute);
      cursor = result.continuation;
    }
    expect(pages).toHaveLength(4);
    const rows = pages.reverse().flat();
    const expected: number[] = [];
    for (let t = Math.ceil(start / minute) * minute; t <= end; t += minute) expected.push(t);
    expect(rows.map((r) => r[0])).toEqual(expected);
    for (const [, open, high, low, close] of rows) {
      expect(high).toBeGreaterThanOrEqual(Math.max(open, close));
      expect(low).toBeLessThanOrEqual(Math.min(open, close));
      expect(low).toBeGreaterThan(20);
    }
    // The same bars whenever asked, and over REST.
    const again = await getJson(
      `${sim.rest}/api/v2/public/get_volatility_index_data?currency=BTC&start_timestamp=${start}&end_timestamp=${end}&resolution=60`,
    );
    expect((again.body.result as { data: unknown[] }).data).toEqual(rows.slice(-100));
    const day = await s.call('public/get_volatility_index_data', {
      currency: 'ETH',
      start_timestamp: 0,
      end_timestamp: Date.now(),
      resolution: '1D',
    });
    const days = (day.result as { data: number[][]; continuation: number }).data;
    expect(days).toHaveLength(100);
    expect(days.every((d) => d[0]! % 86_400_000 === 0)).toBe(true);
    // No bar starts in the future.
    const future = await s.call('public/get_volatility_index_data', {
      currency: 'BTC',
      start_timestamp: Date.now() + 3_600_000,
      end_timestamp: Date.now() + 7_200_000,
      resolution: '60',
    });
    expect(future.result).toEqual({ data: [], continuation: null });
  });
});

describe('simulated Deribit: faults', () => {
  it('gap breaks the change chain and skips a trade_seq; crossed crosses one change; malformed sends three bad messages', async () => {
    const sim = await deribitSim();
    const s = await RpcSocket.open(sim.ws);
    const book = 'book.BTC-PERPETUAL.100ms';
    const trades = 'trades.BTC-PERPETUAL.100ms';
    await s.call('public/subscribe', { channels: [book, trades] });
    await until(() => s.data(book).length > 5 && s.data(trades).length > 0, 'book and trades');
    sim.server.inject({ type: 'gap', venue: 'deribit', symbol: 'BTC-PERPETUAL' });
    const chainBreaks = () => {
      const changes = s.data<BookData>(book);
      return changes.filter((c, i) => i > 0 && c.prev_change_id !== changes[i - 1]!.change_id).length;
    };
    await until(() => chainBreaks() === 1, 'a broken chain');
    const seqSkips = () => {
      const all = s.data<TradeData[]>(trades).flat();
      return all.filter((t, i) => i > 0 && t.trade_seq !== all[i - 1]!.trade_seq + 1).length;
    };
    await until(() => seqSkips() === 1, 'a skipped trade_seq', 20_000);
    const all = s.data<TradeData[]>(trades).flat();
    const skip = all.findIndex((t, i) => i > 0 && t.trade_seq !== all[i - 1]!.trade_seq + 1);
    expect(all[skip]!.trade_seq).toBe(all[skip - 1]!.trade_seq + 2);

    // A fresh subscription, replayed: the crossed fault puts a bid above the best ask in one change.
    const s2 = await RpcSocket.open(sim.ws);
    await s2.call('public/subscribe', { channels: [book] });
    await until(() => s2.data(book).length > 3, 'a snapshot and changes');
    sim.server.inject({ type: 'crossed', venue: 'deribit', symbol: 'BTC-PERPETUAL' });
    const seen = s2.data(book).length;
    await until(() => s2.data(book).length > seen + 3, 'changes after the crossed fault');
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    let crossedAt = -1;
    s2.data<BookData>(book).forEach((m, i) => {
      apply(bids, m.bids);
      apply(asks, m.asks);
      if (crossedAt === -1 && Math.max(...bids.keys()) >= Math.min(...asks.keys())) crossedAt = i;
    });
    expect(crossedAt).toBeGreaterThanOrEqual(seen);

    const count = s.received.length;
    sim.server.inject({ type: 'malformed', venue: 'deribit' });
    await sleep(300);
    const fresh = s.received.slice(count);
    expect(fresh.filter((r) => r.json === undefined)).toHaveLength(1);
    expect(fresh.filter((r) => r.json?.params?.channel === 'mystery_channel.btc_usd.100ms')).toHaveLength(1);
    expect(
      fresh.filter(
        (r) => r.json?.params?.channel === book && !('change_id' in (r.json.params.data as object)),
      ),
    ).toHaveLength(1);
    expect(() => sim.server.inject({ type: 'keepalive', venue: 'deribit', symbol: 'BTC-PERPETUAL' })).toThrow(
      /deribit has no keepalive/,
    );
  });

  it('stall outlasts reconnects: a socket opened during it is silent, and answered once it is lifted', async () => {
    const sim = await deribitSim();
    const s = await RpcSocket.open(sim.ws);
    await s.call('public/subscribe', { channels: ['ticker.BTC-PERPETUAL.100ms'] });
    await until(() => s.received.length > 5, 'tickers');
    sim.server.inject({ type: 'stall', venue: 'deribit', ms: 600_000 });
    s.ws.terminate();
    // The client reconnects: the feed is still dead (no reply to anything, no data).
    const again = await RpcSocket.open(sim.ws);
    again.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'public/subscribe',
      params: { channels: ['ticker.BTC-PERPETUAL.100ms'] },
    });
    again.send({ jsonrpc: '2.0', id: 2, method: 'public/test', params: {} });
    await sleep(800);
    expect(again.received).toEqual([]);
    expect(again.closed).toBeNull();
    // Lifted (ms 0): what was sent meanwhile is answered, and the subscription carries data.
    sim.server.inject({ type: 'stall', venue: 'deribit', ms: 0 });
    await until(() => again.data('ticker.BTC-PERPETUAL.100ms').length > 3, 'tickers once lifted');
    expect(again.received.filter((r) => r.json?.id === 1 || r.json?.id === 2)).toHaveLength(2);
  });

  it('stall silences the socket; disconnect drops it; server-shutdown closes with 1001 after the grace', async () => {
    const sim = await deribitSim();
    const s = await RpcSocket.open(sim.ws);
    await s.call('public/subscribe', { channels: ['ticker.BTC-PERPETUAL.100ms'] });
    await until(() => s.received.length > 5, 'tickers');
    sim.server.inject({ type: 'stall', venue: 'deribit', ms: 800 });
    const stalledAt = Date.now();
    await sleep(100);
    const during = s.received.length;
    s.send({ jsonrpc: '2.0', id: 99, method: 'public/test', params: {} });
    await sleep(500);
    expect(s.received.length).toBe(during); // no data, no reply
    await until(() => s.received.length > during, 'data after the stall');
    expect(Date.now() - stalledAt).toBeGreaterThanOrEqual(700);
    expect(s.closed).toBeNull();

    sim.server.inject({ type: 'disconnect', venue: 'deribit' });
    await until(() => s.closed !== null, 'the disconnect');
    expect(s.closed!.code).toBe(1006);

    const s2 = await RpcSocket.open(sim.ws);
    const injected = Date.now();
    sim.server.inject({ type: 'server-shutdown', venue: 'deribit', graceMs: 400 });
    await until(() => s2.closed !== null, 'the shutdown');
    expect(s2.closed).toMatchObject({ code: 1001, reason: 'going away' });
    expect(s2.closed!.at - injected).toBeGreaterThanOrEqual(350);
    expect(s2.received).toEqual([]); // no notice on Deribit
    expect(sim.server.stats().faults).toBe(3);
  });
});
