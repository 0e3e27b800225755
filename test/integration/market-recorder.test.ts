/**
 * The collector's recorder on real SQLite files: candles equal a brute-force aggregation of the
 * trades, across a close and reopen mid-minute; duplicates ignored; the gap ledger; retention; bad
 * files refused with a clear error and left untouched; a reader sees the writer's data while it
 * writes (WAL); and 200k trades written in batches that never hold the event loop for long.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Candle } from '../../src/services/collector/candles';
import { alignStart } from '../../src/services/collector/candles';
import { MarketReader } from '../../src/services/collector/market-reader';
import {
  MARKET_SCHEMA_VERSION,
  MarketDbError,
  marketDbPath,
  moveMarketDbAside,
  type MarketDbErrorCode,
} from '../../src/services/collector/market-db';
import { MarketRecorder, type MarketRecorderOptions } from '../../src/services/collector/recorder';
import type { GapRecord, TradeRecord } from '../../src/shared/market';
import { tempDir } from '../helpers/temp-dir';

const VENUE = 'binance-usdm' as const;
const ALL = [0, Number.MAX_SAFE_INTEGER] as const;

let dir: ReturnType<typeof tempDir>;
let file: string;
const open: { close(): unknown }[] = [];

beforeEach(() => {
  dir = tempDir('vigil-market-');
  file = marketDbPath(dir.path, VENUE);
});
afterEach(() => {
  for (const o of open.splice(0).reverse()) o.close();
  dir.remove();
});

function recorder(opts: Partial<MarketRecorderOptions> = {}): MarketRecorder {
  const r = MarketRecorder.open({
    dataDir: dir.path,
    venue: VENUE,
    retentionDays: 7,
    flushIntervalMs: 0,
    pruneIntervalMs: 0,
    ...opts,
  });
  open.push(r);
  return r;
}

function reader(): MarketReader {
  const r = MarketReader.open(file);
  open.push(r);
  return r;
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const T0 = Date.UTC(2026, 2, 3, 9, 0, 0);

/** Mostly in time order, ties and some late trades; ids count up per symbol. */
function randomTrades(n: number, seed: number, symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT']): TradeRecord[] {
  const r = rng(seed);
  let ts = T0 + 7_000;
  const price = new Map(symbols.map((s, i) => [s, 100 * (i + 1)]));
  const ids = new Map(symbols.map((s) => [s, 5_000_000]));
  const out: TradeRecord[] = [];
  for (let i = 0; i < n; i++) {
    ts += r() < 0.3 ? 0 : Math.floor(r() * 60);
    const symbol = symbols[Math.floor(r() * symbols.length)]!;
    const p = Math.round((price.get(symbol)! + (r() - 0.5)) * 100) / 100;
    price.set(symbol, p);
    const id = ids.get(symbol)! + 1;
    ids.set(symbol, id);
    out.push({
      type: 'trade',
      venue: VENUE,
      symbol,
      id: String(id),
      exchangeTs: r() < 0.05 ? ts - Math.floor(r() * 5000) : ts,
      localTs: ts + 3,
      price: p,
      size: Math.round(r() * 2000) / 1000 + 0.001,
      side: r() < 0.5 ? 'buy' : 'sell',
    });
  }
  return out;
}

/** First arrival of each (symbol, id): what the trades table keeps. */
function unique(trades: readonly TradeRecord[]): TradeRecord[] {
  const seen = new Set<string>();
  return trades.filter((t) => {
    const k = `${t.symbol}|${t.id}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The reference candles: sort by (exchange time, arrival), then first/last/max/min/sums. */
function bruteForce(trades: readonly TradeRecord[], intervalMs: number): Candle[] {
  const groups = new Map<string, { t: TradeRecord; i: number }[]>();
  trades.forEach((t, i) => {
    const key = `${t.symbol}|${alignStart(t.exchangeTs, intervalMs)}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push({ t, i });
  });
  const out: Candle[] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => a.t.exchangeTs - b.t.exchangeTs || a.i - b.i);
    const first = g[0]!.t;
    const last = g.at(-1)!.t;
    out.push({
      symbol: first.symbol,
      start: alignStart(first.exchangeTs, intervalMs),
      open: first.price,
      high: Math.max(...g.map((x) => x.t.price)),
      low: Math.min(...g.map((x) => x.t.price)),
      close: last.price,
      volume: g.reduce((s, x) => s + x.t.size, 0),
      buyVolume: g.reduce((s, x) => s + (x.t.side === 'buy' ? x.t.size : 0), 0),
      trades: g.length,
      firstTs: first.exchangeTs,
      lastTs: last.exchangeTs,
    });
  }
  return out.sort((a, b) => a.symbol.localeCompare(b.symbol) || a.start - b.start);
}

function expectCandles(r: MarketReader, trades: readonly TradeRecord[]): void {
  for (const [res, ms] of [
    ['1s', 1000],
    ['1m', 60_000],
  ] as const) {
    const expected = bruteForce(unique(trades), ms);
    const actual = r.symbols().flatMap((s) => r.candles(s, res, ...ALL));
    expect(actual.length, res).toBe(expected.length);
    actual.forEach((a, i) => {
      const e = expected[i]!;
      const { volume, buyVolume, ...rest } = a;
      const { volume: ev, buyVolume: eb, ...erest } = e;
      expect(rest, `${res} ${a.symbol} ${a.start}`).toEqual(erest);
      expect(volume).toBeCloseTo(ev, 8);
      expect(buyVolume).toBeCloseTo(eb, 8);
    });
  }
}

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function openError(fn: () => unknown): MarketDbError {
  try {
    const o = fn() as { close(): unknown };
    o.close();
  } catch (error) {
    expect(error).toBeInstanceOf(MarketDbError);
    return error as MarketDbError;
  }
  throw new Error('it opened');
}

function expectError(e: MarketDbError, code: MarketDbErrorCode, detail: RegExp): void {
  expect(e.code).toBe(code);
  expect(e.file).toBe(file);
  expect(e.message.startsWith(`${file} `)).toBe(true);
  expect(e.message).toMatch(detail);
  expect(e.message).toContain(e.wayForward);
}

function gap(over: Partial<GapRecord> = {}): GapRecord {
  return {
    venue: VENUE,
    symbol: 'BTCUSDT',
    stream: 'trade',
    start: T0,
    end: null,
    cause: 'disconnect',
    detail: 'socket closed (1006)',
    ...over,
  };
}

describe('market recorder', () => {
  it('candles equal a brute-force aggregation, across a close and reopen mid-minute with overlap', () => {
    const trades = randomTrades(30_000, 1);
    // Cut in the middle of a minute; the second run re-receives the first run's last 700 trades
    // (a reconnect's overlap) and some of its own are late for candles the first run wrote.
    const cut = trades.findIndex((t) => t.localTs >= T0 + 4 * 60_000 + 25_000);
    expect(cut).toBeGreaterThan(0);
    const first = trades.slice(0, cut);
    const second = [...trades.slice(cut - 700, cut), ...trades.slice(cut)];
    const a = recorder({ maxBatch: 997 });
    for (const t of first) a.addTrade(t);
    a.close();
    open.length = 0;

    const b = recorder({ maxBatch: 1500 });
    for (const t of second) b.addTrade(t);
    b.flush();
    expect(b.stats().duplicateTrades).toBe(700);
    expect(b.stats().rows.trades).toBe(second.length - 700);
    const r = reader();
    expect(r.symbols()).toEqual(['BTCUSDT', 'ETHUSDT', 'SOLUSDT']);
    expectCandles(r, [...first, ...second]);
    // And the trades themselves, in exchange-time order.
    const btc = unique(trades)
      .filter((t) => t.symbol === 'BTCUSDT')
      .map((t, i) => ({ t, i }))
      .sort((x, y) => x.t.exchangeTs - y.t.exchangeTs || x.i - y.i)
      .map((x) => x.t);
    expect(r.trades('BTCUSDT', ...ALL)).toEqual(btc);
    expect(r.trades('BTCUSDT', btc[10]!.exchangeTs, btc[20]!.exchangeTs, 3)).toHaveLength(3);
  });

  it('ignores duplicate trades, in one batch, across batches and across a reopen', () => {
    const [t1, t2] = randomTrades(2, 2, ['BTCUSDT']);
    const a = recorder();
    a.addTrade(t1!);
    a.addTrade({ ...t1! });
    a.flush();
    a.addTrade(t1!);
    a.addTrade(t2!);
    a.flush();
    expect(a.stats().duplicateTrades).toBe(2);
    expect(a.stats().rows.trades).toBe(2);
    a.close();
    open.length = 0;
    const b = recorder();
    b.addTrade(t2!);
    b.flush();
    expect(b.stats().duplicateTrades).toBe(1);
    const r = reader();
    expect(r.trades('BTCUSDT', ...ALL)).toHaveLength(2);
    expectCandles(r, [t1!, t2!]);
  });

  it('refuses records of another venue or with broken numbers, and counts them', () => {
    const a = recorder();
    const [t] = randomTrades(1, 3);
    a.addTrade({ ...t!, venue: 'binance-spot' });
    a.addTrade({ ...t!, price: Number.NaN });
    a.addTrade({ ...t!, exchangeTs: 1.5 });
    a.addFunding({
      type: 'funding',
      venue: VENUE,
      symbol: 'X',
      exchangeTs: T0,
      localTs: T0,
      rate: Infinity,
      nextFundingTime: T0,
    });
    a.flush();
    expect(a.stats().rejected).toBe(4);
    expect(a.stats().rows.trades).toBe(0);
  });

  it('writes funding, open interest, liquidations and long/short, and reads them back', () => {
    const a = recorder();
    const base = { venue: VENUE, symbol: 'BTCUSDT', localTs: T0 + 5 } as const;
    a.addFunding({
      ...base,
      type: 'funding',
      exchangeTs: T0,
      rate: 0.0001,
      nextFundingTime: T0 + 3_600_000,
      markPrice: 101,
    });
    a.addFunding({ ...base, type: 'funding', exchangeTs: T0, rate: 0.0001, nextFundingTime: T0 + 3_600_000 });
    a.addFunding({
      ...base,
      type: 'funding',
      exchangeTs: T0 + 60_000,
      rate: 0.0002,
      nextFundingTime: T0 + 3_600_000,
      intervalMs: 4 * 3_600_000,
    });
    a.addOpenInterest({ ...base, type: 'oi', exchangeTs: T0, openInterest: 12_345.5 });
    const liq = { ...base, type: 'liquidation', side: 'sell', price: 99, size: 2, partial: true } as const;
    a.addLiquidation({ ...liq, exchangeTs: T0 });
    a.addLiquidation({ ...liq, exchangeTs: T0 }); // the same sample again: stored once
    a.addLiquidation({ ...liq, exchangeTs: T0 + 1000, side: 'buy' });
    a.addLongShort({
      ...base,
      type: 'lsr',
      exchangeTs: T0,
      period: '5m',
      ratio: 1.5,
      longAccount: 0.6,
      shortAccount: 0.4,
    });
    a.flush();
    const s = a.stats();
    expect(s.rows).toMatchObject({ funding: 2, open_interest: 1, liquidations: 2, long_short: 1 });
    const r = reader();
    expect(r.funding('BTCUSDT', ...ALL)).toEqual([
      expect.objectContaining({
        exchangeTs: T0,
        rate: 0.0001,
        nextFundingTime: T0 + 3_600_000,
        markPrice: 101,
      }),
      expect.objectContaining({ exchangeTs: T0 + 60_000, intervalMs: 4 * 3_600_000 }),
    ]);
    expect(r.funding('BTCUSDT', ...ALL)[0]).not.toHaveProperty('indexPrice');
    expect(r.funding('BTCUSDT', ...ALL)[0]).not.toHaveProperty('intervalMs');
    expect(r.openInterest('BTCUSDT', ...ALL)).toMatchObject([{ openInterest: 12_345.5, exchangeTs: T0 }]);
    expect(r.liquidations('BTCUSDT', ...ALL)).toMatchObject([
      { side: 'sell', partial: true },
      { side: 'buy', exchangeTs: T0 + 1000 },
    ]);
    expect(r.longShort('BTCUSDT', ...ALL, '5m')).toMatchObject([{ ratio: 1.5, period: '5m' }]);
    expect(r.longShort('BTCUSDT', ...ALL, '1h')).toEqual([]);
    expect(r.venue).toBe(VENUE);
  });

  it('writes the DVOL index, live values and back-filled bars apart; a bar asked for again replaces itself', () => {
    const a = recorder({ venue: 'deribit' });
    const base = { venue: 'deribit', symbol: 'BTC', type: 'dvol', localTs: T0 } as const;
    for (let i = 0; i < 3; i++) {
      const v = 48 + i / 10;
      a.addVolatility({
        ...base,
        exchangeTs: T0 + i * 1000,
        resolutionSec: 0,
        open: v,
        high: v,
        low: v,
        close: v,
      });
    }
    const bar = {
      ...base,
      exchangeTs: T0 - 60_000,
      resolutionSec: 60,
      open: 47,
      high: 49,
      low: 46.5,
      close: 48,
    };
    a.addVolatility(bar);
    a.addVolatility({ ...bar, close: 48.2 }); // a restart's back-fill asks for the same minute again
    a.addVolatility({ ...base, exchangeTs: T0, resolutionSec: 0, open: NaN, high: 1, low: 1, close: 1 });
    a.addVolatility({ ...bar, venue: 'binance-usdm' });
    a.flush();
    expect(a.stats().rejected).toBe(2);
    const r = MarketReader.open(marketDbPath(dir.path, 'deribit'));
    open.push(r);
    expect(r.volatility('BTC', ...ALL).map((v) => v.close)).toEqual([48, 48.1, 48.2]);
    expect(r.volatility('BTC', ...ALL, 60)).toEqual([{ ...bar, localTs: bar.exchangeTs, close: 48.2 }]);
    expect(r.symbols()).toEqual(['BTC']);
  });

  it('upgrades a version-1 file in place, keeping what it holds', () => {
    const v1 = join(dir.path, 'market', `${VENUE}.db`);
    mkdirSync(join(dir.path, 'market'), { recursive: true });
    const raw = new Database(v1);
    // The version-1 funding table and meta, as the first release wrote them.
    raw.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value ANY) STRICT, WITHOUT ROWID;
      CREATE TABLE funding (symbol TEXT NOT NULL, ts INTEGER NOT NULL, rate REAL NOT NULL,
        next_funding_time INTEGER NOT NULL, mark_price REAL, index_price REAL,
        PRIMARY KEY (symbol, ts)) STRICT, WITHOUT ROWID;
      INSERT INTO funding VALUES ('BTCUSDT', ${T0}, 0.0001, ${T0 + 3_600_000}, NULL, NULL);
    `);
    raw.close();
    // Build the rest of version 1 the way the recorder does, from an empty copy of the schema.
    const scratch = tempDir('vigil-market-v1-');
    try {
      const r0 = MarketRecorder.open({
        dataDir: scratch.path,
        venue: VENUE,
        retentionDays: 7,
        flushIntervalMs: 0,
      });
      r0.close();
      const full = new Database(marketDbPath(scratch.path, VENUE), { readonly: true });
      const ddl = full
        .prepare<[], { name: string; sql: string }>(
          `SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT IN ('meta', 'funding', 'volatility_index')`,
        )
        .all();
      full.close();
      const target = new Database(v1);
      for (const { sql } of ddl) target.exec(sql);
      target.pragma('user_version = 1');
      target.close();
    } finally {
      scratch.remove();
    }
    const a = recorder();
    a.addFunding({
      venue: VENUE,
      symbol: 'BTCUSDT',
      type: 'funding',
      exchangeTs: T0 + 1000,
      localTs: T0,
      rate: 0.0003,
      nextFundingTime: T0 + 3_600_000,
      intervalMs: 3_600_000,
    });
    a.flush();
    const r = reader();
    expect(r.funding('BTCUSDT', ...ALL)).toMatchObject([
      { exchangeTs: T0, rate: 0.0001 },
      { exchangeTs: T0 + 1000, rate: 0.0003, intervalMs: 3_600_000 },
    ]);
    const check = new Database(v1, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(MARKET_SCHEMA_VERSION);
    check.close();
  });

  it('keeps a gap ledger: written at once, open gaps closed later, kept across a reopen', () => {
    const a = recorder();
    const r = reader();
    const id = a.openGap(gap({ end: 12345 }));
    // Written at once: no flush needed for a reader to see it.
    expect(r.gaps()).toEqual([{ ...gap(), id }]);
    const whole = a.recordGap(gap({ symbol: null, stream: 'conn-1', start: T0 + 100, end: T0 + 900 }));
    a.recordGap(gap({ symbol: 'ETHUSDT', start: T0 + 50_000, end: T0 + 51_000, cause: 'sequence' }));
    expect(whole).toBe(id + 1);
    a.closeGap(id, T0 + 2000);
    a.closeGap(id, T0 + 9999); // already closed: keeps its first end
    expect(r.gaps({ symbol: 'BTCUSDT' }).map((g) => [g.id, g.end])).toEqual([
      [id, T0 + 2000],
      [whole, T0 + 900],
    ]);
    expect(r.gaps({ from: T0 + 1000, to: T0 + 60_000 }).map((g) => g.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(r.gaps({ from: T0 + 3000, to: T0 + 50_001 }).map((g) => g.cause)).toEqual(['sequence']);

    const open2 = a.openGap(gap({ stream: 'book', start: T0 + 70_000 }));
    a.close();
    open.splice(open.indexOf(a), 1);
    const b = recorder();
    expect(r.gaps({ from: T0 + 69_000 })).toMatchObject([{ id: open2, end: null, stream: 'book' }]);
    // Ids go on from the file's; a gap left open by the previous run can still be closed.
    expect(b.recordGap(gap({ start: T0 + 80_000, end: T0 + 81_000 }))).toBe(open2 + 1);
    b.closeGap(open2, T0 + 75_000);
    expect(r.gaps({ from: T0 + 69_000 }).map((g) => g.end)).toEqual([T0 + 75_000, T0 + 81_000]);
    expect(b.stats().rows.gaps).toBe(1);
  });

  it('prunes by retention in small steps: 1 m candles, funding, OI, long/short and gaps kept 10× longer', () => {
    const now = T0;
    const day = 86_400_000;
    const a = recorder({ retentionDays: 1 });
    const trades: TradeRecord[] = [];
    let id = 1;
    for (const [age, n] of [
      [11 * day, 1500],
      [2 * day, 2500],
      [3_600_000, 50],
    ] as const) {
      for (let i = 0; i < n; i++) {
        trades.push({
          type: 'trade',
          venue: VENUE,
          symbol: i % 5 === 0 ? 'ETHUSDT' : 'BTCUSDT',
          id: String(id++),
          exchangeTs: now - age + i * 100,
          localTs: now - age + i * 100,
          price: 100,
          size: 1,
          side: 'buy',
        });
      }
    }
    for (const t of trades) a.addTrade(t);
    const base = { venue: VENUE, symbol: 'BTCUSDT', localTs: 0 } as const;
    for (const age of [11 * day, 2 * day]) {
      a.addFunding({ ...base, type: 'funding', exchangeTs: now - age, rate: 0, nextFundingTime: 0 });
      a.addOpenInterest({ ...base, type: 'oi', exchangeTs: now - age, openInterest: 1 });
      a.addLongShort({
        ...base,
        type: 'lsr',
        exchangeTs: now - age,
        period: '5m',
        ratio: 1,
        longAccount: 0.5,
        shortAccount: 0.5,
      });
    }
    for (const age of [2 * day, 3_600_000]) {
      a.addLiquidation({
        ...base,
        type: 'liquidation',
        exchangeTs: now - age,
        side: 'buy',
        price: 1,
        size: 1,
        partial: true,
      });
    }
    a.recordGap(gap({ start: now - 12 * day, end: now - 11 * day }));
    const keptOpen = a.openGap(gap({ start: now - 12 * day }));
    const keptClosed = a.recordGap(gap({ start: now - 3 * day, end: now - 2 * day }));
    a.flush();

    let calls = 0;
    let deleted = 0;
    for (let done = false; !done; calls++) {
      const res = a.prune(now, 1);
      deleted += res.deleted;
      done = res.done;
    }
    console.log(`prune: ${deleted} rows deleted in ${calls} calls of about 1 ms`);
    expect(calls).toBeGreaterThan(1);

    const r = reader();
    const times = (xs: { exchangeTs: number }[]) =>
      new Set(xs.map((x) => Math.floor((now - x.exchangeTs) / day)));
    const oldest = (xs: { start: number }[]) => Math.max(...xs.map((x) => Math.ceil((now - x.start) / day)));
    const btcTrades = r.trades('BTCUSDT', ...ALL);
    expect(btcTrades.length).toBe(40);
    expect(btcTrades.every((t) => t.exchangeTs >= now - day)).toBe(true);
    expect(oldest(r.candles('BTCUSDT', '1s', ...ALL))).toBe(1);
    expect(oldest(r.candles('ETHUSDT', '1m', ...ALL))).toBe(2);
    expect(r.candles('ETHUSDT', '1m', ...ALL).length).toBe(Math.ceil((2500 * 100) / 60_000) + 1);
    expect(times(r.funding('BTCUSDT', ...ALL))).toEqual(new Set([2]));
    expect(times(r.openInterest('BTCUSDT', ...ALL))).toEqual(new Set([2]));
    expect(times(r.longShort('BTCUSDT', ...ALL))).toEqual(new Set([2]));
    expect(times(r.liquidations('BTCUSDT', ...ALL))).toEqual(new Set([0]));
    expect(r.gaps().map((g) => g.id)).toEqual([keptOpen, keptClosed]);
    expect(a.stats().pruned).toBe(deleted);
  });

  it('a reader sees what the recorder writes while it is open (WAL), batches going out on the timer', async () => {
    const a = recorder({ flushIntervalMs: 20 });
    const trades = randomTrades(2000, 4);
    for (const t of trades.slice(0, 1000)) a.addTrade(t);
    a.flush();
    const r = reader();
    expect(r.symbols().length).toBe(3);
    const count = () => r.symbols().reduce((n, s) => n + r.trades(s, ...ALL).length, 0);
    expect(count()).toBe(1000);
    for (const t of trades.slice(1000)) a.addTrade(t);
    await expect.poll(count, { timeout: 5000 }).toBe(2000);
    expectCandles(r, trades);
    expect(a.stats().queue).toBe(0);
  });

  it('refuses a file written by a newer schema, with a clear error, leaving it untouched', () => {
    const a = recorder();
    a.addTrade(randomTrades(1, 5)[0]!);
    a.close();
    open.length = 0;
    const raw = new Database(file);
    raw.pragma(`user_version = ${MARKET_SCHEMA_VERSION + 5}`);
    raw.close();
    const before = sha(file);
    const e = openError(() => recorder());
    const newer = MARKET_SCHEMA_VERSION + 5;
    expectError(
      e,
      'newer-version',
      new RegExp(
        `newer Vigil \\(market schema version ${newer}; this Vigil knows up to ${MARKET_SCHEMA_VERSION}\\)`,
      ),
    );
    expect(e.wayForward).toMatch(/move the file aside/);
    expectError(
      openError(() => MarketReader.open(file)),
      'newer-version',
      new RegExp(`schema version ${newer}`),
    );
    expect(sha(file)).toBe(before);
  });

  it('gives a clear error for a corrupt file, a truncated one and a foreign database, never wiping them', () => {
    const garbage = Buffer.from('this is not a database at all, just text '.repeat(200));
    mkdirSync(join(dir.path, 'market'), { recursive: true });
    writeFileSync(file, garbage);
    expectError(
      openError(() => recorder()),
      'corrupt',
      /is not a valid database \(file is not a database\)/,
    );
    expectError(
      openError(() => MarketReader.open(file)),
      'corrupt',
      /file is not a database/,
    );
    expect(readFileSync(file).equals(garbage)).toBe(true);

    // A real file cut in half: the probe of the tables' ends meets the missing pages.
    const moved = moveMarketDbAside(file);
    expect(readFileSync(moved).equals(garbage)).toBe(true);
    const a = recorder();
    for (const t of randomTrades(20_000, 6)) a.addTrade(t);
    a.close();
    open.length = 0;
    truncateSync(file, Math.floor(statSync(file).size / 2));
    const before = sha(file);
    const e = openError(() => recorder());
    expectError(e, 'corrupt', /malformed|not a database|corrupt/i);
    console.log(`truncated file: ${e.message}`);
    expect(sha(file)).toBe(before);

    // An SQLite file of something else.
    moveMarketDbAside(file);
    const other = new Database(file);
    other.exec('CREATE TABLE notes (x TEXT)');
    other.close();
    expectError(
      openError(() => recorder()),
      'unreadable',
      /not a Vigil market database/,
    );
    // A file of another venue.
    moveMarketDbAside(file);
    recorder().close();
    open.length = 0;
    const spot = join(dir.path, 'market', 'binance-spot.db');
    renameSync(file, spot);
    const e2 = openError(() =>
      MarketRecorder.open({ dataDir: dir.path, venue: 'binance-spot', retentionDays: 1, flushIntervalMs: 0 }),
    );
    expect(e2.message).toMatch(/holds binance-usdm data, not binance-spot/);
    expect(() => MarketReader.open(join(dir.path, 'market', 'okx-spot.db'))).toThrow(/does not exist/);
  });

  it('loses no acknowledged batch when the process is killed, and trades and candles stay in step', async () => {
    const module = resolve(import.meta.dirname, '../../src/services/collector/recorder.ts');
    // The collector's side: a gap opened at start, then batches of 500 trades, "acked N" after each.
    const code = `
      import { MarketRecorder } from ${JSON.stringify(module)};
      const r = MarketRecorder.open({ dataDir: ${JSON.stringify(dir.path)}, venue: '${VENUE}', retentionDays: 30,
        flushIntervalMs: 0, pruneIntervalMs: 0 });
      const gap = r.openGap({ venue: '${VENUE}', symbol: null, stream: 'conn', start: ${T0}, end: null,
        cause: 'disconnect', detail: 'before the crash' });
      console.log('gap ' + gap);
      let id = 0;
      const step = () => {
        for (let i = 0; i < 500; i++) {
          id += 1;
          r.addTrade({ type: 'trade', venue: '${VENUE}', symbol: 'S' + (id % 3), id: String(id),
            exchangeTs: ${T0} + id * 7, localTs: ${T0} + id * 7, price: 100 + (id % 13), size: 1 + (id % 4),
            side: id % 2 ? 'buy' : 'sell' });
        }
        r.flush();
        console.log('acked ' + id);
        setImmediate(step);
      };
      step();`;
    const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let out = '';
    let acked = 0;
    let gapId = -1;
    let killing = false;
    const exited = new Promise<void>((r) => proc.on('exit', () => r()));
    await new Promise<void>((resolveKill, reject) => {
      proc.on('exit', (c) => reject(new Error(`the writer exited early (code ${c}): ${stderr}`)));
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        for (const m of out.matchAll(/^(gap|acked) (\d+)$/gm)) {
          if (m[1] === 'gap') gapId = Number(m[2]);
          else acked = Math.max(acked, Number(m[2]));
        }
        out = out.slice(out.lastIndexOf('\n') + 1);
        if (acked >= 20_000 && !killing) {
          killing = true;
          // A random moment, most likely inside a batch or its commit.
          setTimeout(() => {
            proc.kill('SIGKILL');
            resolveKill();
          }, Math.random() * 30);
        }
      });
    });
    await exited;
    // The next run of the collector opens the file (recovering the WAL) and finds everything acked.
    const b = recorder();
    const r = reader();
    const rows = ['S0', 'S1', 'S2'].flatMap((s) => r.trades(s, ...ALL));
    expect(rows.length).toBeGreaterThanOrEqual(acked);
    const ids = rows.map((t) => Number(t.id)).sort((x, y) => x - y);
    expect(ids.every((v, i) => v === i + 1)).toBe(true); // whole batches: no holes
    expectCandles(r, rows);
    expect(r.gaps()).toMatchObject([{ id: gapId, end: null, detail: 'before the crash' }]);
    b.closeGap(gapId, T0 + 1_000_000);
    expect(r.gaps()[0]!.end).toBe(T0 + 1_000_000);
    console.log(`killed after ${acked} acknowledged trades; ${rows.length} found on reopen`);
  });

  it('writes 200k trades in batches that never hold the event loop for long', async () => {
    const n = 200_000;
    const symbols = Array.from({ length: 20 }, (_, i) => `SYM${i}USDT`);
    const trades = randomTrades(n, 9, symbols);
    const a = recorder({ flushIntervalMs: 250 });
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    const t0 = performance.now();
    // Bursts as a busy collector sees them: 2,000 messages per turn of the event loop.
    for (let i = 0; i < n; i += 2000) {
      for (let k = i; k < Math.min(n, i + 2000); k++) a.addTrade(trades[k]!);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await expect.poll(() => a.stats().queue, { timeout: 60_000, interval: 20 }).toBe(0);
    const ms = performance.now() - t0;
    lag.disable();
    const s = a.stats();
    const line =
      `200k trades: ${Math.round(n / (ms / 1000))} trades/s end to end (${Math.round(ms)} ms), ` +
      `${s.batches} batches, max batch ${s.maxFlushMs.toFixed(1)} ms, last ${s.lastFlushMs.toFixed(1)} ms, ` +
      `event-loop delay p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms, max ${(lag.max / 1e6).toFixed(1)} ms, ` +
      `candle upserts 1s ${s.rows.candles_1s} 1m ${s.rows.candles_1m}, db ${(s.dbBytes / 1e6).toFixed(1)} MB, ` +
      `${s.checkpoints} checkpoints in their thread (max ${s.maxCheckpointMs.toFixed(1)} ms)`;
    console.log(line);
    expect(s.rows.trades).toBe(n);
    expect(s.duplicateTrades).toBe(0);
    // Generous: the target is ~20 ms on a quiet machine; a shared CI box can be several times slower.
    expect(s.maxFlushMs).toBeLessThan(250);
    a.close();
    open.length = 0;
    const r = reader();
    expect(r.symbols()).toHaveLength(20);
    expect(r.candles('SYM3USDT', '1m', ...ALL).reduce((k, c) => k + c.trades, 0)).toBe(
      trades.filter((t) => t.symbol === 'SYM3USDT').length,
    );
  }, 120_000);
});
