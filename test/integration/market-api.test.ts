/**
 * The market-health API against a real core: market/<venue>.db files written by the collectors' own
 * recorder into the core's data folder, read back through the router (gaps, series); and the live
 * top of book from a real publisher on the bus, carried only while a WebSocket client watches it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../src/main/core';
import { startHeadlessServer, type HeadlessServer } from '../../src/main/server/headless-server';
import type { Envelope } from '../../src/shared/errors';
import type { GapRecord, Venue } from '../../src/shared/market';
import type {
  MarketGapsResult,
  MarketSeriesResult,
  MarketTopEvent,
  MarketTopResult,
} from '../../src/shared/market-api';
import { resolveDefinition } from '../../src/shared/service-definition';
import { marketDbPath } from '../../src/services/collector/market-db';
import { MarketRecorder } from '../../src/services/collector/recorder';
import { tempDir } from '../helpers/temp-dir';
import { connect, type TestClient } from '../helpers/ws-client';

const servicesDir = resolve(import.meta.dirname, '../../out/services');
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const NOW = Math.floor(Date.now() / MIN) * MIN;
const T0 = NOW - 7 * DAY;

/** Polls `check` until it gives something (not undefined/false), or fails naming `what`. */
async function until<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function call<T>(core: Core, command: string, input: unknown = {}): Promise<Envelope<T>> {
  return (await core.router.dispatch(command, input, { transport: 'internal' })) as Envelope<T>;
}

async function ok<T>(core: Core, command: string, input: unknown = {}): Promise<T> {
  const r = await call<T>(core, command, input);
  if (!r.ok) throw new Error(`${command}: ${r.error.code} ${r.error.message}`);
  return r.result;
}

// ---- what the recorder writes ----

interface Trade {
  ts: number;
  price: number;
}
const usdmTrades: Trade[] = [];
const usdmFunding: { ts: number; rate: number }[] = [];
const usdmOi: { ts: number; value: number }[] = [];
const usdmGaps: GapRecord[] = [
  gap({
    symbol: 'BTCUSDT',
    stream: 'book',
    start: NOW - 6 * DAY,
    end: NOW - 6 * DAY + 30_000,
    cause: 'stale',
  }),
  gap({
    symbol: 'BTCUSDT',
    stream: 'book',
    start: NOW - 3 * HOUR,
    end: NOW - 3 * HOUR + 2000,
    cause: 'sequence',
  }),
  gap({
    symbol: null,
    stream: 'usdm-public',
    start: NOW - 2 * HOUR,
    end: NOW - 2 * HOUR + 5000,
    cause: 'disconnect',
  }),
  gap({ symbol: 'ETHUSDT', stream: 'book', start: NOW - HOUR, end: NOW - HOUR + 1000, cause: 'crossed' }),
  gap({ symbol: 'BTCUSDT', stream: 'trade', start: NOW - 30 * MIN, end: null, cause: 'trade-id' }),
];

function gap(g: Omit<GapRecord, 'venue' | 'detail'> & { venue?: Venue }): GapRecord {
  return { venue: 'binance-usdm', detail: `${g.cause} on ${g.stream}`, ...g };
}

function recorder(dataDir: string, venue: Venue): MarketRecorder {
  return MarketRecorder.open({
    dataDir,
    venue,
    retentionDays: 30,
    flushIntervalMs: 0,
    pruneIntervalMs: 0,
    checkpointThread: false,
  });
}

/** Seven days of binance-usdm BTCUSDT: a trade a minute (a trade a second in the last 2 hours), funding every 30 s. */
function writeUsdm(dataDir: string): void {
  const r = recorder(dataDir, 'binance-usdm');
  const base = { venue: 'binance-usdm' as const, symbol: 'BTCUSDT' };
  const trade = (ts: number, price: number, id: string) => {
    usdmTrades.push({ ts, price });
    r.addTrade({
      ...base,
      type: 'trade',
      id,
      exchangeTs: ts,
      localTs: ts + 5,
      price,
      size: 0.5,
      side: 'buy',
    });
  };
  for (let i = 0; i < 7 * 1440; i++) trade(T0 + i * MIN + 1000, 100 + (i % 50), `m${i}`);
  for (let s = 0; s < 2 * 3600; s++)
    trade(NOW - 2 * HOUR + s * 1000 + 500, 200 + ((s * 7) % 60) / 10, `s${s}`);
  for (let i = 0; i < 7 * 2880; i++) {
    const ts = T0 + i * 30_000;
    const rate = 0.0001 + i * 1e-9;
    usdmFunding.push({ ts, rate });
    r.addFunding({
      ...base,
      type: 'funding',
      exchangeTs: ts,
      localTs: ts,
      rate,
      nextFundingTime: ts + 8 * HOUR,
      markPrice: 100,
    });
  }
  for (let i = 0; i < 7 * 1440; i++) {
    const ts = T0 + i * MIN;
    usdmOi.push({ ts, value: 1000 + i });
    r.addOpenInterest({ ...base, type: 'oi', exchangeTs: ts, localTs: ts, openInterest: 1000 + i });
  }
  for (let i = 0; i < 7 * 288; i++) {
    const ts = T0 + i * 5 * MIN;
    r.addLongShort({
      ...base,
      type: 'lsr',
      exchangeTs: ts,
      localTs: ts,
      period: '5m',
      ratio: 1 + (i % 10) / 10,
      longAccount: 0.6,
      shortAccount: 0.4,
    });
  }
  for (let i = 0; i < 7 * 1440; i += 7) {
    const ts = T0 + i * MIN + 3000;
    r.addLiquidation({
      ...base,
      type: 'liquidation',
      exchangeTs: ts,
      localTs: ts,
      side: i % 2 ? 'buy' : 'sell',
      price: 100,
      size: 1,
      partial: true,
    });
  }
  for (const g of usdmGaps) r.recordGap(g);
  r.flush();
  r.close();
}

/** Deribit: DVOL of BTC as back-filled 60 s bars for two days, then live values in the last hour. */
function writeDeribit(dataDir: string): void {
  const r = recorder(dataDir, 'deribit');
  const base = { venue: 'deribit' as const, symbol: 'BTC' };
  for (let ts = NOW - 2 * DAY; ts < NOW - HOUR; ts += MIN) {
    r.addVolatility({
      ...base,
      type: 'dvol',
      exchangeTs: ts,
      localTs: ts,
      resolutionSec: 60,
      open: 50,
      high: 51,
      low: 49,
      close: 50,
    });
  }
  for (let ts = NOW - HOUR; ts < NOW; ts += 1000) {
    r.addVolatility({
      ...base,
      type: 'dvol',
      exchangeTs: ts,
      localTs: ts,
      resolutionSec: 0,
      open: 55,
      high: 55,
      low: 55,
      close: 55,
    });
  }
  for (let i = 0; i < 10; i++) {
    const ts = NOW - HOUR + i * MIN;
    r.addLiquidation({
      venue: 'deribit',
      symbol: 'BTC-PERPETUAL',
      type: 'liquidation',
      exchangeTs: ts,
      localTs: ts,
      side: 'sell',
      price: 60_000,
      size: 100,
      partial: false,
    });
  }
  r.recordGap({
    venue: 'deribit',
    symbol: null,
    stream: 'deribit',
    start: NOW - 90 * MIN,
    end: NOW - 90 * MIN + 3000,
    cause: 'disconnect',
    detail: 'closed',
  });
  r.flush();
  r.close();
}

describe('market.gaps and market.series on recorded files', () => {
  const dir = tempDir('vigil-market-api-');
  let core: Core;

  beforeAll(async () => {
    writeUsdm(dir.path);
    writeDeribit(dir.path);
    // okx-swap's file is damaged; binance-spot and okx-spot never recorded anything.
    mkdirSync(resolve(dir.path, 'market'), { recursive: true });
    writeFileSync(marketDbPath(dir.path, 'okx-swap'), Buffer.from('not a database, just text '.repeat(300)));
    core = await createCore({
      mode: 'headless',
      dataDir: dir.path,
      servicesDir,
      definitions: [],
      supervisor: { autostart: false },
    });
  }, 60_000);

  afterAll(async () => {
    await core?.close();
    dir.remove();
  });

  it('lists a venue’s gap ledger newest first, filtered by symbol, cause, state and time, and paged', async () => {
    const all = await ok<MarketGapsResult>(core, 'market.gaps', { venue: 'binance-usdm' });
    expect(all.items.map((g) => g.start)).toEqual(usdmGaps.map((g) => g.start).sort((a, b) => b - a));
    expect(all).toMatchObject({ total: 5, open: 1, next: null, notes: [], unreadable: [] });
    expect(all.items[0]).toMatchObject({
      venue: 'binance-usdm',
      symbol: 'BTCUSDT',
      stream: 'trade',
      end: null,
      cause: 'trade-id',
      detail: 'trade-id on trade',
      id: expect.any(Number),
    });

    // A symbol's gaps include the whole connection's (symbol null), which covered it too.
    const btc = await ok<MarketGapsResult>(core, 'market.gaps', { venue: 'binance-usdm', symbol: 'BTCUSDT' });
    expect(btc.items.map((g) => g.symbol)).toEqual(['BTCUSDT', null, 'BTCUSDT', 'BTCUSDT']);
    const sequence = await ok<MarketGapsResult>(core, 'market.gaps', {
      venue: 'binance-usdm',
      cause: 'sequence',
    });
    expect(sequence.items.map((g) => g.cause)).toEqual(['sequence']);
    const open = await ok<MarketGapsResult>(core, 'market.gaps', { venue: 'binance-usdm', open: true });
    expect(open.items.map((g) => g.cause)).toEqual(['trade-id']);
    // Overlapping [from, to): the open gap runs until now.
    const lastDay = await ok<MarketGapsResult>(core, 'market.gaps', {
      venue: 'binance-usdm',
      from: NOW - 2.5 * HOUR,
      to: NOW,
    });
    expect(lastDay.items.map((g) => g.cause)).toEqual(['trade-id', 'crossed', 'disconnect']);

    // Pages of two, following `next`, give the whole list once.
    const seen: number[] = [];
    let before: string | undefined;
    for (let page = 0; page < 5; page++) {
      const p: MarketGapsResult = await ok(core, 'market.gaps', { venue: 'binance-usdm', limit: 2, before });
      expect(p.items.length).toBeLessThanOrEqual(2);
      seen.push(...p.items.map((g) => g.start));
      if (!p.next) break;
      before = p.next;
    }
    expect(seen).toEqual(all.items.map((g) => g.start));
  });

  it('merges every venue’s ledger, says which have nothing yet, and reports a damaged file without failing the rest', async () => {
    const every = await ok<MarketGapsResult>(core, 'market.gaps', {});
    expect(every.total).toBe(6);
    expect(every.items.map((g) => g.venue)).toContain('deribit');
    expect(every.items.map((g) => g.start)).toEqual(
      [...every.items.map((g) => g.start)].sort((a, b) => b - a),
    );
    expect(every.notes.join(' ')).toMatch(/binance-spot, okx-spot/);
    expect(every.unreadable).toEqual([
      { venue: 'okx-swap', message: expect.stringContaining('okx-swap.db') },
    ]);

    // One venue with no file: an empty ledger and a note, not an error.
    const none = await ok<MarketGapsResult>(core, 'market.gaps', { venue: 'okx-spot' });
    expect(none).toMatchObject({ items: [], total: 0, next: null });
    expect(none.notes[0]).toMatch(/Nothing recorded yet for okx-spot.*start its collector/);

    // One damaged venue: the typed error, naming the file and the way forward.
    const damaged = await call(core, 'market.gaps', { venue: 'okx-swap' });
    expect(damaged).toMatchObject({ ok: false, error: { code: 'unavailable', field: 'venue' } });
    if (damaged.ok) return;
    expect(damaged.error.message).toContain(marketDbPath(dir.path, 'okx-swap'));
    expect(damaged.error.message).toMatch(/move the file aside/i);
    const damagedSeries = await call(core, 'market.series', {
      venue: 'okx-swap',
      symbol: 'BTC-USDT-SWAP',
      from: NOW - HOUR,
      to: NOW,
    });
    expect(damagedSeries).toMatchObject({ ok: false, error: { code: 'unavailable', field: 'venue' } });
  });

  it('refuses bad input with a typed error naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ venue: 'kraken' }, 'venue'],
      [{ venue: 'binance-usdm', cause: 'gremlins' }, 'cause'],
      [{ venue: 'binance-usdm', from: 10, to: 5 }, 'to'],
      [{ venue: 'binance-usdm', limit: 0 }, 'limit'],
      [{ venue: 'binance-usdm', before: 'page 2' }, 'before'],
      [{ venue: 'binance-usdm', symbol: 'btc usdt' }, 'symbol'],
      [{ venue: 'binance-usdm', colour: 'red' }, 'colour'],
    ];
    for (const [input, field] of cases) {
      expect(await call(core, 'market.gaps', input), JSON.stringify(input)).toMatchObject({
        ok: false,
        error: { code: 'invalid_input', field },
      });
    }
    const series = { venue: 'binance-usdm', symbol: 'BTCUSDT', from: NOW - HOUR, to: NOW };
    const seriesCases: [unknown, string, RegExp][] = [
      [{ ...series, symbol: undefined }, 'symbol', /required/],
      [{ ...series, to: series.from }, 'to', /after from/],
      [{ ...series, from: NOW - 40 * DAY }, 'to', /31 days/],
      [{ ...series, from: NOW - 7 * DAY, resolution: '1s' }, 'resolution', /6 hours/],
      [{ ...series, maxPoints: 5 }, 'maxPoints', /./],
      [{ ...series, include: ['candles', 'candles'] }, 'include', /repeat/],
      [{ ...series, include: ['orderbook'] }, 'include.0', /./],
    ];
    for (const [input, field, message] of seriesCases) {
      const r = await call(core, 'market.series', input);
      expect(r, JSON.stringify(input)).toMatchObject({ ok: false, error: { code: 'invalid_input', field } });
      if (!r.ok) expect(r.error.message).toMatch(message);
    }
  });

  it('downsamples seven days to at most maxPoints per series, each point the bucket’s own figures', async () => {
    const started = performance.now();
    const s = await ok<MarketSeriesResult>(core, 'market.series', {
      venue: 'binance-usdm',
      symbol: 'BTCUSDT',
      from: T0,
      to: NOW,
      maxPoints: 500,
    });
    const took = performance.now() - started;
    expect(s.bucketMs).toBe(30 * MIN);
    expect(s.candles?.resolution).toBe('1m');
    for (const series of [s.candles!.points, s.funding!, s.openInterest!.points, s.longShort!]) {
      expect(series.length).toBeGreaterThan(300);
      expect(series.length).toBeLessThanOrEqual(501);
    }
    expect(JSON.stringify(s).length).toBeLessThan(250_000);
    // Each candle: the trades of its 30 minutes.
    for (const c of s.candles!.points.slice(0, 20)) {
      const inside = usdmTrades.filter((t) => t.ts >= c.at && t.ts < c.at + s.bucketMs);
      expect(c.high).toBe(Math.max(...inside.map((t) => t.price)));
      expect(c.low).toBe(Math.min(...inside.map((t) => t.price)));
      expect(c.open).toBe(inside[0]!.price);
      expect(c.close).toBe(inside.at(-1)!.price);
      expect(c.trades).toBe(inside.length);
    }
    // Funding and open interest: the last value recorded in each bucket.
    for (const p of s.funding!.slice(0, 50)) {
      const inside = usdmFunding.filter((f) => f.ts >= Math.max(p.at, T0) && f.ts < p.at + s.bucketMs);
      expect(p.value).toBe(inside.at(-1)!.rate);
      expect(p.ts).toBe(inside.at(-1)!.ts);
    }
    for (const p of s.openInterest!.points.slice(-50)) {
      const inside = usdmOi.filter((o) => o.ts >= p.at && o.ts < p.at + s.bucketMs);
      expect(p.value).toBe(inside.at(-1)!.value);
    }
    expect(s.openInterest!.unit).toBe('base');
    // Liquidations: Binance publishes a sample, and says so.
    expect(s.liquidations).toMatchObject({ completeness: 'sampled', partial: true, truncated: false });
    const counted = s.liquidations!.buckets.reduce((n, b) => n + b.buys + b.sells, 0);
    expect(counted).toBe(Math.ceil((7 * 1440) / 7));
    expect(s.liquidations!.recent.length).toBe(50);
    expect(s.liquidations!.recent[0]!.ts).toBeGreaterThan(s.liquidations!.recent[1]!.ts);
    expect(s.dvol).toBeNull(); // Deribit only
    expect(s.notes).toEqual([]);
    // Bounded reads (on the read thread now): generous for a shared machine, far below a full scan's cost.
    expect(took).toBeLessThan(3000);
  });

  it('uses 1-second candles for a short range', async () => {
    const from = NOW - 10 * MIN;
    const s = await ok<MarketSeriesResult>(core, 'market.series', {
      venue: 'binance-usdm',
      symbol: 'BTCUSDT',
      from,
      to: NOW,
      maxPoints: 100,
      include: ['candles'],
    });
    expect(s.bucketMs).toBe(10_000);
    expect(s.candles?.resolution).toBe('1s');
    expect(s.candles!.points).toHaveLength(60);
    expect(s.funding).toBeNull(); // not asked
    for (const c of s.candles!.points) {
      const inside = usdmTrades.filter((t) => t.ts >= c.at && t.ts < c.at + 10_000);
      expect(c.high).toBe(Math.max(...inside.map((t) => t.price)));
      expect(c.close).toBe(inside.at(-1)!.price);
    }
  });

  it('reads Deribit’s DVOL for the instrument’s currency, live where there is live, and calls its liquidations complete', async () => {
    const s = await ok<MarketSeriesResult>(core, 'market.series', {
      venue: 'deribit',
      symbol: 'BTC-PERPETUAL',
      from: NOW - 2 * DAY,
      to: NOW,
      maxPoints: 200,
    });
    expect(s.dvol).toMatchObject({ symbol: 'BTC', source: 'mixed' });
    const points = s.dvol!.points;
    expect(points.length).toBeGreaterThan(90);
    expect(points.length).toBeLessThanOrEqual(201);
    expect(points.at(-1)!.value).toBe(55); // live
    expect(points[0]!.value).toBe(50); // bars
    expect(s.liquidations).toMatchObject({ completeness: 'complete', partial: false });
    expect(s.liquidations!.recent).toHaveLength(10);
    expect(s.longShort).toBeNull(); // Deribit has no long/short ratio
    expect(s.openInterest?.unit).toBe('usd');

    // The currency itself works too; live values alone over the last hour.
    const live = await ok<MarketSeriesResult>(core, 'market.series', {
      venue: 'deribit',
      symbol: 'BTC',
      from: NOW - HOUR,
      to: NOW,
      include: ['dvol'],
    });
    expect(live.dvol?.source).toBe('live');
  });

  it('answers a venue with no file yet with empty series and a note', async () => {
    const s = await ok<MarketSeriesResult>(core, 'market.series', {
      venue: 'binance-spot',
      symbol: 'BTCUSDT',
      from: NOW - HOUR,
      to: NOW,
    });
    expect(s.candles?.points).toEqual([]);
    expect(s.funding).toBeNull(); // spot has no funding at all
    expect(s.notes[0]).toMatch(/no market\/binance-spot\.db/);
  });
});

describe('market.top: live only while a client watches', () => {
  const dir = tempDir('vigil-market-top-');
  let core: Core;
  let server: HeadlessServer;
  const token = 'market-top-token-0123456789';
  const feed = resolveDefinition({
    name: 'feed',
    kind: 'custom',
    program: {
      type: 'command',
      command: process.execPath,
      args: ['--import', 'tsx', resolve(import.meta.dirname, '../fixtures/market/top-publisher.ts')],
    },
    protocol: 'vigil',
    cwd: resolve(import.meta.dirname, '../..'),
    heartbeat: { intervalMs: 500, timeoutMs: 10_000 },
  });

  beforeAll(async () => {
    if (!feed.ok) throw new Error(feed.error.message);
    core = await createCore({
      mode: 'headless',
      dataDir: dir.path,
      servicesDir,
      definitions: [feed.definition],
      supervisor: { autostart: false },
    });
    server = await startHeadlessServer({
      host: '127.0.0.1',
      port: 0,
      token,
      rendererDir: resolve(import.meta.dirname, '../../out/renderer'),
      router: core.router,
      events: core.events,
      serverName: 'vigil market test',
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await core?.close();
    dir.remove();
  });

  /** The patterns the supervisor's seat on the bus has asked the publisher for (its 1 Hz report). */
  const seatPatterns = (): string[] | undefined =>
    core.supervisor.get('feed').bus?.find((b) => b.remote && b.id === 'vigil-supervisor')?.patterns;

  it('serves tops from the samples, subscribes to md.*.*.top only while watched, and throttles the event', async () => {
    await ok(core, 'services.start', { name: 'feed' });
    // Nobody watches: the tops come from the twice-a-second samples, and the stream stays at the publisher.
    const sampled = await until(
      async () => {
        const r = await ok<MarketTopResult>(core, 'market.top', {});
        return r.tops.length === 2 && r.tops[0]!.last !== null ? r : undefined;
      },
      'tops from the bus samples',
      30_000,
    );
    expect(sampled.live).toBe(false);
    const btc = sampled.tops.find((t) => t.symbol === 'BTCUSDT')!;
    expect(btc).toMatchObject({
      venue: 'binance-spot',
      spread: 0.5,
      last: 50_000.25,
      bidSize: 1,
      askSize: 2,
    });
    expect(btc.spreadBps).toBeCloseTo((0.5 / (btc.bid + 0.25)) * 10_000, 6);
    await until(() => seatPatterns() !== undefined, 'the supervisor seat in the publisher’s report', 20_000);
    expect(seatPatterns()).not.toContain('md.*.*.top');
    expect(core.events.subscribers('market.top')).toBe(0);
    const filtered = await ok<MarketTopResult>(core, 'market.top', { symbol: 'ETHUSDT' });
    expect(filtered.tops.map((t) => t.symbol)).toEqual(['ETHUSDT']);

    // A WebSocket client subscribes to the event: the core now takes the stream, and throttles it.
    const client: TestClient = await connect(`ws://127.0.0.1:${server.port}/api/ws?token=${token}`);
    try {
      const reply = await client.raw(JSON.stringify({ type: 'subscribe', id: 1, topics: ['market.top'] }));
      expect(reply).toMatchObject({ ok: true });
      expect(core.events.subscribers('market.top')).toBe(1);
      await until(() => seatPatterns()?.includes('md.*.*.top') === true, 'the live subscription', 20_000);
      await client.waitForEvent((f) => f.event === 'market.top', 20_000);
      expect((await ok<MarketTopResult>(core, 'market.top', {})).live).toBe(true);

      const windowStart = Date.now();
      const before = client.events.length;
      await new Promise((r) => setTimeout(r, 3000));
      const windowMs = Date.now() - windowStart;
      const batches = client.events
        .slice(before)
        .filter((f) => f.event === 'market.top')
        .map((f) => f.payload as MarketTopEvent);
      // The publisher changes each top 200 times a second; the event carries each at most 4 times.
      const perSymbol = (symbol: string) =>
        batches.filter((b) => b.tops.some((t) => t.symbol === symbol)).length;
      for (const symbol of ['BTCUSDT', 'ETHUSDT']) {
        expect(perSymbol(symbol)).toBeGreaterThan(3);
        expect(perSymbol(symbol)).toBeLessThanOrEqual(Math.ceil(windowMs / 250) + 1);
      }
      // Batched: one event carries both symbols.
      expect(batches.some((b) => b.tops.length === 2)).toBe(true);
      for (const b of batches) expect(new Set(b.tops.map((t) => t.symbol)).size).toBe(b.tops.length);
    } finally {
      await client.close();
    }

    // The last watcher gone (its socket closed): the core drops the stream again.
    await until(() => core.events.subscribers('market.top') === 0, 'the interest released', 10_000);
    await until(
      () => seatPatterns()?.includes('md.*.*.top') === false,
      'the live subscription dropped',
      20_000,
    );
    expect((await ok<MarketTopResult>(core, 'market.top', {})).live).toBe(false);
  }, 90_000);
});
